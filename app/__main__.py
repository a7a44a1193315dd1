"""``python -m app [--kb DIR] [--host H] [--port P] [--auth user:pass]``: build the index if needed, then serve."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kb import KnowledgeBase, Settings


def settings_from_args(argv: list[str] | None = None) -> Settings:
    """KB_* environment variables, overridden by whatever the command line gives."""
    ap = argparse.ArgumentParser(prog="python -m app", description="规划问答应用 / The plan Q&A web app")
    ap.add_argument("--kb", type=Path, help="知识库文件夹 / knowledge-base folder (KB_DIR)")
    ap.add_argument("--host", help="监听地址 / address to bind (KB_HOST, default 127.0.0.1)")
    ap.add_argument("--port", type=int, help="端口 / port (KB_PORT, default 7860)")
    ap.add_argument("--auth", help="登录 user:pass / require a login (KB_AUTH)")
    args = ap.parse_args(argv)
    overrides = {name: value for name, value in (("dir", args.kb), ("host", args.host), ("port", args.port),
                                                  ("auth", args.auth)) if value is not None}
    return Settings(**overrides)


def main(argv: list[str] | None = None) -> int:
    settings = settings_from_args(argv)
    print(f"知识库 Knowledge base: {settings.dir}", flush=True)
    print("正在检查并建立索引（首次启动需要几十秒）… Building the index if needed…", flush=True)
    started = time.perf_counter()
    try:
        # tqdm bars on the terminal; an unreachable Chroma server with nothing cached is waited for
        kb = KnowledgeBase.open(settings, progress=True, wait=True)
    except Exception as err:  # noqa: BLE001 - one clear line for a person at a terminal
        print(f"错误 Error：无法建立知识库 / cannot build the knowledge base: {err}", file=sys.stderr)
        return 1
    try:
        kb.answer("小微企业融资")   # loads the retriever and tokenizer now, so the first visitor waits for nothing
    except Exception as err:  # noqa: BLE001 - the page's banner explains it; serve anyway
        print(f"提示 Warning：{err}", file=sys.stderr)
    print(f"索引就绪，用时 {time.perf_counter() - started:.1f} s · Index ready", flush=True)

    import uvicorn

    from app.server import create_app

    try:
        app = create_app(kb)
    except ValueError as err:
        print(f"错误 Error：{err}", file=sys.stderr)
        return 2
    print(f"打开 Open http://{settings.host}:{settings.port}/  （JSON API: /api/ask, /api/clause, /api/health；"
          f"OpenAI: /v1；MCP: /mcp；{'需要 API 密钥 keys required' if settings.api_keys else '未设密钥 no keys'}）",
          flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
