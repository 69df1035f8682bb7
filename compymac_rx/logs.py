"""One logging configuration for the app and the workers (LOG_FORMAT=text | json).

JSON lines carry `level`, `message`, `logger`, `timestamp` and whatever ids are bound in the
current context (`request_id` from the HTTP middleware, `job_id` in a turn), so one request or
turn can be followed across replicas. Every line goes through `redact` first: values under
secret-looking keys, bearer tokens, JWTs, `key=value` secrets, passwords inside URLs and the
configured secrets themselves never reach the output.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

from compymac_rx.settings import Settings

REDACTED = "[redacted]"
SECRET_KEY = re.compile(r"pass(word)?|secret|token|cookie|authorization|api_?key|credential", re.I)
# (pattern, replacement): group 1, when there is one, is the harmless prefix that stays.
SECRET_TEXT = [
    (re.compile(r"(?i)\b((?:bearer|basic)\s+)[\w.~+/=-]+"), r"\1" + REDACTED),
    # A JWT (OIDC id, access and logout tokens): three base64url parts, the first `eyJ`.
    (re.compile(r"\beyJ[\w-]{5,}\.[\w-]+\.[\w-]*"), REDACTED),
    # key=value or "key": "value" for secret-looking keys (headers, dumps, form bodies).
    (
        re.compile(
            r"(?i)((?:pass(?:word)?|secret|token|cookie|authorization|api_?key)"
            r"[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;]+"
        ),
        r"\1" + REDACTED,
    ),
    # OAuth query parameters: an authorization code is a credential until it is spent.
    (re.compile(r"([?&](?:code|state|session_state|token)=)[^&\s\"']+"), r"\1" + REDACTED),
    # Credentials inside a URL: scheme://user:password@host.
    (re.compile(r"(://[^/\s:@]*:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
]


def _scrub(text: str, known: Iterable[str]) -> str:
    for secret in known:
        text = text.replace(secret, REDACTED)
    for pattern, replacement in SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


class Redactor:
    """A structlog processor; `known` are exact secrets from the settings (keys, passwords)."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self.known = sorted({s for s in known if len(s) >= 6}, key=len, reverse=True)

    def __call__(self, _logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
        return {key: self._value(key, value) for key, value in event.items()}

    def _value(self, key: str, value: Any) -> Any:
        if SECRET_KEY.search(key) and value not in (None, "", False, True):
            return REDACTED
        if isinstance(value, str):
            return _scrub(value, self.known)
        if isinstance(value, dict):
            return {k: self._value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._value(key, v) for v in value]
        return value


def known_secrets(settings: Settings) -> list[str]:
    """The secrets in this process's settings, to be cut out of any line that quotes them."""
    found = [settings.oidc_client_secret, settings.metrics_token, settings.model_api_key]
    found += [spec.split(":", 1)[-1] for spec in settings.secret_keys.split(",") if spec]
    for url in (settings.database_url, settings.redis_url, settings.celery_broker_url):
        match = re.search(r"://[^/\s:@]*:([^@\s/]+)@", url or "")
        if match:
            found.append(match.group(1))
    return [s.strip() for s in found if s and s.strip()]


def _rename_event(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    # Reflex's log supervisor passes lines with `level` and `message` through unchanged.
    event["message"] = event.pop("event", "")
    return event


def configure_logging(settings: Settings) -> None:
    """Route every stdlib logger (ours, Celery's, Reflex's, SQLAlchemy's) through one handler."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if settings.log_format == "json":
        renderer: list[Processor] = [
            structlog.processors.format_exc_info,
            Redactor(known_secrets(settings)),
            _rename_event,
            structlog.processors.JSONRenderer(),
        ]
    else:
        renderer = [Redactor(known_secrets(settings)), structlog.dev.ConsoleRenderer(colors=False)]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
