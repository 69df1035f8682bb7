"""The WebSocket surface: exactly the handlers meant for the page can be called by name.

Reflex registers every public method of a state as a handler any browser may call, with any
arguments. This list is the decision of what belongs to the surface: a new public method
fails here until someone adds it on purpose (helpers start with `_`).
"""

from __future__ import annotations

import inspect

from reflex_base.registry import RegistrationContext

ALLOWED = {
    "AdminState": {"load", "ask", "cancel", "confirm", "make_invite"},
    "ChatState": {"load_page", "send", "stop", "load_older", "show_output", "close_output"},
    "FilesState": {"toggle", "select", "ask_delete", "cancel_delete", "delete", "upload"},
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
        "delete",
        "set_default_model",
    },
    "SignInState": {"load"},
    "TurnState": {"set_model", "regenerate", "open_edit", "close_edit", "resend"},
}


def app_handlers() -> dict[str, set[str]]:
    import compymac_rx.compymac_rx  # noqa: F401  (registers the app's states)

    found: dict[str, set[str]] = {}
    for registered in RegistrationContext.get().event_handlers.values():
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
    import compymac_rx.compymac_rx  # noqa: F401

    for registered in RegistrationContext.get().event_handlers.values():
        if not registered.states[0].__module__.startswith("compymac_rx."):
            continue
        parameters = inspect.signature(registered.handler.fn).parameters
        assert not {"user", "user_id", "owner", "owner_id"} & set(parameters), (
            registered.handler.fn.__qualname__
        )
