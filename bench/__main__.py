"""``python -m bench``: measure, then write bench/results.md, bench/results.json and bench/chart.png.

For each backend (embedded Chroma, a ``chroma run`` server on 127.0.0.1) and corpus size (the
real corpus, then synthetic 10× and 100×), every step runs in a process of its own
(``bench.scenario``) so its peak RSS is its own. Up to 10× the synthetic corpus is ingested for
real from source files; at 100× its files are parsed, mined and indexed for real (memory and
time), and the KB answered over is written directly. Takes about 20 minutes on 2 idle cores.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import update_readme, write_report
from bench.server import ChromaServer
from bench.synthetic import sources_dir
from bench.timing import median, timed
from ingest.sources import PROJECT_ROOT
from kb.settings import Settings

HERE = Path(__file__).resolve().parent
REAL_INGEST_UP_TO = 10   # corpus sizes ingested for real; above, a KB is written directly (see scaled_rows)


def kb_env(kb_dir: Path, sources: list[Path], cache: Path, url: str | None) -> dict[str, str]:
    """The product's own configuration (``KB_*``) for a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(KB_DIR=str(kb_dir), KB_SOURCES=json.dumps([str(s) for s in sources]),
               KB_EMBED_CACHE=str(cache), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if url:
        env["KB_CHROMA_URL"] = url
    return env


