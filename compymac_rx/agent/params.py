"""A turn's model parameters: the system prompt, temperature and max output tokens.

Users set a default system prompt (Settings) and, per session, an override, a temperature and
a max output tokens; empty means "inherit" (session -> the user's default -> ours, and the
provider's own temperature). The rules for what a user may enter live here, beside the shape
the model backend takes, so the Settings page, the session dialog and the API agree.
"""

from __future__ import annotations

import dataclasses
import math

DEFAULT_SYSTEM_PROMPT = (
    "You are a coding agent working in a private workspace folder. Use the tools to list, "
    "read, write, edit and search files and to run shell commands (the workspace is the "
    "current folder, /workspace; there is no network). Paths are relative to the workspace. "
    "Keep answers short; say what you changed."
)
# A prompt is sent with every model call and always kept when the history is trimmed.
MAX_SYSTEM_PROMPT_CHARS = 8000
MAX_TEMPERATURE = 2.0


class ParamsRefused(ValueError):
    """A value a user entered that the model would refuse; the message is shown as it is."""


@dataclasses.dataclass(frozen=True)
class ModelParams:
    """What one turn sends besides the conversation. `prompt_source` says where the prompt
    came from ("session", "default" or "builtin"); None means the provider's default
    temperature and the server's MODEL_MAX_OUTPUT_TOKENS."""

    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    prompt_source: str = "builtin"
    temperature: float | None = None
    max_output_tokens: int | None = None

    def trace(self) -> dict[str, object]:
        """As the turn's trace records it."""
        return {
            "system_prompt": self.system_prompt,
            "prompt_source": self.prompt_source,
            "temperature": self.temperature,
            "max_tokens": self.max_output_tokens,
        }


def resolve(
    *,
    session_prompt: str,
    default_prompt: str,
    temperature: float | None,
    max_output_tokens: int | None,
) -> ModelParams:
    """The parameters a turn uses: the session's prompt, else the user's, else ours."""
    if session_prompt.strip():
        prompt, source = session_prompt, "session"
    elif default_prompt.strip():
        prompt, source = default_prompt, "default"
    else:
        prompt, source = DEFAULT_SYSTEM_PROMPT, "builtin"
    return ModelParams(prompt, source, temperature, max_output_tokens)


def clean_prompt(raw: str) -> str:
    """A system prompt as stored: trimmed; "" (inherit) when blank."""
    text = raw.strip()
    if len(text) > MAX_SYSTEM_PROMPT_CHARS:
        raise ParamsRefused(
            f"The system prompt is too long: at most {MAX_SYSTEM_PROMPT_CHARS} characters "
            f"(this one has {len(text)})."
        )
    if "\x00" in text:
        raise ParamsRefused("The system prompt contains a NUL character.")
    return text


def parse_temperature(raw: str) -> float | None:
    """ "" means the provider's default; otherwise a number from 0 to 2."""
    text = raw.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_TEMPERATURE:
        raise ParamsRefused("Temperature is a number from 0 to 2, e.g. 0.7 (empty: default).")
    return round(value, 3)


def parse_max_tokens(raw: str, limit: int) -> int | None:
    """ "" means the server's default; otherwise a whole number from 1 to `limit`."""
    text = raw.strip().replace("_", "")
    if not text:
        return None
    ok = text.isascii() and text.isdigit() and len(text) <= 9
    if not ok or not 1 <= int(text) <= limit:
        raise ParamsRefused(
            f"Max output tokens is a whole number from 1 to {limit} (empty: default)."
        )
    return int(text)
