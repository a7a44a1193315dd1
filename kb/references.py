"""Citations typed as queries: 「第7条」「规划第二十八条」「第三章第五节第43条」「专栏5」「第二章第三节」
「中小企业促进法第十条」「item 7」「Article 10 of the SME Promotion Law」.

A bare 「第十条」 prefers the plan (its numbered items are what officials call 第N条) and
lists the laws' 第十条 after it. A reference to something that does not exist says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.citation import division_path
from ingest.model import Clause
from ingest.numerals import CN_NUMERAL_CHARS, cn_numeral_to_int, int_to_cn_numeral
from kb.catalog import Catalog, DocRecord
from kb.lexicon import Lexicon, load_lexicon

_N = rf"[{CN_NUMERAL_CHARS}0-9０-９]+"
_STRUCT = re.compile(
    rf"(?:第(?P<ch>{_N})章\s*)?(?:第(?P<sec>{_N})节\s*)?(?:第(?P<num>{_N})[条项])"
    rf"|(?:第(?P<ch2>{_N})章\s*)(?:第(?P<sec2>{_N})节)?"
    rf"|专栏\s*(?P<box>{_N})"
    rf"|\b(?:item|clause)\s*(?:no\.?\s*)?(?P<en_item>\d+)"
    rf"|\barticle\s*(?P<en_art>\d+)"
    rf"|\bbox\s*(?P<en_box>\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    raw: str
    doc_hint: str          # the words before the reference that may name a document
    chapter: int | None = None
    section: int | None = None
    number: int | None = None   # 第N条: a plan item or a law article
    box: int | None = None


def parse_references(text: str) -> list[Reference]:
    refs = []
    for m in _STRUCT.finditer(text):
        g = {k: v for k, v in m.groupdict().items() if v}
        if not g:
            continue
        num = lambda k: cn_numeral_to_int(g[k]) if k in g else None  # noqa: E731
        hint = text[max(0, m.start() - 24):m.start()] + (text[m.end():m.end() + 80] if "en_art" in g else "")
        refs.append(Reference(
            raw=m.group(0), doc_hint=hint,
            chapter=num("ch") or num("ch2"), section=num("sec") or num("sec2"),
            number=num("num") or num("en_item") or num("en_art"), box=num("box") or num("en_box")))
    return refs


def _common_run(a: str, b: str) -> tuple[int, int]:
    """Length and start (in ``a``) of the longest common substring."""
    best, start = 0, 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best, start = j - i, i
            else:
                break
    return best, start


def naming_words(hint: str, doc: DocRecord) -> str:
    """The words of ``hint`` that name ``doc`` (its longest run shared with the short title, ≥ 4
    characters), or "": a question that names a document says nothing more by those words."""
    run, start = _common_run(hint, doc.short_title)
    return hint[start:start + run] if run >= 4 else ""


def named_document(hint: str, documents: list[DocRecord], lexicon: Lexicon | None = None) -> DocRecord | None:
    """The document a phrase names: the longest shared run with a title (≥ 4 characters), then most
    shared characters; English names through the aliases of kb/lexicon/documents.toml."""
    lexicon = lexicon or load_lexicon()
    translated = "".join(zh for cues, zh in lexicon.aliases if cues.search(hint))
    if translated and lexicon.law_words.search(hint):
        hint = translated
    elif lexicon.plan_words.search(hint):
        plans = [d for d in documents if d.kind == "plan"]
        if plans:
            return plans[0]
    scored = []
    for d in documents:
        run = _common_run(hint, d.short_title)[0]
        if run >= 4:
            scored.append((run, sum(ch in d.short_title for ch in set(hint)), -len(d.short_title), d))
    return max(scored, key=lambda s: s[:3])[3] if scored else None


@dataclass(frozen=True)
class Resolution:
    clauses: list[Clause]
    message: str | None


def resolve(ref: Reference, catalog: Catalog, lexicon: Lexicon | None = None) -> Resolution:
    doc = named_document(ref.doc_hint, catalog.documents, lexicon)
    plans = catalog.plan_documents()
    if ref.box is not None:
        target = doc if doc and doc.kind == "plan" else (plans[0] if plans else None)
        if target is None:
            return Resolution([], "知识库中没有规划文件，无法查找专栏。")
        found = catalog.find(target.title, box=ref.box)
        boxes = sorted({c.box for c in catalog.of_document(target.title) if c.box})
        return Resolution(found, None if found else f"规划共有专栏{len(boxes)}个，没有专栏{ref.box}。")
    if ref.number is None:  # 第二章 / 第二章第三节
        target = doc or (plans[0] if plans else None)
        if target is None:
            return Resolution([], None)
        fields = {"chapter": ref.chapter} | ({"section": ref.section} if ref.section else {})
        found = catalog.find(target.title, **fields)
        where = division_path(ref.chapter, ref.section)
        return Resolution(found, None if found else f"《{target.title}》中没有{where}。")
    if doc is not None and doc.kind != "plan":
        found = catalog.find(doc.title, article=ref.number)
        total = len(catalog.find(doc.title, kind="article"))
        return Resolution(found, None if found else
                          f"《{doc.title}》共{total}条，没有第{int_to_cn_numeral(ref.number)}条。")
    # A plan item (「第7条」「规划第二十八条」), then, unless the plan was named, the laws' articles.
    found, messages = [], []
    for plan in ([doc] if doc else plans):
        items = catalog.find(plan.title, item=ref.number)
        found.extend(items)
        if not items:
            total = len([c for c in catalog.of_document(plan.title) if c.kind == "item"])
            messages.append(f"规划共{total}条，没有第{ref.number}条")
    if doc is None:
        for law in catalog.documents:
            if law.kind != "plan":
                found.extend(catalog.find(law.title, article=ref.number))
    message = "；".join(messages) if messages else None
    if message and found:
        message += f"；以下是法规中的第{int_to_cn_numeral(ref.number)}条"
    return Resolution(found, (message + "。") if message else None)
