"""One ASGI app: the JSON API under /api and the Gradio page at /."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from fastapi import FastAPI

from kb import KnowledgeBase
from app.api import api_router
from app.blocks import TITLE, build_blocks

ASSETS = Path(__file__).parent / "assets"


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """``user:pass`` → (user, pass); the password may itself contain colons."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth / KB_AUTH 应写成 user:pass / must look like user:pass")
    return user, password


def create_app(kb: KnowledgeBase) -> FastAPI:
    """The API routes are added before Gradio is mounted at /, so /api/* reaches them first."""
    app = FastAPI(title=TITLE, docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)
    app.include_router(api_router(kb))
    blocks = build_blocks(kb)
    blocks.queue(default_concurrency_limit=4)
    return gr.mount_gradio_app(
        app, blocks, path="/", auth=parse_auth(kb.settings.auth), footer_links=["api"],
        css=(ASSETS / "app.css").read_text(encoding="utf-8"),
        js=(ASSETS / "app.js").read_text(encoding="utf-8"),
        ssr_mode=False, mcp_server=False,
    )
