"""The one confirm-delete flow (state/confirm.py) as the three states that ask before deleting
share it: the same handlers on each, the user checked once, the target taken once."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.state.confirm import ConfirmDelete
from compymac_rx.state.files import FilesState
from compymac_rx.state.guard import payload_problem
from compymac_rx.state.sessions import SessionsState
from compymac_rx.state.settings import SettingsState

STATES = (FilesState, SessionsState, SettingsState)
USER = CurrentUser(id="u1", email="u1@example.com", is_admin=False)


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.__name__)
def test_each_state_has_the_trio_and_confirming_needs_a_signed_in_user(state: Any) -> None:
    handlers = state.event_handlers
    assert {"ask_delete", "cancel_delete", "confirm_delete"} <= set(handlers)
    assert "delete" not in handlers
    confirm = handlers["confirm_delete"].fn
    # Wrapped by @signed_in: the user comes from the guard, the browser sends nothing.
    assert confirm.__wrapped__ is ConfirmDelete.__dict__["confirm_delete"].__wrapped__
    assert list(inspect.signature(confirm).parameters) == ["self"]
    assert payload_problem(confirm, {}) is None
    assert payload_problem(confirm, {"user": {"id": "u2"}}) is not None
    assert not hasattr(handlers["cancel_delete"].fn, "__wrapped__")


@pytest.mark.parametrize(
    ("state", "good", "bad"),
    [
        (FilesState, {"path": "notes/a.txt"}, {"path": "x" * 5000}),
        (SessionsState, {"session_id": "abc123", "title": "x"}, {"session_id": "../x"}),
        (SettingsState, {"provider": "openai"}, {"provider": "openai", "extra": 1}),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_asking_keeps_each_states_typed_payload(state: Any, good: dict, bad: dict) -> None:
    ask = state.event_handlers["ask_delete"].fn
    assert payload_problem(ask, good) is None
    assert payload_problem(ask, bad) is not None


@dataclasses.dataclass
class Fake:
    """Stands in for a state: what the flow reads and writes, and a `_delete` that records."""

    delete_target: str = ""
    delete_label: str = ""
    deleted: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    async def _delete(self, user: CurrentUser, target: str) -> None:
        # The dialog is closed before the deletion runs: a second confirm finds nothing.
        assert self.delete_target == ""
        self.deleted.append((user.id, target))


async def confirm(fake: Fake) -> None:
    await ConfirmDelete.__dict__["confirm_delete"].__wrapped__(fake, USER)


async def test_confirm_deletes_what_was_asked_once_and_cancel_forgets_it() -> None:
    fake = Fake()
    ConfirmDelete._ask_delete(fake, "s1", "My session")  # type: ignore[arg-type]
    assert (fake.delete_target, fake.delete_label) == ("s1", "My session")
    await confirm(fake)
    await confirm(fake)
    assert fake.deleted == [("u1", "s1")]

    ConfirmDelete._ask_delete(fake, "s2")  # type: ignore[arg-type]
    ConfirmDelete.__dict__["cancel_delete"](fake)
    await confirm(fake)
    assert fake.deleted == [("u1", "s1")]
