"""Each person's colour mode, stored with the account (both databases)."""

from __future__ import annotations

from compymac_rx.accounts import appearance
from tests.factories import signed_in_token


def test_a_new_account_follows_the_system() -> None:
    user, _ = signed_in_token("new@example.com")
    assert appearance.get_color_mode(user.id) == "system"


def test_the_choice_is_kept_per_user() -> None:
    ann, _ = signed_in_token("ann@example.com")
    bob, _ = signed_in_token("bob@example.com")
    assert appearance.set_color_mode(ann.id, "dark")
    assert appearance.get_color_mode(ann.id) == "dark"
    assert appearance.get_color_mode(bob.id) == "system"
    assert appearance.set_color_mode(ann.id, "light")
    assert appearance.get_color_mode(ann.id) == "light"


def test_an_unknown_mode_or_user_changes_nothing() -> None:
    ann, _ = signed_in_token("ann@example.com")
    assert not appearance.set_color_mode(ann.id, "sepia")
    assert appearance.get_color_mode(ann.id) == "system"
    assert not appearance.set_color_mode("0" * 32, "dark")
    assert appearance.get_color_mode("0" * 32) == "system"
