"""One log line for each frame the server could not use, instead of a traceback.

A browser can send anything on the socket. Frames too malformed to become an event (not
JSON, not a socket.io packet, an event that is not an object, an empty frame) are refused
by Engine.IO, Socket.IO or Reflex before the event guard sees them, and each would be
logged with a full traceback: a cheap log flood that hides real errors. The filter below
turns those records into one warning line each. Errors inside handlers are logged by
Reflex's event processor (`[Reflex Backend Exception]`) and keep their tracebacks.
"""

from __future__ import annotations

import logging
import os

_PACKET_DECODER = os.path.join("engineio", "packet.py")
_QUEUE_ERROR = "Error processing event queue entry"


class _OneLine(logging.Filter):
    """Records about a frame the server could not use, as one line each."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if str(record.msg).startswith(_QUEUE_ERROR):
            # Reflex names the event here with its router data: the request's headers,
            # the session cookie among them. Never into the log.
            record.msg, record.args = "%s (the event is not logged)", (_QUEUE_ERROR,)
            if isinstance(error, KeyError) and "No registered handler" in str(error):
                # A name that is no handler: refused before any handler could run.
                record.msg, record.args = "refused an event for no handler", ()
                record.exc_info, record.exc_text = None, None
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        elif error is not None and _about_a_frame(str(record.msg)):
            record.msg = "refused a malformed frame: %s: %.200s"
            record.args = (type(error).__name__, str(error).replace("\n", " "))
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        elif _decoder_failed(record):
            # Granian puts the whole traceback into the message: keep its last line.
            last = record.getMessage().rstrip().rsplit("\n", 1)[-1]
            record.msg, record.args = "refused a malformed frame: %.200s", (last,)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        elif record.levelno <= logging.WARNING and len(record.getMessage()) > 300:
            # Reflex echoes an event it cannot use into its warning: keep the start only.
            record.msg, record.args = "%.300s…", (record.getMessage(),)
        return True


def _about_a_frame(message: str) -> bool:
    # Engine.IO's words for "the code handling one received packet raised".
    return message.endswith("handler error") or message == "Unknown receive error"


def _decoder_failed(record: logging.LogRecord) -> bool:
    """Granian's report of the socket app raising, when Engine.IO's packet decoding did (it
    decodes an empty frame outside its own error handling)."""
    message = record.getMessage()
    if not message.startswith("Application callable raised an exception"):
        return False
    frames = [line for line in message.splitlines() if line.lstrip().startswith('File "')]
    return bool(frames) and _PACKET_DECODER in frames[-1]


def quiet_malformed_frames() -> None:
    """Install the filter on the loggers that report such frames (idempotent)."""
    for name in (
        "engineio.server",
        "socketio.server",
        "reflex.app",
        "reflex_base.event.processor.event_processor",
        "_granian.utils",
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OneLine) for f in logger.filters):
            logger.addFilter(_OneLine())
