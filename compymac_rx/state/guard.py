"""Who is behind each WebSocket event, decided once before any handler runs.

`EventGuard` is a Reflex middleware, so it sees every event of every tab (page loads and
hydration included) before Reflex applies it or sends a delta. For each event it:

1. refuses a name that is no handler, Reflex's generic `setvar`, and a payload that does not
   match the handler's typed signature (Reflex's own handlers too), with one warning line in
   the log and a plain message in the page;
2. resolves the cookie's user off the event loop (briefly cached, identity/cache.py) and
   hands it to the handler through a context variable;
3. compares that user with the one the tab's state belongs to: a tab token reused under
   another cookie, or signed out, has its whole state reset (and its live subscription
   dropped) before anything of the previous user can be sent.

Handlers take the user with `@signed_in`, never as an argument from the browser. Frames too
malformed to reach a middleware are logged as one line by `frame_log`.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import logging
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import pydantic
import reflex as rx
from reflex.event import Event, EventSpec
from reflex.middleware.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.constants.state import FIELD_MARKER
from reflex_base.registry import RegistrationContext
from reflex_base.utils.form import transform_form_data

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.audit.service import client_context
from compymac_rx.identity.cache import get_user_cache
from compymac_rx.identity.http import token_from_cookie_header
from compymac_rx.offload import off_loop
from compymac_rx.ratelimit import client_address
from compymac_rx.state.frame_log import quiet_malformed_frames
from compymac_rx.state.live import hub, user_tabs

if TYPE_CHECKING:
    from reflex.app import App

log = logging.getLogger(__name__)

_user: contextvars.ContextVar[CurrentUser | None] = contextvars.ContextVar(
    "compymac_user", default=None
)
# Set when this event found the tab's signed-in user gone (sign-out, revocation, expiry).
_ended: contextvars.ContextVar[bool] = contextvars.ContextVar("compymac_ended", default=False)
REFLEX_PAYLOAD_MAX = 20_000
REFUSED = "That request was not understood, so nothing changed. Reload the page if it repeats."

S = TypeVar("S", bound=BaseState)
P = ParamSpec("P")
R = TypeVar("R")


def current_user() -> CurrentUser | None:
    """The user the guard resolved for the event being handled (None: signed out)."""
    return _user.get()


def session_ended() -> bool:
    """True when this event is the first one after the tab's user was signed out."""
    return _ended.get()


class BindingState(rx.State):
    """Whose this tab's state is. Backend-only: never sent to the browser."""

    _bound: bool = False
    _owner: str = ""


class EventGuard(Middleware):
    def __init__(self) -> None:
        # Frames too malformed to become an event never reach a middleware: the socket
        # libraries refuse them and would log each with a traceback. One line instead.
        quiet_malformed_frames()

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        problem = event_problem(event)
        if problem is not None:
            log.warning("refused %s", problem)
            return StateUpdate(events=Event.from_event_type(rx.toast.warning(REFUSED)))
        _ended.set(False)
        # Where this event comes from, for any audit event its handler records; behind
        # proxies read as TRUSTED_PROXY_HOPS says, like the HTTP routes.
        router = state.router  # assembled anew on every read
        headers = router.headers
        forwarded = next(
            (v for k, v in headers.raw_headers.items() if k.lower() == "x-forwarded-for"), None
        )
        client_context(client_address(router.session.client_ip, forwarded), headers.user_agent)
        token = token_from_cookie_header(headers.cookie)
        cache = get_user_cache()
        known, user = cache.cached(token)
        if not known:
            user = await off_loop(cache.resolve, token)
        _user.set(user)
        await _bind(state, user)
        return None


def event_problem(event: Event) -> str | None:
    """Why an event must not reach a handler (one short line, no argument echoed), or None.

    Every handler is checked, Reflex's own too (hydration, on_load, browser storage): a
    payload its signature does not describe would fail inside Reflex with a traceback.
    """
    # Reflex builds the Event from the frame without checking its fields' types.
    name: object = event.name
    payload: object = event.payload
    if not isinstance(name, str) or not isinstance(payload, dict):
        return "a malformed event"
    try:
        registered = RegistrationContext.get().event_handlers.get(event.name)
    except LookupError:
        registered = None
    if registered is None:
        return f"an event for no handler: {name[:120]!r}"
    fn = registered.handler.fn
    short = name.rsplit(".", 1)[-1]
    if short == "setvar":
        # Reflex's generic setter exists on every state; no var of this app may be set by
        # name from the browser (the explicit handlers are the surface).
        return "setvar: not a handler of this app"
    problem = payload_problem(fn, payload)
    if problem is None and not fn.__module__.startswith("compymac_rx."):
        problem = _reflex_payload_problem(payload)
    return f"{short}: {problem}" if problem else None


