"""One measurement in a process of its own (``python -m bench.scenario STEP``), printing one JSON line.

The KB is configured from the environment (``KB_DIR``, ``KB_SOURCES``, ``KB_EMBED_CACHE``,
``KB_CHROMA_URL``), as the product is. Steps:

- ``ingest``: parse time, full ingest from scratch, unchanged re-ingest, embedding throughput;
- ``copies --real DIR --factor N --into DIR [--seed]``: source files N× the real ones (``bench.copies``),
  their vectors put in the embedding cache with ``--seed``;
- ``ingest-real``: a real ingest from scratch of ``KB_SOURCES`` (the copies), its time and peak RSS;
- ``parse-build``: parse, corpus dictionary and BM25 index of ``KB_SOURCES``, each timed, and the peak RSS;
- ``build --real DIR --factor N``: write a synthetic KB N× the real one (``bench.synthetic``);
- ``measure``: warm answers with same-process baselines (query embedding, BM25, llama-index
  default pipeline over the same corpus size), re-ingest, and the peak RSS of the product alone.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench import QUESTIONS
from bench.timing import median, p95, peak_rss_mib, timed
from kb import KnowledgeBase, Settings

THROUGHPUT_PASSAGES = 64
THROUGHPUT_QUERIES = 24


def embedding_throughput(settings: Settings, passages: list[str]) -> dict:
    """Passages/s in the ingest's batches of 32, and queries/s one at a time (as they arrive)."""
    from kb.embeddings import load_embedder

    model = load_embedder(settings.embed_model)
    model.embed_queries(["预热 warm-up"])
    batches = [passages[i:i + 32] for i in range(0, len(passages), 32)]
    p = sum(timed(lambda b=b: model.embed_passages(b), 1)[0] for b in batches)
    queries = (QUESTIONS * 3)[:THROUGHPUT_QUERIES]
    q = sum(timed(lambda q=q: model.embed_queries([q]), 1)[0] for q in queries)
    return {"passages_per_s": len(passages) / p, "queries_per_s": len(queries) / q}


def step_ingest(settings: Settings) -> dict:
    from ingest.loader import load_corpus
    from kb.catalog import Catalog
    from kb.units import units_for

    load_corpus(settings.sources)
    parse = median(timed(lambda: load_corpus(settings.sources), 5))
    started = time.perf_counter()
    report = KnowledgeBase(settings).ingest(progress=False)
    full = time.perf_counter() - started
    again = timed(lambda: KnowledgeBase(settings).ingest(progress=False), 3)
    clauses = Catalog.load(settings.dir / "catalog.json").clauses
    texts = [u.text for c in clauses for u in units_for(c)][:THROUGHPUT_PASSAGES]
    return {"parse_s": parse, "ingest_s": full, "embedded": report.embedded, "units": report.units_added,
            "reingest_s": median(again), **embedding_throughput(settings, texts), "rss_mib": peak_rss_mib()}


def step_ingest_real(settings: Settings) -> dict:
    """A real ingest of the sources from scratch (vectors from the cache), then an unchanged one."""
    started = time.perf_counter()
    report = KnowledgeBase(settings).ingest(progress=False)
    seconds = time.perf_counter() - started
    rss = peak_rss_mib()
    again = timed(lambda: KnowledgeBase(settings).ingest(progress=False), 1)[0]
    return {"ingest_s": seconds, "embedded": report.embedded, "units": report.units_added,
            "files": len(report.added), "rss_mib": rss, "reingest_s": again}


def step_parse_build(settings: Settings) -> dict:
    """What an ingest does before it embeds anything: parse every file, mine the dictionary, build BM25."""
    import tempfile

    from ingest.loader import load_corpus
    from kb.lexical import LexicalIndex, clause_text
    from kb.tokenize import Tokenizer

    started = time.perf_counter()
    corpus = load_corpus(settings.sources, settings.source_limits)
    clauses = [c for d in corpus.documents for c in d.clauses]
    parsed = time.perf_counter()
    texts = [clause_text(c) for c in clauses]
    tokenizer = Tokenizer.for_corpus(texts)
    mined = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="plankb-bench-bm25-") as folder:
        LexicalIndex.build(tokenizer, clauses).save(Path(folder))
    built = time.perf_counter()
    return {"files": len(corpus.documents), "clauses": len(clauses), "chars": sum(map(len, texts)),
            "dictionary_words": len(tokenizer.dictionary), "parse_s": parsed - started,
            "dictionary_s": mined - parsed, "bm25_s": built - mined, "rss_mib": peak_rss_mib()}


