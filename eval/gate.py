"""The quality gate: our scores per split against ``thresholds.toml``, and how its floors are set.

A floor sits below the measured figure by a stated margin: the one-sided 95% bootstrap bound of
the figure over the split's questions (``suggest_floors``), so that no single question decides a
build, while a real regression of a few questions still fails it.
"""
from __future__ import annotations

import random
from pathlib import Path

import tomllib

from eval.metrics import MEDIAN_METRICS, Case, median

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.toml"
BOOTSTRAP_ROUNDS = 2000
BOOTSTRAP_SEED = 20261201


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, dict]:
    """name → {"metric", "split" (default all), "min" | "max", optional "target"}; a malformed entry raises ValueError.

    ``min``/``max`` gate the build (a regression floor); ``target`` is the goal of the issue,
    reported on every run until it is met."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    for name, rule in data.items():
        if "metric" not in rule or ("min" in rule) == ("max" in rule):
            raise ValueError(f"{path.name} [{name}]: needs `metric` and exactly one of `min`/`max`")
    return data


def metric_value(summary: dict, metric: str, split: str = "all") -> float | None:
    """A gated value: ``skipped`` counts questions; anything else is our score over ``split``."""
    if metric == "skipped":
        return float(summary["skipped"])
    return (summary.get("by_split", {}).get(split) or {}).get(metric)


def _where(rule: dict) -> str:
    return f"{rule['metric']} [{rule.get('split', 'all')}]"


def check_gate(summary: dict, thresholds: dict[str, dict]) -> list[str]:
    """One message per failing threshold; an empty list means the gate passes."""
    failures = []
    for rule in thresholds.values():
        value = metric_value(summary, rule["metric"], rule.get("split", "all"))
        if value is None:
            failures.append(f"{_where(rule)}: not measured (no question it applies to)")
        elif "min" in rule and value < rule["min"]:
            failures.append(f"{_where(rule)} = {value:.3g} < {rule['min']} (minimum)")
        elif "max" in rule and value > rule["max"]:
            failures.append(f"{_where(rule)} = {value:.3g} > {rule['max']} (maximum)")
    return failures


def target_gaps(summary: dict, thresholds: dict[str, dict]) -> list[str]:
    """One line per metric that passes its floor but is still short of its target."""
    gaps = []
    for rule in thresholds.values():
        value, target = metric_value(summary, rule["metric"], rule.get("split", "all")), rule.get("target")
        if value is None or target is None:
            continue
        if ("min" in rule and value < target) or ("max" in rule and value > target):
            gaps.append(f"{_where(rule)} = {value:.3g}, target {target} not reached yet")
    return gaps


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def bootstrap_bound(values: list[float], lower: bool = True, statistic=_mean,
                    rounds: int = BOOTSTRAP_ROUNDS) -> float | None:
    """The one-sided 95% bootstrap bound of ``statistic`` over ``values`` (resampling questions);
    seeded, so the same per-question values always suggest the same floor."""
    if not values:
        return None
    rng = random.Random(BOOTSTRAP_SEED)
    stats = sorted(statistic(rng.choices(values, k=len(values))) for _ in range(rounds))
    return stats[int(0.05 * rounds)] if lower else stats[int(0.95 * rounds) - 1]


def suggest_floors(cases: list[Case], thresholds: dict[str, dict], metrics: dict) -> list[str]:
    """For every thresholds entry: the measured value and the bootstrap bound a floor would take."""
    lines = []
    for name, rule in thresholds.items():
        fn = metrics.get(rule["metric"])
        split = rule.get("split", "all")
        if fn is None:
            continue
        chosen = [c for c in cases if split == "all" or c.split == split]
        rows = fn(chosen)["per_question"]
        values = [r["value"] for r in rows if r["value"] is not None]
        statistic = median if rule["metric"] in MEDIAN_METRICS else _mean
        bound = bootstrap_bound(values, lower="min" in rule, statistic=statistic)
        if bound is not None:
            lines.append(f"[{name}] {_where(rule)}: measured {statistic(values):.3f} over {len(values)}, "
                         f"95% bootstrap {'lower' if 'min' in rule else 'upper'} bound {bound:.3f}")
    return lines
