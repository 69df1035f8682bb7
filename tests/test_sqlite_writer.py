"""SQLite writers take turns in this process instead of failing with "database is locked"."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import create_engine

from compymac_rx.db import make_engine

THREADS, TRANSACTIONS = 8, 40


def no_patience(engine: Engine) -> Engine:
    """SQLite's busy handler off: a writer that meets the lock fails at once."""

    @event.listens_for(engine, "connect")
    def _(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    return engine


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'writers.db'}"
    setup = make_engine(url)
    with setup.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO counter VALUES (0)"))
    setup.dispose()
    yield url


def hammer(engine: Engine) -> list[Exception]:
    """Many threads, each running read-then-write transactions; the errors they met."""
    errors: list[Exception] = []

    def work() -> None:
        for _ in range(TRANSACTIONS):
            try:
                with engine.begin() as connection:
                    connection.execute(text("SELECT n FROM counter")).scalar_one()
                    connection.execute(text("UPDATE counter SET n = n + 1"))
            except OperationalError as error:
                errors.append(error)

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(work) for _ in range(THREADS)]:
            future.result()
    return errors


def test_concurrent_writers_all_commit_and_none_is_lost(url: str) -> None:
    engine = no_patience(make_engine(url))
    assert hammer(engine) == []
    with engine.connect() as connection:
        # Every transaction committed: none gave up on the lock.
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == (
            THREADS * TRANSACTIONS
        )
    engine.dispose()


def test_without_the_writer_lock_the_same_load_fails(url: str) -> None:
    """The control: plain sqlite3 connections under the same load meet the lock."""
    engine = no_patience(create_engine(url, connect_args={"check_same_thread": False}))
    assert any("database is locked" in str(error) for error in hammer(engine))
    engine.dispose()


def test_a_reader_runs_while_a_writer_holds_the_lock(url: str) -> None:
    engine = make_engine(url)
    writing, read_done = threading.Event(), threading.Event()

    def writer() -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE counter SET n = 41"))
            writing.set()
            assert read_done.wait(10), "the reader waited for the writer"

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(10)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 0
    read_done.set()
    thread.join(10)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 41
    engine.dispose()
