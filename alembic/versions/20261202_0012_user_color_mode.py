"""users.color_mode: each person's light, dark or system theme, kept across browsers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD/DROP COLUMN (SQLite >= 3.35 and PostgreSQL): a batch rebuild of `users` would have
# to drop a table that every other table references, which SQLite refuses mid-migration.
def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "color_mode",
            sqlmodel.sql.sqltypes.AutoString(length=8),
            nullable=False,
            server_default="system",
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "color_mode")
