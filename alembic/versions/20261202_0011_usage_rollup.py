"""usage rollup: turns per day, per (day, user) and per (day, model), kept by triggers on jobs

The admin usage dashboard summed every turn of the range from `jobs` (90 days over 250,000
turns: ~1.9 s at p95 on PostgreSQL). `usage_days`, `usage_user_days` and `usage_model_days`
hold the same sums per UTC day, so a range is at most users x days rows (and a day's active
users are its count of (day, user) rows). Triggers on `jobs` keep them exact:
an insert adds the row's turn, a delete takes it away, and an update of a counted column (the
final status, model and usage are written when a turn finishes) takes the old values away and
adds the new ones. Heartbeat and attempt updates touch no counted column and fire nothing.
Both tables are filled from the existing turns.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sqlmodel.sql.sqltypes.AutoString(length=32)
COUNTED = "status, model, prompt_tokens, completion_tokens, tool_runs, created_at, user_id"


def _add(day: str, failed: str) -> str:
    """The upserts adding one job row (NEW) to the three tables."""
    day_of, failed_of = day.format(row="NEW"), failed.format(row="NEW")
    users = (
        "INSERT INTO usage_user_days (day, user_id, turns, failed, tool_runs, prompt_tokens,"
        f" completion_tokens) VALUES ({day_of}, NEW.user_id, 1, {failed_of}, NEW.tool_runs,"
        " NEW.prompt_tokens, NEW.completion_tokens) ON CONFLICT (day, user_id) DO UPDATE SET"
        " turns = usage_user_days.turns + 1,"
        " failed = usage_user_days.failed + excluded.failed,"
        " tool_runs = usage_user_days.tool_runs + excluded.tool_runs,"
        " prompt_tokens = usage_user_days.prompt_tokens + excluded.prompt_tokens,"
        " completion_tokens = usage_user_days.completion_tokens + excluded.completion_tokens"
    )
    models = (
        "INSERT INTO usage_model_days (day, model, turns, prompt_tokens, completion_tokens)"
        f" VALUES ({day_of}, NEW.model, 1, NEW.prompt_tokens, NEW.completion_tokens)"
        " ON CONFLICT (day, model) DO UPDATE SET turns = usage_model_days.turns + 1,"
        " prompt_tokens = usage_model_days.prompt_tokens + excluded.prompt_tokens,"
        " completion_tokens = usage_model_days.completion_tokens + excluded.completion_tokens"
    )
    days = (
        "INSERT INTO usage_days (day, turns, failed, tool_runs)"
        f" VALUES ({day_of}, 1, {failed_of}, NEW.tool_runs)"
        " ON CONFLICT (day) DO UPDATE SET turns = usage_days.turns + 1,"
        " failed = usage_days.failed + excluded.failed,"
        " tool_runs = usage_days.tool_runs + excluded.tool_runs"
    )
    return f"{users}; {models}; {days}"


def _remove(day: str, failed: str) -> str:
    """Updates taking one job row (OLD) away. Updates, not upserts: the rows exist (the
    insert made them), except when a user's deletion already removed theirs by cascade, and
    then there is nothing to take away (an upsert would re-create them for a deleted user).
    A (day, user) or (day, model) row left with no turn goes: a day's active users are then
    its row count, read from the primary key alone."""
    day_of, failed_of = day.format(row="OLD"), failed.format(row="OLD")
    users = (
        f"UPDATE usage_user_days SET turns = turns - 1, failed = failed - {failed_of},"
        " tool_runs = tool_runs - OLD.tool_runs,"
        " prompt_tokens = prompt_tokens - OLD.prompt_tokens,"
        " completion_tokens = completion_tokens - OLD.completion_tokens"
        f" WHERE day = {day_of} AND user_id = OLD.user_id"
    )
    models = (
        "UPDATE usage_model_days SET turns = turns - 1,"
        " prompt_tokens = prompt_tokens - OLD.prompt_tokens,"
        " completion_tokens = completion_tokens - OLD.completion_tokens"
        f" WHERE day = {day_of} AND model = OLD.model"
    )
    days = (
        f"UPDATE usage_days SET turns = turns - 1, failed = failed - {failed_of},"
        f" tool_runs = tool_runs - OLD.tool_runs WHERE day = {day_of}"
    )
    empty_users = (
        f"DELETE FROM usage_user_days WHERE day = {day_of} AND user_id = OLD.user_id AND turns = 0"
    )
    empty_models = (
        f"DELETE FROM usage_model_days WHERE day = {day_of} AND model = OLD.model AND turns = 0"
    )
    return f"{users}; {models}; {days}; {empty_users}; {empty_models}"


def _fill(day: str, failed: str) -> list[str]:
    day_of, failed_of = day.format(row="jobs"), failed.format(row="jobs")
    return [
        "INSERT INTO usage_user_days (day, user_id, turns, failed, tool_runs, prompt_tokens,"
        f" completion_tokens) SELECT {day_of}, user_id, count(*), sum({failed_of}),"
        " sum(tool_runs), sum(prompt_tokens), sum(completion_tokens) FROM jobs"
        f" GROUP BY {day_of}, user_id",
        "INSERT INTO usage_days (day, turns, failed, tool_runs)"
        f" SELECT {day_of}, count(*), sum({failed_of}), sum(tool_runs) FROM jobs"
        f" GROUP BY {day_of}",
        "INSERT INTO usage_model_days (day, model, turns, prompt_tokens, completion_tokens)"
        f" SELECT {day_of}, model, count(*), sum(prompt_tokens), sum(completion_tokens)"
        f" FROM jobs GROUP BY {day_of}, model",
    ]


# The UTC day whatever the session's time zone (created_at is a timestamptz on PostgreSQL;
# SQLite keeps UTC text, which date() reads).
PG_DAY, PG_FAILED = "({row}.created_at AT TIME ZONE 'UTC')::date", "({row}.status = 'failed')::int"
LITE_DAY, LITE_FAILED = "date({row}.created_at)", "({row}.status = 'failed')"


def _postgres_up() -> list[str]:
    remove, add = _remove(PG_DAY, PG_FAILED), _add(PG_DAY, PG_FAILED)
    return [
        f"""
        CREATE FUNCTION usage_days_count() RETURNS trigger AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {remove};
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {add};
            END IF;
            RETURN NULL;
        END $$ LANGUAGE plpgsql
        """,
        f"CREATE TRIGGER jobs_usage_days AFTER INSERT OR DELETE OR UPDATE OF {COUNTED}"
        " ON jobs FOR EACH ROW EXECUTE FUNCTION usage_days_count()",
        *_fill(PG_DAY, PG_FAILED),
    ]


POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS jobs_usage_days ON jobs",
    "DROP FUNCTION IF EXISTS usage_days_count()",
]


def _sqlite_up() -> list[str]:
    remove, add = _remove(LITE_DAY, LITE_FAILED), _add(LITE_DAY, LITE_FAILED)
    return [
        f"CREATE TRIGGER jobs_usage_days_insert AFTER INSERT ON jobs BEGIN {add}; END",
        f"CREATE TRIGGER jobs_usage_days_delete AFTER DELETE ON jobs BEGIN {remove}; END",
        f"CREATE TRIGGER jobs_usage_days_update AFTER UPDATE OF {COUNTED} ON jobs"
        f" BEGIN {remove}; {add}; END",
        *_fill(LITE_DAY, LITE_FAILED),
    ]


SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS jobs_usage_days_{what}" for what in ("insert", "delete", "update")
]


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "usage_user_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        *(_count(n) for n in ("turns", "failed", "tool_runs")),
        *(_count(n) for n in ("prompt_tokens", "completion_tokens")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("day", "user_id"),
    )
    op.create_table(
        "usage_model_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        *(_count(n) for n in ("turns", "prompt_tokens", "completion_tokens")),
        sa.PrimaryKeyConstraint("day", "model"),
    )
    op.create_table(
        "usage_days",
        sa.Column("day", sa.Date(), nullable=False),
        *(_count(n) for n in ("turns", "failed", "tool_runs")),
        sa.PrimaryKeyConstraint("day"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite_up() if sqlite else _postgres_up():
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_DOWN if sqlite else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_table("usage_days")
    op.drop_table("usage_model_days")
    op.drop_table("usage_user_days")
