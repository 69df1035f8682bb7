"""The built-in provider: email and password accounts stored in our own database."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from compymac_rx import routes
from compymac_rx.accounts import resets
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.identity import mail_links
from compymac_rx.identity.form_email import remember_form_email
from compymac_rx.identity.http import (
    client_ip,
    same_origin,
    see_other,
    set_session_cookie,
)
from compymac_rx.offload import off_loop


async def _form(request: Request) -> tuple[str, str, str]:
    form = await request.form()
    return (
        str(form.get("email", "")),
        str(form.get("password", "")),
        str(form.get("next", "")),
    )


INVITE_MAX = 100


def _signed_in(token: str, next_path: str) -> Response:
    response = see_other(routes.safe_next(next_path))
    set_session_cookie(response, token)
    return response


async def login(request: Request) -> Response:
    email, password, next_path = await _form(request)
    if not same_origin(request):
        return see_other(routes.signin_url(next_path=next_path, error="origin"))
    try:
        # Password hashing and the database wait on a worker thread, not the event loop.
        token = await off_loop(
            accounts.sign_in,
            email,
            password,
            user_agent=request.headers.get("user-agent", ""),
            ip=client_ip(request),
        )
    except accounts.SecondFactorNeeded as pending:
        return mail_links.second_factor_step(pending, next_path)
    except accounts.AuthError as error:
        url = routes.signin_url(next_path=next_path, error=error.code, wait=error.retry_after)
        return remember_form_email(see_other(url), email)
    return _signed_in(token, next_path)


async def signup(request: Request) -> Response:
    email, password, next_path = await _form(request)
    invite = str((await request.form()).get("invite", ""))[:INVITE_MAX]
    if not same_origin(request):
        return see_other(routes.signup_url(next_path=next_path, error="origin", invite=invite))
    try:
        token = await off_loop(
            accounts.sign_up,
            email,
            password,
            invite=invite,
            user_agent=request.headers.get("user-agent", ""),
            ip=client_ip(request),
        )
    except accounts.VerifyEmailFirst:
        return see_other(routes.signin_url(next_path=next_path, notice="verify_sent"))
    except accounts.AuthError as error:
        url = routes.signup_url(
            next_path=next_path, error=error.code, wait=error.retry_after, invite=invite
        )
        return remember_form_email(see_other(url), email)
    return _signed_in(token, next_path)


async def forgot(request: Request) -> Response:
    """Always the same answer: whether the email has an account is never said."""
    email = str((await request.form()).get("email", ""))[: accounts.EMAIL_MAX + 10]
    if not same_origin(request):
        return see_other(f"{routes.FORGOT}?{urlencode({'error': 'origin'})}")
    await off_loop(
        resets.request_reset,
        email,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    return see_other(routes.signin_url(notice="sent"))


async def reset(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", ""))[: resets.TOKEN_MAX]
    password = str(form.get("password", ""))
    if not same_origin(request):
        return see_other(f"{routes.RESET}?{urlencode({'token': token, 'error': 'origin'})}")
    try:
        await off_loop(
            resets.reset_password,
            token,
            password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except accounts.AuthError as error:
        return see_other(f"{routes.RESET}?{urlencode({'token': token, 'error': error.code})}")
    return see_other(routes.signin_url(notice="reset"))


class LocalProvider:
    name = "local"
    uses_password_form = True
    display_name = "email and password"

    def current_user(self, token: str | None) -> CurrentUser | None:
        return accounts.resolve_user(token)

    def end_session(self, token: str) -> str | None:
        accounts.sign_out(token)
        return None

    def routes(self) -> list[BaseRoute]:
        return [
            Route(routes.AUTH_LOGIN, login, methods=["POST"]),
            Route(routes.AUTH_SIGNUP, signup, methods=["POST"]),
            Route(routes.AUTH_FORGOT, forgot, methods=["POST"]),
            Route(routes.AUTH_RESET, reset, methods=["POST"]),
            *mail_links.routes_for_links(),
        ]
