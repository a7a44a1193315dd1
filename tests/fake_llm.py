"""A scripted OpenAI-compatible endpoint on 127.0.0.1, for tests of the LLM answer path.

A small Starlette app serves POST /v1/chat/completions (SSE streaming and plain JSON) and
plays whatever the test scripted: a reply, a delay, an HTTP status, or garbage. The code under
test talks to it through llama-index's OpenAILike, exactly as it would to vLLM or Ollama::

    with serve_fake_llm() as fake:
        fake.script(Reply(text="…[1]。", chunk_delay=0.2))
        settings = Settings(llm_base_url=fake.base_url, ...)
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Reply:
    """What the fake endpoint does with the next request."""

    text: str = ""
    status: int = 200
    delay: float = 0.0            # seconds before the response starts
    chunk_delay: float = 0.0      # seconds between streamed chunks
    chunk_chars: int = 4          # characters per streamed chunk
    body: str | None = None       # a raw body instead of a completion
    media_type: str = "application/json"


class FakeEndpoint:
    """Replies in the order scripted; records every request body and its headers."""

    def __init__(self):
        self.replies: deque[Reply] = deque()
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.port = 0

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def reset(self) -> None:
        self.replies.clear()
        self.requests.clear()
        self.headers.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- the ASGI side

    async def completions(self, request: Request):
        payload = await request.json()
        self.requests.append(payload)
        self.headers.append(dict(request.headers))
        reply = self.replies.popleft() if self.replies else Reply(text="（未编排的回复）")
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            return JSONResponse({"error": {"message": f"scripted {reply.status}", "type": "server_error"}},
                                status_code=reply.status)
        if reply.body is not None:
            return Response(reply.body, media_type=reply.media_type)
        if payload.get("stream"):
            return StreamingResponse(self._sse(reply, payload["model"]), media_type="text/event-stream")
        return JSONResponse({
            "id": "cmpl-1", "object": "chat.completion", "created": int(time.time()), "model": payload["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        })

    async def _sse(self, reply: Reply, model: str):
        def chunk(delta: dict, finish=None) -> str:
            data = {"id": "chunk-1", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for i in range(0, len(reply.text), reply.chunk_chars):
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            yield chunk({"content": reply.text[i:i + reply.chunk_chars]})
        yield chunk({}, finish="stop")
        yield "data: [DONE]\n\n"


@contextmanager
def serve_fake_llm() -> Iterator[FakeEndpoint]:
    """Run a FakeEndpoint with uvicorn in a daemon thread on a free port of 127.0.0.1."""
    fake = FakeEndpoint()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    fake.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    try:
        assert server.started, "fake endpoint did not start"
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
