"""model parameters: a default system prompt per user; prompt, temperature, max tokens per session

`model_preferences.system_prompt` is the user's default system prompt (Settings);
`agent_sessions.system_prompt`, `temperature` and `max_output_tokens` are one session's
override. Empty text and NULL inherit (the user's default prompt, then the app's own; the
provider's temperature; MODEL_MAX_OUTPUT_TOKENS), so existing rows keep today's behaviour.
Plain ADD COLUMNs: a SQLite batch rebuild of `agent_sessions` would drop the search triggers.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "model_preferences",
        sa.Column("system_prompt", sa.Text(), nullable=False, server_default=""),
    )
    op.add_column(
        "agent_sessions",
        sa.Column("system_prompt", sa.Text(), nullable=False, server_default=""),
    )
    op.add_column("agent_sessions", sa.Column("temperature", sa.Float(), nullable=True))
    op.add_column("agent_sessions", sa.Column("max_output_tokens", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_preferences") as batch:
        batch.drop_column("system_prompt")
    # Plain DROP COLUMN (SQLite >= 3.35 and PostgreSQL): no table rebuild, triggers stay.
    op.drop_column("agent_sessions", "max_output_tokens")
    op.drop_column("agent_sessions", "temperature")
    op.drop_column("agent_sessions", "system_prompt")
