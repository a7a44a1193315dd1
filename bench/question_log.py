"""``python -m bench.question_log``: what the question log costs an answer.

One process serves the same knowledge base three ways (question log off, on SQLite, on PostgreSQL
when ``--postgres URL`` is given), each a real app on 127.0.0.1; every question goes to each app in a
shuffled order, round after round, so all three see the same machine load. Reported: the median
``POST /api/ask`` latency of each, the median of the paired differences (the logging overhead;
target ≤ 5 ms), the cost of one ``record()`` call, and how fast the writer drains a burst.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

from analytics import Database, QuestionLog
from app.server import BackgroundServer, create_app
from bench import QUESTIONS
from bench.timing import median, p95
from ingest.model import Clause
from kb import KnowledgeBase, Settings
from kb.model import Answer, Citation

HERE = Path(__file__).resolve().parent
TARGET_MS = 5.0


def serve(settings: Settings, **changes) -> BackgroundServer:
    return BackgroundServer(create_app(KnowledgeBase(settings.model_copy(update=changes))))


def latencies(urls: dict[str, str], rounds: int) -> dict[str, list[tuple[int, float]]]:
    """Seconds per request for every app, keyed by (round, question) so pairs can be compared."""
    rng = random.Random(15)
    out: dict[str, list[tuple[int, float]]] = {name: [] for name in urls}
    with httpx.Client(timeout=60) as client:
        for name, url in urls.items():   # warm every app (first answer loads the retriever)
            client.post(f"{url}/api/ask", json={"question": QUESTIONS[0]})
        for r in range(rounds):
            for i, q in enumerate(QUESTIONS):
                order = list(urls)
                rng.shuffle(order)
                for name in order:
                    started = time.perf_counter()
                    client.post(f"{urls[name]}/api/ask", json={"question": q}).raise_for_status()
                    out[name].append((r * len(QUESTIONS) + i, time.perf_counter() - started))
    return out


def record_cost(url: str, burst: int) -> dict:
    """Microseconds per ``record()`` on a live log, and rows per second the writer drains."""
    log = QuestionLog(Database(url))
    cited = [Citation(m, Clause(f"plan/ch3/s1/item{m}", "规划", "plan", "item", "标题", "条文。", f"第{m}条", m), 0.5)
             for m in range(1, 6)]   # five citations, as KB_TOP_K gives by default
    answers = [Answer(f"第{n}问：小微企业贷款难，有什么支持？", "完善融资机制。[1]", False, cited, latency_ms=20.0)
               for n in range(burst)]
    calls = []
    started = time.perf_counter()
    for a in answers:
        t = time.perf_counter()
        log.record(a, "api")
        calls.append(time.perf_counter() - t)
    log.flush(120)
    drained = time.perf_counter() - started
    log.close()
    return {"record_us_median": median(calls) * 1e6, "record_us_p95": p95(calls) * 1e6,
            "drain_rows_per_s": burst / drained}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.question_log", description=__doc__)
    ap.add_argument("--rounds", type=int, default=20, help="passes over the 12 questions")
    ap.add_argument("--postgres", help="postgresql://… of an empty database to log into as well")
    ap.add_argument("--burst", type=int, default=5000, help="rows for the record() and drain figures")
    ap.add_argument("--out", type=Path, default=HERE / "question_log.json")
    args = ap.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="plankb-bench-log-") as work:
        work = Path(work)
        base = Settings(dir=work / "kb")
        print("[bench] building the knowledge base (real corpus)…", file=sys.stderr, flush=True)
        KnowledgeBase.open(base, progress=False)
        variants = {"off": {"log_questions": False}, "sqlite": {"analytics_url": f"sqlite:///{work / 'log.sqlite'}"}}
        if args.postgres:
            variants["postgresql"] = {"analytics_url": args.postgres}
        with contextlib.ExitStack() as stack:
            urls = {name: stack.enter_context(serve(base, **changes)) for name, changes in variants.items()}
            times = latencies(urls, args.rounds)
        micro = {"sqlite": record_cost(f"sqlite:///{work / 'burst.sqlite'}", args.burst)}
        if args.postgres:
            micro["postgresql"] = record_cost(args.postgres, args.burst)
    off = dict(times["off"])
    rows = {}
    for name, pairs in times.items():
        ms = [t * 1000 for _, t in pairs]
        rows[name] = {"median_ms": median(ms), "p95_ms": p95(ms), "requests": len(ms)}
        if name != "off":
            rows[name]["overhead_ms"] = median([(t - off[k]) * 1000 for k, t in pairs])
            rows[name].update(micro[name])
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "load_before": load_before, "rounds": args.rounds,
              "command": " ".join(["python -m bench.question_log", *(sys.argv[1:] if argv is None else argv)]),
              "rows": rows}
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(report(result))
    return 0


def report(result: dict) -> str:
    title = (f"question log overhead ({result['rounds']} rounds × {len(QUESTIONS)} questions, sequential "
             f"POST /api/ask, load average {result['load_before']:.1f} before)")
    lines = [title, "",
             "| log | median / p95 | overhead (median of paired differences) | record() median / p95 | writer drains |",
             "|---|---|---|---|---|"]
    for name, r in result["rows"].items():
        if name == "off":
            lines.append(f"| off | {r['median_ms']:.1f} ms / {r['p95_ms']:.1f} ms | – | – | – |")
            continue
        verdict = "met" if r["overhead_ms"] <= TARGET_MS else "NOT met"
        lines.append(f"| {name} | {r['median_ms']:.1f} ms / {r['p95_ms']:.1f} ms | {r['overhead_ms']:+.2f} ms "
                     f"(target ≤ {TARGET_MS:.0f} ms: {verdict}) | {r['record_us_median']:.0f} µs / "
                     f"{r['record_us_p95']:.0f} µs | {r['drain_rows_per_s']:,.0f} rows/s |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
