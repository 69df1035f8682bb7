"""The admin page's user directory on the local table: admins only, never oneself."""

from __future__ import annotations

import dataclasses

import pytest

from compymac_rx.accounts import service as accounts
from compymac_rx.identity.directory import LocalDirectory, NotAllowed
from tests.factories import make_user, signed_in_token


def test_only_admins_may_list_or_change_users() -> None:
    admin = make_user()  # the first account is admin
    plain, token = signed_in_token()
    directory = LocalDirectory()
    for attempt in (
        lambda: directory.list_users(plain),
        lambda: directory.set_enabled(plain, admin.id, False),
        lambda: directory.set_admin(plain, plain.id, True),
    ):
        with pytest.raises(NotAllowed):
            attempt()
    assert accounts.resolve_user(token) is not None
    assert {u.email for u in directory.list_users(admin)} == {admin.email, plain.email}


def test_disabling_ends_sessions_and_granting_admin_works() -> None:
    admin = make_user()
    plain, token = signed_in_token()
    directory = LocalDirectory()
    directory.set_admin(admin, plain.id, True)
    assert accounts.resolve_user(token).is_admin  # type: ignore[union-attr]
    directory.set_enabled(admin, plain.id, False)
    assert accounts.resolve_user(token) is None
    listed = {u.email: u for u in directory.list_users(admin)}
    assert not listed[plain.email].enabled and listed[admin.email].is_self
    directory.set_enabled(admin, plain.id, True)
    assert [u.enabled for u in directory.list_users(admin)] == [True, True]


def test_no_self_changes_and_a_stale_admin_flag_is_not_trusted() -> None:
    admin = make_user()
    directory = LocalDirectory()
    with pytest.raises(NotAllowed):
        directory.set_enabled(admin, admin.id, False)
    with pytest.raises(NotAllowed):
        directory.set_admin(admin, admin.id, False)
    forged = dataclasses.replace(make_user(), is_admin=True)  # a plain user claiming admin
    with pytest.raises(NotAllowed):
        directory.list_users(forged)  # the flag is re-read from the database
