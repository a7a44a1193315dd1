"""The quality gate: our scores on split ``all`` against ``thresholds.toml``."""
from __future__ import annotations

import tomllib
from pathlib import Path

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.toml"


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, dict]:
    """name → {"metric", "min" | "max"}; a malformed entry raises ValueError."""
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
