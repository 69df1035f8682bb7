"""The event guard's pieces that need no browser: typed payloads, the user handed to handlers."""

from __future__ import annotations

import inspect
import logging

import pytest
from reflex.event import Event

from compymac_rx.accounts import repository
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.db import session_scope, utcnow
from compymac_rx.identity.cache import UserCache
from compymac_rx.state.frame_log import quiet_malformed_frames
from compymac_rx.state.guard import event_problem, payload_problem, signed_in
from compymac_rx.state.payloads import Id, MessageId, ShortText
from tests.factories import signed_in_token
from tests.waiting import wait_until


class Page:
    async def rename(self, session_id: Id, title: ShortText, archived: bool = False) -> None: ...

    async def open(self, message_id: MessageId) -> None: ...


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"session_id": "abc123", "title": "x"}, None),
        ({"session_id": "abc123", "title": "x", "archived": True}, None),
        ({"session_id": "abc123", "title": "x", "archived": "true"}, "archived: bool_type"),
        ({"session_id": "../../etc", "title": "x"}, "session_id: string_pattern_mismatch"),
        ({"session_id": "a" * 65, "title": "x"}, "session_id: string_too_long"),
        ({"session_id": "abc", "title": "x" * 1001}, "title: string_too_long"),
        ({"session_id": ["abc"], "title": "x"}, "session_id: string_type"),
        ({"session_id": "abc"}, "title: missing"),
        ({"session_id": "abc", "title": "x", "user_id": "u"}, "user_id: extra_forbidden"),
        ({"session_id": {"a": {"b": {"c": 1}}}, "title": "x"}, "session_id: string_type"),
    ],
)
def test_payloads_are_checked_strictly_against_the_signature(payload, problem) -> None:
    found = payload_problem(Page.rename, payload)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)
        assert "etc" not in found and "xxx" not in found  # values are never echoed


def test_ids_are_non_negative_integers() -> None:
    assert payload_problem(Page.open, {"message_id": 7}) is None
    assert payload_problem(Page.open, {"message_id": -1}) is not None
    assert payload_problem(Page.open, {"message_id": "7"}) is not None


def test_signed_in_hides_the_user_from_what_the_browser_may_send() -> None:
    class State:
        async def send(self, user: CurrentUser, text: str) -> None: ...

    wrapped = signed_in(State.send)
    assert list(inspect.signature(wrapped).parameters) == ["self", "text"]
    assert "user" not in wrapped.__annotations__
    # The guard validates against the wrapper: a browser cannot name a user.
    assert payload_problem(wrapped, {"text": "hi"}) is None
    assert payload_problem(wrapped, {"text": "hi", "user": {"id": "x"}}) is not None


def test_a_session_ended_elsewhere_takes_effect_within_the_cache_time() -> None:
    user, token = signed_in_token()
    cache = UserCache(ttl_seconds=0.3)
    assert cache.resolve(token) == user
    # As another process would: straight in the database, without this process knowing.
    with session_scope() as db:
        revoked = repository.revoke_auth_session(
            db, token_hash=accounts.hash_token(token), now=utcnow()
        )
    assert revoked == 1
    assert cache.resolve(token) == user  # within the cache time: maybe the old answer...
    assert cache.cached(token) == (True, user)
    # the event loop's lookup misses once the cache time is over...
    wait_until(lambda: cache.cached(token) == (False, None), timeout=1.0)
    assert cache.resolve(token) is None  # ...and the blocking one never answers the old user


def test_a_sign_out_in_this_process_takes_effect_at_once() -> None:
    user, token = signed_in_token()
    cache = UserCache(ttl_seconds=60)
    assert cache.resolve(token) == user
    assert cache.cached(token) == (True, user)
    accounts.sign_out(token)
    assert cache.cached(token) == (False, None)
    assert cache.resolve(token) is None


def test_no_caching_resolves_every_time() -> None:
    user, token = signed_in_token()
    cache = UserCache(ttl_seconds=0)
    assert cache.resolve(token) == user
    assert cache.cached(token) == (False, None)
    assert cache.cached(None) == (True, None)
    accounts.sign_out(token)
    assert cache.resolve(token) is None
    assert cache.resolve(None) is None


def _event(name: object, payload: object) -> Event:
    import compymac_rx.compymac_rx  # noqa: F401  (registers the app's states and handlers)

    return Event(name=name, payload=payload)  # type: ignore[arg-type]  # as Reflex builds it


ROOT = "reflex___state____state"
CHAT = f"{ROOT}.compymac_rx___state___auth____auth_state.compymac_rx___state___chat____chat_state"


