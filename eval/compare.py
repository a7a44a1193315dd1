"""``--compare OLD.jsonl``: which questions changed between two runs' per-question files."""
from __future__ import annotations

import json
from pathlib import Path


def load_records(path: Path) -> dict[str, dict]:
    """id → record of a ``latest.jsonl``."""
    records = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            records[row["id"]] = row
    return records


def compare_runs(old: dict[str, dict], new: dict[str, dict]) -> dict[str, list[str]]:
    """Ids newly passing, newly failing, newly skipped, added and removed (each sorted)."""
    changes = {"newly_passing": [], "newly_failing": [], "newly_skipped": [], "added": [], "removed": []}
    for qid, row in new.items():
        before = old.get(qid)
        if before is None:
            changes["added"].append(qid)
        elif row.get("skipped") and not before.get("skipped"):
            changes["newly_skipped"].append(qid)
        elif row.get("passed") is True and before.get("passed") is not True:
            changes["newly_passing"].append(qid)
        elif row.get("passed") is False and before.get("passed") is not False:
            changes["newly_failing"].append(qid)
    changes["removed"] = [qid for qid in old if qid not in new]
    return {k: sorted(v) for k, v in changes.items()}


def render_comparison(changes: dict[str, list[str]], new: dict[str, dict]) -> str:
    lines = []
    for key, title in (("newly_passing", "Newly passing"), ("newly_failing", "Newly failing"),
                       ("newly_skipped", "Newly skipped"), ("added", "Added"), ("removed", "Removed")):
        ids = changes[key]
        lines.append(f"{title}: {len(ids)}")
        for qid in ids:
            row = new.get(qid, {})
            why = "; ".join(row.get("reasons") or []) if key == "newly_failing" else ""
            lines.append(f"  {qid} [{row.get('type', '?')}] {row.get('question') or ''}" + (f" — {why}" if why else ""))
    return "\n".join(lines)
