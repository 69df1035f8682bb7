"""identities and oidc links (placeholder: filled in by the work on its issue)

Revision ID: 0002
Revises: 59a443441672
Create Date: 2026-11-22 02:30:00
"""

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "59a443441672"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
