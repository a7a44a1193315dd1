"""``python -m eval``: run the gold set through the kb and the baselines, write results, gate."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from eval.baselines import run_baseline
from eval.compare import compare_runs, load_records, render_comparison
from eval.gate import THRESHOLDS_PATH, check_gate, load_thresholds, suggest_floors, target_gaps
from eval.gold import GOLD_PATH, SPLITS, load_gold, select_split
from eval.metrics import ANSWER_METRICS, RETRIEVAL_METRICS
from eval.report import RESULTS_DIR, RUNS_DIR, render_markdown, summarize, write_results
from eval.runner import run_gold


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval", description="Run the gold questions through the kb and two "
                                "baselines, write eval/results (tables, per-question file, chart), optionally gate.")
    p.add_argument("--split", choices=(*SPLITS, "all"), default="all",
                   help="which gold questions to run (tune on dev only)")
    p.add_argument("--kb", type=Path, help="knowledge-base folder (default: KB_DIR or .kb)")
    p.add_argument("--compare", type=Path, metavar="OLD.jsonl", help="print questions that changed since that run")
    p.add_argument("--no-baselines", action="store_true", help="skip the llama-index and BM25 baselines")
    p.add_argument("--gate", action="store_true", help=f"exit 1 when a threshold of {THRESHOLDS_PATH.name} fails")
    p.add_argument("--gold", type=Path, default=GOLD_PATH, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, default=RUNS_DIR,
                   help="where latest.md/.jsonl/summary.json go (default eval/runs/, which git ignores)")
    p.add_argument("--publish", action="store_true",
                   help="write the committed eval/results/ (tables, per-question file, chart) and the README's "
                        "quality table instead; needs --split all")
    p.add_argument("--suggest-floors", action="store_true",
                   help="print, for each gate entry, the one-sided 95%% bootstrap bound a floor would take")
    return p.parse_args(argv)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_baselines(kb, settings) -> tuple[list, list[str]]:
    """Both baselines, or as many as could be built, and a note per one that could not."""
    from eval.baselines.bm25_clauses import BM25ClauseBaseline

    baselines, notes = [BM25ClauseBaseline(kb.clauses(), top_k=5)], []
    try:
        baselines.append(build_llamaindex_baseline(kb, settings))
    except Exception as err:   # a broken baseline is reported, never allowed to hide our own numbers
        notes.append(f"llama-index baseline not run: {type(err).__name__}: {err}")
        _log(notes[-1])
    return baselines, notes


def build_llamaindex_baseline(kb, settings):
    """The default llama-index pipeline over the same files the kb ingests, with the kb's embedding model."""
    from eval.baselines.llamaindex_default import LlamaIndexDefaultBaseline
    from ingest.readers import supported_suffixes
    from ingest.sources import discover
    from kb.embed_cache import CachedEmbedder
    from kb.embeddings import load_embedder

    embedder = load_embedder(settings.embed_model)
    # The kb's own content-addressed cache: chunks are embedded once per model and text, and a
    # KB_EMBED_CACHE kept between CI runs makes the baseline as cheap as the kb's rebuild.
    embedder = CachedEmbedder(embedder, settings.embed_cache_path)
    files, _ = discover(settings.sources, supported_suffixes())
    file_of_doc = {d.title: d.source for d in kb.documents()}
    return LlamaIndexDefaultBaseline(files, embedder, kb.clauses(), file_of_doc, top_k=5)


def run_baselines(kb, settings, questions, skipped: set[str], timings: dict) -> tuple[dict, list[str]]:
    """{name: (label, cases)} for every baseline that could be built, and notes on the rest."""
    t0 = time.perf_counter()
    built, notes = build_baselines(kb, settings)
    timings["baselines_build_s"] = time.perf_counter() - t0
    results = {}
    for b in built:
        t1 = time.perf_counter()
        results[b.name] = (b.label, run_baseline(b, questions, skipped))
        timings[f"{b.name}_s"] = time.perf_counter() - t1
        if hasattr(b, "unfindable_clauses") and (lost := b.unfindable_clauses()):
            notes.append(f"{b.label}: {len(lost)} clauses have an opening found in no chunk: {lost[:5]}")
    return results, notes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if (args.gate or args.publish) and args.split != "all":
        _log("--gate and --publish are computed on every question: use --split all")
        return 2
    out = RESULTS_DIR if args.publish else args.out
    old = load_records(args.compare) if args.compare else None   # read first: it may be latest.jsonl
    started = time.perf_counter()
    from kb import KnowledgeBase, Settings

    settings = Settings(dir=args.kb) if args.kb else Settings()
    questions = select_split(load_gold(args.gold), args.split)
    _log(f"opening the knowledge base in {settings.dir} …")
    kb = KnowledgeBase.open(settings, progress=False)
    t0 = time.perf_counter()
    cases = run_gold(kb, questions, on_progress=lambda i, n: i % 50 == 0 and _log(f"  {i}/{n} questions"))
    timings = {"open_kb_s": t0 - started, "ours_s": time.perf_counter() - t0}
    skipped = {c.id for c in cases if c.skipped}
    baselines, notes = ({}, []) if args.no_baselines else run_baselines(kb, settings, questions, skipped, timings)
    baseline_cases = {name: cs for name, (_, cs) in baselines.items()}
    timings["wall_time_s"] = time.perf_counter() - started
    summary = summarize(cases, baselines, split=args.split, embed_model=kb.embed_model,
                        wall_time_s=round(timings["wall_time_s"], 1),
                        timings={k: round(v, 1) for k, v in timings.items()}, notes=notes)
    paths = write_results(out, summary, cases, questions, baseline_cases)
    if args.publish:
        _publish(summary, out)
    print(render_markdown(summary, [], {}))
    _log(f"wrote {', '.join(str(p) for p in paths.values())}; timings {summary['timings']}")
    if old is not None:
        new = load_records(paths["jsonl"])
        print(render_comparison(compare_runs(old, new), new))
    if args.suggest_floors:
        print("\n".join(suggest_floors(cases, load_thresholds(), {**RETRIEVAL_METRICS, **ANSWER_METRICS})))
    if args.gate:
        thresholds = load_thresholds()
        for gap in target_gaps(summary, thresholds):
            _log(f"below target: {gap}")
        failures = check_gate(summary, thresholds)
        if failures:
            print("GATE FAILED:\n  " + "\n  ".join(failures))
            return 1
        print("gate passed")
    return 0


def _publish(summary: dict, out: Path) -> None:
    """The committed chart and the README's quality table, refreshed from this run."""
    from eval.publish import refresh_readme

    try:
        from eval.chart import write_chart
        write_chart(summary, out / "chart.png")
    except Exception as err:   # the chart is a picture of the tables, not a reason to lose them
        _log(f"chart not written: {type(err).__name__}: {err}")
    _log(f"README quality table refreshed: {refresh_readme(summary)}")
