"""The migration chain goes down and up again cleanly (slot 0003: keys, preferences, model)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from compymac_rx.db import get_engine

ROOT = Path(__file__).resolve().parents[1]


def test_0003_downgrades_and_upgrades(data_dir: Path) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False

    def tables() -> set[str]:
        return set(sa.inspect(get_engine()).get_table_names())

    def session_columns() -> set[str]:
        return {c["name"] for c in sa.inspect(get_engine()).get_columns("agent_sessions")}

    assert {"api_keys", "model_preferences"} <= tables()
    assert "model" in session_columns()
    command.downgrade(config, "0002")
    get_engine().dispose()
    assert not {"api_keys", "model_preferences"} & tables()
    assert "model" not in session_columns()
    command.upgrade(config, "head")
    get_engine().dispose()
    assert {"api_keys", "model_preferences"} <= tables()
