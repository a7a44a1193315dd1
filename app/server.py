"""One ASGI app: the Gradio page at /, the JSON API under /api, OpenAI-compatible /v1 and MCP at /mcp."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

import gradio as gr
import uvicorn
from fastapi import FastAPI

from analytics import open_question_log
from analytics.grouping import QuestionGrouper
from app.access import AccessGuard, AccessPolicy
from app.analytics_api import analytics_router
from app.api import api_router
from app.blocks import TITLE, build_blocks
from app.mcp_server import mcp_http_app
from app.openai_api import openai_router
from kb import KnowledgeBase

ASSETS = Path(__file__).parent / "assets"


def create_app(kb: KnowledgeBase) -> FastAPI:
    """The page at /, and beside it the machine interfaces: /api (JSON), /v1 (OpenAI-compatible),
    /mcp (MCP over streamable HTTP), all behind one access guard (keys, login, rate limit).

    Routes are added before Gradio is mounted at /, so /api, /v1 and /mcp reach them first.
    ``app.state.question_log`` is the process's question log (None when KB_LOG_QUESTIONS=0): every
    interface that serves an answer calls ``question_log.record(answer, "<interface>")``.
    Raises ValueError, with a bilingual message, for malformed KB_AUTH, KB_API_KEYS or KB_RATE_LIMIT.
    """
    policy = AccessPolicy.from_settings(kb.settings)
    question_log = open_question_log(kb.settings)
    grouper = QuestionGrouper(kb.embed_texts)
    mcp_app, mcp_sessions = mcp_http_app(kb, "/mcp", question_log)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        async with mcp_sessions.run():
            yield
        if question_log is not None:   # write what is queued before the process ends
            question_log.close()

    app = FastAPI(title=TITLE, docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None,
                  lifespan=lifespan)
    app.state.question_log = question_log
    app.add_middleware(AccessGuard, policy=policy)
    app.include_router(api_router(kb, question_log))
    app.include_router(analytics_router(kb, question_log, grouper))
    app.include_router(openai_router(kb, question_log))
    app.add_route("/mcp", mcp_app, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    blocks = build_blocks(kb, question_log, grouper)
    # Gradio's queue imports pandas for its event statistics on the first event; pay that now,
    # not in the first visitor's answer time.
    import pandas  # noqa: F401
    blocks.queue(default_concurrency_limit=4)
    return gr.mount_gradio_app(
        app, blocks, path="/", auth=policy.login, footer_links=["api"],
        css=(ASSETS / "app.css").read_text(encoding="utf-8"),
        js=(ASSETS / "app.js").read_text(encoding="utf-8"),
        head=f'<style>{(ASSETS / "frame.css").read_text(encoding="utf-8")}</style>',
        ssr_mode=False, mcp_server=False,
    )


class BackgroundServer:
    """Serve an ASGI app from a thread, for tests and notebooks::

        with BackgroundServer(create_app(kb), port=0) as url:
            httpx.get(f"{url}/api/health")
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        if port == 0:
            with socket.socket() as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        self._thread: threading.Thread | None = None

    def __enter__(self) -> str:
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start on {self.url}")
            time.sleep(0.05)
        return self.url

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
