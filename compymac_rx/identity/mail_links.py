"""The local provider's routes for mailed links and the second factor.

Confirming an address is a GET (the link in the mail does it; a mail scanner fetching it
only confirms what the mail already proved). A sign-in link opens a page whose button POSTs
here, so fetching the link alone signs nobody in.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from compymac_rx import routes
from compymac_rx.accounts import email_links, twofactor
from compymac_rx.accounts import service as accounts
from compymac_rx.identity.http import (
    clear_pending_cookie,
    client_ip,
    pending_cookie_name,
    same_origin,
    see_other,
    set_pending_cookie,
    set_session_cookie,
)
from compymac_rx.offload import off_loop


def _agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


async def verify(request: Request) -> Response:
    token = request.query_params.get("token", "")[: email_links.TOKEN_MAX + 1]
    try:
        await off_loop(
            email_links.verify_email, token, ip=client_ip(request), user_agent=_agent(request)
        )
    except accounts.AuthError as error:
        return see_other(routes.signin_url(error=error.code))
    return see_other(routes.signin_url(notice="verified"))


async def verify_resend(request: Request) -> Response:
    """Always the same answer: whether the email has an account is never said."""
    email = str((await request.form()).get("email", ""))[: accounts.EMAIL_MAX + 10]
    if not same_origin(request):
        return see_other(routes.signin_url(error="origin"))
    await off_loop(
        email_links.request_verification, email, ip=client_ip(request), user_agent=_agent(request)
    )
    return see_other(routes.signin_url(notice="verify_sent"))


async def magic_request(request: Request) -> Response:
    """Always the same answer: whether the email has an account is never said."""
    email = str((await request.form()).get("email", ""))[: accounts.EMAIL_MAX + 10]
    if not same_origin(request):
        return see_other(routes.page_with(routes.MAGIC_REQUEST, error="origin"))
    await off_loop(
        email_links.request_magic_link, email, ip=client_ip(request), user_agent=_agent(request)
    )
    return see_other(routes.signin_url(notice="magic_sent"))


def second_factor_step(pending: accounts.SecondFactorNeeded, next_path: str) -> Response:
    """The first factor passed: on to the code page, the half-finished sign-in in a cookie."""
    response = see_other(routes.page_with(routes.SECOND_FACTOR, next=routes.safe_next(next_path)))
    set_pending_cookie(response, pending.pending, max_age=accounts.SECOND_FACTOR_MINUTES * 60)
    return response


async def magic(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", ""))[: email_links.TOKEN_MAX + 1]
    if not same_origin(request):
        return see_other(routes.page_with(routes.MAGIC, token=token, error="origin"))
    try:
        session = await off_loop(
            email_links.sign_in_by_link, token, ip=client_ip(request), user_agent=_agent(request)
        )
    except accounts.SecondFactorNeeded as pending:
        return second_factor_step(pending, routes.HOME)
    except accounts.AuthError as error:
        return see_other(routes.page_with(routes.MAGIC, token=token, error=error.code))
    response = see_other(routes.HOME)
    set_session_cookie(response, session)
    return response


async def second_factor(request: Request) -> Response:
    form = await request.form()
    code = str(form.get("code", ""))[: twofactor.CODE_MAX]
    next_path = routes.safe_next(str(form.get("next", "")))
    if not same_origin(request):
        return see_other(routes.signin_url(error="origin"))
    pending = request.cookies.get(pending_cookie_name(), "")
    try:
        session = await off_loop(
            twofactor.complete_sign_in,
            pending,
            code,
            ip=client_ip(request),
            user_agent=_agent(request),
        )
    except accounts.AuthError as error:
        if error.code == "second_factor":  # nothing left to finish: start again
            response = see_other(routes.signin_url(next_path=next_path, error=error.code))
            clear_pending_cookie(response)
            return response
        wait = str(error.retry_after) if error.retry_after else ""
        return see_other(
            routes.page_with(routes.SECOND_FACTOR, next=next_path, error=error.code, wait=wait)
        )
    response = see_other(next_path)
    clear_pending_cookie(response)
    set_session_cookie(response, session)
    return response


def routes_for_links() -> list[BaseRoute]:
    return [
        Route(routes.AUTH_VERIFY, verify, methods=["GET"]),
        Route(routes.AUTH_VERIFY_RESEND, verify_resend, methods=["POST"]),
        Route(routes.AUTH_MAGIC_REQUEST, magic_request, methods=["POST"]),
        Route(routes.AUTH_MAGIC, magic, methods=["POST"]),
        Route(routes.AUTH_SECOND_FACTOR, second_factor, methods=["POST"]),
    ]
