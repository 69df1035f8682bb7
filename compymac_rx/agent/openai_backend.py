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
from typing import Any

import openai

from compymac_rx.agent import outbound
from compymac_rx.agent.context import estimate_tokens, trim_to_window
from compymac_rx.agent.params import ModelParams
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

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.25
# Where OpenAI-compatible servers put streamed reasoning: DeepSeek, vLLM and llama.cpp say
# `reasoning_content`, OpenRouter and Ollama `reasoning`. Neither is in the SDK's types; the
# SDK keeps unknown fields as attributes.
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
        if self._should_stop is None:
            yield from self._stream(messages, tool_params)
        else:
            yield from self._watched(messages, tool_params, self._should_stop)

    def _watched(
        self,
        messages: list[dict[str, Any]],
        tool_params: list[dict[str, Any]],
        should_stop: Callable[[], bool],
    ) -> Iterator[ModelEvent]:
        """The stream read on a helper thread, so Stop works while the provider sends
        nothing (a stalled connection, a slow first token): we stop waiting at once, and the
        helper closes the response when its read returns (at the latest at the timeout)."""
        events: queue.Queue[ModelEvent | BaseException | None] = queue.Queue()
        abandoned = threading.Event()

        def read() -> None:
            source = self._stream(messages, tool_params)
            try:
                for event in source:
                    if abandoned.is_set():
                        return
                    events.put(event)
                events.put(None)
            except BaseException as error:
                events.put(error)
            finally:
                source.close()

        threading.Thread(target=read, name="model-stream", daemon=True).start()
        try:
            while True:
                try:
                    item = events.get(timeout=WATCH_SECONDS)
                except queue.Empty:
                    if should_stop():
                        return
                    continue
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            abandoned.set()

    def _stream(
        self, messages: list[dict[str, Any]], tool_params: list[dict[str, Any]]
    ) -> Generator[ModelEvent, None, None]:
        create: Any = self._client.chat.completions.create  # plain dicts, as on the wire
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "tools": tool_params,
            "stream": True,
            "max_tokens": self.max_output_tokens,
        }
        if self.params.temperature is not None:
            request["temperature"] = self.params.temperature
        try:
            try:
                response = create(**request, stream_options={"include_usage": True})
            except openai.BadRequestError as error:
                # Some older local servers refuse stream_options; token counts are then unknown.
                if "stream_options" not in str(error):
                    raise
                response = create(**request)
        except openai.OpenAIError as error:
            raise ModelError(self._message(error)) from None
        calls: dict[int, dict[str, str]] = {}
        try:
            for chunk in response:
                if chunk.usage is not None:
                    yield ModelUsage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    delta = choice.delta
                    reasoning = _reasoning(delta)
                    if reasoning:
                        yield ReasoningDelta(reasoning)
                    if delta.content:
                        yield TextDelta(delta.content)
                    for part in delta.tool_calls or ():
                        slot = calls.setdefault(part.index, {"id": "", "name": "", "args": ""})
                        slot["id"] = part.id or slot["id"]
                        piece = ""
                        if part.function is not None:
                            slot["name"] += part.function.name or ""
                            piece = part.function.arguments or ""
                            slot["args"] += piece
                        # The live card shows the arguments as they come, under the id the
                        # finished call will carry.
                        call_id = slot["id"] or f"call_{part.index}"
                        yield ToolCallDelta(call_id, slot["name"], piece)
        except openai.OpenAIError as error:
            raise ModelError(self._message(error)) from None
        finally:
            # Closing the HTTP response is what stops a provider mid-stream on cancel.
            response.close()
        for index in sorted(calls):
            slot = calls[index]
            yield ToolCall(
                id=slot["id"] or f"call_{index}",
                name=slot["name"],
                arguments=_arguments(slot["args"]),
            )

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


def _reasoning(delta: Any) -> str:
    for field in REASONING_FIELDS:
        value = getattr(delta, field, None)
        if isinstance(value, str) and value:
            return value
    return ""


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
    (openai.APITimeoutError, "The model provider did not answer in time. Try again."),
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
    return "The model call failed."
