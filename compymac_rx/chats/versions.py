"""Turn versions: regenerate and edit-and-resend branch a turn instead of replacing it.

The model (ChatGPT's): a turn is a user message and everything after it up to the next user
message (by seq). Regenerating or editing a turn adds a new user message beside it, a sibling
with the same `parent_id` (the user message of the turn before); the siblings are that turn's
versions, and `chosen` marks the one shown. Following the chosen sibling from the first turn
down gives the chosen path; every other message is `hidden`. A child is always newer than its
parent, so the path read in seq order is the conversation in order, and every reader (the
history page, the model's context, export, search) filters `hidden` and orders by seq as
before. Only writes that change the tree (a new version, a switch) walk it, off the turn path.

Queries here, like the repository's, take the owner's user id and filter on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session

from compymac_rx.chats.models import Message

_messages = Message.__table__  # type: ignore[attr-defined]
_CHUNK = 500  # ids per IN list (well under SQLite's variable limit)


@dataclasses.dataclass(frozen=True)
class Node:
    """A message's place in the tree, without its text."""

    id: int
    role: str
    parent_id: int | None
    chosen: bool
    hidden: bool


def _owned(user_id: str, session_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(_messages.c.session_id == session_id, _messages.c.user_id == user_id)


def _siblings_of(parent_id: int | None) -> sa.ColumnElement[bool]:
    parent = _messages.c.parent_id
    same = parent.is_(None) if parent_id is None else parent == parent_id
    return sa.and_(_messages.c.role == "user", same)


def visible_ids(nodes: Sequence[Node]) -> set[int]:
    """The ids on the chosen path; `nodes` in seq order.

    Messages before the first user message (an imported preamble) are always shown. Where no
    sibling or several are marked chosen (never written so, but cheap to be sure of), the
    newest wins.
    """
    turns: dict[int | None, list[int]] = {None: []}
    children: dict[int | None, list[Node]] = {}
    current: int | None = None
    for node in nodes:
        if node.role == "user":
            current = node.id
            turns[current] = []
            children.setdefault(node.parent_id, []).append(node)
        turns[current].append(node.id)
    shown = set(turns[None])
    at: int | None = None
    while kids := children.get(at):
        pick = next((kid for kid in reversed(kids) if kid.chosen), kids[-1])
        if pick.id in shown:  # a cycle cannot be written; never loop on one anyway
            break
        shown.update(turns[pick.id])
        at = pick.id
    return shown


def _nodes(db: Session, *, user_id: str, session_id: str) -> list[Node]:
    c = _messages.c
    rows = db.execute(
        sa.select(c.id, c.role, c.parent_id, c.chosen, c.hidden)
        .where(_owned(user_id, session_id))
        .order_by(c.seq)
    ).all()
    return [Node(int(r[0]), str(r[1]), r[2], bool(r[3]), bool(r[4])) for r in rows]


def _set_hidden(db: Session, user_id: str, session_id: str, ids: list[int], hidden: bool) -> None:
    for start in range(0, len(ids), _CHUNK):
        db.execute(
            sa.update(_messages)
            .where(_owned(user_id, session_id), _messages.c.id.in_(ids[start : start + _CHUNK]))
            .values(hidden=hidden)
        )


def refresh_path(db: Session, *, user_id: str, session_id: str) -> None:
    """Store `hidden` for the chosen path; only the rows whose flag changes are written."""
    nodes = _nodes(db, user_id=user_id, session_id=session_id)
    shown = visible_ids(nodes)
    hide = [n.id for n in nodes if not n.hidden and n.id not in shown]
    show = [n.id for n in nodes if n.hidden and n.id in shown]
    _set_hidden(db, user_id, session_id, hide, True)
    _set_hidden(db, user_id, session_id, show, False)


def choose(db: Session, *, user_id: str, session_id: str, message: Message) -> None:
    """Make `message` (a user message of this session) the chosen version of its turn."""
    db.execute(
        sa.update(_messages)
        .where(_owned(user_id, session_id), _siblings_of(message.parent_id))
        .values(chosen=_messages.c.id == message.id)
    )
    refresh_path(db, user_id=user_id, session_id=session_id)


def unchoose_siblings(db: Session, *, user_id: str, session_id: str, parent_id: int | None) -> None:
    """No version of the turn after `parent_id` is chosen (a new one is about to be)."""
    db.execute(
        sa.update(_messages)
        .where(_owned(user_id, session_id), _siblings_of(parent_id))
        .values(chosen=False)
    )


def last_shown_user_id(db: Session, *, user_id: str, session_id: str) -> int | None:
    """The user message of the last turn shown: the parent of a message sent now."""
    c = _messages.c
    return db.execute(
        sa.select(c.id)
        .where(_owned(user_id, session_id), c.role == "user", c.hidden == sa.false())
        .order_by(c.seq.desc())
        .limit(1)
    ).scalar()


def sibling_ids(
    db: Session, *, user_id: str, session_id: str, parents: Iterable[int | None]
) -> dict[int | None, tuple[int, ...]]:
    """For each parent, the ids of its child user messages (a turn's versions), oldest first."""
    wanted = set(parents)
    if not wanted:
        return {}
    c = _messages.c
    ids = [p for p in wanted if p is not None]
    matches = [c.parent_id.in_(ids)] if ids else []
    if None in wanted:
        matches.append(c.parent_id.is_(None))
    rows = db.execute(
        sa.select(c.id, c.parent_id)
        .where(_owned(user_id, session_id), c.role == "user", sa.or_(*matches))
        .order_by(c.seq)
    ).all()
    found: dict[int | None, tuple[int, ...]] = {parent: () for parent in wanted}
    for row in rows:
        found[row[1]] = (*found[row[1]], int(row[0]))
    return found
