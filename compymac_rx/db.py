"""The database engine and the one helper every caller uses to open a session."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Executable, event, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, create_engine

from compymac_rx.settings import get_settings
from compymac_rx.sqlite_writer import WriterConnection


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # SQLite's advice for WAL: commits no longer wait for an fsync (about 6 ms each here, and
    # the write lock is held meanwhile, so it capped a process at ~50 turns/s). The database
    # stays consistent; a power cut (not a crash of the app) may lose the last moments' commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "factory": WriterConnection}
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    settings = get_settings()
    # pre_ping drops connections a database restart killed; recycle stays under server or
    # proxy idle timeouts.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
    )


@functools.cache
def get_engine() -> Engine:
    settings = get_settings()
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def execute_core(
    session: Session, statement: Executable, params: dict[str, Any]
) -> CursorResult[*tuple[Any, ...]]:
    """Run a Core statement on the session's transaction, past the ORM layer it does not need.

    For the turn path's statements, built once with bind parameters (see chats.repository).
    """
    return session.connection().execute(statement, params)


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE; how many rows it changed."""
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def stamp_once(session: Session, column: Any, now: datetime, *where: Any) -> int:
    """Set a "done at" column (used_at, revoked_at) to `now` on the rows matching `where`
    where it is still NULL; how many this call stamped. One conditional UPDATE, so of two
    racing calls only one stamps a given row."""
    attribute: InstrumentedAttribute[Any] = column
    statement = (
        update(attribute.class_).where(attribute.is_(None), *where).values({attribute.key: now})
    )
    return rows_changed(session, statement)