def _reflex_payload_problem(payload: dict[str, Any]) -> str | None:
    """Reflex's own handlers take small payloads: hydration's state hashes, a flag, and the
    page's report of its own JavaScript error (which Reflex writes to the log)."""
    if len(json.dumps(payload, default=str)) > REFLEX_PAYLOAD_MAX:
        return "payload too large"
    return _storage_problem(payload.get("vars"))


def _storage_problem(values: object) -> str | None:
    """Hydration may carry browser-storage values: only for vars that are browser storage."""
    if not values:
        return None
    if not isinstance(values, dict):
        return "vars: not an object"
    for key in values:
        state_name, _, var_name = key.rpartition(".")
        try:
            state_cls = rx.State.get_class_substate(state_name)
        except ValueError:
            return "vars: no such state"
        if not state_cls._is_client_storage(var_name.removesuffix(FIELD_MARKER)):
            return "vars: not browser storage"
    return None


async def _bind(root: BaseState, user: CurrentUser | None) -> None:
    binding = await root.get_state(BindingState)
    owner = user.id if user is not None else ""
    if binding._bound and binding._owner == owner:
        return
    if binding._bound:
        _ended.set(bool(binding._owner) and user is None)
        from compymac_rx.state.auth import AuthState

        # Another user (or nobody) now: nothing of the previous one may be sent.
        page = await root.get_state(AuthState)
        page.reset()  # type: ignore[no-untyped-call]  # every var, backend ones too, of it and its loaded substates
        token = root.router.session.client_token
        hub.forget(token)
        user_tabs.forget(token)
    binding._bound, binding._owner = True, owner


@functools.cache
def _payload_model(fn: Callable[..., Any]) -> type[pydantic.BaseModel]:
    """A strict model of a handler's arguments, from its signature and type hints."""
    hints = typing.get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    for name, parameter in list(inspect.signature(fn).parameters.items())[1:]:
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (hints.get(name, Any), default)
    config = pydantic.ConfigDict(strict=True, extra="forbid", arbitrary_types_allowed=True)
    model: type[pydantic.BaseModel] = pydantic.create_model(
        f"{fn.__qualname__}.payload", __config__=config, **fields
    )
    return model


def payload_problem(fn: Callable[..., Any], payload: Mapping[str, Any]) -> str | None:
    """Why a payload does not fit the handler (short, no values echoed), or None."""
    model = _payload_model(fn)
    # A form arrives as wrapped entries; validate what the handler will receive.
    values = {
        name: transform_form_data(value, _hint(model, name)) for name, value in payload.items()
    }
    try:
        model.model_validate(values)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        return f"{where}: {first['type']} ({error.error_count()} problem(s))"
    return None


def _hint(model: type[pydantic.BaseModel], name: str) -> Any:
    field = model.model_fields.get(name)
    return field.annotation if field is not None else Any


def signed_in(
    handler: Callable[Concatenate[S, CurrentUser, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Awaitable[R | EventSpec]]:
    """Hand the handler the signed-in user, or send a signed-out tab to the sign-in page.

    Reflex reads a handler's signature to map the browser's arguments, so the wrapper shows
    the signature without `user`: the user is never something the browser sends.
    """

    @functools.wraps(handler)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R | EventSpec:
        from compymac_rx.state.auth import AuthState

        user = current_user()
        assert isinstance(self, AuthState)
        if user is None:
            return self._to_signin()
        self._show_user(user)
        return await handler(self, user, *args, **kwargs)

    signature = inspect.signature(handler)
    parameters = list(signature.parameters.values())
    del parameters[1]
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    second = list(signature.parameters)[1]
    wrapper.__annotations__ = {k: v for k, v in handler.__annotations__.items() if k != second}
    return wrapper
