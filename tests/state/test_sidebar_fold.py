"""A session change put into the sidebar's list where a fresh read would put it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from compymac_rx.chats.models import SessionPublic
from compymac_rx.state.sidebar_fold import remove, upsert

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def row(session_id: str, minutes: int, title: str = "t", archived: bool = False) -> SessionPublic:
    return SessionPublic(session_id, title, archived, T0 + timedelta(minutes=minutes))


def ids(rows: list[SessionPublic] | None) -> list[str]:
    assert rows is not None
    return [r.id for r in rows]


LIST = [row("c", 3), row("b", 2), row("a", 1)]


def test_a_new_session_goes_where_its_activity_puts_it() -> None:
    assert ids(upsert(LIST, row("d", 4), archived_view=False)) == ["d", "c", "b", "a"]
    assert ids(upsert(LIST, row("d", 0), archived_view=False)) == ["c", "b", "a", "d"]


def test_a_rename_keeps_the_place_and_a_message_moves_to_the_top() -> None:
    renamed = upsert(LIST, row("b", 2, title="New"), archived_view=False)
    assert ids(renamed) == ["c", "b", "a"]
    assert renamed is not None and renamed[1].title == "New"
    assert ids(upsert(LIST, row("a", 9), archived_view=False)) == ["a", "c", "b"]


def test_archiving_leaves_the_active_view_and_enters_the_archived_one() -> None:
    assert ids(upsert(LIST, row("b", 2, archived=True), archived_view=False)) == ["c", "a"]
    assert ids(upsert([], row("b", 2, archived=True), archived_view=True)) == ["b"]
    # Another view's change that was never shown here changes nothing.
    assert upsert(LIST, row("z", 5, archived=True), archived_view=False) is None


def test_a_repeated_change_changes_nothing() -> None:
    assert upsert(LIST, row("b", 2), archived_view=False) is None


def test_naive_and_aware_times_sort_together() -> None:
    naive = SessionPublic("n", "t", False, (T0 + timedelta(minutes=10)).replace(tzinfo=None))
    assert ids(upsert(LIST, naive, archived_view=False))[0] == "n"


def test_remove() -> None:
    assert ids(remove(LIST, "b")) == ["c", "a"]
    assert remove(LIST, "zz") is None
