"""identities (issuer, subject) -> user, OIDC sign-in flows, and issuer tokens on auth sessions

Revision ID: 0002
Revises: 59a443441672
Create Date: 2026-11-22 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "59a443441672"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK_IDENTITY = "fk_auth_sessions_identity_id_identities"


def _s(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "oidc_flows",
        sa.Column("id", _s(32), nullable=False),
        sa.Column("state_hash", _s(64), nullable=False),
        sa.Column("nonce", _s(128), nullable=False),
        sa.Column("code_verifier_enc", _s(), nullable=False),
        sa.Column("next_path", _s(500), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("oidc_flows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_flows_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_oidc_flows_state_hash"), ["state_hash"], unique=True)

    op.create_table(
        "identities",
        sa.Column("id", _s(32), nullable=False),
        sa.Column("user_id", _s(32), nullable=False),
        sa.Column("issuer", _s(255), nullable=False),
        sa.Column("subject", _s(255), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_login_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "subject", name="uq_identities_issuer_subject"),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identities_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider", _s(32), nullable=False, server_default="local"))
        batch_op.add_column(sa.Column("identity_id", _s(32), nullable=True))
        batch_op.add_column(sa.Column("provider_session_id", _s(255), nullable=True))
        batch_op.add_column(sa.Column("refresh_token_enc", _s(), nullable=True))
        batch_op.add_column(sa.Column("id_token_enc", _s(), nullable=True))
        batch_op.add_column(
            sa.Column("access_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_auth_sessions_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_auth_sessions_provider_session_id"),
            ["provider_session_id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            _FK_IDENTITY, "identities", ["identity_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(_FK_IDENTITY, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_auth_sessions_provider_session_id"))
        batch_op.drop_index(batch_op.f("ix_auth_sessions_identity_id"))
        for column in (
            "access_expires_at",
            "id_token_enc",
            "refresh_token_enc",
            "provider_session_id",
            "identity_id",
            "provider",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identities_user_id"))
    op.drop_table("identities")

    with op.batch_alter_table("oidc_flows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_flows_state_hash"))
        batch_op.drop_index(batch_op.f("ix_oidc_flows_expires_at"))
    op.drop_table("oidc_flows")
