"""Revision 0006 indexes what existed before it, and goes down and up cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from compymac_rx.db import get_engine
from compymac_rx.search import service as search
from tests.factories import make_user
from tests.search.test_service import conversation

ROOT = Path(__file__).resolve().parents[2]


def test_existing_sessions_are_indexed_on_upgrade(data_dir: Path) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    alice = make_user()  # at head: signing up writes an audit event (revision 0008)
    command.downgrade(config, "0005_signup_policy")
    get_engine().dispose()
    session_id = conversation(alice.id, "Before search existed", "an old wombat story")
    command.upgrade(config, "head")
    get_engine().dispose()
    assert [h.session_id for h in search.search(alice.id, "wombat")] == [session_id]
    assert [h.session_id for h in search.search(alice.id, "existed")] == [session_id]
