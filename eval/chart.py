"""The README's bar chart: metrics by question type, our pipeline beside the baselines."""
from __future__ import annotations

from pathlib import Path

from eval.report import OURS

TYPE_LABELS_ZH = {"factoid": "事实", "numeric": "数字", "reference": "条款引用", "multi": "多条款",
                  "followup": "追问", "english": "英文", "unanswerable": "无答案", "all": "全部"}
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Source Han Sans SC", "SimHei", "Microsoft YaHei")


def cjk_font() -> str | None:
    """An installed font that draws Chinese (Debian: apt-get install fonts-noto-cjk), or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def write_chart(summary: dict, path: Path) -> Path:
    """Four panels: hit@1, hit@5 and MRR for every system, and our answer-quality metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    font = cjk_font()
    label = (lambda t: f"{TYPE_LABELS_ZH.get(t, t)}\n{t}") if font else (lambda t: t)
    rc = {"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    systems = [(OURS, "ours", summary[OURS])]
    systems += [(k, b["label"], b["scores"]) for k, b in summary["baselines"].items()]
    groups = [g for g in summary[OURS] if g != "unanswerable"]
    with plt.rc_context(rc):
        fig, axes = plt.subplots(2, 2, figsize=(14, 9), constrained_layout=True)
        for ax, (metric, title) in zip(axes.flat, (("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"))):
            _bars(ax, np, groups, [(name, [s.get(g, {}).get(metric) for g in groups]) for _, name, s in systems],
                  label, f"{title} by question type")
        answer_metrics = ("fact_recall", "citation_precision", "citation_recall", "faithfulness")
        ours = summary[OURS]
        _bars(axes.flat[3], np, groups, [(m, [ours[g].get(m) for g in groups]) for m in answer_metrics],
              label, "ours: answer quality")
        refusal = ours.get("all", {}).get("refusal_accuracy")
        false_ref = ours.get("all", {}).get("false_refusal_rate")
        fig.suptitle(f"plan-kb evaluation · split {summary.get('split')} · {summary['questions']} questions · "
                     f"refusal accuracy {_pct(refusal)} · false refusals {_pct(false_ref)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return path


def _bars(ax, np, groups, series, label, title):
    x = np.arange(len(groups))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series):
        heights = [v if v is not None else 0.0 for v in values]
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, heights, width, label=name)
        for bar, v in zip(bars, values):
            if v is not None:
                ax.annotate(f"{v:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize=6, rotation=90, xytext=(0, 2),
                            textcoords="offset points")
    ax.set_xticks(x, [label(g) for g in groups], fontsize=8)
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper center", ncol=len(series), frameon=False)
    ax.grid(axis="y", alpha=0.3)


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"
