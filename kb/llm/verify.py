"""Check a generated answer sentence by sentence against the sources it cites.

Pure functions::

    checked = verify_answer(text, citations)        # sentences kept, re-cited or dropped
    text, cited = render(checked, citations)        # [n] renumbered, cited sources first

A sentence keeps the markers whose sources back it; if none does, it is re-cited to another
given source that does, or dropped. Markers that point at no source are removed; a sentence
without any marker is dropped unless it is the refusal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from kb.llm.claims import (
    Claims,
    SourceFacts,
    cjk_bigrams,
    claims_of,
    contributes,
    normalize,
    overlap,
    supports,
)
from kb.llm.sources import shown_text, support_text
from kb.model import REFUSAL, REFUSAL_EN, Citation
from kb.text import sentence_spans

# Below this share of the answer (in characters) surviving, the extractive answer is better.
MIN_KEPT_SHARE = 0.5

_NUMBERS = r"\d+(?:\s*[,，、\-–]\s*\d+)*"
# [1], [1][3], [1,3], ［1］, 【1】 — and 来源[1], [来源1], （来源1）, which echo the fence lines.
MARKER = re.compile(
    rf"\s?(?:[（(]来源\s*[\[［【]?\s*(?P<wrapped>{_NUMBERS})\s*[\]］】]?\s*[)）]"
    rf"|(?:来源\s*)?[\[［【]\s*(?:来源\s*)?(?P<bare>{_NUMBERS})\s*[\]］】])"
)
_CLOSERS = r"[”’」』）)*]*"
# A sentence ends at 。！？!? (or a full stop before a space), taking closing quotes and the
# markers after it. Lines are split first, so list items stay separate.
_TAIL = re.compile(rf"(?:[。！？!?；;.:：，,]+{_CLOSERS})?\s*$")
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_REFUSALS = {normalize(re.sub(r"[。.!！]", "", r)) for r in (REFUSAL, REFUSAL_EN)}


@dataclass(frozen=True)
class Sentence:
    """One sentence of the answer and what verification made of it.

    ``status``: "ok" (its markers back it), "recited" (moved to a source that does), "refusal",
    "dropped", or "space" (the whitespace between sentences).
    """

    text: str                     # as written, markers included
    markers: tuple[int, ...]      # as written, valid or not
    status: str
    cited: tuple[int, ...] = ()   # markers it keeps, in the original numbering
    reason: str = ""              # why it was dropped or re-cited

    @property
    def body(self) -> str:
        return MARKER.sub("", self.text)


@dataclass(frozen=True)
class Verification:
    sentences: list[Sentence]
    refused: bool          # the model gave the refusal sentence
    kept_share: float      # share of the answer's characters that survived

    @property
    def kept(self) -> list[Sentence]:
        return [s for s in self.sentences if s.status in ("ok", "recited", "refusal")]

    @property
    def dropped(self) -> list[Sentence]:
        return [s for s in self.sentences if s.status == "dropped"]

    @property
    def acceptable(self) -> bool:
        """Enough survived to stand in for the extractive answer."""
        return self.refused or (bool(self.kept) and self.kept_share >= MIN_KEPT_SHARE)


def strip_thinking(text: str) -> str:
    """Drop a reasoning model's <think>…</think> block."""
    return _THINK.sub("", text).strip()


def parse_markers(group: str) -> list[int]:
    """'1,3' → [1, 3]; '2-4' → [2, 3, 4]."""
    out: list[int] = []
    for part in re.split(r"\s*[,，、]\s*", group.strip()):
        ends = re.split(r"\s*[-–]\s*", part)
        if len(ends) == 2 and ends[0].isdigit() and ends[1].isdigit() and 0 < int(ends[1]) - int(ends[0]) < 10:
            out.extend(range(int(ends[0]), int(ends[1]) + 1))
        elif part.isdigit():
            out.append(int(part))
    return out


def split_sentences(text: str) -> list[str]:
    """An answer's sentences with their markers and closing punctuation, and the whitespace between
    them (each line break its own piece); joining the pieces gives the text back."""
    return sentence_spans(text, stops="。！？!?", marker=MARKER)


def markers_of(sentence: str) -> tuple[int, ...]:
    seen: list[int] = []
    for m in MARKER.finditer(sentence):
        for n in parse_markers(m.group("wrapped") or m.group("bare")):
            if n not in seen:
                seen.append(n)
    return tuple(seen)


def is_refusal(sentence: str) -> bool:
    return normalize(re.sub(r"[。.!！]", "", MARKER.sub("", sentence))) in _REFUSALS


