"""Writers racing on one session: every message gets its own sequence number."""

from __future__ import annotations

import threading

from sqlmodel import select

from compymac_rx.chats import repository
from compymac_rx.chats import service as chats
from compymac_rx.chats.models import Message
from compymac_rx.db import session_scope, utcnow
from tests.factories import make_user

WRITERS = 8
EACH = 5


def test_concurrent_writers_get_distinct_sequence_numbers() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with session_scope() as db:
                    repository.add_message(
                        db,
                        user_id=user.id,
                        session_id=session.id,
                        role="user",
                        content=f"{writer}-{i}",
                        now=utcnow(),
                    )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with session_scope() as db:
        rows = db.exec(select(Message).where(Message.session_id == session.id)).all()
    assert sorted(r.seq for r in rows) == list(range(1, WRITERS * EACH + 1))
    assert len({r.content for r in rows}) == WRITERS * EACH
