"""accounts and usage: verified emails, mailed sign-in links, TOTP two-factor, turn usage

`users` gains `email_verified_at` (EMAIL_VERIFICATION; NULL for every account that exists
before this revision: with `required` their owners confirm at the next sign-in, the sign-in
page offers the link) and the TOTP columns (the secret encrypted, when it was confirmed, the
last time step accepted). `one_time_tokens` keeps only the hashes of single-use, short-lived
tokens: verification links, sign-in links, sign-ins waiting for their second factor.
`recovery_codes` keeps the hashes of the two-factor recovery codes.

`jobs` gains what each turn used (model, prompt and completion tokens, tool runs; zero for
turns before this revision) and an index on (created_at, user_id, status) for the admin
usage dashboard's range scans.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sqlmodel.sql.sqltypes.AutoString(length=32)
WHEN = sqlmodel.sql.sqltypes.UTCDateTime()


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
            "ix_jobs_created_user_status", ["created_at", "user_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret_enc")
        batch_op.drop_column("email_verified_at")
