"""bench/results.md (one table, targets, notes) and bench/chart.png from the measured rows."""
from __future__ import annotations

from pathlib import Path

TARGETS = {"warm_median_s": 0.100, "warm_p95_s": 0.250, "rss_mib": 2048}   # at 100×
SCALE_TARGETS = {"ingest_rss_mib": 2048, "parse_build_rss_mib": 2048, "server_reingest_s": 10.0}


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"


def _s(seconds: float | None) -> str:
    return "failed" if seconds is None else f"{seconds:.2f} s"


def _mib(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} MiB"


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.2f}×"


def _row(r: dict) -> list[str]:
    ing = r.get("ingest") or {}
    li = r.get("llamaindex_median_s")
    scratch = f"{_s(ing['ingest_s'])} ({ing['embedded']} embedded)" if ing else "–"
    throughput = f"{ing['passages_per_s']:.1f} · {ing['queries_per_s']:.1f}" if ing else "–"
    return [r["backend"], f"{r['factor']}×", f"{r['clauses']:,} / {r['vectors']:,}", _ms(r["warm_median_s"]),
            _ms(r["warm_p95_s"]), _ratio(r["warm_median_s"], r["embed_median_s"]), _ms(li),
            _ratio(r["warm_median_s"], li), _mib(r["rss_mib"]), _mib(r.get("server_rss_mib")),
            _s(r["cold_start_s"]), _s(r["reingest_s"]), scratch, throughput]


COLUMNS = ["backend", "corpus", "clauses / vectors", "warm median", "warm p95", "answer ÷ query embedding",
           "llama-index default median", "plan-kb ÷ llama-index", "peak RSS (kb process)",
           "peak RSS (chroma server)", "cold start `kb ask`", "re-ingest, unchanged", "ingest from scratch",
           "embedding passages/s · queries/s"]


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_row(r)) + " |" for r in rows]
    return "\n".join(lines)


