"""What the WebSocket fuzz needs: Alice's data, a look at it, and the probes.

The probes are built from the registered handlers themselves (every state of the app, ours
and Reflex's own), so a handler added later is probed without anyone listing it here.
"""

from __future__ import annotations

import dataclasses
import inspect
import secrets
import typing
from collections.abc import Callable, Iterator
from typing import Any

from reflex_base.registry import RegisteredEventHandler

from compymac_rx.state import payloads
from tests.security.reflex_ws import ReflexSocket

# What a var is called in a delta: the state's full name.
ROOT = "reflex___state____state"
AUTH = f"{ROOT}.compymac_rx___state___auth____auth_state"
CHAT = f"{AUTH}.compymac_rx___state___chat____chat_state"
LIVE = f"{AUTH}.compymac_rx___state___live_turn____live_state"
FILES = f"{AUTH}.compymac_rx___state___files____files_state"
SESSIONS = f"{AUTH}.compymac_rx___state___sessions____sessions_state"


@dataclasses.dataclass
class Handler:
    name: str  # the event name the browser sends
    fn: Callable[..., Any]
    ours: bool  # a method we wrote (not Reflex's `setvar` or Reflex's own states)

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def parameters(self) -> dict[str, Any]:
        """Argument name -> type hint, as the browser would have to send them."""
        hints = typing.get_type_hints(self.fn, include_extras=True)
        names = list(inspect.signature(self.fn).parameters)[1:]
        return {name: hints.get(name, Any) for name in names}


def registered_handlers() -> dict[str, RegisteredEventHandler]:
    """The app's registry of handlers, as Reflex looks them up for each event. Taken from the
    app itself: the context variable holding it is set only in the context that first
    imported the app (another test's thread, maybe)."""
    from compymac_rx.compymac_rx import app

    return app._registration_context.event_handlers


def all_handlers() -> list[Handler]:
    """Every event handler of every state the app registers, as Reflex looks them up."""
    found = []
    for name, registered in registered_handlers().items():
        fn = registered.handler.fn
        ours = fn.__module__.startswith("compymac_rx.")
        found.append(Handler(name, fn, ours))
    return found


@dataclasses.dataclass
class World:
    """One session of Alice's, with words that appear nowhere else."""

    nonce: str
    session_id: str = ""
    job_id: str = ""
    message_ids: list[int] = dataclasses.field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Alice title {self.nonce}"

    @property
    def message(self) -> str:
        return f"ALICE-MSG-{self.nonce} tell me something"

    @property
    def probed_file(self) -> str:
        """The file whose path the probes send: its name is the prober's own input."""
        return f"secret-{self.nonce}.txt"

    @property
    def content(self) -> str:
        return f"ALICE-CONTENT-{self.nonce}"

    @property
    def listed_file(self) -> str:
        """A file no probe names: only a listing could reveal it."""
        return f"listing-{self.nonce}.txt"

    @property
    def listed_content(self) -> str:
        return f"ALICE-OTHER-{self.nonce}"

    @property
    def path(self) -> str:
        return f"/s/{self.session_id}"

    def secrets(self) -> list[str]:
        """What must never reach another user (the probed file's name is sent by the prober
        itself, so it is checked through its content instead)."""
        return [self.title, f"ALICE-MSG-{self.nonce}", self.content, self.listed_file,
                self.listed_content]  # fmt: skip


async def turn(socket: ReflexSocket, world: World, text: str) -> str:
    """Send a message on the open session and wait for the turn to finish; its job id."""
    previous = socket.var(LIVE, "job_id")
    await socket.emit(f"{CHAT}.send", {"form": {"message": text}}, world.path)
    job_id = await socket.until(LIVE, "job_id", lambda v: v and v != previous)
    await socket.until(LIVE, "job_status", lambda v: v in ("done", "failed"))
    assert socket.var(LIVE, "job_status") == "done", socket.view.get(LIVE)
    return str(job_id)


async def open_session(base: str, cookie: str, path: str) -> ReflexSocket:
    socket = await ReflexSocket.open(base, cookie, path)
    session_id = path.removeprefix("/s/") if path.startswith("/s/") else ""
    await socket.until(CHAT, "current_id", session_id)
    await socket.until(SESSIONS, "sessions", lambda v: v is not None)
    return socket


async def make_world(base: str, cookie: str) -> World:
    """A new session of Alice's with a renamed title, three turns and two files."""
    world = World(secrets.token_hex(6))
    home = await open_session(base, cookie, "/")
    await home.emit(f"{SESSIONS}.new_session", {}, "/")
    while not (redirects := [e for e in home.events if e.get("name") == "_redirect"]):
        assert await home.receive(30) is not None, "no redirect to the new session"
    world.session_id = redirects[0]["payload"]["path"].removeprefix("/s/")
    await home.close()
    tab = await open_session(base, cookie, world.path)
    await turn(tab, world, world.message)
    await turn(tab, world, f"write {world.listed_file}\n{world.listed_content}")
    world.job_id = await turn(tab, world, f"write {world.probed_file}\n{world.content}")
    await tab.emit(
        f"{SESSIONS}.start_rename", {"session_id": world.session_id, "title": "x"}, world.path
    )
    await tab.emit(f"{SESSIONS}.set_rename_title", {"value": world.title}, world.path)
    await tab.emit(f"{SESSIONS}.save_rename", {}, world.path)
    await tab.until(SESSIONS, "sessions", lambda v: any(s["title"] == world.title for s in v))
    await tab.close()
    snapshot = await look(base, cookie, world)
    world.message_ids = [m["id"] for m in snapshot["messages"]]
    assert len(world.message_ids) >= 6, snapshot
    return world