def check_sentence(piece: str, claims: Claims, facts: dict[int, SourceFacts]) -> Sentence:
    """Keep, re-cite or drop one sentence; ``facts`` maps each valid marker to its source."""
    markers = markers_of(piece)
    if not markers:
        return Sentence(piece, markers, "dropped", reason="no marker")
    everything = list(facts.values())
    valid = [n for n in markers if n in facts]
    backing = [n for n in valid if contributes(claims, facts[n], everything)]
    if backing and supports(claims, [facts[n] for n in backing], everything):
        return Sentence(piece, markers, "ok", tuple(backing))
    # Re-cite: the one given source that backs the sentence best.
    candidates = [n for n in facts if supports(claims, [facts[n]], everything)]
    if candidates:
        best = max(candidates, key=lambda n: (overlap(claims, [facts[n]]), -n))
        why = "markers point at no source" if not valid else f"[{', '.join(map(str, valid))}] does not back it"
        return Sentence(piece, markers, "recited", (best,), reason=why)
    if not valid:
        return Sentence(piece, markers, "dropped", reason="markers point at no source")
    return Sentence(piece, markers, "dropped", reason="no source backs it")


def verify_answer(text: str, citations: list[Citation]) -> Verification:
    """Check every sentence of ``text`` against ``citations`` (marker n → that citation)."""
    facts = {c.marker: SourceFacts.of(support_text(c), shown_text(c)) for c in citations}
    sentences: list[Sentence] = []
    for piece in split_sentences(strip_thinking(text)):
        if not piece.strip():
            sentences.append(Sentence(piece, (), "space"))
        elif not MARKER.sub("", piece).strip(" \t*#-—:："):
            continue   # a stray marker or bullet on its own
        elif is_refusal(piece):
            sentences.append(Sentence(piece, markers_of(piece), "refusal"))
        else:
            sentences.append(check_sentence(piece, claims_of(MARKER.sub("", piece)), facts))
    refused = any(s.status == "refusal" for s in sentences)
    total = sum(len(s.body.strip()) for s in sentences if s.status != "space")
    kept = sum(len(s.body.strip()) for s in sentences if s.status in ("ok", "recited", "refusal"))
    return Verification(sentences, refused, kept / total if total else 0.0)


def _with_markers(sentence: Sentence, numbers: list[int]) -> str:
    """The sentence with its markers rewritten as [a][b] just before its closing punctuation."""
    body = sentence.body
    tail = _TAIL.search(body)
    cut = tail.start() if tail else len(body)
    return body[:cut].rstrip() + "".join(f"[{n}]" for n in numbers) + body[cut:]


def _supporting(citation: Citation, answer_sentences: list[str]) -> tuple[str, ...]:
    """The clause sentences closest to the answer sentences that cite it (highlighted in the app)."""
    clause_sentences = [s.strip() for s in split_sentences(citation.clause.text) if s.strip()]
    picked: list[str] = []
    for said in answer_sentences:
        claims = claims_of(said)
        scored = [(len(claims.bigrams & cjk_bigrams(normalize(s))) + 3 * sum(f in normalize(s) for f in claims.facts), s)
                  for s in clause_sentences]
        score, best = max(scored, default=(0, ""))
        if score > 0 and best not in picked:
            picked.append(best)
    return tuple(picked)


def render(checked: Verification, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """The verified text and its citations, renumbered so the cited sources come first in the
    order the answer first cites them; uncited sources follow (unchanged, without highlights)."""
    order: list[int] = []
    for s in checked.kept:
        for n in s.cited:
            if n not in order:
                order.append(n)
    by_marker = {c.marker: c for c in citations}
    order += [c.marker for c in citations if c.marker not in order]
    new_number = {old: i for i, old in enumerate(order, start=1)}

    if checked.refused:
        text = next(s for s in checked.sentences if s.status == "refusal").body.strip()
        text = REFUSAL_EN if normalize(text).startswith("sorry") else REFUSAL
        return text, [replace(by_marker[old], marker=new_number[old], supporting=()) for old in order]

    parts: list[str] = []
    said_by: dict[int, list[str]] = {}
    line_kept, line_dropped = False, False
    for s in checked.sentences:
        if s.status == "space":
            if "\n" in s.text:
                if line_dropped and not line_kept:
                    continue   # a line whose every sentence was dropped leaves no blank line
                line_kept, line_dropped = False, False
            parts.append(s.text)
        elif s.status in ("ok", "recited"):
            parts.append(_with_markers(s, [new_number[n] for n in s.cited]))
            line_kept = True
            for n in s.cited:
                said_by.setdefault(n, []).append(s.body)
        else:
            line_dropped = True
    text = re.sub(r"(?m)^[ \t]+", "", "".join(parts))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    cited = [replace(by_marker[old], marker=new_number[old],
                     supporting=_supporting(by_marker[old], said_by[old]) if old in said_by else ())
             for old in order]
    return text, cited
