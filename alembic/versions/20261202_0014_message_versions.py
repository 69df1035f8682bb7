"""message versions: a turn's regenerations and edits are kept as versions, one shown

Regenerate and edit-and-resend deleted the messages after the turn's user message. Now each
makes a new user message beside the old one, and the old branch stays, hidden:

- `parent_id`: on a user message, the user message of the turn before it (NULL for a first
  turn). The versions of a turn are the user messages of a session sharing a parent; the
  replies of a turn are the messages after its user message up to the next one (by seq).
- `chosen`: the version of its turn that is shown.
- `hidden`: off the chosen path (derived from the two above by chats/versions.py, stored so
  that the history, the model's context, export and search filter one column).

Existing histories are linear: each user message's parent is the user message before it.
Columns are added with ADD COLUMN, not a batch rebuild, so SQLite's search triggers on
`messages` (revisions 0006 and 0009) stay.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINEAR_PARENTS = (
    "UPDATE messages SET parent_id = ("
    " SELECT earlier.id FROM messages AS earlier"
    " WHERE earlier.session_id = messages.session_id AND earlier.role = 'user'"
    " AND earlier.seq < messages.seq ORDER BY earlier.seq DESC LIMIT 1"
    ") WHERE role = 'user'"
)


def upgrade() -> None:
    op.add_column("messages", sa.Column("parent_id", sa.Integer(), nullable=True))
    op.add_column(
        "messages", sa.Column("chosen", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "messages", sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index("ix_messages_session_parent", "messages", ["session_id", "parent_id"])
    op.execute(LINEAR_PARENTS)


def downgrade() -> None:
    # The hidden versions go: the history left is the chosen path, as before versions.
    op.execute("DELETE FROM messages WHERE hidden")
    op.drop_index("ix_messages_session_parent", table_name="messages")
    op.drop_column("messages", "hidden")
    op.drop_column("messages", "chosen")
    op.drop_column("messages", "parent_id")
