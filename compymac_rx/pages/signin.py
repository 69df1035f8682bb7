"""Sign-in and sign-up pages. The forms post to HTTP routes that set the HttpOnly cookie."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.backend import backend_href
from compymac_rx.components.layout import labeled_input
from compymac_rx.components.native_form import native_form
from compymac_rx.state.auth import EMAIL_FIELD_ID, SignInState


def _field(
    label: str,
    name: str,
    kind: str,
    autocomplete: str,
    *,
    field_id: str = "",
) -> rx.Component:
    return labeled_input(
        label,
        name,
        kind=kind,
        autocomplete=autocomplete,
        field_id=field_id,
        required=True,
        label_weight="500",
    )


def _email() -> rx.Component:
    return _field("Email", "email", "email", "email")


def _kept_email() -> rx.Component:
    """The sign-in and sign-up email: after a failed attempt it holds what was typed."""
    return _field("Email", "email", "email", "email", field_id=EMAIL_FIELD_ID)


def _hidden(name: str, value: Any) -> rx.Component:
    """A value the page was opened with (next page, invite, mailed token), posted back."""
    return rx.el.input(type="hidden", name=name, value=value)


def _post(route: str, *children: rx.Component, submit: str, spacing: str = "3") -> rx.Component:
    """A real POST to an auth route (its answer sets the cookie); the submit button last."""
    return _native(
        route,
        "post",
        rx.vstack(
            *children,
            rx.button(submit, type="submit", width="100%", size="3"),
            spacing=spacing,
            width="100%",
        ),
    )


def _native(route: str, method: str, *children: rx.Component) -> rx.Component:
    return native_form(*children, action=backend_href(route), method=method, width="100%")


def _frame(title: str, *body: rx.Component, error_icon: bool) -> rx.Component:
    """The small centred card every sign-in page shows: title, error, notice, then `body`."""
    icon = {"icon": "triangle_alert"} if error_icon else {}
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("CompyMac RX", size="6"),
                rx.text(title, color_scheme="gray"),
                rx.cond(
                    SignInState.error != "",
                    rx.callout(
                        SignInState.error, color_scheme="red", role="alert", width="100%", **icon
                    ),
                ),
                rx.cond(
                    SignInState.notice != "",
                    rx.callout(
                        SignInState.notice,
                        icon="info",
                        color_scheme="green",
                        role="status",
                        width="100%",
                    ),
                ),
                *body,
                spacing="4",
                width="100%",
            ),
            width="min(400px, 92vw)",
            size="3",
        ),
        height="100vh",
    )


def _card(title: str, action: str, submit: str, footer: rx.Component, new: bool) -> rx.Component:
    """Sign-in and sign-up: the password form, or the issuer's button where it signs people in."""
    return _frame(
        title,
        rx.cond(SignInState.password_form, _password_form(action, submit, new), _issuer_button()),
        rx.cond(SignInState.password_form, footer),
        error_icon=True,
    )


def _plain_card(title: str, form: rx.Component) -> rx.Component:
    """The emailed-link and second-factor pages: one small form, and the way back."""
    return _frame(
        title, form, rx.link("Back to sign-in", href=routes.SIGNIN, size="2"), error_icon=False
    )


def _issuer_button() -> rx.Component:
    """Redirect-based providers: a GET form, so the browser really leaves for the issuer."""
    return _native(
        routes.AUTH_START,
        "get",
        _hidden("next", SignInState.next_path),
        rx.button(
            "Continue with " + SignInState.provider_name, type="submit", width="100%", size="3"
        ),
    )


def _password_form(action: str, submit: str, new: bool) -> rx.Component:
    return _post(
        action,
        _kept_email(),
        _field("Password", "password", "password", "new-password" if new else "current-password"),
        rx.cond(new, rx.text(SignInState.password_hint, size="1", color_scheme="gray")),
        _hidden("next", SignInState.next_path),
        rx.cond(new, _hidden("invite", SignInState.invite)),
        submit=submit,
    )


def _resend_verification() -> rx.Component:
    """EMAIL_VERIFICATION=required and the password was right: mail the link again."""
    return rx.cond(
        SignInState.offer_resend,
        _native(
            routes.AUTH_VERIFY_RESEND,
            "post",
            rx.vstack(
                _field("Your email", "email", "email", "email", field_id="resend_email"),
                rx.button("Send the confirmation link again", type="submit", variant="soft"),
                spacing="2",
                width="100%",
            ),
        ),
    )


def signin_page() -> rx.Component:
    return _card(
        "Sign in to your workspace",
        routes.AUTH_LOGIN,
        "Sign in",
        rx.vstack(
            _resend_verification(),
            rx.text(
                "No account yet? ",
                rx.link("Create one", href=SignInState.signup_href, underline="always"),
                size="2",
            ),
            rx.link("Forgot your password?", href=routes.FORGOT, size="2"),
            rx.cond(
                SignInState.magic_link,
                rx.link("Email me a sign-in link", href=routes.MAGIC_REQUEST, size="2"),
            ),
            spacing="1",
            width="100%",
        ),
        new=False,
    )


def signup_page() -> rx.Component:
    return _card(
        "Create your account",
        routes.AUTH_SIGNUP,
        "Create account",
        rx.text(
            "Have an account? ",
            rx.link("Sign in", href=SignInState.signin_href, underline="always"),
            size="2",
        ),
        new=True,
    )


def magic_request_page() -> rx.Component:
    return _plain_card(
        "Sign in without your password: we mail you a link that works once.",
        _post(routes.AUTH_MAGIC_REQUEST, _email(), submit="Email me a sign-in link"),
    )


def magic_page() -> rx.Component:
    """The mailed link lands here; only the button signs in (a scanner's fetch does not)."""
    return _plain_card(
        "Sign in with the link from your mail",
        _post(routes.AUTH_MAGIC, _hidden("token", SignInState.link_token), submit="Sign in"),
    )


def second_factor_page() -> rx.Component:
    return _plain_card(
        "Enter the code from your authenticator app, or one of your recovery codes.",
        _post(
            routes.AUTH_SECOND_FACTOR,
            _field("Code", "code", "text", "one-time-code"),
            _hidden("next", SignInState.next_path),
            submit="Verify",
        ),
    )


def forgot_page() -> rx.Component:
    return _plain_card(
        "Forgot your password? We mail you a link to choose a new one.",
        _post(routes.AUTH_FORGOT, _email(), submit="Send reset link"),
    )


def reset_page() -> rx.Component:
    return _plain_card(
        "Choose a new password",
        _post(
            routes.AUTH_RESET,
            _field("New password", "password", "password", "new-password"),
            rx.text(SignInState.password_hint, size="1", color_scheme="gray"),
            _hidden("token", SignInState.link_token),
            submit="Set new password",
        ),
    )
