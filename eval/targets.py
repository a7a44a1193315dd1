"""Does a citation (or a clause) hit a gold target?

A *ref* is the plain dict every metric sees for one retrieved source: ``doc`` (short title),
the structural fields (chapter, section, item, box, article), ``id``, ``text`` and, for our
answers, ``marker``. A ref matches a target when the document and every field the target
gives agree: ``{"doc": "规划", "chapter": 2, "section": 3}`` accepts any clause of that section.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from eval.gold import TARGET_FIELDS
from ingest.metadata import doc_kind, short_title
from ingest.model import Clause


def doc_short_title(doc_title: str, kind: str | None = None) -> str:
    """规划 for the plan, otherwise the title without 中华人民共和国 (as ingest names documents)."""
    return short_title(doc_title, kind or doc_kind(doc_title))


def ref_of_clause(clause: Clause) -> dict:
    ref = {"doc": doc_short_title(clause.doc_title, clause.doc_kind), "id": clause.id,
           "label": clause.label, "text": clause.text}
    ref.update({f: getattr(clause, f) for f in TARGET_FIELDS})
    ref["preface"] = clause.kind == "preface"
    return ref


def ref_of_citation(citation: Mapping, kinds: Mapping[str, str] | None = None) -> dict:
    """A ref from ``Citation.to_json()``; ``kinds`` maps doc_title → doc_kind when the kb is at hand."""
    title = citation.get("doc_title") or ""
    ref = {"doc": doc_short_title(title, (kinds or {}).get(title)),
           "id": citation.get("id"), "label": citation.get("label"), "text": citation.get("text") or "",
           "marker": citation.get("marker"), "score": citation.get("score")}
    ref.update({f: citation.get(f) for f in TARGET_FIELDS})
    ref["preface"] = citation.get("kind") == "preface"
    return ref


def target_matches(target: Mapping, ref: Mapping) -> bool:
    if ref.get("doc") != target.get("doc"):   # equality: 优化营商环境条例 ≠ 青岛市优化营商环境条例
        return False
    if target.get("preface"):                 # the plan's 前言 has no chapter, section or item
        return bool(ref.get("preface"))
    return all(ref.get(f) == target[f] for f in TARGET_FIELDS if f in target)


def matches_any(expect: Iterable[Mapping], ref: Mapping) -> bool:
    return any(target_matches(t, ref) for t in expect)


def dedupe_refs(refs: Sequence[Mapping]) -> list[Mapping]:
    """First occurrence of each source, so a repeated citation neither counts twice nor pushes others down."""
    seen, out = set(), []
    for i, ref in enumerate(refs):
        key = ref.get("id") or (ref.get("doc"), *(ref.get(f) for f in TARGET_FIELDS), i)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out


def rank_matches(refs: Sequence[Mapping], expect: Sequence[Mapping]) -> list[bool]:
    """Per rank (list order is the ranking, so ties keep the order the retriever gave), whether it hits a target."""
    return [matches_any(expect, r) for r in dedupe_refs(refs)]


def resolve_target(target: Mapping, clauses: Iterable[Clause]) -> list[Clause]:
    """The clauses a target accepts (empty when the target names nothing that exists)."""
    return [c for c in clauses if target_matches(target, ref_of_clause(c))]