async def look(base: str, cookie: str, world: World) -> dict[str, Any]:
    """Alice's session as her own new tab shows it: title, messages, files, archived flags."""
    tab = await ReflexSocket.open(base, cookie, world.path)
    try:
        await tab.until(SESSIONS, "sessions", lambda v: v is not None)
        await tab.drain()
        found: dict[str, Any] = {
            "current": tab.var(CHAT, "current_id"),
            "title": tab.var(CHAT, "title"),
            "messages": [
                {k: m[k] for k in ("id", "role", "content")}
                for m in (tab.var(CHAT, "messages") or [])
            ],
            "files": sorted(e["path"] for e in tab.var(FILES, "entries") or []),
        }
        found["sessions"] = {
            s["id"]: (s["title"], s["archived"]) for s in tab.var(SESSIONS, "sessions")
        }
        await tab.emit(f"{SESSIONS}.toggle_archived_view", {}, world.path)
        await tab.drain()
        archived = tab.var(SESSIONS, "sessions") or []
        found["archived"] = {s["id"]: (s["title"], s["archived"]) for s in archived}
        await tab.emit(f"{FILES}.select", {"path": world.probed_file}, world.path)
        await tab.drain()
        found["preview"] = tab.var(FILES, "preview_text")
        return found
    finally:
        await tab.close()


def values_for(hint: Any, world: World) -> list[Any]:
    """Well-typed arguments aimed at Alice's things, by the argument's declared type."""
    if hint == payloads.Id:
        # The session last: an `ask*` handler's last call aims the confirmation at it.
        return [world.job_id, world.session_id]
    if hint == payloads.MessageId:
        return list(world.message_ids)
    if hint == payloads.WorkspacePath:
        return [
            world.probed_file,
            f"../{world.session_id}/{world.probed_file}",
            f"../../{world.session_id}/{world.probed_file}",
            f"/{world.session_id}/{world.probed_file}",
        ]
    if hint is bool:
        return [True, False]
    origin = typing.get_origin(hint)
    if hint is dict or origin is dict:
        return [{"message": "hello"}, {"text": "hello"}, {"api_key": "sk-x", "base_url": ""}]
    if origin is list:
        return [[]]
    return [world.session_id, "x"]


def aimed_calls(handlers: list[Handler], world: World) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every handler, with each of its arguments aimed at Alice's ids, paths and session.

    Two passes: the first leaves out the `cancel*` handlers, so a confirmation (delete,
    rename, admin action) runs on what an earlier `ask*`/`start*` aimed it at.
    """
    for skip_cancel in (True, False):
        for handler in handlers:
            if handler.short in ("setvar", "handle_frontend_exception"):
                continue  # probed below, with malformed payloads
            if skip_cancel and handler.short.startswith("cancel"):
                continue
            parameters = handler.parameters()
            choices = {name: values_for(hint, world) for name, hint in parameters.items()}
            rounds = max((len(v) for v in choices.values()), default=1)
            for index in range(rounds):
                yield handler.name, {n: v[index % len(v)] for n, v in choices.items()}


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"a": [value]}
    return value


def malformed_calls(handlers: list[Handler], world: World) -> Iterator[tuple[Any, Any]]:
    """Wrong types, strings for booleans, missing and extra arguments, nesting, huge strings,
    names with no handler and `setvar` on every state."""
    wrong: list[Any] = [7, -1, 2**70, 1.5, None, True, "true", [world.session_id],
                        {"id": world.session_id}, deep(300), "x" * 150_000]  # fmt: skip
    for handler in handlers:
        parameters = handler.parameters()
        if handler.short == "setvar":
            for var in ("current_id", "_session_id", "_owner", "user_email", "is_admin", "nope"):
                yield handler.name, {"var_name": var, "value": world.session_id}
            yield handler.name, {"var_name": 5, "value": None}
            continue
        yield handler.name, {"user_id": "someone", **{n: "x" for n in parameters}}
        yield handler.name, {"extra": True}
        yield handler.name, "not an object"
        yield handler.name, [world.session_id]
        yield handler.name, None
        for name in parameters:
            for value in wrong:
                yield handler.name, {n: (value if n == name else "x") for n in parameters}
            yield handler.name, {n: "x" for n in parameters if n != name}  # one missing
    state = handlers[-1].name.rpartition(".")[0]
    for name in (
        f"{state}.nope",
        f"{state}._refresh",
        f"{state}._show",
        f"{state}.__init__",
        f"{CHAT}._restarted",
        f"{LIVE}._apply",
        "reflex___state____state.nope.deeper",
        "",
        ".",
        "x" * 100_000,
        7,
        None,
        ["a"],
        {"name": "x"},
    ):
        yield name, {}
