"""Talk to an OpenAI-compatible endpoint through llama-index's ``OpenAILike``, within a deadline.

Every failure surfaces as ``LLMUnavailable(kind)``; the call runs in a worker thread so that
no server behaviour — silence, a token trickle, a stalled socket — can hold the caller past
its deadline.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from functools import lru_cache

from kb.settings import Settings

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install -e '.[llm]'"


class LLMUnavailable(Exception):
    """The model gave no usable reply. ``kind``: connect, timeout, rate_limit, server, http, malformed, empty."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


def require_client() -> None:
    """Fail with the install command when the ``llm`` extra is missing (call at startup)."""
    try:
        import llama_index.llms.openai_like  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"KB_LLM_BASE_URL is set but the LLM client is not installed; run: {INSTALL_HINT}"
        ) from exc


@lru_cache(maxsize=4)
def _open_llm(base_url: str, model: str, api_key: str, timeout: float, max_tokens: int, temperature: float):
    require_client()
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=model, api_base=base_url, api_key=api_key, is_chat_model=True,
        context_window=32768, max_tokens=max_tokens, temperature=temperature,
        timeout=timeout,
        max_retries=0,   # a retry would outlast the deadline; the extractive answer is the retry
    )


def open_llm(settings: Settings):
    """The configured ``OpenAILike`` (cached per configuration)."""
    if not settings.llm_base_url:
        raise ValueError("settings.llm_base_url is not set")
    return _open_llm(
        settings.llm_base_url.rstrip("/"),
        settings.llm_model or "default",
        settings.llm_api_key or "EMPTY",   # the OpenAI client insists on some key
        float(settings.llm_timeout), settings.llm_max_tokens, settings.llm_temperature,
    )


def classify(exc: BaseException) -> LLMUnavailable:
    """Map a client exception to the failure kinds the notices distinguish."""
    if isinstance(exc, LLMUnavailable):
        return exc
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable("timeout", str(exc))
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable("connect", str(exc))
    if isinstance(exc, openai.RateLimitError):
        return LLMUnavailable("rate_limit", str(exc))
    if isinstance(exc, openai.APIStatusError):
        return LLMUnavailable("server" if exc.status_code >= 500 else "http", f"HTTP {exc.status_code}")
    # Anything else (bad JSON, a chunk without choices, a body that is not a completion) means
    # the server spoke, but not the protocol.
    return LLMUnavailable("malformed", f"{type(exc).__name__}: {exc}")


def _to_chat(messages: list[dict]):
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


def _run(work, deadline: float) -> Iterator[str]:
    """Run ``work(emit, cancelled)`` in a daemon thread and yield what it emits until the deadline."""
    out: queue.Queue = queue.Queue()
    cancelled = threading.Event()

    def target():
        try:
            work(lambda piece: out.put(("piece", piece)), cancelled)
            out.put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - every failure is reported to the caller
            out.put(("error", exc))

    threading.Thread(target=target, name="kb-llm", daemon=True).start()
    failed = True
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMUnavailable("timeout", "deadline passed")
            try:
                kind, value = out.get(timeout=remaining)
            except queue.Empty:
                raise LLMUnavailable("timeout", "deadline passed") from None
            if kind == "piece":
                yield value
            elif kind == "done":
                failed = False
                return
            else:
                raise classify(value) from value
    finally:
        cancelled.set()   # the worker stops at its next chunk; a stalled read ends at the client timeout
        if failed:
            # A half-read stream can leave the client's connection pool deadlocked (httpcore
            # #990): after any failure the next question gets a fresh client, never that pool.
            _open_llm.cache_clear()


def stream_chat(settings: Settings, messages: list[dict], deadline: float) -> Iterator[str]:
    """Yield the reply's text pieces as they stream; raises ``LLMUnavailable``."""
    llm = open_llm(settings)
    chat = _to_chat(messages)

    def work(emit, cancelled):
        stream = llm.stream_chat(chat)
        try:
            for chunk in stream:
                if cancelled.is_set():
                    return
                if chunk.delta:
                    emit(chunk.delta)
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()

    yield from _run(work, deadline)


def complete_chat(settings: Settings, messages: list[dict], deadline: float) -> str:
    """The whole reply in one non-streaming request; raises ``LLMUnavailable``."""
    llm = open_llm(settings)
    chat = _to_chat(messages)

    def work(emit, cancelled):
        emit(llm.chat(chat).message.content or "")

    return "".join(_run(work, deadline))
