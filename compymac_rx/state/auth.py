"""The base state: who is signed in, as the event guard resolved it from the HttpOnly cookie."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from compymac_rx import routes
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.form_email import form_email_from_cookie_header
from compymac_rx.settings import get_settings
from compymac_rx.state.guard import current_user, session_ended


class AuthState(rx.State):
    """Page states build on this. The guard re-checks the cookie on every event (cached for
    AUTH_CACHE_SECONDS), so a revoked or expired session is noticed on the tab's next action."""

    user_email: str = ""
    is_admin: bool = False

    def _show_user(self, user: CurrentUser) -> None:
        if (self.user_email, self.is_admin) != (user.email, user.is_admin):
            self.user_email, self.is_admin = user.email, user.is_admin

    def _to_signin(self) -> EventSpec:
        was_signed_in = bool(self.user_email) or session_ended()
        self.user_email, self.is_admin = "", False
        return rx.redirect(
            routes.signin_url(
                next_path=self.router.url.path, error="expired" if was_signed_in else None
            )
        )


EMAIL_FIELD_ID = "email"


class SignInState(rx.State):
    """The public sign-in and sign-up pages: errors and the post-sign-in destination."""

    error: str = ""
    next_path: str = ""
    password_form: bool = True
    provider_name: str = ""
    # An invite link's token (/signup?invite=...), posted back with the sign-up form.
    invite: str = ""
    # Good news after a flow that ends here (account deleted, password reset, link sent).
    notice: str = ""
    # A mailed link's token (/reset?token=..., /magic?token=...), posted back with the form.
    link_token: str = ""
    # MAGIC_LINK: the sign-in page offers "Email me a sign-in link".
    magic_link: bool = False
    # EMAIL_VERIFICATION=required and the password was right: offer to mail the link again.
    offer_resend: bool = False

    @rx.event
    def load(self) -> EventSpec | None:
        query = self.router.url.query_parameters
        headers = self.router.headers
        self.next_path = routes.safe_next(query.get("next"))
        self.invite = str(query.get("invite", ""))[:100]
        self.link_token = str(query.get("token", ""))[:100]
        self.notice = accounts.AUTH_NOTICES.get(query.get("notice", ""), "")
        provider = get_identity_provider()
        self.password_form = provider.uses_password_form
        self.provider_name = provider.display_name
        settings = get_settings()
        self.magic_link = settings.magic_link and provider.uses_password_form
        self.offer_resend = query.get("error", "") == "unverified"
        template = accounts.AUTH_ERROR_MESSAGES.get(query.get("error", ""), "")
        wait = query.get("wait", "0")
        self.error = template.format(
            wait=wait if wait.isdigit() else "a few",
            min=get_settings().password_min_length,
            role=get_settings().keycloak_required_role,
        )
        if current_user() is not None:
            return rx.redirect(self.next_path)
        if query.get("error") and (email := form_email_from_cookie_header(headers.cookie)):
            # After a failed sign-in or sign-up: the email that was typed, filled in again.
            # Set on the field in the browser (not a remount with a new default), so a field
            # being typed into on a page without an error is never replaced.
            return rx.set_value(EMAIL_FIELD_ID, email)
        return None

    @rx.var
    def password_hint(self) -> str:
        return f"At least {get_settings().password_min_length} characters."

    @rx.var
    def signup_href(self) -> str:
        """The sign-up link keeps where the visitor was going (so does the way back)."""
        return routes.signup_url(next_path=self.next_path)

    @rx.var
    def signin_href(self) -> str:
        return routes.signin_url(next_path=self.next_path)
