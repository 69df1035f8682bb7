"""A ModelBackend for any OpenAI-compatible chat-completions endpoint, through the openai SDK.

Works with OpenAI, OpenRouter, vLLM, Ollama and llama.cpp servers: all speak
`POST /chat/completions` with `stream=true` and function tools. Provider errors become a
`ModelError` with a plain message; the key never appears in one.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import httpx2
import openai

from compymac_rx.agent import outbound
from compymac_rx.agent.context import estimate_tokens, trim_to_window
from compymac_rx.agent.params import ModelParams
from compymac_rx.agent.stop_watch import STOPS, WATCH_SECONDS, response_socket
from compymac_rx.agent.types import (
    ChatItem,
    ModelError,
    ModelEvent,
    ModelUsage,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
)
from compymac_rx.agent.vision import sees_images

if TYPE_CHECKING:
    # The SDK's raw streamed response (with_streaming_response); its module is private.
    from openai._response import APIResponse

log = logging.getLogger(__name__)
# Where OpenAI-compatible servers put streamed reasoning: DeepSeek, vLLM and llama.cpp say
# `reasoning_content`, OpenRouter and Ollama `reasoning`.
REASONING_FIELDS = ("reasoning_content", "reasoning")


@functools.cache
def shared_http_client() -> openai.DefaultHttpxClient:
    """One keyless connection pool per process, shared by every job's client.

    Building a client per job costs ~50 ms (TLS context) and a new connection to the provider;
    the key travels per request in the OpenAI client's headers, never in this pool.
    """
    return openai.DefaultHttpxClient()


class OpenAIBackend:
    """Streams one model call; `stream()` is a generator the loop may close mid-way."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        context_window: int,
        max_output_tokens: int,
        timeout_seconds: float,
        max_retries: int,
        should_stop: Callable[[], bool] | None = None,
        user_url: bool = False,
        vision: bool | None = None,
        params: ModelParams | None = None,
    ) -> None:
        """`user_url`: the base URL was chosen by a user, not the operator; it is then
        called only on vetted public addresses (agent.outbound), and every failure to
        connect reads the same. `vision`: send attached images (None: MODEL_VISION_MODELS
        decides by the model's name). `params`: the turn's system prompt, temperature and max
        output tokens (its max output tokens, when set, replaces `max_output_tokens`)."""
        self.model = model
        self.vision = sees_images(model) if vision is None else vision
        self._user_url = user_url
        self._should_stop = should_stop
        self.params = params or ModelParams()
        self.context_window = context_window
        self.max_output_tokens = self.params.max_output_tokens or max_output_tokens
        # Local servers (Ollama, llama.cpp) take any key; the SDK insists on a non-empty one.
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "none",
            timeout=timeout_seconds,
            max_retries=max_retries,
            http_client=outbound.guarded_http_client() if user_url else shared_http_client(),
        )

    def stream(
        self, conversation: Sequence[ChatItem], tools: Sequence[ToolSpec]
    ) -> Iterator[ModelEvent]:
        tool_params = [_tool_param(spec) for spec in tools]
        budget = (
            self.context_window - self.max_output_tokens - estimate_tokens(json.dumps(tool_params))
        )
        messages = trim_to_window(
            self.params.system_prompt, conversation, budget, vision=self.vision
        )
        yield from self._stream(messages, tool_params)

    def _stream(
        self, messages: list[dict[str, Any]], tool_params: list[dict[str, Any]]
    ) -> Generator[ModelEvent, None, None]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "tools": tool_params,
            "stream": True,
            "max_tokens": self.max_output_tokens,
        }
        if self.params.temperature is not None:
            request["temperature"] = self.params.temperature
        response = self._open(request)
        if response is None:
            return  # stopped before the provider answered
        sock = response_socket(response.http_response)
        unwatch = STOPS.watch(self._should_stop, sock) if self._should_stop and sock else None
        calls: dict[int, dict[str, str]] = {}
        try:
            for chunk in _chunks(response.iter_lines()):
                usage = chunk.get("usage")
                if usage:
                    yield ModelUsage(
                        int(usage.get("prompt_tokens") or 0),
                        int(usage.get("completion_tokens") or 0),
                    )
                for choice in chunk.get("choices") or ():
                    delta = choice.get("delta") or {}
                    reasoning = _reasoning(delta)
                    if reasoning:
                        yield ReasoningDelta(reasoning)
                    content = delta.get("content")
                    if content:
                        yield TextDelta(content)
                    for part in delta.get("tool_calls") or ():
                        yield self._tool_piece(calls, part)
        except (openai.OpenAIError, httpx2.HTTPError, OSError) as error:
            if self._stopped():
                return  # the stop watch shut the socket down
            raise self._failure(error) from None
        finally:
            if unwatch is not None:
                unwatch()
            # Closing the HTTP response is what stops a provider mid-stream on cancel.
            response.close()
        for index in sorted(calls):
            slot = calls[index]
            yield ToolCall(
                id=slot["id"] or f"call_{index}",
                name=slot["name"],
                arguments=_arguments(slot["args"]),
            )

    def _open(self, request: dict[str, Any]) -> APIResponse[bytes] | None:
        """The response once its headers arrived; None if Stop came first.

        Without a stop check the call is made here. With one, it is made on a short-lived
        thread while this one polls the check, because no socket exists to shut down yet; the
        body is then read on this thread (see stop_watch)."""
        if self._should_stop is None:
            return self._request(request)
        should_stop = self._should_stop
        box: queue.Queue[APIResponse[bytes] | BaseException] = queue.Queue(1)
        lock = threading.Lock()
        abandoned = False

        def opener() -> None:
            try:
                response = self._request(request)
            except BaseException as error:
                box.put(error)
                return
            with lock:
                if abandoned:
                    response.close()
                    return
                box.put(response)

        threading.Thread(target=opener, name="model-request", daemon=True).start()
        while True:
            try:
                item = box.get(timeout=WATCH_SECONDS)
            except queue.Empty:
                if should_stop():
                    with lock:
                        if box.empty():
                            abandoned = True
                            return None
                continue
            if isinstance(item, BaseException):
                raise item
            return item

    def _request(self, request: dict[str, Any]) -> APIResponse[bytes]:
        # The raw response, not the SDK's Stream: that builds a pydantic model per chunk, about
        # a third of a streaming turn's CPU in the profile (bench/stream.py). The SDK still
        # builds the request, sends the key, retries the connection and maps HTTP errors.
        create: Any = self._client.chat.completions.with_streaming_response.create
        try:
            try:
                return cast(
                    "APIResponse[bytes]",
                    create(**request, stream_options={"include_usage": True}).__enter__(),
                )
            except openai.BadRequestError as error:
                # Some older local servers refuse stream_options; token counts are then unknown.
                if "stream_options" not in str(error):
                    raise
                return cast("APIResponse[bytes]", create(**request).__enter__())
        except openai.OpenAIError as error:
            raise ModelError(self._message(error)) from None

    def _stopped(self) -> bool:
        return self._should_stop is not None and self._should_stop()

    def _failure(self, error: BaseException) -> ModelError:
        if isinstance(error, openai.OpenAIError):
            return ModelError(self._message(error))
        if isinstance(error, httpx2.TimeoutException):
            return ModelError(TIMED_OUT)
        log.debug("model stream broke: %r", error)
        return ModelError("The model provider's reply broke off. Try again.")

    @staticmethod
    def _tool_piece(calls: dict[int, dict[str, str]], part: dict[str, Any]) -> ToolCallDelta:
        index = int(part.get("index") or 0)
        slot = calls.setdefault(index, {"id": "", "name": "", "args": ""})
        slot["id"] = part.get("id") or slot["id"]
        function = part.get("function") or {}
        slot["name"] += function.get("name") or ""
        piece = function.get("arguments") or ""
        slot["args"] += piece
        # The live card shows the arguments as they come, under the id the finished call
        # will carry.
        return ToolCallDelta(slot["id"] or f"call_{index}", slot["name"], piece)

    def _message(self, error: openai.OpenAIError) -> str:
        if self._user_url and isinstance(error, openai.APIConnectionError):
            # Refused, timed out, reset, TLS or blocked: one text, or the user could map
            # which ports answer. The cause goes to the log only.
            log.debug("user base URL unreachable: %r (cause %r)", error, error.__cause__)
            return outbound.UNREACHABLE
        return plain_message(error)

    def list_models(self) -> list[str]:
        """The cheap call used to validate a key."""
        try:
            return sorted(model.id for model in self._client.models.list())
        except openai.OpenAIError as error:
            raise ModelError(self._message(error)) from None


