"""HTTP pieces every provider shares: the session cookie, origin checks, sign-out, health."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from compymac_rx import routes
from compymac_rx.devmode import page_url
from compymac_rx.identity.base import IdentityProvider
from compymac_rx.offload import off_loop
from compymac_rx.ratelimit import client_address
from compymac_rx.settings import get_settings


def session_cookie_name() -> str:
    """The session cookie's name; setting and reading both go through here.

    A Secure cookie gets the `__Host-` prefix: the browser then accepts it only from a secure
    origin, with Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite it.
    """
    settings = get_settings()
    if settings.secure_cookies:
        return f"__Host-{settings.session_cookie_name}"
    return settings.session_cookie_name


def token_from_cookie_header(header: str | None) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return None
    morsel = jar.get(session_cookie_name())
    return morsel.value if morsel else None


def cookie_user_id(header: str | None) -> str | None:
    """The signed-in user's id behind a Cookie header, as every WebSocket event resolves it
    (an issuer-backed session is refreshed); blocking, so run it off the loop."""
    from compymac_rx.identity.cache import get_user_cache

    user = get_user_cache().resolve(token_from_cookie_header(header))
    return None if user is None else user.id


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        session_cookie_name(),
        token,
        max_age=settings.session_ttl_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def pending_cookie_name() -> str:
    """A sign-in waiting for its second factor (accounts/twofactor.py): HttpOnly, short."""
    return f"{session_cookie_name()}_2fa"


def set_pending_cookie(response: Response, pending: str, *, max_age: int) -> None:
    response.set_cookie(
        pending_cookie_name(),
        pending,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )


def clear_pending_cookie(response: Response) -> None:
    response.delete_cookie(
        pending_cookie_name(),
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )


def clear_session_cookie(response: Response) -> None:
    settings = get_settings()
    response.delete_cookie(
        session_cookie_name(),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def same_origin(request: Request) -> bool:
    """Refuse cross-site form posts (login CSRF): the Origin, when sent, must be us."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    allowed = {request.headers.get("host", ""), urlsplit(get_settings().public_url).netloc}
    return urlsplit(origin).netloc in allowed


def client_ip(request: Request) -> str:
    """The client's address as TRUSTED_PROXY_HOPS says to read it (ratelimit.client_address)."""
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    return client_address(request.client.host if request.client else "", forwarded or None)


def see_other(url: str) -> RedirectResponse:
    """Redirect after a form post; a page path goes to the frontend's origin in development."""
    return RedirectResponse(page_url(url), status_code=303)


def logout_route(provider: IdentityProvider) -> Route:
    async def logout(request: Request) -> Response:
        if not same_origin(request):
            return see_other(routes.signin_url(error="origin"))
        token = request.cookies.get(session_cookie_name())
        # The provider may send the browser on to the issuer, to end its session there too.
        target = await off_loop(provider.end_session, token) if token else None
        response = see_other(target or routes.SIGNIN)
        clear_session_cookie(response)
        return response

    return Route(routes.AUTH_LOGOUT, logout, methods=["POST"])


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def auth_routes(provider: IdentityProvider) -> list[BaseRoute]:
    """Sign-out and health, shared by every provider, then the provider's own routes."""
    return [
        logout_route(provider),
        Route(routes.HEALTH, health, methods=["GET"]),
        *provider.routes(),
    ]
