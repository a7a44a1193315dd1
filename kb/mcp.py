"""``python -m kb.mcp [--kb DIR]``: the knowledge base as an MCP server on stdio (Claude Desktop, Cline).

A thin entry point: the tools are ``app.mcp_server``'s, the same ones the app serves at /mcp.
Stdout carries the protocol, so while the knowledge base opens (and builds, the first time)
everything that would print goes to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kb.mcp", description="知识库的 MCP 服务（stdio） / "
                                 "the knowledge base as an MCP server on stdio")
    ap.add_argument("--kb", type=Path, help="知识库文件夹 / knowledge-base folder (KB_DIR)")
    args = ap.parse_args(argv)

    from kb import KnowledgeBase, Settings

    with contextlib.redirect_stdout(sys.stderr):
        try:
            settings = Settings(**({"dir": args.kb} if args.kb else {}))
            print(f"plan-kb MCP：正在打开知识库 {settings.dir} / opening the knowledge base", flush=True)
            kb = KnowledgeBase.open(settings, progress=False)
        except Exception as err:  # noqa: BLE001 - one clear line in the MCP host's log
            print(f"错误 Error：无法打开知识库 / cannot open the knowledge base: {err}", flush=True)
            return 1
        from analytics import open_question_log
        from app.mcp_server import build_mcp

        question_log = open_question_log(settings)   # an agent's questions count for officials too
        server = build_mcp(kb, question_log)
    try:
        server.run("stdio")
    finally:
        if question_log is not None:   # write what is queued before the process ends
            question_log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
