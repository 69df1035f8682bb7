"""SQLite connections that take turns to write, in this process, instead of polling for it.

SQLite has one writer at a time. A connection that finds the write lock taken sleeps in
SQLite's busy handler (1, 2, 5 ... 100 ms) and fails with "database is locked" once
`busy_timeout` has passed. Under load (a hundred turns at once, the GIL shared by as many
threads) a writer holding the lock runs slowly, others time out, and a user's message or a
turn's reply was lost. Here a connection takes a process-wide lock before its first write and
keeps it until its transaction ends: the next writer starts the moment the last one commits,
nobody polls, and nobody times out. Reads never take it (WAL lets them run beside a writer).
Other processes (a migration, a CLI command) still meet `busy_timeout`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Self

WRITER = threading.Lock()
# A wait this long means a writer is stuck, not busy: fail as SQLite would, never hang (a
# thread that wrote on one connection and then on a second one would otherwise wait forever).
WAIT_SECONDS = 30.0

_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def _writes(statement: str) -> bool:
    head = statement.lstrip()[:8].upper()
    return not head.startswith(_READS)


def _then_end_write(
    method: Callable[[sqlite3.Connection], None],
) -> Callable[[WriterConnection], None]:
    def ended(self: WriterConnection) -> None:
        try:
            method(self)
        finally:
            self._end_write()

    return ended


class WriterConnection(sqlite3.Connection):
    """A sqlite3 connection whose cursors take WRITER before the first write of a transaction."""

    _writing = False

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or _Cursor)

    def _begin_write(self) -> None:
        if not self._writing:
            if not WRITER.acquire(timeout=WAIT_SECONDS):
                raise sqlite3.OperationalError(
                    "database is locked (waited for this process's writer)"
                )
            self._writing = True

    def _end_write(self) -> None:
        if self._writing:
            self._writing = False
            WRITER.release()

    # The transaction ends (or could have) in each of these, so the write lock goes after
    # them, whatever happened.
    commit = _then_end_write(sqlite3.Connection.commit)
    rollback = _then_end_write(sqlite3.Connection.rollback)
    close = _then_end_write(sqlite3.Connection.close)


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        self._claim(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        self._claim(sql)
        return super().executemany(sql, seq_of_parameters)

    def _claim(self, sql: str) -> None:
        if _writes(sql):
            self._writer()._begin_write()

    def _writer(self) -> WriterConnection:
        connection = self.connection
        assert isinstance(connection, WriterConnection)
        return connection
