from __future__ import annotations

from compymac_rx import routes


def test_session_ids_are_read_only_from_session_paths() -> None:
    assert routes.session_id_from_path("/s/abc123") == "abc123"
    assert routes.session_id_from_path("/s/abc123/") == "abc123"
    assert routes.session_id_from_path("/s/../etc") is None
    assert routes.session_id_from_path("/signin") is None


def test_signin_url_keeps_a_safe_next_only() -> None:
    assert routes.signin_url(next_path="/s/abc") == "/signin?next=%2Fs%2Fabc"
    assert routes.signin_url(next_path="https://evil.example") == "/signin"
    assert routes.signin_url(next_path="/", error="expired") == "/signin?error=expired"
