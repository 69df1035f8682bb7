"""accounts and usage: verified emails, mailed sign-in links, TOTP two-factor, turn usage

`users` gains `email_verified_at` (EMAIL_VERIFICATION; NULL for every account that exists
before this revision: with `required` their owners confirm at the next sign-in, the sign-in
page offers the link) and the TOTP columns (the secret encrypted, when it was confirmed, the
last time step accepted). `one_time_tokens` keeps only the hashes of single-use, short-lived
tokens: verification links, sign-in links, sign-ins waiting for their second factor.
`recovery_codes` keeps the hashes of the two-factor recovery codes.

`jobs` gains what each turn used (model, prompt and completion tokens, tool runs; zero for
turns before this revision) and an index on (created_at, user_id, status) for the admin
usage dashboard's range scans (on PostgreSQL it includes the summed columns: index-only).
`storage_totals` keeps messages and text bytes per user, maintained by triggers on
`messages` (insert and delete; messages are never updated) and filled from the existing rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sqlmodel.sql.sqltypes.AutoString(length=32)
WHEN = sqlmodel.sql.sqltypes.UTCDateTime()

FILL = (
    "INSERT INTO storage_totals (user_id, messages, bytes) "
    "SELECT user_id, count(*), sum({size}) FROM messages GROUP BY user_id"
)
POSTGRES_UP = [
    """
    CREATE FUNCTION storage_totals_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO storage_totals (user_id, messages, bytes)
            VALUES (NEW.user_id, 1, octet_length(NEW.content))
            ON CONFLICT (user_id) DO UPDATE SET
                messages = storage_totals.messages + 1,
                bytes = storage_totals.bytes + EXCLUDED.bytes;
            RETURN NEW;
        END IF;
        UPDATE storage_totals SET
            messages = messages - 1, bytes = bytes - octet_length(OLD.content)
        WHERE user_id = OLD.user_id;
        RETURN OLD;
    END $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER messages_storage_totals AFTER INSERT OR DELETE ON messages "
    "FOR EACH ROW EXECUTE FUNCTION storage_totals_count()",
    FILL.format(size="octet_length(content)"),
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS messages_storage_totals ON messages",
    "DROP FUNCTION IF EXISTS storage_totals_count()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER messages_storage_totals_insert AFTER INSERT ON messages BEGIN
        INSERT INTO storage_totals (user_id, messages, bytes)
        VALUES (NEW.user_id, 1, length(CAST(NEW.content AS BLOB)))
        ON CONFLICT (user_id) DO UPDATE SET
            messages = messages + 1, bytes = bytes + excluded.bytes;
    END
    """,
    """
    CREATE TRIGGER messages_storage_totals_delete AFTER DELETE ON messages BEGIN
        UPDATE storage_totals SET
            messages = messages - 1, bytes = bytes - length(CAST(OLD.content AS BLOB))
        WHERE user_id = OLD.user_id;
    END
    """,
    FILL.format(size="length(CAST(content AS BLOB))"),
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS messages_storage_totals_insert",
    "DROP TRIGGER IF EXISTS messages_storage_totals_delete",
]


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", WHEN, nullable=True))
        batch_op.add_column(
            sa.Column("totp_secret_enc", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_enabled_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))

    op.create_table(
        "one_time_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("one_time_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_one_time_tokens_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_one_time_tokens_token_hash"), ["token_hash"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_one_time_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "recovery_codes",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "model",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                server_default="",
                nullable=False,
            )
        )
        for name in ("prompt_tokens", "completion_tokens", "tool_runs"):
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_jobs_created_user_status",
            ["created_at", "user_id", "status"],
            unique=False,
            postgresql_include=["model", "prompt_tokens", "completion_tokens", "tool_runs"],
        )

    op.create_table(
        "storage_totals",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_UP if sqlite else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_DOWN if sqlite else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_table("storage_totals")
    # recreate="never": SQLite drops the columns in place. Rebuilding `users` (and `jobs`)
    # with rows in them, as batch mode would, fails with "database table is locked".
    with op.batch_alter_table("jobs", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_jobs_created_user_status")
        for name in ("tool_runs", "completion_tokens", "prompt_tokens", "model"):
            batch_op.drop_column(name)
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")
    with op.batch_alter_table("one_time_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_one_time_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_one_time_tokens_token_hash"))
        batch_op.drop_index(batch_op.f("ix_one_time_tokens_expires_at"))
    op.drop_table("one_time_tokens")
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret_enc")
        batch_op.drop_column("email_verified_at")
