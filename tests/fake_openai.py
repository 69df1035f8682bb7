"""A small local OpenAI-compatible HTTP server that plays the model in tests.

It speaks `POST /v1/chat/completions` (stream=True, server-sent events, as the real API) and
`GET /v1/models`. Tests queue scripted replies (text pieces, tool calls, error modes); with
nothing queued it answers with an echo of the last user message. Every request is recorded so
a test can check what the real SDK client sent. It is the only fake the test suite uses.

Paced mode (benchmarks): a reply of `stamped_tokens` tokens at `tokens_per_second`, each token
`t<time.monotonic_ns() when it was written> `, so a client on the same machine can tell how
long each token took to reach it. `python -m tests.fake_openai --stamped 400 --rate 60` serves
that as the default reply in its own process and prints its base URL.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BAD_KEY_PREFIX = "bad"


@dataclasses.dataclass
class Reply:
    """One scripted answer to one chat-completions request.

    `error`: None, or "auth" (401), "rate_limit" (429), "context_length" (400) or "timeout"
    (the server waits `hang_seconds` before answering anything).
    `reasoning`: pieces streamed before the text in the delta field `reasoning_field`
    (`reasoning_content` as DeepSeek and vLLM, or `reasoning` as OpenRouter and Ollama).
    `broken`: after the text, "error_chunk" sends an error object (quoting the key, as some
    providers do) and ends; "cut" drops the connection mid-body.
    Each tool call's JSON arguments stream in `tool_arg_pieces` pieces; every piece (text,
    reasoning, arguments) waits `chunk_delay` first.
    """

    text: list[str] = dataclasses.field(default_factory=list)
    tool_calls: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list)
    reasoning: list[str] = dataclasses.field(default_factory=list)
    reasoning_field: str = "reasoning_content"
    tool_arg_pieces: int = 2
    error: str | None = None
    broken: str | None = None
    chunk_delay: float = 0.0
    hang_seconds: float = 30.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    # Paced mode: after `text`, this many tokens stamped with their emit time, at this rate.
    stamped_tokens: int = 0
    tokens_per_second: float = 60.0


@dataclasses.dataclass
class Recorded:
    path: str
    authorization: str
    body: dict[str, Any]


_ERRORS = {
    "auth": (401, "invalid_api_key", "Incorrect API key provided: sk-***."),
    "rate_limit": (429, "rate_limit_exceeded", "Rate limit reached for requests."),
    "context_length": (
        400,
        "context_length_exceeded",
        "This model's maximum context length is 8192 tokens.",
    ),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping a kept-alive connection (or a stream on Stop) is normal here.
        pass


class FakeOpenAI:
    """Start with `start()`; `url` is the base URL to give the SDK (ends with /v1)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.replies: collections.deque[Reply] = collections.deque()
        self.requests: list[Recorded] = []
        self.revoked_keys: set[str] = set()
        self.models = ["fake-small", "fake-large"]
        # Like some older local servers: a 400 for the stream_options field.
        self.refuse_stream_options = False
        # The answer when nothing is scripted (None: echo the last user message).
        self.default_reply: Reply | None = None
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self.url = ""

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.replies.clear()
            self.requests.clear()
            self.revoked_keys.clear()
            self.refuse_stream_options = False
            self.default_reply = None

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def last_user_content(self) -> str | list[dict[str, Any]]:
        """The content of the last user message of the last chat request received: a string,
        or a list of parts (text and image_url) as sent for images."""
        body = self.chat_requests()[-1].body
        user = [m for m in body["messages"] if m["role"] == "user"]
        content: str | list[dict[str, Any]] = user[-1]["content"]
        return content

    def last_user_text(self) -> str:
        """last_user_content's text, its text parts joined when it has parts."""
        content = self.last_user_content()
        if isinstance(content, str):
            return content
        return "\n".join(part["text"] for part in content if part.get("type") == "text")

    def last_chat(self) -> dict[str, Any]:
        """The body of the last chat-completions request: messages (the system prompt
        first), temperature, max_tokens, tools..."""
        requests = self.chat_requests()
        assert requests, "the fake model received no chat request"
        return requests[-1].body

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
            if self.default_reply is not None:
                return self.default_reply
        last_user = next(
            (m.get("content") for m in reversed(body.get("messages", [])) if m["role"] == "user"),
            "",
        )
        return Reply(text=["You said: ", str(last_user)])

    def key_ok(self, authorization: str) -> bool:
        key = authorization.removeprefix("Bearer ").strip()
        return bool(key) and not key.startswith(BAD_KEY_PREFIX) and key not in self.revoked_keys

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, kind: str) -> None:
                status, code, message = _ERRORS[kind]
                self._json(
                    status,
                    {"error": {"message": message, "type": "invalid_request_error", "code": code}},
                )

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                fake.requests.append(Recorded(self.path, auth, {}))
                if not self.path.endswith("/models"):
                    self._json(404, {"error": {"message": "not found"}})
                elif not fake.key_ok(auth):
                    self._error("auth")
                else:
                    data = [{"id": m, "object": "model", "owned_by": "fake"} for m in fake.models]
                    self._json(200, {"object": "list", "data": data})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                auth = self.headers.get("Authorization", "")
                fake.requests.append(Recorded(self.path, auth, body))
                if not self.path.endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                if not fake.key_ok(auth):
                    self._error("auth")
                    return
                if fake.refuse_stream_options and "stream_options" in body:
                    message = "Unrecognized request argument supplied: stream_options"
                    self._json(400, {"error": {"message": message, "type": "invalid_request"}})
                    return
                reply = fake._next_reply(body)
                if reply.error == "timeout":
                    time.sleep(reply.hang_seconds)
                    self.close_connection = True
                    return
                if reply.error:
                    self._error(reply.error)
                    return
                self._stream(body, reply)

            def _chunk(self, payload: dict[str, Any] | str) -> None:
                line = payload if isinstance(payload, str) else json.dumps(payload)
                data = f"data: {line}\n\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                model = body.get("model", "fake")

                def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
                    return {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }

                try:
                    self._chunk(chunk({"role": "assistant", "content": ""}))
                    for piece in reply.reasoning:
                        if reply.chunk_delay:
                            time.sleep(reply.chunk_delay)
                        self._chunk(chunk({reply.reasoning_field: piece}))
                    for piece in reply.text:
                        if reply.chunk_delay:
                            time.sleep(reply.chunk_delay)
                        self._chunk(chunk({"content": piece}))
                    if reply.broken == "error_chunk":
                        key = self.headers.get("Authorization", "")
                        self._chunk({"error": {"message": f"overloaded ({key})", "code": 503}})
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    if reply.broken == "cut":
                        self.close_connection = True
                        return
                    started = time.monotonic()
                    for number in range(reply.stamped_tokens):
                        # On a fixed schedule, so a late write does not delay the rest.
                        wait = started + number / reply.tokens_per_second - time.monotonic()
                        if wait > 0:
                            time.sleep(wait)
                        self._chunk(chunk({"content": f"t{time.monotonic_ns()} "}))
                    for index, (name, args) in enumerate(reply.tool_calls):
                        arguments = json.dumps(args)
                        count = max(1, reply.tool_arg_pieces)
                        size = -(-len(arguments) // count)
                        pieces = [arguments[i : i + size] for i in range(0, len(arguments), size)]
                        call_id = f"call_{len(fake.requests)}_{index}"
                        start = {"index": index, "id": call_id, "type": "function"}
                        start["function"] = {"name": name, "arguments": pieces[0] if pieces else ""}
                        self._chunk(chunk({"tool_calls": [start]}))
                        for piece in pieces[1:]:
                            if reply.chunk_delay:
                                time.sleep(reply.chunk_delay)
                            rest = {"index": index, "function": {"arguments": piece}}
                            self._chunk(chunk({"tool_calls": [rest]}))
                    self._chunk(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
                    if body.get("stream_options", {}).get("include_usage"):
                        usage = {
                            "prompt_tokens": reply.prompt_tokens,
                            "completion_tokens": reply.completion_tokens,
                            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                        }
                        final = chunk({})
                        final["choices"], final["usage"] = [], usage
                        self._chunk(final)
                    self._chunk("[DONE]")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    # The client closed the stream (a user pressed Stop): that is allowed.
                    self.close_connection = True

        self._server = _Server((self.host, 0), Handler)
        port = self._server.server_address[1]
        self.url = f"http://{self.host}:{port}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def main() -> None:
    """Serve paced stamped replies from this process until it is terminated."""
    import argparse

    parser = argparse.ArgumentParser(description="the fake OpenAI server, standalone")
    parser.add_argument("--stamped", type=int, default=400, help="tokens per reply")
    parser.add_argument("--rate", type=float, default=60.0, help="tokens per second")
    args = parser.parse_args()
    fake = FakeOpenAI()
    fake.default_reply = Reply(stamped_tokens=args.stamped, tokens_per_second=args.rate)
    fake.start()
    print(fake.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
