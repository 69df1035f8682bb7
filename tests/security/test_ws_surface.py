"""The WebSocket surface: exactly the handlers meant for the page can be called by name.

Reflex registers every public method of a state as a handler any browser may call, with any
arguments. This list is the decision of what belongs to the surface: a new public method
fails here until someone adds it on purpose (helpers start with `_`).

The fuzz below runs the real app (production build) and speaks its socket protocol directly
as a second signed-in user, Bob, against every registered handler of every state (found by
introspection, so a new handler is fuzzed without being listed): aimed at Alice's session,
job, messages and files, on Alice's page path, with malformed payloads and frames, and on a
token Alice's closed tab used. Nothing of Alice's may reach Bob, her data must stay as it
was (the same probe run by Alice does reach and change it: the control that the probe can
see a leak), the server must stay healthy and its log free of tracebacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningApp, free_port, run_app
from tests.security import fuzz
from tests.security.reflex_ws import HYDRATE, Closed, ReflexSocket, sign_up

ALLOWED = {
    "AccountState": {"load", "end_signin", "end_others", "change_password", "delete_account"},
    "AdminState": {
        "load",
        "ask",
        "cancel",
        "confirm",
        "make_invite",
        "search_users",
        "turn_users_page",
    },
    "AuditState": {"load", "apply_filters", "next_page", "previous_page"},
    "ChatState": {"load_page", "send", "stop", "load_older", "show_output", "close_output"},
    "FilesState": {"toggle", "select", "ask_delete", "cancel_delete", "confirm_delete", "upload"},
    "SessionsState": {
        "new_session",
        "toggle_archived_view",
        "toggle_sidebar",
        "start_rename",
        "set_rename_title",
        "cancel_rename",
        "save_rename",
        "set_archived",
        "ask_delete",
        "cancel_delete",
        "confirm_delete",
    },
    "SettingsState": {
        "load",
        "set_provider",
        "start_save",
        "save",
        "ask_delete",
        "cancel_delete",
        "confirm_delete",
        "set_default_model",
    },
    "SearchState": {"set_query", "set_include_archived", "clear"},
    "SecurityState": {
        "load",
        "resend_verification",
        "start_two_factor",
        "confirm_two_factor",
        "dismiss_recovery_codes",
        "disable_two_factor",
    },
    "SignInState": {"load"},
    "ThemeState": {"load_color_mode", "choose_color_mode"},
    "TokensState": {"load", "create", "dismiss_secret", "revoke"},
    "TransferState": {"import_files"},
    "UsageState": {"load", "set_range"},
    "TurnState": {"set_model", "regenerate", "open_edit", "close_edit", "resend", "show_version"},
    "AttachState": {"open_picker", "close_picker", "toggle", "remove", "upload"},
    "PromptState": {"load", "save"},
    "SessionParamsState": {"open_dialog", "save", "close"},
}


def app_handlers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for registered in fuzz.registered_handlers().values():
        state = registered.states[0]
        if not state.__module__.startswith("compymac_rx."):
            continue
        fn = registered.handler.fn
        # Reflex's generic `setvar` exists on every state; the event guard refuses it.
        if not fn.__module__.startswith("compymac_rx."):
            assert fn.__name__ == "setvar", fn
            continue
        found.setdefault(state.__name__, set()).add(fn.__name__)
    return found


def test_the_callable_surface_is_exactly_the_allowlist() -> None:
    assert app_handlers() == ALLOWED


def test_no_handler_takes_a_user_id_from_the_browser() -> None:
    for registered in fuzz.registered_handlers().values():
        if not registered.states[0].__module__.startswith("compymac_rx."):
            continue
        parameters = inspect.signature(registered.handler.fn).parameters
        assert not {"user", "user_id", "owner", "owner_id"} & set(parameters), (
            registered.handler.fn.__qualname__
        )


# --- The fuzz: a second signed-in user against every handler, over the real WebSocket ---

FRAME_LIMIT = 300_000
# Frames that are not even well-formed events: each is sent alone on a fresh socket.
RAW_FRAMES: list[str | bytes] = [
    "42/_event,this is not json",
    '42/_event,["event", "a string, not an event"]',
    '42/_event,["event", 5]',
    '42/_event,["event", {"payload": {}}]',
    '42/_event,["event", {"name": "x", "router_data": "not an object"}]',
    f'42/_event,["event", {{"name": "{fuzz.CHAT}.stop", "payload": {{}}, '
    '"router_data": {"pathname": 5, "query": [1]}}]',
    '42/_event,["nope", {}]',
    '42/_event,["event"]',
    "42/_event," + "[" * 50_000 + "]" * 50_000,
    '42/elsewhere,["event", {}]',
    "4x",
    "9",
    "",
    b"\x00\x01\x02",
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    data_dir = tmp_path_factory.mktemp("ws-surface")
    extra = {
        "BUILTIN_STREAM_DELAY_MS": "0",
        "SIGNUPS_PER_HOUR_PER_IP": "1000",
        "MESSAGES_PER_MINUTE": "10000",
        "WS_MAX_FRAME_BYTES": str(FRAME_LIMIT),
    }
    with run_app(data_dir, free_port(), extra) as running:
        yield running


@dataclasses.dataclass
class People:
    alice: str
    bob: str
    world: fuzz.World


@pytest.fixture(scope="module")
def people(app: RunningApp) -> People:
    async def setup() -> People:
        alice = await sign_up(app.url, f"alice-{secrets.token_hex(4)}@example.com")
        bob = await sign_up(app.url, f"bob-{secrets.token_hex(4)}@example.com")
        return People(alice, bob, await fuzz.make_world(app.url, alice))

    return asyncio.run(setup())


def log_since(app: RunningApp, offset: int) -> str:
    return (app.data_dir / "app.log").read_bytes()[offset:].decode(errors="replace")


def log_size(app: RunningApp) -> int:
    return (app.data_dir / "app.log").stat().st_size


async def still_healthy(app: RunningApp, people: People, since: int) -> None:
    """/health answers, Alice can still run a turn, and the log holds no traceback."""
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        assert (await http.get("/health")).status_code == 200
    tab = await fuzz.open_session(app.url, people.alice, people.world.path)
    await fuzz.turn(tab, people.world, "help")
    await tab.close()
    written = log_since(app, since)
    assert "Traceback" not in written, written[-6000:]
    assert "[Reflex Backend Exception]" not in written, written[-6000:]


def assert_nothing_of(world: fuzz.World, sockets: list[ReflexSocket]) -> None:
    for socket in sockets:
        received = socket.text()
        assert received, "the probe received nothing at all: it proves nothing"
        for secret in world.secrets():
            assert secret not in received, f"{secret!r} reached another user"


async def send_all(
    base: str, cookie: str, calls: list[tuple[Any, Any]], path: str
) -> list[ReflexSocket]:
    """Send the events on one tab and read everything it receives."""
    socket = await ReflexSocket.open(base, cookie, path)
    for name, payload in calls:
        await socket.emit(name, payload, path)
        await socket.receive(0)
    await socket.drain(quiet=1.0, limit=300)
    assert socket.ws.connected, "the server closed a tab that sent nothing too large"
    await socket.close()
    return [socket]


async def test_another_user_reaches_nothing_of_alice_through_any_handler(
    app: RunningApp, people: People
) -> None:
    world, since = people.world, log_size(app)
    before = await fuzz.look(app.url, people.alice, world)
    handlers = fuzz.all_handlers()
    aimed = list(fuzz.aimed_calls(handlers, world))
    malformed = list(fuzz.malformed_calls(handlers, world))
    sockets = []
    # On Alice's page path and on his own home page.
    for path in (world.path, "/"):
        sockets += await send_all(app.url, people.bob, aimed, path)
    sockets += await send_all(app.url, people.bob, malformed, world.path)
    for frame in RAW_FRAMES:
        socket = await ReflexSocket.open(app.url, people.bob, world.path)
        with contextlib.suppress(Closed):
            await socket.drain(quiet=0.5)
            await socket.send_raw(frame)
            await socket.drain(quiet=0.5)
        await socket.close()
        sockets.append(socket)

    assert_nothing_of(world, sockets)
    assert await fuzz.look(app.url, people.alice, world) == before
    await still_healthy(app, people, since)
    refused = log_since(app, since).count("refused")
    assert refused >= len(malformed) // 2, refused


async def test_the_same_probe_as_alice_sees_and_changes_her_data(
    app: RunningApp, people: People
) -> None:
    """The positive control: aimed at a session of her own, the probe reaches it."""
    world = await fuzz.make_world(app.url, people.alice)
    before = await fuzz.look(app.url, people.alice, world)
    sockets = await send_all(
        app.url, people.alice, list(fuzz.aimed_calls(fuzz.all_handlers(), world)), world.path
    )
    seen = "\n".join(s.text() for s in sockets)
    for secret in (world.title, world.content, world.listed_file, f"ALICE-MSG-{world.nonce}"):
        assert secret in seen, secret
    after = await fuzz.look(app.url, people.alice, world)
    assert after != before
    assert world.session_id not in after["sessions"]  # confirm_delete reached it


async def test_a_reused_token_of_a_closed_tab_yields_nothing_of_its_user(
    app: RunningApp, people: People
) -> None:
    world, since = people.world, log_size(app)
    tab = await fuzz.open_session(app.url, people.alice, world.path)
    await tab.emit(f"{fuzz.FILES}.select", {"path": world.probed_file}, world.path)
    await tab.until(fuzz.FILES, "preview_text", world.content)
    assert world.title in tab.text()
    token = tab.token
    await tab.close()
    await asyncio.sleep(1)

    sockets = []
    for path in (world.path, "/", "/settings"):
        reused = await ReflexSocket.open(app.url, people.bob, path, token=token)
        await reused.drain(quiet=1.0)
        await reused.emit(f"{fuzz.FILES}.toggle", {}, path)
        await reused.drain(quiet=1.0)
        await reused.close()
        sockets.append(reused)
    # Signed out altogether, too.
    anonymous = await ReflexSocket.open(app.url, "", world.path, token=token)
    await anonymous.drain(quiet=1.0)
    await anonymous.close()
    sockets.append(anonymous)
    assert_nothing_of(world, sockets)
    await still_healthy(app, people, since)


async def test_a_token_of_an_open_tab_taken_by_another_user_yields_nothing(
    app: RunningApp, people: People
) -> None:
    """Bob connects with the token of a tab Alice still has open, then Alice reloads her page
    on it and runs a turn: neither the hydration nor the turn's live events reach Bob.
    (Today Reflex itself gives a second connection on a live token a new token.)"""
    world, since = people.world, log_size(app)
    tab = await fuzz.open_session(app.url, people.alice, world.path)
    await tab.drain()
    thief = await ReflexSocket.open(app.url, people.bob, world.path, token=tab.token)
    await thief.drain(quiet=1.0)
    await tab.emit(HYDRATE, {}, world.path)
    await tab.until(fuzz.CHAT, "current_id", world.session_id)
    await fuzz.turn(tab, world, f"ALICE-MSG-{world.nonce} again")
    await thief.drain(quiet=1.0)
    await tab.close()
    await thief.close()
    assert_nothing_of(world, [thief])
    await still_healthy(app, people, since)


async def test_a_frame_over_the_limit_closes_the_connection(
    app: RunningApp, people: People
) -> None:
    since = log_size(app)
    socket = await ReflexSocket.open(app.url, people.bob, "/")
    await socket.drain()
    await socket.emit(f"{fuzz.FILES}.select", {"path": "x" * (FRAME_LIMIT + 10)}, "/")
    with pytest.raises(Closed):
        for _ in range(20):
            await socket.receive(1)
    await still_healthy(app, people, since)