def readme_table(rows: list[dict]) -> str:
    """The README's shorter table: latency, memory and start-up per backend and corpus size."""
    cols = ["backend", "corpus (clauses)", "warm median / p95", "plan-kb ÷ llama-index default",
            "peak RSS kb process (+ chroma server)", "cold start `kb ask`", "re-ingest, unchanged"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        server = f" (+ {_mib(r['server_rss_mib'])})" if r.get("server_rss_mib") else ""
        lines.append(f"| {r['backend']} | {r['factor']}× ({r['clauses']:,}) | {_ms(r['warm_median_s'])} / "
                     f"{_ms(r['warm_p95_s'])} | {_ratio(r['warm_median_s'], r.get('llamaindex_median_s'))} | "
                     f"{_mib(r['rss_mib'])}{server} | {_s(r['cold_start_s'])} | {_s(r['reingest_s'])} |")
    return "\n".join(lines)


def scale_table(rows: list[dict]) -> str:
    """What an ingest costs as the corpus grows: real ingests, and parse + dictionary + BM25 at the top."""
    lines = ["| corpus | backend | step | time | peak RSS kb process | target |", "|---|---|---|---|---|---|"]
    for r in rows:
        if ing := r.get("ingest_real"):
            what = (f"real ingest from scratch ({ing['files']} files, {ing['units']:,} vectors, "
                    f"{ing['embedded']} embedded: the rest from the cache)")
            lines.append(f"| {r['factor']}× | {r['backend']} | {what} | {_s(ing['ingest_s'])} | "
                         f"{_mib(ing['rss_mib'])} | ≤ {_mib(SCALE_TARGETS['ingest_rss_mib'])} |")
        if (pb := r.get("parse_build")) and r["backend"] == "embedded":
            what = (f"parse {pb['files']} files ({pb['clauses']:,} clauses, {pb['chars']:,} characters), "
                    f"mine the dictionary ({pb['dictionary_words']:,} words), build BM25")
            took = f"{_s(pb['parse_s'])} + {_s(pb['dictionary_s'])} + {_s(pb['bm25_s'])}"
            lines.append(f"| {r['factor']}× | – | {what} | {took} | {_mib(pb['rss_mib'])} | "
                         f"≤ {_mib(SCALE_TARGETS['parse_build_rss_mib'])} |")
        if r["backend"] == "server" and r["factor"] == max(x["factor"] for x in rows):
            lines.append(f"| {r['factor']}× | server | re-ingest, nothing changed (generation hashes and vector "
                         f"count compared, no ids listed) | {_s(r['reingest_s'])} | – | "
                         f"≤ {_s(SCALE_TARGETS['server_reingest_s'])} |")
    return "\n".join(lines)


def scale_verdicts(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        checks = []
        if ing := r.get("ingest_real"):
            checks.append(("real ingest peak RSS", ing["rss_mib"], SCALE_TARGETS["ingest_rss_mib"], _mib))
        if (pb := r.get("parse_build")) and r["backend"] == "embedded":
            checks.append(("parse + dictionary + BM25 peak RSS", pb["rss_mib"], SCALE_TARGETS["parse_build_rss_mib"],
                           _mib))
        if r["backend"] == "server" and r["factor"] == max(x["factor"] for x in rows):
            checks.append(("unchanged re-ingest", r["reingest_s"], SCALE_TARGETS["server_reingest_s"], _s))
        out += [f"- {r['backend']} {r['factor']}×: {label} {fmt(value)} (target ≤ {fmt(limit)}): "
                f"{'met' if value is not None and value <= limit else 'NOT met'}"
                for label, value, limit, fmt in checks]
    return out


def verdicts(rows: list[dict]) -> list[str]:
    top = max(r["factor"] for r in rows)
    out = []
    for r in (r for r in rows if r["factor"] == top):
        for key, label, limit in (("warm_median_s", "warm median", TARGETS["warm_median_s"]),
                                  ("warm_p95_s", "warm p95", TARGETS["warm_p95_s"]),
                                  ("rss_mib", "peak RSS", TARGETS["rss_mib"])):
            value = r[key]
            shown = _mib(value) if key == "rss_mib" else _ms(value)
            target = _mib(limit) if key == "rss_mib" else _ms(limit)
            out.append(f"- {r['backend']} {top}×: {label} {shown} (target ≤ {target}): "
                       f"{'met' if value <= limit else 'NOT met'}")
    return out


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, mem) = plt.subplots(1, 2, figsize=(10, 4))
    for backend in sorted({r["backend"] for r in rows}):
        mine = sorted((r for r in rows if r["backend"] == backend), key=lambda r: r["factor"])
        xs = [r["clauses"] for r in mine]
        lat.plot(xs, [r["warm_median_s"] * 1000 for r in mine], "o-", label=f"plan-kb median ({backend})")
        lat.plot(xs, [r["warm_p95_s"] * 1000 for r in mine], "o:", label=f"plan-kb p95 ({backend})")
        mem.plot(xs, [r["rss_mib"] for r in mine], "o-", label=f"kb process ({backend})")
        if backend == "server":
            mem.plot(xs, [r.get("server_rss_mib") or 0 for r in mine], "s--", label="chroma server")
        if backend == "embedded":
            lat.plot(xs, [(r.get("llamaindex_median_s") or 0) * 1000 for r in mine], "s--",
                     label="llama-index default median")
    lat.axhline(TARGETS["warm_median_s"] * 1000, color="grey", lw=0.8)
    lat.axhline(TARGETS["warm_p95_s"] * 1000, color="grey", lw=0.8, ls=":")
    mem.axhline(TARGETS["rss_mib"], color="grey", lw=0.8)
    for ax, title, unit in ((lat, "warm answer latency", "ms"), (mem, "peak resident memory", "MiB")):
        ax.set_xscale("log")
        ax.set_xlabel("clauses in the corpus (1×, 10×, 100×)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


NOTES = [
    ("- Synthetic corpora: copy k of each document has its own title, 8 % of its CJK characters replaced by "
     "corpus characters (never the ones that carry the structure), and the real unit vectors plus noise "
     "(cosine ≈ 0.98). Up to 10× the copies are source files and the KB is a real ingest of them (its own "
     "text, dictionary and BM25; vectors seeded into the embedding cache); at 100× the copies' files are "
     "parsed, mined and indexed for real (memory and time above), and the KB answered over is written "
     "directly (ids `plan~k/ch3/s1/item7`, dictionary mined from its text) to skip an hour of vector writes. "
     "1× is a real ingest with an empty cache."),
    ("- llama-index default: eval's baseline chunks (SentenceSplitter 1024/200, same e5 model, "
     "in-memory VectorStoreIndex, top 5), copied the same way; its time includes the query embedding."),
    ("- Peak RSS of the kb process is taken before llama-index is imported; with a server the vectors "
     "live in the `chroma run` process, shown separately."),
]


def update_readme(rows: list[dict], meta: dict, readme: Path) -> None:
    """Replace the table between the README's perf markers with this run's."""
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- perf:start -->", "<!-- perf:end -->"
    if start not in text or end not in text:
        return
    load = meta["load_before"][0]
    busy = " (other work shared the 2 cores: figures are pessimistic)" if load > 1.5 else " (an idle machine)"
    block = "\n".join([start, readme_table(rows), "", scale_table(rows), "",
                        (f"Measured {meta['date']}, load average {load:.1f} before the run{busy}. "
                         "Targets:"), "",
                        *verdicts(rows), *scale_verdicts(rows), end])
    head, rest = text.split(start, 1)
    readme.write_text(head + block + rest.split(end, 1)[1], encoding="utf-8")


def write_report(rows: list[dict], meta: dict, out: Path) -> str:
    """Write results.md and chart.png into ``out``; returns the markdown."""
    chart(rows, out / "chart.png")
    text = "\n".join([
        "# plan-kb performance", "",
        (f"Measured {meta['date']} on this machine ({meta['cpus']} cores, no GPU) by `{meta['command']}` "
         f"in {meta['seconds'] / 60:.1f} min; load average before/after "
         f"{meta['load_before'][0]:.1f} / {meta['load_after'][0]:.1f}. Medians and p95 over "
         f"{meta['rounds']} rounds of the same 12 questions; baselines are timed in the same process."), "",
        table(rows), "", "What an ingest costs as the corpus grows:", "", scale_table(rows), "",
        "![benchmark chart](chart.png)", "", "Targets:", "",
        *verdicts(rows), *scale_verdicts(rows), "",
        *NOTES, ""])
    (out / "results.md").write_text(text, encoding="utf-8")
    return text
