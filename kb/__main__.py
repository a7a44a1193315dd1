"""``python -m kb ingest|ask``: build the knowledge base, answer questions (the contract the app and eval rely on)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kb.settings import Settings


def _settings(args) -> Settings:
    overrides = {}
    if getattr(args, "kb", None):
        overrides["dir"] = args.kb
    if getattr(args, "source", None):
        overrides["sources"] = args.source
    return Settings(**overrides)


def cmd_ingest(args) -> int:
    from kb.api import KnowledgeBase

    report = KnowledgeBase(_settings(args)).ingest(progress=not args.quiet)
    print(report.summary())
    for w in report.warnings:
        print(f"提示：{w}", file=sys.stderr)
    for e in report.errors:
        print(f"无法读取：{e}", file=sys.stderr)
    return 0


def _print_answer(ans) -> None:
    print(ans.text)
    for n in ans.notices:
        print(f"（{n}）")
    print("\n来源：" if not ans.refused else "\n可能相关：")
    for c in ans.citations:
        page = f"，第{c.clause.page}页" if c.clause.page else ""
        print(f"  [{c.marker}] {c.clause.label}{page}")


def cmd_ask(args) -> int:
    from kb.api import KnowledgeBase

    kb = KnowledgeBase.open(_settings(args), progress=sys.stderr.isatty())
    questions = (line.rstrip("\n") for line in sys.stdin) if args.question == "-" else [args.question]
    for q in questions:
        if args.question == "-" and not q.strip():
            continue
        ans = kb.answer(q)
        if args.json:
            print(json.dumps(ans.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(ans)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kb", description="知识库：导入文档、回答问题 / Knowledge base")
    sub = ap.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="建立或更新知识库 / build or update")
    ing.add_argument("--source", action="append", type=Path, help="文件夹或文件，可重复")
    ing.add_argument("--kb", type=Path, help="知识库文件夹")
    ing.add_argument("--quiet", action="store_true", help="不显示进度条")
    ing.set_defaults(func=cmd_ingest)
    ask = sub.add_parser("ask", help="提问 / ask a question")
    ask.add_argument("question", help="问题；「-」表示从标准输入逐行读取")
    ask.add_argument("--kb", type=Path, help="知识库文件夹")
    ask.add_argument("--json", action="store_true", help="输出 JSON")
    ask.set_defaults(func=cmd_ask)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except Exception as err:  # a person at a terminal gets one clear line, not a traceback
        from kb.serving import KnowledgeBaseNotReady
        from kb.vectors import VectorStoreUnavailable

        if isinstance(err, (KnowledgeBaseNotReady, VectorStoreUnavailable, ValueError, RuntimeError)):
            print(f"错误：{err}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
