"""Questions about validity itself, answered from the documents' dates and cited to the document.

    这个规划现在还有效吗？            → status       (the plan's period and whether it is over)
    款项支付条例什么时候开始施行？    → effective    (cited to the article that says so)
    中小企业促进法最近一次修订是哪一年？ → revision     (the preamble line, quoted)
    现在有效的文件有哪些？            → listing      (every document and its status)

A question is one of these when it holds a word of each list its kind needs
(``[questions]`` in ``kb/validity.toml``); anything else goes to retrieval as before.
"""
from __future__ import annotations

import re

from ingest.model import Clause
from kb.catalog import Catalog, DocRecord
from kb.model import Answer, Citation
from kb.lexicon import Lexicon, load_lexicon
from kb.references import named_document
from kb.text import split_sentences
from kb.validity import DocState, Validity, cn_date, wording

METADATA_MODE = "metadata"   # Answer.mode of these answers: not quoted from a clause, so not "extractive"
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def _has(question: str, key: str) -> bool:
    return any(w in question for w in wording()["questions"][key])


def validity_kind(question: str, named: DocRecord | None) -> str | None:
    """effective | revision | status | listing, or None for an ordinary question."""
    if named is not None and _has(question, "effective") and _has(question, "when"):
        return "effective"
    if named is not None and _has(question, "revision") and _has(question, "latest"):
        return "revision"
    if _has(question, "status") and _has(question, "listing") and _has(question, "document"):
        return "listing"
    if _has(question, "status") and (named is not None or _has(question, "document")):
        return "status"
    return None


def answer_validity(question: str, history: list[dict] | None, catalog: Catalog,
                    validity: Validity, lexicon: Lexicon | None = None) -> Answer | None:
    """The answer from metadata, or None when the question is not about validity."""
    lexicon = lexicon or load_lexicon()
    named = named_document(question, catalog.documents, lexicon)
    kind = validity_kind(question, named)
    if kind is None or not catalog.documents:
        return None
    if kind == "status" and named is None:
        named = _named_earlier(history, catalog, lexicon)
        if named is None:
            kind = "listing"
    if kind == "listing":
        return _listing(question, catalog, validity)
    if not _about(question, named, catalog, lexicon):
        return None   # 「济南的优化营商环境条例哪年施行」: retrieval and the refusal policy decide
    versions = sorted((validity.of_doc(d) for d in catalog.documents if d.title == named.title),
                      key=lambda s: (s.standing.status != "in_force", -_ordinal(s)))
    lines, citations = [], []
    for state in versions:
        clause, line, supporting = _line(kind, state, catalog, validity)
        if clause is None:
            continue
        marker = len(citations) + 1
        citations.append(Citation(marker, clause, 1.0, supporting))
        lines.append(f"{line}[{marker}]")
    if not citations:
        return None
    return Answer(question, "\n".join(lines), False, citations, mode=METADATA_MODE)


def _about(question: str, named: DocRecord, catalog: Catalog, lexicon: Lexicon) -> bool:
    """The question names nothing the document does not carry: no other place, no year foreign to its dates."""
    if any(p not in f"{named.title}{named.issuer or ''}" for p in lexicon.places_elsewhere(question)):
        return False
    years = set()
    for doc in catalog.documents:
        if doc.title == named.title:
            d = doc.dates
            years |= {e.date[:4] for e in d.events}
            years |= {x[:4] for x in (d.issued, d.effective_from, d.effective_until, d.repealed_on) if x}
            years |= {str(y) for y in (d.period or ())}
    return all(y in years for y in _YEAR.findall(question))


def _ordinal(state: DocState) -> int:
    d = state.doc.dates
    start = d.effective_from or d.issued or state.doc.date or "0001-01-01"
    return int(start.replace("-", ""))


def _named_earlier(history: list[dict] | None, catalog: Catalog, lexicon: Lexicon) -> DocRecord | None:
    """「这个文件还有效吗？」 after a question that named one: the document named last."""
    for message in reversed(history or []):
        if message.get("role") == "user" and (
                doc := named_document(message.get("content", ""), catalog.documents, lexicon)):
            return doc
    return None


def _opening(doc: DocRecord, catalog: Catalog) -> Clause | None:
    clauses = catalog.of_record(doc)
    return clauses[0] if clauses else None


