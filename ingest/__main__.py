"""``python -m ingest [--source DIR]… [--json]``: print the parsed outline of every document."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ingest.loader import load_corpus
from ingest.outline import counts, document_tree
from ingest.sources import default_sources

_KIND_NAMES = {"item": "条目", "box": "专栏", "topic": "要点", "lead": "导语", "preface": "前言",
               "article": "条", "paragraph": "段"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest", description="解析文档结构并打印目录 / Parse documents and print their outline")
    ap.add_argument("--source", action="append", type=Path,
                    help="文件夹或文件，可重复；默认 source_docs/ 与 ../shared/source_docs/related/")
    ap.add_argument("--json", action="store_true", help="每行输出一个条款的 JSON")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    corpus = load_corpus(args.source or default_sources())
    elapsed = time.perf_counter() - started
    if args.json:
        for doc in corpus.documents:
            for c in doc.clauses:
                print(json.dumps(c.to_json(), ensure_ascii=False))
    else:
        for doc in corpus.documents:
            print("\n".join(document_tree(doc)))
            print()
        print("统计 / Counts:")
        for doc in corpus.documents:
            parts = "，".join(f"{_KIND_NAMES.get(k, k)} {n}" for k, n in counts(doc).items())
            print(f"  《{doc.title}》 {parts}")
        print(f"解析 {len(corpus.documents)} 个文档，用时 {elapsed * 1000:.0f} ms")
    for msg in corpus.warnings:
        print(f"提示：{msg}", file=sys.stderr)
    for msg in corpus.errors:
        print(f"无法读取：{msg}", file=sys.stderr)
    if not corpus.documents:
        print("没有可用的文档。请把规划或法规文件放进 source_docs/。", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
