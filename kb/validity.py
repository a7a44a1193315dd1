"""Which documents are in force on a reference date, and what an answer says about it.

The reference date is the request's ``as_of``, else ``KB_TODAY``, else today. A document's
status follows from its dates (``ingest.validity``, corrected by its sidecar) and from the other
documents: when several texts carry one title, the latest one that has taken effect is in force
and supersedes the earlier ones.

After an answer is composed, ``annotate`` gives every citation its ``Standing``, puts the version
in force before older versions of the same title, and adds one notice per document the answer
draws on that is not simply in force (an expired plan, a superseded text). Wording lives in
``kb/validity.toml``.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from ingest.model import Clause
from kb.catalog import Catalog, DocRecord
from kb.model import Answer, Citation, Standing
from kb.text import is_english

WORDING_FILE = Path(__file__).with_name("validity.toml")
_MARKER = re.compile(r"\[(\d+)\]")
# Extractive answers are parts that each end with their one [n]; a new part starts a new line.
_PART_END = re.compile(r"(?<=\])\n")


class InvalidReferenceDate(ValueError):
    """``as_of`` / ``--as-of`` that is not a date; ``str()`` is the message for the user."""


@cache
def wording() -> dict:
    return tomllib.loads(WORDING_FILE.read_text(encoding="utf-8"))


def reference_day(as_of: str | date | None = None, today: date | None = None) -> date:
    """The day statuses are decided on: ``as_of`` (YYYY-MM-DD), else ``today`` (KB_TODAY), else today."""
    if isinstance(as_of, date):
        return as_of
    if as_of is not None and str(as_of).strip():
        try:
            return date.fromisoformat(str(as_of).strip())
        except ValueError:
            raise InvalidReferenceDate(f"参考日期「{as_of}」无效，应为 YYYY-MM-DD，如 2024-01-01 / "
                                       f"as_of must be a date YYYY-MM-DD, e.g. 2024-01-01") from None
    return today or date.today()


def cn_date(iso: str | date | None) -> str:
    """2025-06-01 → 2025年6月1日."""
    if iso is None:
        return ""
    d = iso if isinstance(iso, date) else date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def _iso(value: str | date | None) -> str:
    return "" if value is None else str(value)


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


def _day_before(d: date) -> date:
    return d - timedelta(days=1)


@dataclass(frozen=True)
class DocState:
    """A document's standing plus what the notices need to say about it."""

    doc: DocRecord
    standing: Standing
    successor: DocRecord | None = None   # the text that replaced it (or will)
    versions: int = 1                    # texts in the KB with this title


def _start(doc: DocRecord) -> date | None:
    d = doc.dates
    return _day(d.effective_from) or _day(d.issued) or _day(doc.date)


def _version_order(doc: DocRecord) -> tuple:
    """Older texts first: by the day they take effect, then by their latest dated event (a revision
    that keeps the old 施行 date is still the later text)."""
    latest = max([e.date for e in doc.dates.events] + [doc.date or ""])
    return _start(doc) or date.min, latest, doc.key