def child(env: dict[str, str], step: str, *args: str) -> dict:
    """Run one ``bench.scenario`` step; its last stdout line is its JSON result."""
    proc = subprocess.run([sys.executable, "-m", "bench.scenario", step, *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.scenario {step} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cold_start(env: dict[str, str], repeat: int) -> float | None:
    """Median seconds from process start to the printed answer of ``python -m kb ask`` (None if it failed)."""
    cmd = [sys.executable, "-m", "kb", "ask", "--json", "第7条"]
    try:
        return median(timed(lambda: subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True,
                                                   check=True), repeat))
    except subprocess.CalledProcessError as err:
        log(f"`python -m kb ask` failed: {err.stderr.decode(errors='replace')[-2000:]}")
        return None


def checkpoint(work: Path, rows: list[dict]) -> None:
    """Rows measured so far, in case a later step fails."""
    (work / "rows.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(work: Path, factors: list[int], backends: list[str], rounds: int, cold_repeat: int) -> list[dict]:
    real_sources = Settings().sources
    shared_cache = work / "embedded-cache.sqlite"
    rows: list[dict] = []
    for backend in backends:   # the real corpus, ingested from scratch with an empty embedding cache
        server = ChromaServer(work / "server-x1") if backend == "server" else contextlib.nullcontext()
        with server as srv:
            url = srv.url if srv else None
            kb_dir = work / f"{backend}-x1"
            log(f"{backend} 1×: ingest from scratch")
            ingest = child(kb_env(kb_dir, real_sources, work / f"{backend}-cache.sqlite", url), "ingest")
            env = kb_env(kb_dir, real_sources, shared_cache, url)
            log(f"{backend} 1×: warm answers")
            row = {"backend": backend, **child(env, "measure", "--factor", "1", "--rounds", str(rounds)),
                   "cold_start_s": cold_start(env, cold_repeat), "ingest": ingest}
            row["server_rss_mib"] = srv.peak_rss_mib() if srv else None
            rows.append(row)
            checkpoint(work, rows)
    real_kb = work / "embedded-x1"
    for factor in factors:
        if factor == 1:
            continue
        if factor <= REAL_INGEST_UP_TO:
            rows += real_ingest_rows(work, factor, backends, real_kb, real_sources, shared_cache, rounds, cold_repeat)
        else:
            rows += scaled_rows(work, factor, backends, real_kb, real_sources, shared_cache, rounds, cold_repeat)
        checkpoint(work, rows)
    return rows


def real_ingest_rows(work: Path, factor: int, backends: list[str], real_kb: Path, real_sources: list[Path],
                     cache: Path, rounds: int, cold_repeat: int) -> list[dict]:
    """Source files N× the real ones, ingested for real (parse, own dictionary, BM25; the vectors
    from the cache, seeded with the real ones plus noise), into each backend; then answers."""
    copies = sources_dir(work / f"x{factor}")
    log(f"{factor}×: writing the copies' source files and seeding their vectors")
    child(kb_env(work / f"x{factor}", real_sources, cache, None), "copies", "--real", str(real_kb),
          "--factor", str(factor), "--into", str(copies), "--seed")
    rows = []
    for backend in backends:
        server = ChromaServer(work / f"server-x{factor}") if backend == "server" else contextlib.nullcontext()
        with server as srv:
            kb_dir = work / (f"x{factor}" if backend == "embedded" else f"x{factor}-server")
            env = kb_env(kb_dir, real_sources + [copies], cache, srv.url if srv else None)
            log(f"{backend} {factor}×: a real ingest of the copies")
            ingest = child(env, "ingest-real")
            log(f"{backend} {factor}×: warm answers")
            rows.append({"backend": backend, **measure(env, factor, rounds, cold_repeat), "ingest_real": ingest,
                         "server_rss_mib": srv.peak_rss_mib() if srv else None})
    return rows


def scaled_rows(work: Path, factor: int, backends: list[str], real_kb: Path, real_sources: list[Path],
                cache: Path, rounds: int, cold_repeat: int) -> list[dict]:
    """At 100×: parse, dictionary and BM25 of real copies (memory and time), then answers over a KB
    written directly (``bench.synthetic``), which skips an hour of parsing and vector writes."""
    files = work / f"x{factor}-files"
    log(f"{factor}×: copies' source files, then parse + dictionary + BM25")
    child(kb_env(files, real_sources, cache, None), "copies", "--real", str(real_kb), "--factor", str(factor),
          "--into", str(files / "sources"))
    parse = child(kb_env(files, real_sources + [files / "sources"], cache, None), "parse-build")
    out = work / f"x{factor}"
    sources = real_sources + [sources_dir(out)]
    log(f"{factor}×: building the synthetic KB")
    build = child(kb_env(out, sources, cache, None), "build", "--real", str(real_kb), "--factor", str(factor))
    rows = []
    for backend in backends:
        server = ChromaServer(work / f"server-x{factor}") if backend == "server" else contextlib.nullcontext()
        with server as srv:
            env = kb_env(out, sources, cache, srv.url if srv else None)
            if srv:
                log(f"{factor}×: vectors into the Chroma server, generation published")
                build = child(env, "build", "--real", str(real_kb), "--vectors-only")
            log(f"{backend} {factor}×: warm answers")
            rows.append({"backend": backend, **measure(env, factor, rounds, cold_repeat), "build_s": build["build_s"],
                         "parse_build": parse, "server_rss_mib": srv.peak_rss_mib() if srv else None})
    return rows


def measure(env: dict[str, str], factor: int, rounds: int, cold_repeat: int) -> dict:
    return {**child(env, "measure", "--factor", str(factor), "--rounds", str(rounds)),
            "cold_start_s": cold_start(env, cold_repeat)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--factors", default="1,10,100", help="corpus sizes, as multiples of the real corpus")
    ap.add_argument("--backends", default="embedded,server")
    ap.add_argument("--rounds", type=int, default=5, help="repetitions of each warm question")
    ap.add_argument("--cold-repeat", type=int, default=3, help="runs of `python -m kb ask` per cold-start figure")
    ap.add_argument("--work", type=Path, help="folder for the KBs built (default: a temporary one, removed after)")
    ap.add_argument("--out", type=Path, default=HERE, help="where results.md, results.json and chart.png go")
    args = ap.parse_args(argv)
    factors = sorted({int(f) for f in args.factors.split(",")} | {1})
    backends = [b for b in args.backends.split(",") if b]
    load_before = os.getloadavg()
    started = time.perf_counter()
    with (contextlib.nullcontext(args.work) if args.work else tempfile.TemporaryDirectory(prefix="plankb-bench-")) as w:
        rows = run(Path(w), factors, backends, args.rounds, args.cold_repeat)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "seconds": time.perf_counter() - started,
            "load_before": load_before, "load_after": os.getloadavg(), "rounds": args.rounds,
            "command": " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    print(write_report(rows, meta, args.out))
    if args.out.resolve() == HERE:
        update_readme(rows, meta, PROJECT_ROOT / "README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
