"""Sign-in and sign-up pages. The forms post to HTTP routes that set the HttpOnly cookie."""

from __future__ import annotations

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.backend import backend_href
from compymac_rx.components.native_form import native_form
from compymac_rx.state.auth import SignInState


def _field(label: str, name: str, kind: str, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, font_size="14px", font_weight="500"),
        rx.input(
            id=name, name=name, type=kind, required=True, auto_complete=autocomplete, width="100%"
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


def signin_page() -> rx.Component:
    return _card(
        "Sign in to your workspace",
        routes.AUTH_LOGIN,
        "Sign in",
        rx.vstack(
            rx.text("No account yet? ", rx.link("Create one", href=routes.SIGNUP), size="2"),
            rx.link("Forgot your password?", href=routes.FORGOT, size="2"),
            spacing="1",
        ),
        new=False,
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
                rx.el.input(type="hidden", name="token", value=SignInState.reset_token),
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