class Validity:
    """The status of every document of a catalog on one day.

        v = Validity(catalog, date(2026, 12, 1))
        v.of_clause(clause).standing.status    # "expired"
    """

    def __init__(self, catalog: Catalog, day: date):
        self.catalog, self.day = catalog, day
        self.states: dict[str, DocState] = {}
        groups: dict[str, list[DocRecord]] = {}
        for doc in catalog.documents:
            groups.setdefault(doc.title, []).append(doc)
        self._in_force_of_title: dict[str, DocRecord] = {}
        for title, docs in groups.items():
            docs.sort(key=_version_order)
            for i, doc in enumerate(docs):
                self.states[doc.key] = self._state(doc, docs[i + 1:], len(docs))
            current = [d for d in docs if self.states[d.key].standing.status == "in_force"]
            self._in_force_of_title[title] = (current or docs)[-1]

    def _state(self, doc: DocRecord, later: list[DocRecord], versions: int) -> DocState:
        day, d, words = self.day, doc.dates, wording()
        start, until = _start(doc), _day(d.effective_until)
        started = [m for m in later if (_start(m) or date.max) <= day]
        successor = started[-1] if started else (later[0] if later else None)
        if later and _start(later[0]):
            until = min(until or date.max, _day_before(_start(later[0])))
        repealed = _day(d.repealed_on)
        if repealed:
            until = min(until or date.max, _day_before(repealed))
        replaced = self._replaced(doc)
        if replaced and replaced[1]:
            until = min(until or date.max, _day_before(replaced[1]))

        if repealed and repealed <= day:
            status, label = "repealed", words["status"]["repealed"]
        elif started:
            status, label = "superseded", words["status"]["superseded"]
        elif replaced and (replaced[1] is None or replaced[1] <= day):
            status, label, successor = "superseded", words["status"]["superseded_other"], replaced[0]
        elif start and start > day:
            status, label = "not_yet_in_force", words["status"]["not_yet_in_force"]
        elif until and until < day:
            status = "expired"
            label = words["status"]["expired" if doc.kind == "plan" else "expired_other"]
        else:
            status, label = "in_force", words["status"]["in_force"]
        version = d.version if versions > 1 else None
        standing = Standing(status, label, start.isoformat() if start and d.effective_from else d.effective_from,
                            until.isoformat() if until else None, version,
                            self._note(doc, status, version, replaced))
        return DocState(doc, standing, successor, versions)

    def _replaced(self, doc: DocRecord) -> tuple[DocRecord | None, date | None] | None:
        """The sidecar's ``superseded_by``: (that document if the KB holds it, the day it took over)."""
        d = doc.dates
        if not d.superseded_by:
            return None
        title = d.superseded_by.strip("《》")
        other = next((o for o in self.catalog.documents if title in (o.title, o.short_title)), None)
        when = _day(d.superseded_on) or (_start(other) if other else None) or _day(d.repealed_on)
        return other, when

    def _note(self, doc: DocRecord, status: str, version: str | None, replaced) -> str | None:
        notes = wording()["note"]
        if status == "repealed":
            return notes["repealed"].format(repealed_on=cn_date(doc.dates.repealed_on))
        if status == "superseded" and replaced and not version:
            return notes["superseded_other"].format(successor=doc.dates.superseded_by.strip("《》"))
        if status in ("superseded", "not_yet_in_force") and version:
            return notes[status].format(version=version)
        return None

    def of_doc(self, doc: DocRecord) -> DocState:
        return self.states[doc.key]

    def of_clause(self, clause: Clause) -> DocState | None:
        doc = self.catalog.doc_for(clause)
        return self.states.get(doc.key) if doc else None

    def in_force_version(self, title: str) -> DocRecord | None:
        """Of the texts with this title, the one in force (else the latest)."""
        return self._in_force_of_title.get(title)

    def is_in_force(self, clause: Clause) -> bool:
        state = self.of_clause(clause)
        return state is None or state.standing.status == "in_force"


# -- after the answer is composed ---------------------------------------------------------------
_ORDER = {"in_force": 0, "not_yet_in_force": 1, "expired": 2, "superseded": 3, "repealed": 4}


def annotate(answer: Answer, validity: Validity, reorder: bool = True) -> Answer:
    """Standing on every citation, the version in force first, one notice per document not in force.

    ``reorder`` is off for an answer whose text was already shown (a streamed LLM answer).
    """
    citations = [replace(c, standing=s.standing) if (s := validity.of_clause(c.clause)) else c
                 for c in answer.citations]
    text = answer.text
    if reorder:
        citations, text = _versions_in_force_first(citations, text, validity, answer.mode == "extractive")
    answer.citations, answer.text = citations, text
    answer.as_of = validity.day.isoformat()
    if not answer.refused:
        for line in notices_for(drawn_from(answer), validity, english=is_english(answer.question)):
            if line not in answer.notices:
                answer.notices.append(line)
    return answer


def drawn_from(answer: Answer) -> list[Citation]:
    """The citations the answer text uses ([n] markers), else its first citation."""
    used = {int(n) for n in _MARKER.findall(answer.text)}
    cited = [c for c in answer.citations if c.marker in used]
    return cited or answer.citations[:1]


