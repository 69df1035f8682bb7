"""Sign-in and sign-up pages. The forms post to HTTP routes that set the HttpOnly cookie."""

from __future__ import annotations

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.backend import backend_href
from compymac_rx.components.native_form import native_form
from compymac_rx.state.auth import SignInState


def _field(
    label: str, name: str, kind: str, autocomplete: str, *, field_id: str = ""
) -> rx.Component:
    field_id = field_id or name
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_size="14px", font_weight="500"),
        rx.input(
            id=field_id,
            name=name,
            type=kind,
            required=True,
            auto_complete=autocomplete,
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _card(title: str, action: str, submit: str, footer: rx.Component, new: bool) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("CompyMac RX", size="6"),
                rx.text(title, color_scheme="gray"),
                rx.cond(
                    SignInState.error != "",
                    rx.callout(
                        SignInState.error,
                        icon="triangle_alert",
                        color_scheme="red",
                        role="alert",
                        width="100%",
                    ),
                ),
                _notice(),
                rx.cond(
                    SignInState.password_form,
                    _password_form(action, submit, new),
                    _issuer_button(),
                ),
                rx.cond(SignInState.password_form, footer),
                spacing="4",
                width="100%",
            ),
            width="min(400px, 92vw)",
            size="3",
        ),
        height="100vh",
    )


def _issuer_button() -> rx.Component:
    """Redirect-based providers: a GET form, so the browser really leaves for the issuer."""
    return native_form(
        rx.el.input(type="hidden", name="next", value=SignInState.next_path),
        rx.button(
            "Continue with " + SignInState.provider_name, type="submit", width="100%", size="3"
        ),
        action=backend_href(routes.AUTH_START),
        method="get",
        width="100%",
    )


def _password_form(action: str, submit: str, new: bool) -> rx.Component:
    return native_form(
        rx.vstack(
            _field("Email", "email", "email", "email"),
            _field(
                "Password",
                "password",
                "password",
                "new-password" if new else "current-password",
            ),
            rx.cond(new, rx.text(SignInState.password_hint, size="1", color_scheme="gray")),
            rx.el.input(type="hidden", name="next", value=SignInState.next_path),
            rx.cond(new, rx.el.input(type="hidden", name="invite", value=SignInState.invite)),
            rx.button(submit, type="submit", width="100%", size="3"),
            spacing="3",
            width="100%",
        ),
        action=backend_href(action),
        method="post",
        width="100%",
    )


def _notice() -> rx.Component:
    return rx.cond(
        SignInState.notice != "",
        rx.callout(
            SignInState.notice, icon="info", color_scheme="green", role="status", width="100%"
        ),
    )


def _resend_verification() -> rx.Component:
    """EMAIL_VERIFICATION=required and the password was right: mail the link again."""
    return rx.cond(
        SignInState.offer_resend,
        native_form(
            rx.vstack(
                _field("Your email", "email", "email", "email", field_id="resend_email"),
                rx.button("Send the confirmation link again", type="submit", variant="soft"),
                spacing="2",
                width="100%",
            ),
            action=backend_href(routes.AUTH_VERIFY_RESEND),
            method="post",
            width="100%",
        ),
    )


def signin_page() -> rx.Component:
    return _card(
        "Sign in to your workspace",
        routes.AUTH_LOGIN,
        "Sign in",
        rx.vstack(
            _resend_verification(),
            rx.text("No account yet? ", rx.link("Create one", href=routes.SIGNUP), size="2"),
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


def magic_request_page() -> rx.Component:
    return _plain_card(
        "Sign in without your password: we mail you a link that works once.",
        native_form(
            rx.vstack(
                _field("Email", "email", "email", "email"),
                rx.button("Email me a sign-in link", type="submit", width="100%", size="3"),
                spacing="3",
                width="100%",
            ),
            action=backend_href(routes.AUTH_MAGIC_REQUEST),
            method="post",
            width="100%",
        ),
    )


def magic_page() -> rx.Component:
    """The mailed link lands here; only the button signs in (a scanner's fetch does not)."""
    return _plain_card(
        "Sign in with the link from your mail",
        native_form(
            rx.el.input(type="hidden", name="token", value=SignInState.link_token),
            rx.button("Sign in", type="submit", width="100%", size="3"),
            action=backend_href(routes.AUTH_MAGIC),
            method="post",
            width="100%",
        ),
    )


def second_factor_page() -> rx.Component:
    return _plain_card(
        "Enter the code from your authenticator app, or one of your recovery codes.",
        native_form(
            rx.vstack(
                rx.vstack(
                    rx.el.label("Code", html_for="code", font_size="14px", font_weight="500"),
                    rx.input(
                        id="code",
                        name="code",
                        required=True,
                        auto_complete="one-time-code",
                        width="100%",
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.el.input(type="hidden", name="next", value=SignInState.next_path),
                rx.button("Verify", type="submit", width="100%", size="3"),
                spacing="3",
                width="100%",
            ),
            action=backend_href(routes.AUTH_SECOND_FACTOR),
            method="post",
            width="100%",
        ),
    )


def _plain_card(title: str, form: rx.Component) -> rx.Component:
    """The forgotten-password pages: one small form that posts to an HTTP route."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("CompyMac RX", size="6"),
                rx.text(title, color_scheme="gray"),
                rx.cond(
                    SignInState.error != "",
                    rx.callout(SignInState.error, color_scheme="red", role="alert", width="100%"),
                ),
                _notice(),
                form,
                rx.link("Back to sign-in", href=routes.SIGNIN, size="2"),
                spacing="4",
                width="100%",
            ),
            width="min(400px, 92vw)",
            size="3",
        ),
        height="100vh",
    )


def forgot_page() -> rx.Component:
    return _plain_card(
        "Forgot your password? We mail you a link to choose a new one.",
        native_form(
            rx.vstack(
                _field("Email", "email", "email", "email"),
                rx.button("Send reset link", type="submit", width="100%", size="3"),
                spacing="3",
                width="100%",
            ),
            action=backend_href(routes.AUTH_FORGOT),
            method="post",
            width="100%",
        ),
    )


def reset_page() -> rx.Component:
    return _plain_card(
        "Choose a new password",
        native_form(
            rx.vstack(
                _field("New password", "password", "password", "new-password"),
                rx.text(SignInState.password_hint, size="1", color_scheme="gray"),
                rx.el.input(type="hidden", name="token", value=SignInState.link_token),
                rx.button("Set new password", type="submit", width="100%", size="3"),
                spacing="3",
                width="100%",
            ),
            action=backend_href(routes.AUTH_RESET),
            method="post",
            width="100%",
        ),
    )


def signup_page() -> rx.Component:
    return _card(
        "Create your account",
        routes.AUTH_SIGNUP,
        "Create account",
        rx.text("Have an account? ", rx.link("Sign in", href=routes.SIGNIN), size="2"),
        new=True,
    )
