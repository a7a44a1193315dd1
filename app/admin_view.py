"""The admin tab's HTML, from ``analytics.report.summary``: every logged text is escaped here."""
from __future__ import annotations

from datetime import date, timedelta

from analytics import REASON_ENGLISH
from app.markup import esc

MAX_CHART_DAYS = 120


def days_axis(per_day: list[dict], days: int | None, today: date | None = None) -> list[dict]:
    """One entry per calendar day up to today (days without questions count 0), at most ``MAX_CHART_DAYS``."""
    today = today or date.today()
    counts = {d["day"]: d for d in per_day}
    if days:
        start = today - timedelta(days=days - 1)
    elif per_day:
        start = min(date.fromisoformat(per_day[0]["day"]), today)
    else:
        start = today
    start = max(start, today - timedelta(days=MAX_CHART_DAYS - 1))
    out = []
    day = start
    while day <= today:
        key = day.isoformat()
        row = counts.get(key, {})
        out.append({"day": key, "questions": row.get("questions", 0), "refused": row.get("refused", 0)})
        day += timedelta(days=1)
    return out


def chart_html(axis: list[dict]) -> str:
    """Questions per day as bars; the refused share of each day is the darker foot of its bar."""
    top = max((d["questions"] for d in axis), default=0) or 1
    label_every = max(1, len(axis) // 10)
    bars = []
    for i, d in enumerate(axis):
        height = 100 * d["questions"] / top
        refused = 100 * d["refused"] / d["questions"] if d["questions"] else 0
        tip = f'{d["day"]}：{d["questions"]} 个问题，{d["refused"]} 个未答 · {d["questions"]} asked, {d["refused"]} refused'
        label = d["day"][5:] if i % label_every == 0 or i == len(axis) - 1 else ""
        bars.append(f'<div class="kb-chart-col" title="{esc(tip)}"><div class="kb-chart-n">{d["questions"] or ""}</div>'
                    f'<div class="kb-chart-bar" style="height:{height:.1f}%">'
                    f'<div class="kb-chart-refused" style="height:{refused:.1f}%"></div></div>'
                    f'<div class="kb-chart-day">{esc(label)}</div></div>')
    return (f'<div class="kb-chart" role="img" aria-label="每日问题数 Questions per day">{"".join(bars)}</div>'
            '<div class="kb-chart-legend"><span class="kb-key kb-key-all"></span>已回答 answered '
            '<span class="kb-key kb-key-refused"></span>未答 refused</div>')


def groups_html(groups: list[dict], empty: str) -> str:
    if not groups:
        return f'<div class="kb-empty">{esc(empty)}</div>'
    rows = []
    for n, g in enumerate(groups, start=1):
        variants = "；".join(f'{esc(v["question"])} ×{v["count"]}' for v in g["variants"][:6])
        more = f'（另 {len(g["variants"]) - 6} 种问法）' if len(g["variants"]) > 6 else ""
        rows.append(f'<tr><td class="kb-num">{n}</td><td>{esc(g["question"])}'
                    f'{f"<div class=kb-variants>相似问法 · similar: {variants}{more}</div>" if variants else ""}</td>'
                    f'<td class="kb-num">{g["count"]}</td></tr>')
    return ('<table class="kb-docs kb-admin-table"><tr><th>#</th><th>问题 Question</th><th>次数 Asked</th></tr>'
            f'{"".join(rows)}</table>')


def feedback_html(feedback: dict, rows: list[dict]) -> str:
    chips = "".join(f'<span class="kb-count">{esc(r)} {esc(REASON_ENGLISH[r])}: {n}</span>'
                    for r, n in feedback["reasons"].items())
    if not rows:
        return f'<div>{chips}</div><div class="kb-empty">还没有“踩”。 No thumbs-down yet.</div>'
    body = "".join(
        f'<tr><td>{esc((r["at"] or "")[:16].replace("T", " "))}</td><td>{esc(r["question"])}</td>'
        f'<td>{esc(r["reason"] or "—")}</td><td>{esc(r["comment"] or "")}</td>'
        f'<td>{esc(r["first_citation"] or ("未答 refused" if r["refused"] else ""))}</td></tr>' for r in rows)
    return (f'<div>{chips}</div><table class="kb-docs kb-admin-table kb-admin-feedback"><tr><th>时间 (UTC)</th>'
            f'<th>问题 Question</th><th>原因 Reason</th><th>说明 Comment</th><th>首条引用 First citation</th></tr>'
            f'{body}</table>')


def citations_html(cited: dict) -> str:
    docs, clauses = cited["documents"], cited["clauses"]
    if not docs:
        return '<div class="kb-empty">还没有引用。 Nothing cited yet.</div>'
    top = max(d["count"] for d in docs)
    bars = "".join(f'<div class="kb-hbar-row"><span class="kb-hbar-name">《{esc(d["doc_title"])}》</span>'
                   f'<span class="kb-hbar" style="width:{60 * d["count"] / top:.1f}%"></span>'
                   f'<span class="kb-num">{d["count"]}</span></div>' for d in docs)
    rows = "".join(f'<tr><td>{esc(c["label"])}</td><td class="kb-num">{c["count"]}</td></tr>'
                   for c in clauses)
    return (f'<div class="kb-hbars">{bars}</div><table class="kb-docs kb-admin-table"><tr><th>条款 Clause</th>'
            f'<th>被引用 Cited</th></tr>{rows}</table>')


def status_html(status: dict) -> str:
    state = "正常 OK" if status.get("ok") else f'不可用 unavailable：{status.get("error")}'
    text = (f'日志数据库 Log database: {status.get("database")} · {state} · 待写入 pending {status.get("pending", 0)}'
            f' · 丢弃 dropped {status.get("dropped", 0)}')
    if status.get("notice"):
        text += f' · {status["notice"]}'
    return f'<div class="kb-muted kb-admin-status">{esc(text)}</div>'


def summary_html(data: dict, days: int | None) -> str:
    total, refused = data["questions"], data["refused"]
    share = f"{100 * refused / total:.0f}%" if total else "–"
    cards = "".join(f'<div class="kb-stat"><div class="kb-stat-n">{esc(n)}</div><div class="kb-stat-label">{esc(label)}</div></div>'
                    for n, label in ((total, "问题 Questions"), (f"{refused}（{share}）", "未答 Refused"),
                                     (data["feedback"]["up"], "赞 Thumbs up"), (data["feedback"]["down"], "踩 Thumbs down")))
    how = "按语义相似度归并 · grouped by meaning" if data.get("grouped_by") == "embeddings" else "按字面归并 · grouped by wording"
    return (f'<div class="kb-admin"><div class="kb-stats">{cards}</div>'
            f'<h3>每日问题数 · Questions per day</h3>{chart_html(days_axis(data["per_day"], days))}'
            f'<h3>最常问的问题 · Most asked <span class="kb-muted">{how}</span></h3>'
            f'{groups_html(data["top_questions"], "还没有问题。 No questions yet.")}'
            '<h3>未能回答的问题（政策空白） · Refused questions: what no document answers</h3>'
            f'{groups_html(data["refused_questions"], "没有未答的问题。 Nothing refused.")}'
            f'<h3>“踩”及原因 · Thumbs down and why</h3>{feedback_html(data["feedback"], data["down_feedback"])}'
            f'<h3>引用频次 · Citations per document and clause</h3>{citations_html(data["citations"])}'
            f'{status_html(data.get("log", {}))}</div>')
