"""``python -m kb.bench``: the speed figures the README quotes, measured here and now.

Prints medians (and p95 for answers) of: parsing every document, a full ingest from scratch
(empty KB folder and embedding cache), an unchanged re-ingest, the cold start of
``python -m kb ask``, and warm answers — next to baselines run in the same process (the
bare query embedding, and BM25 alone) so the ratios say what the pipeline adds.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest.loader import load_corpus
from ingest.sources import PROJECT_ROOT
from kb.api import KnowledgeBase
from kb.settings import Settings

QUESTIONS = ["小微企业贷款难，有什么支持？", "我想开个小公司，办执照要多久？", "政府采购给中小企业预留多少份额？",
             "大企业拖欠货款怎么办？", "专栏5", "中小企业促进法第十条", "第三章第五节第43条", "专精特新企业有什么扶持？",
             "What does the plan say about RCEP?", "明天青岛天气怎么样？", "跨境电商出口有什么政策？",
             "民营企业家培训有哪些安排？"]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def bench_parse(settings: Settings) -> None:
    load_corpus(settings.sources)
    times = _timed(lambda: load_corpus(settings.sources), 5)
    print(f"parse all documents: median {_ms(statistics.median(times))}")


def bench_ingest(settings: Settings) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Settings(dir=Path(tmp) / "kb", sources=settings.sources, embed_model=settings.embed_model,
                         embed_cache=Path(tmp) / "cache.sqlite")
        kb = KnowledgeBase(fresh)
        started = time.perf_counter()
        report = kb.ingest(progress=True)
        full = time.perf_counter() - started
        again = _timed(lambda: KnowledgeBase(fresh).ingest(progress=False), 3)
    print(f"full ingest from scratch: {full:.1f} s ({report.embedded} passages embedded)")
    print(f"unchanged re-ingest (new process state each time): median {statistics.median(again):.2f} s")


def bench_cold_start(settings: Settings, repeat: int) -> None:
    cmd = [sys.executable, "-m", "kb", "ask", "--kb", str(settings.dir), "--json", "第7条"]
    times = _timed(lambda: subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, check=True), repeat)
    print(f"cold start of `python -m kb ask` (process start to answer): median {statistics.median(times):.2f} s")


def bench_warm(settings: Settings, rounds: int) -> None:
    kb = KnowledgeBase.open(settings, progress=False)
    engine = kb._engine   # baselines need the parts; the product path is kb.answer
    for q in QUESTIONS:
        kb.answer(q)
    embed = [t for q in QUESTIONS for t in _timed(lambda q=q: engine.embedder.embed_queries([q]), rounds)]
    bm25 = [t for q in QUESTIONS for t in _timed(lambda q=q: engine.retriever.lexical.scores(q), rounds)]
    full = [t for q in QUESTIONS for t in _timed(lambda q=q: kb.answer(q), rounds)]
    e, b, f = (statistics.median(x) for x in (embed, bm25, full))
    print(f"warm answer: median {_ms(f)}, p95 {_ms(p95(full))} over {len(full)} answers")
    print(f"  baseline query embedding alone: median {_ms(e)}  (answer / embedding = {f / e:.1f}×)")
    print(f"  baseline BM25 alone:            median {_ms(b)}  (answer / BM25 = {f / b:.0f}×)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kb.bench", description=__doc__)
    ap.add_argument("--kb", type=Path, help="knowledge-base folder for the warm and cold-start figures")
    ap.add_argument("--skip-ingest", action="store_true", help="skip the from-scratch ingest (about a minute)")
    ap.add_argument("--rounds", type=int, default=5, help="repetitions of each warm question")
    args = ap.parse_args(argv)
    settings = Settings(dir=args.kb) if args.kb else Settings()
    KnowledgeBase.open(settings, progress=True)
    bench_parse(settings)
    if not args.skip_ingest:
        bench_ingest(settings)
    bench_cold_start(settings, repeat=3)
    bench_warm(settings, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
