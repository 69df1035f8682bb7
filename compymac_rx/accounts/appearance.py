"""Each person's colour mode (light, dark or system), stored with their account.

The browser also keeps the last mode in localStorage (Reflex's own pre-paint script reads it,
so a page never flashes the wrong theme); the stored one wins once the user is known, which
is what carries the choice to a new browser.
"""

from __future__ import annotations

from typing import Literal, get_args

from compymac_rx.accounts import repository
from compymac_rx.db import session_scope

ColorMode = Literal["light", "dark", "system"]
COLOR_MODES: tuple[str, ...] = get_args(ColorMode)
DEFAULT_COLOR_MODE = "system"


def get_color_mode(user_id: str) -> str:
    """The user's stored mode; the default for an unknown user."""
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
        mode = user.color_mode if user is not None else DEFAULT_COLOR_MODE
    return mode if mode in COLOR_MODES else DEFAULT_COLOR_MODE


def set_color_mode(user_id: str, mode: str) -> bool:
    """Store `mode` for the user; False (nothing stored) for an unknown mode or user."""
    if mode not in COLOR_MODES:
        return False
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
        if user is None:
            return False
        user.color_mode = mode
        db.add(user)
    return True
