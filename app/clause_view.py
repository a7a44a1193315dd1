"""How one clause looks everywhere in the app: a card that opens to the full text and its citation."""
from __future__ import annotations

from collections.abc import Iterable

from app.markup import esc, highlight
from ingest.model import Clause
from ingest.numerals import int_to_cn_numeral
from kb.model import Standing


def citation_text(clause: Clause, label: str | None = None) -> str:
    """The citation an official pastes: the standard label (or ``label``, which names a version
    not in force), plus the page when the source has pages."""
    label = label or clause.label
    return f"{label}（第{clause.page}页）" if clause.page else label


def status_badge(standing: Standing | None) -> str:
    """「现行有效」「规划期已届满」…, coloured by status; the title gives the dates."""
    if standing is None:
        return ""
    span = "—".join(x for x in (standing.effective_from, standing.effective_until) if x)
    when = f"{standing.effective_from or '…'} — {standing.effective_until or '…'}" if span else "日期不详 no dates"
    version = f" · {standing.version}" if standing.version else ""
    return (f'<span class="kb-status kb-status-{esc(standing.status)}" data-status="{esc(standing.status)}" '
            f'title="{esc(when + version)}">{esc(standing.label)}</span>')


def page_text(clause: Clause) -> str:
    """Where to find the clause on paper; text sources have no pages."""
    return f"第{clause.page}页 · p.{clause.page}" if clause.page else "无页码 · no page"


def short_name(clause: Clause) -> str:
    """What the table of contents calls a clause: 第7条 完善融资机制, 专栏5 …, 第十条."""
    if clause.kind == "item":
        return f"第{clause.item}条 {clause.title}"
    if clause.kind == "box":
        return f"专栏{clause.box} {clause.title}"
    if clause.kind == "article":
        return clause.title or f"第{int_to_cn_numeral(clause.article)}条"
    if clause.kind == "lead":
        return "导语"
    return clause.title or "正文"


def chapter_name(number: int | None, title: str | None) -> str:
    head = f"第{int_to_cn_numeral(number)}章" if number else ""
    return " ".join(x for x in (head, title or "") if x) or "（无章节）"


def section_name(number: int | None, title: str | None) -> str:
    head = f"第{int_to_cn_numeral(number)}节" if number else ""
    return " ".join(x for x in (head, title or "") if x)


def copy_button(clause: Clause, label: str | None = None) -> str:
    """A button whose click copies the citation (handled by the page script, see assets/app.js)."""
    return (f'<button type="button" class="kb-copy" data-copy="{esc(citation_text(clause, label))}" '
            f'title="复制引用 / Copy citation">复制引用 Copy citation</button>')


def citation_line(clause: Clause, label: str | None = None) -> str:
    return (f'<div class="kb-cite"><span class="kb-cite-head">引用 Citation</span>'
            f'<span class="kb-cite-text">{esc(citation_text(clause, label))}</span>{copy_button(clause, label)}</div>')


def clause_text_html(clause: Clause, *, terms: Iterable[str] = (), supporting: Iterable[str] = ()) -> str:
    """The full clause text, escaped; supporting sentences (or else search terms) highlighted."""
    supporting = [s for s in supporting if s]
    if supporting:
        body = highlight(clause.text, supporting, "kb-support")
    else:
        body = highlight(clause.text, list(terms), "kb-hit")
    return f'<div class="kb-clause-text">{body}</div>'


def clause_card(clause: Clause, *, summary_html: str = "", marker: int | None = None, open_: bool = False,
                terms: Iterable[str] = (), supporting: Iterable[str] = (), extra_class: str = "",
                heading: str | None = None, show_page: bool = True, standing: Standing | None = None,
                label: str | None = None) -> str:
    """A ``<details>`` card: the summary is always visible, a click shows the full clause and citation.

    The summary names the clause by its full label (or ``label``) unless ``heading`` (plain text) is
    given; ``standing`` adds the document's status badge (现行有效, 规划期已届满 …);
    ``show_page=False`` leaves out a missing page (lists where every entry would say 无页码).
    ``summary_html`` must already be escaped (callers build it with ``esc``/``highlight``).
    """
    anchor = f' id="kb-src-{marker}"' if marker is not None else ""
    badge = f'<span class="kb-badge">[{marker}]</span>' if marker is not None else ""
    classes = " ".join(x for x in ("kb-card", extra_class) if x)
    page = f'<span class="kb-page">{esc(page_text(clause))}</span>' if show_page or clause.page else ""
    return (
        f'<details class="{classes}"{anchor} data-clause-id="{esc(clause.id)}"{" open" if open_ else ""}>'
        f'<summary>{badge}<span class="kb-label">{esc(heading or label or clause.label)}</span>'
        f'{status_badge(standing)}{page}<span class="kb-summary">{summary_html}</span></summary>'
        f'{clause_text_html(clause, terms=terms, supporting=supporting)}{citation_line(clause, label)}</details>'
    )