@pytest.mark.parametrize(
    ("name", "payload", "problem"),
    [
        (f"{ROOT}.hydrate_and_load", {}, None),
        (f"{ROOT}.hydrate_and_load", {"vars": {}, "hashes": ["a1"]}, None),
        (f"{CHAT}.show_output", {"message_id": 3, "tool": "run"}, None),
        (7, {}, "a malformed event"),
        (None, {}, "a malformed event"),
        (f"{CHAT}.stop", ["x"], "a malformed event"),
        (f"{CHAT}.stop", "x", "a malformed event"),
        (f"{CHAT}.nope", {}, "an event for no handler"),
        (f"{CHAT}._restarted", {}, "an event for no handler"),
        (f"{CHAT}.setvar", {"var_name": "title", "value": "x"}, "setvar:"),
        (f"{ROOT}.setvar", {"var_name": "is_hydrated", "value": True}, "setvar:"),
        (f"{ROOT}.set_is_hydrated", {"value": "true"}, "set_is_hydrated: value: bool_type"),
        (f"{ROOT}.hydrate", {"user_id": "u"}, "hydrate: user_id: extra_forbidden"),
        (f"{ROOT}.hydrate_and_load", {"vars": "x"}, "hydrate_and_load: vars:"),
        (f"{ROOT}.hydrate_and_load", {"vars": {"no.such": 1}}, "hydrate_and_load: vars: no such"),
        (
            f"{ROOT}.hydrate_and_load",
            {"vars": {f"{CHAT}.title_rx_state_": "x"}},
            "hydrate_and_load: vars: not browser storage",
        ),
    ],
)
def test_every_event_is_checked_before_any_handler(name, payload, problem) -> None:
    found = event_problem(_event(name, payload))
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem), found


def _record(logger: str, level: int, msg: str, error: BaseException | None = None):
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    return logging.LogRecord(logger, level, __file__, 1, msg, (), exc_info)


def test_a_frame_the_socket_libraries_cannot_decode_is_logged_as_one_line() -> None:
    import traceback

    from engineio import packet

    quiet_malformed_frames()
    try:
        packet.Packet(encoded_packet="")
    except ValueError as error:
        undecodable = error
    handler = logging.Handler()
    engineio = _record("engineio.server", logging.ERROR, "message async handler error", undecodable)
    # Granian writes the traceback into the message itself.
    text = "".join(traceback.format_exception(undecodable))
    granian = _record(
        "_granian.utils", logging.ERROR, f"Application callable raised an exception\n{text}"
    )
    for record in (engineio, granian):
        assert logging.getLogger(record.name).filter(record)
        line = handler.format(record)
        assert line.startswith("refused a malformed frame:"), line
        assert "ValueError" in line and "Invalid empty packet" in line
        assert "\n" not in line and record.levelno == logging.WARNING


def test_an_unknown_event_name_is_one_line_and_its_router_data_never_logged() -> None:
    quiet_malformed_frames()
    try:
        raise KeyError("No registered handler found for event: x.y")
    except KeyError as error:
        missing = error
    name = "reflex_base.event.processor.event_processor"
    dump = "Error processing event queue entry for Event(headers={'cookie': 'session=s3cret'})"
    record = _record(name, logging.ERROR, dump, missing)
    assert logging.getLogger(name).filter(record)
    assert logging.Handler().format(record) == "refused an event for no handler"
    try:
        raise RuntimeError("a bug")
    except RuntimeError as error:
        bug = error
    record = _record(name, logging.ERROR, dump, bug)
    logging.getLogger(name).filter(record)
    assert "s3cret" not in record.getMessage() and record.exc_info is not None


def test_real_errors_keep_their_traceback_and_long_echoes_are_cut() -> None:
    quiet_malformed_frames()
    bug = 'Application callable raised an exception\nTraceback...\n  File "/app/x.py"\nKeyError'
    record = _record("_granian.utils", logging.ERROR, bug)
    assert logging.getLogger("_granian.utils").filter(record)
    assert record.getMessage() == bug and record.levelno == logging.ERROR
    report = _record("reflex.app", logging.ERROR, "[Reflex Backend Exception]\n" + "x" * 900)
    logging.getLogger("reflex.app").filter(report)
    assert len(report.getMessage()) > 900
    echo = _record("reflex.app", logging.WARNING, "Received event data as a string: " + "y" * 9000)
    logging.getLogger("reflex.app").filter(echo)
    assert len(echo.getMessage()) <= 301
