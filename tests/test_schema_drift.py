"""The models and the migrations describe the same schema, on SQLite and on PostgreSQL.

Every test database is a copy of one migrated to head by Alembic (conftest.template_db and
conftest.postgres); autogenerate's compare_metadata then lists what the models have that the
database lacks, or the other way round. A model changed without a revision fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from compymac_rx import models  # noqa: F401  (registers every table on the metadata)
from compymac_rx.db import get_engine

pytestmark = pytest.mark.both_databases


def include_object(
    obj: object, name: str | None, kind: str, reflected: bool, other: object
) -> bool:
    """What autogenerate cannot compare, left out as alembic/env.py leaves it out.

    The search index is raw SQL of revisions 0006 and 0009, deliberately outside the models:
    FTS5 virtual tables, their shadow tables and triggers on SQLite; generated `search_vector`
    tsvector columns and GIN indexes on PostgreSQL; and `ix_search_messages_recent`. Triggers
    autogenerate never sees at all; the rest all carry the `search_` / `ix_search_` prefix.
    """
    return not (name or "").startswith(("search_", "ix_search_"))


def drift(metadata: sa.MetaData) -> list[Any]:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": include_object,
                "compare_type": True,
                "compare_server_default": False,  # defaults live in Python (SQLModel fields)
            },
        )
        return list(compare_metadata(context, metadata))


def test_the_models_match_the_migrated_schema() -> None:
    assert drift(SQLModel.metadata) == []


def test_the_comparison_sees_a_column_the_migrations_lack() -> None:
    """The positive control: the same comparison reports a model column no revision adds."""
    changed = sa.MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["users"].append_column(sa.Column("drift_probe", sa.Integer, nullable=True))
    found = drift(changed)
    assert [(d[0], d[2], d[3].name) for d in found] == [("add_column", "users", "drift_probe")]
