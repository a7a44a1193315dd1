"""The about page: which documents the answers come from, the embedding model, how to add files."""
from __future__ import annotations

from app.clause_view import status_badge
from app.markup import esc
from kb.model import DocumentInfo

_KIND_NAMES = {"plan": "规划 plan", "law": "法律 law", "regulation": "法规 regulation", "notice": "通知 notice",
               "other": "其他 other"}


def dates_html(d: DocumentInfo) -> str:
    """Each dated event of the preamble (2017-09-01 修订), then when it applies (施行, 规划期, 废止)."""
    dates, standing = d.dates, d.standing
    if dates is None:
        return esc(d.date or "—")
    lines = [f"{e.date} {e.action}" for e in dates.events]
    if dates.period:
        lines.append(f"规划期 period {dates.period[0]}—{dates.period[1]}")
    elif standing and standing.effective_from and not any(
            e.kind == "effective" and e.date == standing.effective_from for e in dates.events):
        lines.append(f"{standing.effective_from} 施行 in force")
    if standing and standing.effective_until and not dates.period:
        lines.append(f"至 until {standing.effective_until}")
    if dates.repealed_on:
        lines.append(f"{dates.repealed_on} 废止 repealed")
    if dates.superseded_by:
        lines.append(f"被《{dates.superseded_by.strip('《》')}》替代 superseded")
    if dates.sidecar:
        lines.append(f"补充信息 from {dates.sidecar}")
    return "<br>".join(esc(x) for x in lines) or "—"


def documents_table_html(documents: list[DocumentInfo]) -> str:
    if not documents:
        return '<div class="kb-empty">知识库中还没有文件。 No documents yet.</div>'
    head = ("<tr><th>文件 Document</th><th>状态 Status</th><th>类别 Kind</th><th>发布机关 Issuer</th>"
            "<th>日期 Dates</th><th>条款数 Clauses</th><th>来源文件 Source file</th><th>最近导入 Last ingested</th></tr>")
    rows = "".join(
        f"<tr><td>《{esc(d.title)}》{esc(f'（{d.standing.version}）' if d.standing and d.standing.version else '')}</td>"
        f"<td>{status_badge(d.standing) or '—'}</td><td>{esc(_KIND_NAMES.get(d.kind, d.kind))}</td>"
        f"<td>{esc(d.issuer or '—')}</td><td class=\"kb-dates\">{dates_html(d)}</td>"
        f"<td class=\"kb-num\">{d.clause_count}</td>"
        f"<td>{esc(d.source)}</td><td>{esc(d.ingested_at.replace('T', ' ')[:19])}</td></tr>"
        for d in documents)
    return f'<table class="kb-docs"><thead>{head}</thead><tbody>{rows}</tbody></table>'


def about_html(documents: list[DocumentInfo], embed_model: str, health: dict, as_of: str | None = None) -> str:
    total = sum(d.clause_count for d in documents)
    status = ("正常 OK" if health.get("ok") else f"异常 unavailable：{health.get('error') or '未知错误'}")
    store = health.get("vector_store") or "—"
    return (
        '<div class="kb-about">'
        f'<h3>知识库中的文件 · Documents ({len(documents)} 个文件，{total} 个条款)</h3>'
        + (f'<p class="kb-muted">状态按 {esc(as_of)} 判断（设置 KB_TODAY 可改变参考日期）。 '
           f'Status as of {esc(as_of)} (KB_TODAY sets another reference date).</p>' if as_of else '') +
        f'{documents_table_html(documents)}'
        '<h3>检索配置 · Retrieval</h3><ul>'
        f'<li>向量模型 Embedding model：<code>{esc(embed_model)}</code></li>'
        f'<li>向量库 Vector store：<code>{esc(store)}</code></li>'
        f'<li>状态 Status：{esc(status)}</li></ul>'
        '<h3>如何添加文件 · Adding documents</h3><ol>'
        '<li>把文件（TXT、PDF、DOCX、HTML、Markdown）放进项目的 <code>source_docs/</code> 文件夹。'
        ' Drop the files (TXT, PDF, DOCX, HTML, Markdown) into <code>source_docs/</code>.</li>'
        '<li>运行 <code>python -m kb ingest</code>：只有新增或修改的文件会重新处理，应用无需重启，几秒内换用新版本'
        '（应用本身从不增删文件）。 Run <code>python -m kb ingest</code>: only new or changed files are processed, '
        'and the running app switches to the new version within seconds (the app itself never adds or '
        'removes documents).</li>'
        '<li>在「目录」中核对新文件的章节结构。 Check the new document\'s outline in the 目录 tab.</li>'
        '<li>原文没有写明的信息（已废止、被新文件替代、更正的日期）写在文件旁的 <code>文件名.meta.toml</code> 中，'
        '格式见 <code>source_docs/README.md</code>。 What a text does not say (repealed, superseded, a corrected date) '
        'goes into a sidecar <code>&lt;file name&gt;.meta.toml</code> beside it (see <code>source_docs/README.md</code>).</li></ol>'
        '<p class="kb-muted">回答只摘录文件原文并注明出处；没有依据时会明确说明。 '
        'Answers quote the documents and cite them; when nothing applies the app says so.</p>'
        '</div>'
    )
