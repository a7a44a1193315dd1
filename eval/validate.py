"""Check the gold set against the rules of issues 5 and 11 and against the parsed documents.

    report = validate_gold(load_gold(), load_corpus(default_sources()).documents)
    report.problems        # [] when the gold set is sound
    report.unverified      # targets not checked because their document is absent (with the reason)
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from eval.gold import QUESTION_TYPES, SPLITS, TARGET_FIELDS, GoldQuestion
from eval.metrics import normalize_text
from eval.targets import doc_short_title, resolve_target
from ingest.model import Clause, Document

MIN_TOTAL = 450
MIN_PER_TYPE = {"factoid": 90, "numeric": 20, "reference": 15, "multi": 10, "followup": 30,
                "english": 40, "unanswerable": 120}
MIN_NEAR_MISS = 80        # unanswerables with in-domain words whose asked thing is absent
MIN_LAW_QUESTIONS = 60
MIN_TEST = 150            # the locked test split …
MIN_TEST_UNANSWERABLE = 40
MIN_PHRASINGS = 2         # … and every plan item and box is asked about in plain words at least twice
LAW_TITLES = ("中小企业促进法", "优化营商环境条例", "青岛市优化营商环境条例", "山东省民营经济发展促进条例",
              "保障中小企业款项支付条例")
MIN_PER_LAW = 8
PLAN_ITEMS = range(1, 45)
PLAN_BOXES = range(1, 9)
COVERED_CHAPTERS = (1, 2, 4)
DEV_SHARE = (0.45, 0.7)   # dev holds about half or more
# What a target may name: a plan item, a box, a section (chapter + section), the 前言 or a law's article.
TARGET_SHAPES = ({"item"}, {"box"}, {"chapter", "section"}, {"preface"}, {"article"})
_ID = re.compile(r"^q\d{3,}$")


@dataclass
class GoldReport:
    problems: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def schema_problems(q: GoldQuestion) -> list[str]:
    """What is wrong with one row on its own."""
    out = []
    if not _ID.match(q.id):
        out.append(f"{q.id}: id must look like q001")
    if q.split not in SPLITS:
        out.append(f"{q.id}: split {q.split!r} is not one of {', '.join(SPLITS)}")
    if q.type not in QUESTION_TYPES:
        out.append(f"{q.id}: type {q.type!r} is not one of {', '.join(QUESTION_TYPES)}")
    if not q.question.strip():
        out.append(f"{q.id}: empty question")
    for t in q.expect:
        shape = set(t) - {"doc"}
        if not isinstance(t.get("doc"), str) or not t.get("doc"):
            out.append(f"{q.id}: target {t} has no doc")
        if shape not in TARGET_SHAPES:
            out.append(f"{q.id}: target {t} must give item, box, chapter+section, preface or article")
        if "preface" in t and t["preface"] is not True:
            out.append(f"{q.id}: target {t}: preface must be true")
        if any(not isinstance(t[f], int) or isinstance(t[f], bool) for f in shape & set(TARGET_FIELDS)):
            out.append(f"{q.id}: target {t} fields must be integers")
    if any(not f.strip() for f in q.facts):
        out.append(f"{q.id}: empty fact")
    if q.absent and q.type != "unanswerable":
        out.append(f"{q.id}: only unanswerable questions name what is absent")
    if q.type == "unanswerable":
        if q.expect or q.facts:
            out.append(f"{q.id}: an unanswerable question has no targets and no facts")
    elif q.type in QUESTION_TYPES:
        if not q.expect:
            out.append(f"{q.id}: no expected targets")
        if not q.facts:
            out.append(f"{q.id}: no key facts")
    if q.type == "multi" and len(q.expect) < 2:
        out.append(f"{q.id}: a multi-clause question needs two or more targets")
    if q.type == "followup":
        if not q.history:
            out.append(f"{q.id}: a follow-up needs a history")
        for m in q.history:
            if m.get("role") not in ("user", "assistant") or not isinstance(m.get("content"), str):
                out.append(f"{q.id}: history messages are {{role: user|assistant, content: str}}")
                break
    elif q.history:
        out.append(f"{q.id}: only follow-ups carry a history")
    return out


def count_problems(questions: Sequence[GoldQuestion]) -> tuple[list[str], dict[str, int]]:
    """Totals per type and split against the issue's minimums; ids unique."""
    out = []
    counts = Counter(q.type for q in questions)
    dupes = [i for i, n in Counter(q.id for q in questions).items() if n > 1]
    if dupes:
        out.append(f"duplicate ids: {', '.join(sorted(dupes))}")
    if len(questions) < MIN_TOTAL:
        out.append(f"{len(questions)} questions, need at least {MIN_TOTAL}")
    for t, least in MIN_PER_TYPE.items():
        if counts[t] < least:
            out.append(f"{counts[t]} {t} questions, need at least {least}")
    dev = sum(q.split == "dev" for q in questions)
    if questions and not DEV_SHARE[0] <= dev / len(questions) <= DEV_SHARE[1]:
        out.append(f"dev holds {dev}/{len(questions)}; keep it between {DEV_SHARE[0]:.0%} and {DEV_SHARE[1]:.0%}")
    near_miss = sum(q.near_miss for q in questions)
    if near_miss < MIN_NEAR_MISS:
        out.append(f"{near_miss} near-miss unanswerable questions, need at least {MIN_NEAR_MISS}")
    laws = sum(any(t.get("doc") in LAW_TITLES for t in q.expect) for q in questions)
    if laws < MIN_LAW_QUESTIONS:
        out.append(f"{laws} questions target a law, need at least {MIN_LAW_QUESTIONS}")
    test = [q for q in questions if q.split == "test"]
    if len(test) < MIN_TEST or sum(not q.answerable for q in test) < MIN_TEST_UNANSWERABLE:
        out.append(f"the test split holds {len(test)} questions ({sum(not q.answerable for q in test)} "
                   f"unanswerable), need {MIN_TEST} ({MIN_TEST_UNANSWERABLE})")
    per_split = Counter(q.split for q in questions)
    return out, {**{t: counts[t] for t in QUESTION_TYPES}, **{s: per_split[s] for s in SPLITS},
                 "near_miss": near_miss, "law": laws, "total": len(questions)}


