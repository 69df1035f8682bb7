"""Each test gets its own data folder and a freshly migrated database.

The database tests (DB_TEST_DIRS) run twice: on SQLite and on a real PostgreSQL server that one
session fixture starts on a free port. Every test gets its own database, copied from a migrated
template (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL).
"""

from __future__ import annotations

import inspect
import itertools
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from playwright.sync_api import Browser, Playwright, sync_playwright

from compymac_rx import db
from compymac_rx.chats import tasks
from compymac_rx.jobs import runner
from tests.fake_openai import FakeOpenAI
from tests.keycloak_server import ACCESS_TOKEN_SECONDS, Keycloak, KeycloakBoot
from tests.services import Postgres, Redis, lasting_port, postgres_server, redis_server

ROOT = Path(__file__).resolve().parents[1]
DB_TEST_DIRS = (
    "accounts",
    "audit",
    "chats",
    "jobs",
    "identity",
    "ops",
    "search",
    "exports",
    "api",
    "usage",
    "keys",
    "files",
)
PG_TEMPLATE = "compymac_template"
_db_names = itertools.count(1)


# `--unit` (make test-unit) leaves out whatever needs a server process: these folders, any
# test whose fixtures start one (found from the fixture closure, so a new test that asks for
# the app, a browser, Redis or PostgreSQL is left out without a list to keep up to date; `app`
# is tests/security/test_ws_surface.py's own app), and the PostgreSQL or Redis case of a
# parametrised test (those fixtures are fetched by getfixturevalue, outside the closure).
UNIT_SKIPPED_DIRS = ("e2e", "integration", "dev", "compose", "bench")
SERVER_FIXTURES = frozenset(
    {
        "app",
        "app_server",
        "browser",
        "playwright",
        "postgres",
        "redis",
        "redis_server_session",
        "start_worker",
    }
)
SERVER_PARAMS = ("postgresql", "redis")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sqlite-only",
        action="store_true",
        help="database tests on SQLite only: no PostgreSQL server is started",
    )
    parser.addoption(
        "--unit",
        action="store_true",
        help="the quick loop (make test-unit): --sqlite-only, and no test that starts a server",
    )


def needs_a_server(item: pytest.Item) -> bool:
    parts = Path(str(item.path)).relative_to(ROOT / "tests").parts
    if len(parts) > 1 and parts[0] in UNIT_SKIPPED_DIRS:
        return True
    if not SERVER_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    return any(isinstance(value, str) and value in SERVER_PARAMS for value in params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """asyncio tests first, the rest in their order. The session's sync Playwright keeps an
    event loop running on the main thread once it starts, and an asyncio test cannot run its
    own loop beside it. (Moving the browser tests instead would start apps from this checkout
    while the shared e2e app serves pages: each build rewrites the one `.web` frontend.)"""
    if config.getoption("unit"):
        left_out = [item for item in items if needs_a_server(item)]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not needs_a_server(item)]
    items.sort(key=lambda item: not inspect.iscoroutinefunction(getattr(item, "function", None)))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Database tests run on both backends; the rest on SQLite only."""
    if "db_backend" not in metafunc.fixturenames:
        return
    parts = Path(str(metafunc.definition.path)).relative_to(ROOT / "tests").parts
    both = metafunc.definition.get_closest_marker("both_databases") is not None
    if both or (len(parts) > 1 and parts[0] in DB_TEST_DIRS):
        backends = ["sqlite"]
        if not (metafunc.config.getoption("sqlite_only") or metafunc.config.getoption("unit")):
            backends.append("postgresql")
        metafunc.parametrize("db_backend", backends, indirect=True)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


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


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL server for the run, with a migrated template database."""
    # Outside pytest's tmp tree: the server runs as the postgres user, who cannot enter it.
    base = Path(tempfile.mkdtemp(prefix="compymac-pg-"))
    base.chmod(0o755)
    try:
        with postgres_server(base) as server:
            server.psql(f"CREATE DATABASE {PG_TEMPLATE}")
            mp = pytest.MonkeyPatch()
            mp.setenv("DATABASE_URL", server.url(PG_TEMPLATE))
            clear_caches()
            migrate(base)
            db.get_engine().dispose()
            mp.undo()
            clear_caches()
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


def fresh_pg_database(server: Postgres) -> str:
    name = f"compymac_test_{next(_db_names)}"
    server.psql(f"CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE}")
    return name


@pytest.fixture(autouse=True)
def data_dir(
    tmp_path: Path,
    template_db: Path,
    db_backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    pg: Postgres | None = None
    pg_name = ""
    if db_backend == "postgresql":
        pg = request.getfixturevalue("postgres")
        pg_name = fresh_pg_database(pg)
        monkeypatch.setenv("DATABASE_URL", pg.url(pg_name))
    else:
        shutil.copy(template_db, folder / "compymac.db")
    monkeypatch.setenv("DATA_DIR", str(folder))
    monkeypatch.setenv("BUILTIN_STREAM_DELAY_MS", "0")
    monkeypatch.chdir(tmp_path)  # keeps a stray .env in the repo from leaking in
    clear_caches()
    yield folder
    # Only what the test created: a test may leave a bad setting in place.
    if tasks.get_runner.cache_info().currsize:
        runner_instance = tasks.get_runner()
        if isinstance(runner_instance, runner.InlineJobRunner):
            runner_instance.shutdown()
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    clear_caches()
    if pg is not None:
        pg.psql(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


@pytest.fixture(scope="session")
def redis_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis(redis_server_session: Redis, monkeypatch: pytest.MonkeyPatch) -> Redis:
    """The session's Redis server, emptied, and REDIS_URL pointing at it."""
    if redis_server_session.process.poll() is not None:
        redis_server_session.start()
    import redis as redis_client

    redis_client.Redis.from_url(redis_server_session.url).flushall()
    monkeypatch.setenv("REDIS_URL", redis_server_session.url)
    clear_caches()
    return redis_server_session


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One sync Playwright for the whole run (tests/e2e and tests/integration share it)."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# The run's Keycloak, launched as soon as the collected tests show one is needed: it boots
# (the better part of a minute) beside the tests that come before its first user. A launch
# that fails (Keycloak not installed) fails those tests only, with its reason.
_keycloak_boot: KeycloakBoot | None = None
_keycloak_error: RuntimeError | None = None


def pytest_collection_finish(session: pytest.Session) -> None:
    global _keycloak_boot, _keycloak_error
    needed = any("keycloak" in getattr(item, "fixturenames", ()) for item in session.items)
    if needed and _keycloak_boot is None and not session.config.option.collectonly:
        work = Path(tempfile.mkdtemp(prefix="compymac-keycloak-"))
        app_url = f"http://localhost:{lasting_port()}"
        boot = KeycloakBoot(work, app_url=app_url, access_token_seconds=ACCESS_TOKEN_SECONDS)
        _keycloak_boot = boot
        try:
            boot.launch()
        except RuntimeError as error:
            _keycloak_error = error


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _keycloak_boot is not None:
        _keycloak_boot.stop()
        shutil.rmtree(_keycloak_boot.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def keycloak() -> Keycloak:
    """One Keycloak for the run, shared by tests/e2e/keycloak and tests/integration. Its realm
    import names the URL of the Keycloak app (tests/e2e/keycloak); other apps add theirs with
    `allow_app_url`. Stopped when the run ends."""
    if _keycloak_error is not None:
        raise _keycloak_error
    assert _keycloak_boot is not None, "launched at collection for every test that asks"
    kc = _keycloak_boot.ready()
    print(f"\nKeycloak ready {kc.start_seconds:.1f} s after its launch")
    return kc


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