def _versions_in_force_first(citations: list[Citation], text: str, validity: Validity,
                             extractive: bool) -> tuple[list[Citation], str]:
    """Where the citations hold several versions of one title, the version in force takes the
    first of their places and the markers in the text follow. In an extractive answer, a part
    quoting an older version whose words the version in force also has is cited to the version
    in force instead (or dropped when that one is quoted already), and parts go in marker order."""
    states = [validity.of_clause(c.clause) for c in citations]
    slots: dict[str, list[int]] = {}
    for i, (c, s) in enumerate(zip(citations, states)):
        if s is not None and s.versions > 1:
            slots.setdefault(c.clause.doc_title, []).append(i)
    if not slots:
        return citations, text
    order = list(range(len(citations)))
    for positions in slots.values():
        ranked = sorted(positions, key=lambda i: (_ORDER.get(states[i].standing.status, 9), i))
        for slot, i in zip(positions, ranked):
            order[slot] = i
    new_marker = {citations[i].marker: slot + 1 for slot, i in enumerate(order)}
    moved = [replace(citations[i], marker=slot + 1) for slot, i in enumerate(order)]
    text = _MARKER.sub(lambda m: f"[{new_marker.get(int(m.group(1)), int(m.group(1)))}]", text)
    if extractive:
        moved, text = _quote_version_in_force(moved, text, validity)
    return moved, text


def _quote_version_in_force(citations: list[Citation], text: str,
                            validity: Validity) -> tuple[list[Citation], str]:
    parts = _PART_END.split(text)
    markers = [_MARKER.findall(p) for p in parts]
    if not all(len(m) == 1 and p.endswith(f"[{m[0]}]") for p, m in zip(parts, markers)):
        return citations, text   # not the composer's one-marker-per-part shape: leave the text as it is
    by_marker = {c.marker: c for c in citations}
    supporting = {c.marker: c.supporting for c in citations}
    kept: list[tuple[int, str]] = []
    quoted = {int(m) for (m,) in markers}
    for part, (m,) in zip(parts, markers):
        marker = int(m)
        c = by_marker.get(marker)
        state = validity.of_clause(c.clause) if c else None
        if c and state and state.versions > 1 and state.standing.status != "in_force" and c.supporting:
            current = next((o for o in citations if o.clause.doc_title == c.clause.doc_title
                            and (s := validity.of_clause(o.clause)) and s.standing.status == "in_force"
                            and all(x in o.clause.text for x in c.supporting)), None)
            if current is not None:
                supporting[current.marker] = tuple(dict.fromkeys(supporting[current.marker] + c.supporting))
                supporting[marker] = ()
                if current.marker in quoted:
                    continue   # the version in force is quoted already
                quoted.add(current.marker)
                part, marker = part[:-len(f"[{m}]")] + f"[{current.marker}]", current.marker
        kept.append((marker, part))
    kept.sort(key=lambda mp: mp[0])
    citations = [replace(c, supporting=supporting[c.marker]) for c in citations]
    return citations, "\n".join(part for _, part in kept)


def notices_for(citations: list[Citation], validity: Validity, english: bool = False) -> list[str]:
    """One line per document (in citation order) that is expired, superseded, repealed or not yet in force."""
    lines, seen = [], set()
    for c in citations:
        state = validity.of_clause(c.clause)
        if state is None or state.doc.key in seen or state.standing.status == "in_force":
            continue
        seen.add(state.doc.key)
        lines.append(notice_line(state, validity, english))
    return lines


def notice_line(state: DocState, validity: Validity, english: bool = False) -> str:
    words, doc, s = wording()["notice_en" if english else "notice"], state.doc, state.standing
    version = f"（{doc.dates.version}）" if doc.dates.version else ""
    fmt = _iso if english else cn_date   # 2025-06-01 or 2025年6月1日
    if s.status == "expired" and doc.kind == "plan" and doc.dates.period:
        start, end = doc.dates.period
        return words["expired"].format(period=f"{start}—{end}")
    if s.status == "expired":
        return words["expired_other"].format(title=doc.title, until=fmt(s.effective_until))
    if s.status == "repealed":
        return words["repealed"].format(title=doc.title, repealed_on=fmt(doc.dates.repealed_on))
    if s.status == "not_yet_in_force":
        return words["not_yet_in_force"].format(title=doc.title, version=version,
                                                effective_from=fmt(s.effective_from), as_of=fmt(validity.day))
    successor = state.successor
    if successor is not None and successor.title == doc.title:
        later = validity.of_doc(successor).standing
        return words["superseded"].format(
            title=doc.title, version=version,
            successor_version=f"（{successor.dates.version}）" if successor.dates.version else "",
            successor_from=fmt(later.effective_from))
    return words["superseded_other"].format(title=doc.title,
                                            successor=(doc.dates.superseded_by or "新版本").strip("《》"))