def coverage_problems(questions: Sequence[GoldQuestion], plan: Document | None) -> list[str]:
    """Every plan item and box, every section of chapters 1, 2, 4, and each law ≥ 8 questions."""
    out = []
    targets = [t for q in questions for t in q.expect]
    plan_targets = [t for t in targets if t.get("doc") == "规划"]
    items = {t["item"] for t in plan_targets if "item" in t}
    boxes = {t["box"] for t in plan_targets if "box" in t}
    if missing := [i for i in PLAN_ITEMS if i not in items]:
        out.append(f"plan items never targeted: {missing}")
    if missing := [b for b in PLAN_BOXES if b not in boxes]:
        out.append(f"plan boxes never targeted: {missing}")
    # Plain-words questions (not lookups by reference) per item and box.
    asked = Counter((k, t[k]) for q in questions if q.type != "reference"
                    for t in q.expect if t.get("doc") == "规划" for k in ("item", "box") if k in t)
    few = [f"{k}{n}" for k, span in (("item", PLAN_ITEMS), ("box", PLAN_BOXES)) for n in span
           if asked[(k, n)] < MIN_PHRASINGS]
    if few:
        out.append(f"asked in plain words fewer than {MIN_PHRASINGS} times: {few}")
    if plan is not None:
        sections = sorted({(c.chapter, c.section) for c in plan.clauses
                           if c.chapter in COVERED_CHAPTERS and c.section is not None})
        hit = {(c.chapter, c.section) for t in plan_targets for c in resolve_target(t, plan.clauses)}
        if missing := [f"{ch}.{s}" for ch, s in sections if (ch, s) not in hit]:
            out.append(f"plan sections (chapter.section) never targeted: {missing}")
    for law in LAW_TITLES:
        n = sum(any(t.get("doc") == law for t in q.expect) for q in questions)
        if n < MIN_PER_LAW:
            out.append(f"{law}: targeted by {n} questions, need at least {MIN_PER_LAW}")
    return out


def clause_fact_text(clause: Clause) -> str:
    """What a fact is looked up in: the clause's title (a box's or section's heading) and its text."""
    return normalize_text(f"{clause.title}\n{clause.text}")


def target_problems(questions: Sequence[GoldQuestion], documents: Sequence[Document]) -> tuple[list[str], list[str]]:
    """Targets that name nothing in the parsed documents, and facts that are not where GOLD.md puts them.

    Alternatives (every type but ``multi``): every fact is in every target, so whichever one the
    system cites, the facts can be found. ``multi``: every fact is in some target and every target
    supplies a fact. Returns (problems, unverified): targets of documents not loaded are only listed.
    """
    clauses_of: dict[str, list[Clause]] = {}
    for doc in documents:
        clauses_of.setdefault(doc_short_title(doc.title, doc.kind), []).extend(doc.clauses)
    problems, unverified = [], []
    for q in questions:
        texts: list[tuple[dict, str]] = []
        for t in q.expect:
            if t.get("doc") not in clauses_of:
                unverified.append(f"{q.id}: {t.get('doc')} is not loaded")
                continue
            found = resolve_target(t, clauses_of[t["doc"]])
            if not found:
                problems.append(f"{q.id}: target {t} names no clause")
            texts.append((t, "\n".join(clause_fact_text(c) for c in found)))
        if len(texts) < len(q.expect) or not q.facts:
            continue
        facts = [(f, normalize_text(f)) for f in q.facts]
        if q.type == "multi":
            problems += [f"{q.id}: fact {f!r} is in none of its targets" for f, nf in facts
                         if not any(nf in text for _, text in texts)]
            problems += [f"{q.id}: target {t} supplies none of the facts" for t, text in texts
                         if not any(nf in text for _, nf in facts)]
        else:
            problems += [f"{q.id}: fact {f!r} is not in target {t}" for f, nf in facts
                         for t, text in texts if nf not in text]
    return problems, unverified


def absent_problems(questions: Sequence[GoldQuestion], documents: Sequence[Document]) -> list[str]:
    """A near-miss question's ``absent`` terms must occur in no clause of any document."""
    corpus = "\n".join(clause_fact_text(c) for d in documents for c in d.clauses)
    return [f"{q.id}: absent term {term!r} occurs in the documents" for q in questions
            for term in q.absent if normalize_text(term) in corpus]


def validate_gold(questions: Sequence[GoldQuestion], documents: Sequence[Document] | None = None) -> GoldReport:
    """Schema, counts and coverage always; targets and facts against ``documents`` when given."""
    report = GoldReport()
    for q in questions:
        report.problems += schema_problems(q)
    problems, report.counts = count_problems(questions)
    report.problems += problems
    plan = next((d for d in documents or () if d.kind == "plan"), None)
    report.problems += coverage_problems(questions, plan)
    if documents is not None:
        problems, report.unverified = target_problems(questions, documents)
        report.problems += problems + absent_problems(questions, documents)
    return report
