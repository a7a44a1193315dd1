"""``python -m kb ingest|ask|sources|gc``: build the knowledge base, answer questions, show its sources.

Only ``ingest`` (and ``gc``) change a knowledge base; ``ask`` and ``sources`` read it.
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path

from kb.settings import Settings


def _settings(args) -> Settings:
    return Settings(dir=args.kb) if getattr(args, "kb", None) else Settings()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_ingest(args) -> int:
    from kb.api import KnowledgeBase

    kb = KnowledgeBase(_settings(args))
    if args.dry_run:
        print(kb.plan_ingest(args.source).render())
        print("（--dry-run：没有做任何改动 nothing was changed）")
        return 0
    report = kb.ingest(sources=args.source, progress=not args.quiet,
                       on_plan=lambda plan: print(plan.render(), flush=True), on_wait=_stderr)
    print(report.summary())
    for w in report.warnings:
        _stderr(f"提示：{w}")
    for e in report.errors:
        _stderr(f"无法读取：{e}")
    return 0


def _print_answer(ans) -> None:
    print(ans.text)
    for n in ans.notices:
        print(f"（{n}）")
    print("\n来源：" if not ans.refused else "\n可能相关：")
    for c in ans.citations:
        page = f"，第{c.clause.page}页" if c.clause.page else ""
        status = f"（{c.standing.label}）" if c.standing else ""
        print(f"  [{c.marker}] {c.label}{page}{status}")


def cmd_ask(args) -> int:
    from kb.api import KnowledgeBase
    from kb.serving import source_warnings
    from kb.validity import reference_day

    reference_day(args.as_of)   # a bad date fails before the knowledge base is opened
    kb = KnowledgeBase.open(_settings(args), progress=sys.stderr.isatty())
    report = kb.health().get("sources")
    for warning in source_warnings(report) if report else []:
        _stderr(f"提示：{warning}（详见 python -m kb sources）")
    questions = (line.rstrip("\n") for line in sys.stdin) if args.question == "-" else [args.question]
    for q in questions:
        if args.question == "-" and not q.strip():
            continue
        ans = kb.answer(q, as_of=args.as_of)
        if args.json:
            print(json.dumps(ans.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(ans)
    return 0


def cmd_sources(args) -> int:
    from kb.api import KnowledgeBase
    from kb.source_set import STATE_LABELS

    kb = KnowledgeBase(_settings(args))
    listing = kb.sources()
    sources, roots = listing.sources, listing.roots
    if args.json:
        print(json.dumps({"kb": str(kb.settings.dir), "sources": sources, "ingested_on": listing.host,
                          "roots": [{"source": r.root, "exists": r.exists,
                                     "files": [{"path": f.path, "state": f.state} for f in r.files]}
                                    for r in roots]}, ensure_ascii=False, indent=1))
        return 0
    if sources is None:
        defaults = "、".join(str(p) for p in kb.settings.sources)
        print(f"知识库 {kb.settings.dir} 还没有导入过，没有记住的来源；首次导入将使用：{defaults}\n"
              f"Knowledge base {kb.settings.dir} was never ingested; the first ingest uses the defaults.")
        return 0
    print(f"知识库 {kb.settings.dir} 记住的来源 remembered sources（python -m kb ingest 时使用）：")
    if listing.host and listing.host != socket.gethostname():
        print(f"  （在 {listing.host} 上导入：文件在那台机器上 ingested on {listing.host}, where the files are）")
    for r in roots:
        print(f"  {r.root}{'' if r.exists else '  ——不存在 missing（其文件仍在提供 still served）'}")
        for f in r.files:
            print(f"      {STATE_LABELS[f.state]:<34} {Path(f.path).name}")
    return 0


def cmd_gc(args) -> int:
    from kb.api import KnowledgeBase

    doomed = KnowledgeBase(_settings(args)).gc(dry_run=args.dry_run)
    verb = "将删除 would delete" if args.dry_run else "已删除 deleted"
    print("\n".join(f"{verb} {name}" for name in doomed) or "没有可删除的旧集合 nothing to delete")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kb", description="知识库：导入文档、回答问题 / Knowledge base")
    sub = ap.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="建立或更新知识库 / build or update")
    ing.add_argument("--source", action="append", type=Path,
                     help="文件夹或文件，可重复；给出时替换记住的来源 / replaces the remembered sources")
    ing.add_argument("--kb", type=Path, help="知识库文件夹")
    ing.add_argument("--dry-run", action="store_true", help="只显示将新增、删除、保留什么 / show the plan only")
    ing.add_argument("--quiet", action="store_true", help="不显示进度条")
    ing.set_defaults(func=cmd_ingest)
    ask = sub.add_parser("ask", help="提问 / ask a question")
    ask.add_argument("question", help="问题；「-」表示从标准输入逐行读取")
    ask.add_argument("--kb", type=Path, help="知识库文件夹")
    ask.add_argument("--json", action="store_true", help="输出 JSON")
    ask.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD",
                     help="按该日期判断文件是否有效（默认 KB_TODAY 或今天）/ answer as of this date")
    ask.set_defaults(func=cmd_ask)
    src = sub.add_parser("sources", help="列出记住的来源及其状态 / list the remembered sources")
    src.add_argument("--kb", type=Path, help="知识库文件夹")
    src.add_argument("--json", action="store_true", help="输出 JSON")
    src.set_defaults(func=cmd_sources)
    gc = sub.add_parser("gc", help="删除其他分块版本的旧集合 / delete collections of older versions")
    gc.add_argument("--kb", type=Path, help="知识库文件夹")
    gc.add_argument("--dry-run", action="store_true", help="只列出 / list only")
    gc.set_defaults(func=cmd_gc)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except Exception as err:  # a person at a terminal gets one clear line, not a traceback
        from kb.locks import WriterBusy
        from kb.serving import KnowledgeBaseNotReady
        from kb.vectors import VectorStoreUnavailable

        if isinstance(err, (KnowledgeBaseNotReady, VectorStoreUnavailable, WriterBusy, ValueError, RuntimeError)):
            _stderr(f"错误：{err}")
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