def _reasoning(delta: dict[str, Any]) -> str:
    for field in REASONING_FIELDS:
        value = delta.get(field)
        if isinstance(value, str) and value:
            return value
    return ""


def _chunks(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON chunks of a chat-completions event stream, as plain dicts.

    Only `data:` lines carry chunks (each on one line, as every provider sends them); comments
    and `event:` lines are skipped; `[DONE]` ends the stream."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data.startswith("[DONE]"):
            return
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError:
            log.debug("skipped a malformed stream line (%d chars)", len(data))
            continue
        if not isinstance(chunk, dict):
            continue
        if chunk.get("error"):
            # Never the provider's text: some quote part of the key back (plain_message).
            log.debug("the provider sent an error mid-stream")
            raise ModelError(FAILED)
        yield chunk


def _tool_param(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.parameters,
        },
    }


def _arguments(raw: str) -> dict[str, Any]:
    """A tool's JSON arguments; malformed JSON reaches the tool as a value it will refuse."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return {"_invalid_arguments": raw[:200]}
    return value if isinstance(value, dict) else {"_invalid_arguments": raw[:200]}


TIMED_OUT = "The model provider did not answer in time. Try again."
FAILED = "The model call failed."
# What the user reads for each kind of provider failure, first match wins (subclasses first).
_PLAIN_MESSAGES: tuple[tuple[type[openai.OpenAIError], str], ...] = (
    (
        openai.AuthenticationError,
        "The model provider rejected the API key. Check or replace it in Settings.",
    ),
    (
        openai.PermissionDeniedError,
        "The API key is not allowed to use this model. Pick another model or key.",
    ),
    (
        openai.RateLimitError,
        "The model provider is rate-limiting this key (429). Wait a moment and retry.",
    ),
    (openai.APITimeoutError, TIMED_OUT),
    (
        openai.APIConnectionError,
        "Could not reach the model provider. Check its base URL and that it is up.",
    ),
    (
        openai.NotFoundError,
        "The model provider does not know this model (404). Pick another model.",
    ),
)


def plain_message(error: openai.OpenAIError) -> str:
    """What the user reads in the chat. Never echoes the provider's text for auth errors:
    some providers quote part of the key back."""
    for kind, message in _PLAIN_MESSAGES:
        if isinstance(error, kind):
            return message
    if isinstance(error, openai.BadRequestError):
        code = getattr(error, "code", None)
        if code == "context_length_exceeded" or "context length" in str(error).lower():
            return (
                "The conversation is too long for this model's context window. Start a new "
                "session, or lower MODEL_CONTEXT_TOKENS to trim more."
            )
        return "The model provider refused the request (400)."
    if isinstance(error, openai.APIStatusError):
        return f"The model provider failed ({error.status_code}). Try again later."
    return FAILED