def _title(state: DocState) -> str:
    """《title》, with its version when the KB holds several or the text is a revision."""
    d = state.doc.dates
    show = d.version and (state.versions > 1 or d.revisions)
    return f"《{state.doc.title}》" + (f"（{d.version}）" if show else "")


def describe(state: DocState) -> str:
    """What its dates say, after its status: 「规划期为2021—2025年」「自2018年1月1日起施行」."""
    d, s = state.doc.dates, state.standing
    if d.period:
        when = f"规划期为{d.period[0]}—{d.period[1]}年"
        return when + (f"，已于{cn_date(s.effective_until)}届满" if s.status == "expired" else "")
    parts = []
    if s.effective_from:
        parts.append(f"自{cn_date(s.effective_from)}起施行")
    elif d.issued:
        parts.append(f"{cn_date(d.issued)}{next((e.action for e in d.events if e.date == d.issued), '发布')}")
    if s.status == "superseded" and state.successor is not None:
        later = state.successor
        parts.append(f"现行版本{'（' + later.dates.version + '）' if later.dates.version else ''}"
                     f"自{cn_date(later.dates.effective_from)}起施行")
    elif s.status == "repealed":
        parts.append(f"已于{cn_date(d.repealed_on)}废止")
    elif s.effective_until and s.status != "expired":
        parts.append(f"有效期至{cn_date(s.effective_until)}")
    elif s.status == "expired":
        parts.append(f"有效期已于{cn_date(s.effective_until)}届满")
    return "，".join(parts)


def _line(kind: str, state: DocState, catalog: Catalog, validity: Validity) -> tuple[Clause | None, str, tuple]:
    """(the clause cited, the answer line without its marker, the clause's sentences it rests on)."""
    as_of = wording()["answer"]["as_of"].format(as_of=cn_date(validity.day))
    d, s = state.doc.dates, state.standing
    opening = _opening(state.doc, catalog)
    if kind == "effective":
        evidence = catalog.by_id.get(d.evidence) if d.evidence else None
        if d.period or not s.effective_from:
            head = describe(state) or wording()["answer"]["no_date"].format(title=state.doc.title).rstrip("。")
            return opening, f"{_title(state)}{head}；{as_of}，{s.label}。", ()
        supporting = tuple(x for x in split_sentences(evidence.text) if "施行" in x or "生效" in x) if evidence else ()
        return (evidence or opening,
                f"{_title(state)}自{cn_date(s.effective_from)}起施行；{as_of}，{s.label}。", supporting)
    if kind == "revision":
        if d.revisions:
            last = d.revisions[-1]
            earlier = "；".join(e.line.strip("（）() ") for e in d.revisions[:-1])
            text = (f"{_title(state)}最近一次{last.action}是在{last.date[:4]}年：{last.line.strip('（）() ')}"
                    + (f"（此前：{earlier}）" if earlier else "") + "。")
        else:
            first = next(iter(d.events), None)
            text = wording()["answer"]["never_revised"].format(title=state.doc.title) + (
                f"{first.line.strip('（）() ')}。" if first else "原文未载明日期。")
        return opening, text, ()
    details = describe(state)
    return opening, f"{as_of}，{_title(state)}{s.label}" + (f"：{details}" if details else "") + "。", ()


def _listing(question: str, catalog: Catalog, validity: Validity) -> Answer:
    states = sorted((validity.of_doc(d) for d in catalog.documents),
                    key=lambda s: (s.standing.status != "in_force", catalog.documents.index(s.doc)))
    words = wording()["answer"]
    current = [s for s in states if s.standing.status == "in_force"]
    lines = [words["listing_head"].format(as_of=cn_date(validity.day), count=len(states), current=len(current))]
    citations = []
    for state in states:
        clause = _opening(state.doc, catalog)
        if clause is None:
            continue
        marker = len(citations) + 1
        citations.append(Citation(marker, clause, 1.0))
        details = describe(state)
        lines.append(f"{_title(state)}：{state.standing.label}" + (f"（{details}）" if details else "") + f"[{marker}]")
    return Answer(question, "\n".join(lines), False, citations, mode=METADATA_MODE)