def llamaindex_query_seconds(settings: Settings, factor: int, rounds: int) -> dict:
    """The llama-index default pipeline at the same corpus size, timed on the same questions."""
    from bench.llamaindex import scaled_llamaindex_retriever

    retriever, nodes = scaled_llamaindex_retriever(settings, factor)
    from llama_index.core.schema import QueryBundle

    for q in QUESTIONS:
        retriever.retrieve(QueryBundle(q))
    times = [t for q in QUESTIONS for t in timed(lambda q=q: retriever.retrieve(QueryBundle(q)), rounds)]
    return {"llamaindex_median_s": median(times), "llamaindex_p95_s": p95(times), "llamaindex_nodes": nodes}


def step_measure(settings: Settings, factor: int, rounds: int, llamaindex: bool) -> dict:
    # Every timed answer embeds its question: the in-memory cache of repeated questions is off.
    kb = KnowledgeBase(settings.model_copy(update={"query_cache": 0}))
    started = time.perf_counter()
    report = kb.ingest(progress=False)      # what KnowledgeBase.open does: must find nothing to do
    opened = time.perf_counter() - started
    if report.added or report.changed or report.removed or report.embedded:
        raise RuntimeError(f"the KB at {settings.dir} was not current: {report.summary()}")
    for q in QUESTIONS:
        kb.answer(q)
    answers = [t for q in QUESTIONS for t in timed(lambda q=q: kb.answer(q), rounds)]
    # The baselines need the parts; the product path is kb.answer.
    lexical = kb.snapshot().lexical
    embed = [t for q in QUESTIONS for t in timed(lambda q=q: kb.embedder.embed_queries([q]), rounds)]
    bm25 = [t for q in QUESTIONS for t in timed(lambda q=q: lexical.scores(q), rounds)]
    out = {"factor": factor, "clauses": len(kb.clauses()), "vectors": kb.vectors.count(),
           "reingest_s": opened, "warm_median_s": median(answers), "warm_p95_s": p95(answers),
           "embed_median_s": median(embed), "bm25_median_s": median(bm25),
           "rss_mib": peak_rss_mib(),   # taken before llama-index is imported: the product's own peak
           "refused": [q for q in QUESTIONS if kb.answer(q).refused],
           "top": {q: [c.clause.id for c in kb.answer(q).citations[:1]] for q in QUESTIONS[:4]}}
    if llamaindex:
        out.update(llamaindex_query_seconds(settings, factor, max(1, rounds // 2)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scenario", description=__doc__)
    ap.add_argument("step", choices=["ingest", "copies", "ingest-real", "parse-build", "build", "measure"])
    ap.add_argument("--factor", type=int, default=1)
    ap.add_argument("--real", type=Path, help="build, copies: the real KB folder the copies are made from")
    ap.add_argument("--into", type=Path, help="copies: the folder the copied source files go to")
    ap.add_argument("--seed", action="store_true", help="copies: put their vectors in the embedding cache")
    ap.add_argument("--vectors-only", action="store_true", help="build: only write the vectors (e.g. into a server)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-llamaindex", action="store_true")
    args = ap.parse_args(argv)
    settings = Settings()
    started = time.perf_counter()
    if args.step == "ingest":
        result = step_ingest(settings)
    elif args.step == "copies":
        from bench.copies import seed_embeddings, write_copies

        real = [s for s in settings.sources if s.resolve() != args.into.resolve()]
        files = write_copies(real, args.into, args.factor)
        seeded = seed_embeddings(args.real, args.into, settings.embed_cache_path, real) if args.seed else 0
        result = {"files": len(files), "seeded": seeded, "seconds": time.perf_counter() - started}
    elif args.step == "ingest-real":
        result = step_ingest_real(settings)
    elif args.step == "parse-build":
        result = step_parse_build(settings)
    elif args.step == "build":
        from bench.synthetic import build_scaled, publish, write_vectors

        if args.vectors_only:
            write_vectors(args.real, settings.dir, settings.chroma_url)
            publish(args.real, settings.dir, settings.chroma_url)
        else:
            build_scaled(args.real, settings.dir, args.factor, settings.sources, settings.chroma_url)
        result = {"build_s": time.perf_counter() - started, "rss_mib": peak_rss_mib()}
    else:
        result = step_measure(settings, args.factor, args.rounds, not args.no_llamaindex)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
