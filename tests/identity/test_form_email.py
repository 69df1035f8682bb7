"""The failed form's email: set on the redirect as a short HttpOnly cookie, read back."""

from __future__ import annotations

from starlette.responses import RedirectResponse

from compymac_rx.identity.form_email import (
    FORM_EMAIL_SECONDS,
    form_email_cookie_name,
    form_email_from_cookie_header,
    remember_form_email,
)


def _set_cookie(email: str) -> str:
    response = remember_form_email(RedirectResponse("/signin?error=invalid"), email)
    return response.headers.get("set-cookie", "")


def test_the_email_round_trips_through_the_cookie() -> None:
    header = _set_cookie("Ann+test@example.com")
    assert "httponly" in header.lower()
    assert f"Max-Age={FORM_EMAIL_SECONDS}" in header
    pair = header.split(";", 1)[0]
    assert pair.startswith(form_email_cookie_name() + "=")
    assert form_email_from_cookie_header(f"other=1; {pair}") == "Ann+test@example.com"


def test_an_empty_email_sets_no_cookie() -> None:
    assert _set_cookie("   ") == ""


def test_no_or_broken_cookie_reads_as_empty() -> None:
    assert form_email_from_cookie_header(None) == ""
    assert form_email_from_cookie_header("session=abc") == ""
