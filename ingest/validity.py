"""The dates a document states about itself: the dated events of its preamble (通过, 公布, 修订…),
the day it takes effect (「本条例自2025年6月1日起施行」, 「自印发之日起施行」), how long it applies
(「有效期至…」), a plan's period (「十四五」, 「2021—2025年」) and the name of this version.

Every phrase is data (``ingest/metadata.toml``); a sidecar file corrects or completes what the
text does not say (``ingest.sidecar``).
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from functools import cache

from ingest.metadata import vocabulary
from ingest.model import Clause, DatedEvent, DocumentDates
from ingest.numerals import CN_NUMERAL_CHARS, cn_numeral_to_int

DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_DATE = re.compile(DATE)
_BARE_DATE = re.compile(rf"^[\s（(]*{DATE}[\s）)]*$")


def _any(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _patterns() -> dict[str, re.Pattern]:
    v = vocabulary()
    eff, period = v["effective"], v["period"]
    verbs = {w: kind for kind, words in v["events"].items() for w in words}
    names = [n for plan in v["five_year_plan"] for n in plan["names"]]
    return {
        "verb": re.compile(_any(list(verbs))),
        "from_date": re.compile(rf"自\s*{DATE}\s*(?:{_any(eff['after_date'])})"),
        "from_event": re.compile(rf"自\s*({_any(eff['on_event'])})之日起\s*(?:{_any(eff['verbs'])})"),
        "until": re.compile(rf"(?:{_any(eff['valid_until'])})\s*{DATE}"),
        "years": re.compile(rf"(?:{_any(eff['valid_years'])})\s*([0-9{CN_NUMERAL_CHARS}]+)\s*年"),
        "explicit_period": re.compile(rf"(\d{{4}})\s*年?\s*(?:{_any(period['connectors'])})\s*(\d{{4}})\s*年"),
        "named_period": re.compile(_any(names)),
    }


def _verb_kinds() -> dict[str, str]:
    return {w: kind for kind, words in vocabulary()["events"].items() for w in words}


def iso(y: str | int, m: str | int, d: str | int) -> str | None:
    try:
        return date(int(y), int(m), int(d)).isoformat()
    except ValueError:   # 「2月30日」 in a damaged text is no date
        return None


def preamble_events(lines: list[str]) -> tuple[DatedEvent, ...]:
    """Each date of the preamble with the verb that closes its phrase, in the order written.

    The phrase runs from a date to the next date, so one parenthesised line holding several
    events (「（2002年…通过　根据2017年…修正）」) gives several. A line that is only a date is the
    day the document (or the notice that issues it) was signed: an ``issued`` event.
    """
    kinds = _verb_kinds()
    verb = _patterns()["verb"]
    out: list[DatedEvent] = []
    for line in lines:
        text = line.strip()
        dates = list(_DATE.finditer(text))
        for i, m in enumerate(dates):
            day = iso(*m.groups())
            if day is None:
                continue
            if _BARE_DATE.match(text):
                out.append(DatedEvent(day, "印发", "issued", text))
                continue
            end = dates[i + 1].start() if i + 1 < len(dates) else len(text)
            verbs = list(verb.finditer(text, m.end(), end))
            if verbs:
                action = verbs[-1].group(0)
                out.append(DatedEvent(day, action, kinds[action], text))
    return tuple(out)


def _first(events: tuple[DatedEvent, ...], kind: str) -> DatedEvent | None:
    return next((e for e in events if e.kind == kind), None)


def effective_statement(clauses: list[Clause], lines: list[str], events: tuple[DatedEvent, ...],
                        issued: str | None) -> tuple[str | None, str | None]:
    """(the day the text takes effect, id of the clause that says so).

    The text's own sentence wins (the last one: it sits in the 附则); then a dated 「施行」 line
    of the preamble. 「自印发之日起施行」 takes the date of that event, or else the issue date.
    """
    p = _patterns()
    texts = [(c.text, c.id) for c in reversed(clauses)] + [("\n".join(lines), None)]
    for text, where in texts:
        found = [(m.start(), iso(*m.groups())) for m in p["from_date"].finditer(text)]
        for m in p["from_event"].finditer(text):
            event = next((e for e in reversed(events) if e.action == m.group(1)), None)
            found.append((m.start(), event.date if event else issued))
        found = [f for f in found if f[1]]
        if found:
            return max(found)[1], where
    event = next((e for e in reversed(events) if e.kind == "effective"), None)
    return (event.date, None) if event else (None, None)


def valid_until(clauses: list[Clause], lines: list[str], start: str | None) -> str | None:
    """「有效期至2025年12月31日」, or 「有效期5年」 counted from ``start`` (the last day it applies)."""
    p = _patterns()
    for text in [c.text for c in reversed(clauses)] + ["\n".join(lines)]:
        if m := p["until"].search(text):
            return iso(*m.groups())
        if start and (m := p["years"].search(text)):
            try:
                years = cn_numeral_to_int(m.group(1))
            except ValueError:
                continue
            first = date.fromisoformat(start)
            try:
                end = first.replace(year=first.year + years)
            except ValueError:  # 29 February
                end = first.replace(year=first.year + years, day=28)
            return date.fromordinal(end.toordinal() - 1).isoformat()
    return None


def plan_period(title: str, lines: list[str], opening: str) -> tuple[int, int] | None:
    """A plan's years: an explicit 「2021—2025年」, else a five-year plan's name (「十四五」).

    The title is read first, then the front matter, then the opening (前言).
    """
    p, v = _patterns(), vocabulary()
    years_of = {n: tuple(plan["years"]) for plan in v["five_year_plan"] for n in plan["names"]}
    for text in (title, "\n".join(lines), opening):
        for m in p["explicit_period"].finditer(text):
            start, end = int(m.group(1)), int(m.group(2))
            if 0 < end - start <= v["period"]["longest_years"]:
                return start, end
        if m := p["named_period"].search(text):
            return years_of[m.group(0)]
    return None


def version_name(events: tuple[DatedEvent, ...]) -> str | None:
    """「2025年修订」 for a revised text, else the year it was first issued or adopted (「2020年公布」)."""
    last = next((e for e in reversed(events) if e.kind == "revised"), None)
    event = last or _first(events, "issued") or _first(events, "adopted")
    return f"{event.date[:4]}年{event.action}" if event else None


def read_dates(title: str, kind: str, lines: list[str], clauses: list[Clause]) -> DocumentDates:
    """Everything the text says about when it applies. ``lines`` are the preamble or front matter."""
    events = preamble_events(lines)
    first = _first(events, "issued") or _first(events, "adopted")
    issued = first.date if first else None
    start, evidence = effective_statement(clauses, lines, events, issued)
    dates = DocumentDates(issued=issued, effective_from=start, events=events, version=version_name(events),
                          evidence=evidence)
    if kind == "plan":
        opening = next((c.text for c in clauses if c.kind == "preface"), clauses[0].text if clauses else "")
        if period := plan_period(title, lines, opening):
            dates = replace(dates, period=period, effective_from=f"{period[0]}-01-01",
                            effective_until=f"{period[1]}-12-31", evidence=None)
    if dates.effective_until is None:
        dates = replace(dates, effective_until=valid_until(clauses, lines, dates.effective_from))
    return dates
