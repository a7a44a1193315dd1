"""The quality gate: our scores on split ``all`` against ``thresholds.toml``."""
from __future__ import annotations

from pathlib import Path

import tomllib

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.toml"


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, dict]:
    """name → {"metric", "min" | "max", optional "target"}; a malformed entry raises ValueError.

    ``min``/``max`` gate the build (a regression floor); ``target`` is the goal the product
    has not reached yet, reported on every run until ``min`` can be raised to it."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    for name, rule in data.items():
        if "metric" not in rule or ("min" in rule) == ("max" in rule):
            raise ValueError(f"{path.name} [{name}]: needs `metric` and exactly one of `min`/`max`")
    return data


def metric_value(summary: dict, metric: str) -> float | None:
    """A gated value: ``skipped`` counts questions; anything else is our score over ``all``."""
    if metric == "skipped":
        return float(summary["skipped"])
    return summary["ours"]["all"].get(metric)


def check_gate(summary: dict, thresholds: dict[str, dict]) -> list[str]:
    """One message per failing threshold; an empty list means the gate passes."""
    failures = []
    for name, rule in thresholds.items():
        value = metric_value(summary, rule["metric"])
        if value is None:
            failures.append(f"{rule['metric']}: not measured (no question it applies to)")
        elif "min" in rule and value < rule["min"]:
            failures.append(f"{rule['metric']} = {value:.3g} < {rule['min']} (minimum)")
        elif "max" in rule and value > rule["max"]:
            failures.append(f"{rule['metric']} = {value:.3g} > {rule['max']} (maximum)")
    return failures


def target_gaps(summary: dict, thresholds: dict[str, dict]) -> list[str]:
    """One line per metric that passes its floor but is still short of its target."""
    gaps = []
    for rule in thresholds.values():
        value, target = metric_value(summary, rule["metric"]), rule.get("target")
        if value is None or target is None:
            continue
        if ("min" in rule and value < target) or ("max" in rule and value > target):
            gaps.append(f"{rule['metric']} = {value:.3g}, target {target} not reached yet")
    return gaps
