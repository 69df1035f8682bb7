"""The Account page's sign-in security: the email-confirmation banner and two-factor."""

from __future__ import annotations

import reflex as rx

from compymac_rx.components.layout import labeled_input, result_callout, secret_form, section
from compymac_rx.state.security import SecurityState


def verification_banner() -> rx.Component:
    return rx.cond(
        SecurityState.unverified,
        rx.callout.root(
            rx.callout.icon(rx.icon("mail")),
            rx.callout.text(
                "Your email address is not confirmed yet: open the link we mailed you. ",
                rx.button(
                    "Send the link again",
                    size="1",
                    variant="soft",
                    on_click=SecurityState.resend_verification,
                ),
            ),
            color_scheme="amber",
            data_testid="verify-banner",
            width="100%",
        ),
    )


def _enrollment() -> rx.Component:
    return secret_form(
        rx.text("Scan this code with your authenticator app, then enter the code it shows."),
        rx.image(
            src=SecurityState.qr_data_url,
            alt="QR code for your authenticator app",
            width="200px",
            height="200px",
        ),
        rx.text(
            "Or type this key: ",
            rx.code(SecurityState.manual_secret, data_testid="totp-secret"),
            size="2",
        ),
        labeled_input("Code from your app", "totp_code", autocomplete="one-time-code"),
        rx.button("Confirm two-factor", type="submit"),
        on_submit=SecurityState.confirm_two_factor,
    )


def _recovery_codes() -> rx.Component:
    return rx.cond(
        SecurityState.recovery_codes.length() > 0,  # type: ignore[attr-defined]
        rx.callout.root(
            rx.callout.text(
                "Your recovery codes: each signs in once without your app. They are shown "
                "only now; keep them somewhere safe."
            ),
            rx.vstack(
                rx.foreach(
                    SecurityState.recovery_codes,
                    lambda code: rx.code(code, data_testid="recovery-code"),
                ),
                spacing="1",
            ),
            rx.button("I saved them", size="1", on_click=SecurityState.dismiss_recovery_codes),
            color_scheme="blue",
            width="100%",
        ),
    )


def _turn_off() -> rx.Component:
    return secret_form(
        rx.text(
            "On: every sign-in asks for a code. ",
            SecurityState.recovery_left,
            " recovery codes left.",
            size="2",
        ),
        labeled_input(
            "Password to turn it off",
            "disable_password",
            kind="password",
            autocomplete="current-password",
        ),
        labeled_input("Code from your app or a recovery code", "disable_code"),
        rx.button("Turn off two-factor", type="submit", color_scheme="red", variant="soft"),
        on_submit=SecurityState.disable_two_factor,
    )


def two_factor_section() -> rx.Component:
    return rx.cond(
        SecurityState.local,
        section(
            "Two-factor sign-in",
            result_callout(SecurityState.note, SecurityState.note_ok, "security-result"),
            _recovery_codes(),
            rx.cond(
                SecurityState.two_factor_on,
                _turn_off(),
                rx.cond(
                    SecurityState.qr_data_url != "",
                    _enrollment(),
                    rx.button("Set up two-factor", on_click=SecurityState.start_two_factor),
                ),
            ),
        ),
    )
