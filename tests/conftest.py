"""Each test gets its own data folder and a freshly migrated SQLite database."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from compymac_rx import db
from compymac_rx.jobs import runner
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]


def clear_caches() -> None:
    """Forget every functools.cache of the app (settings, engine, bus, runner, providers...).

    Found by walking the loaded modules, so a new cached factory needs no entry here.
    """
    for name, module in list(sys.modules.items()):
        if not name.startswith("compymac_rx") or module is None:
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                value.cache_clear()


def migrate(data_dir: Path) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("template")
    mp = pytest.MonkeyPatch()
    mp.setenv("DATA_DIR", str(data_dir))
    clear_caches()
    migrate(data_dir)
    db.get_engine().dispose()
    mp.undo()
    clear_caches()
    return data_dir / "compymac.db"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(template_db, folder / "compymac.db")
    monkeypatch.setenv("DATA_DIR", str(folder))
    monkeypatch.setenv("BUILTIN_STREAM_DELAY_MS", "0")
    monkeypatch.chdir(tmp_path)  # keeps a stray .env in the repo from leaking in
    clear_caches()
    yield folder
    # Only what the test created: a test may leave a bad setting in place.
    if runner.get_runner.cache_info().currsize:
        runner_instance = runner.get_runner()
        if isinstance(runner_instance, runner.InlineJobRunner):
            runner_instance.shutdown()
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    clear_caches()


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """The local stand-in for a model provider, emptied for each test."""
    fake_openai_server.reset()
    return fake_openai_server
