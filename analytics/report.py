"""What the admin view shows, read from the question log: counts, questions per day, the most asked and
the refused questions (grouped by meaning), 👎 with reasons, citations per document and clause, and
gold candidates (``eval/gold.jsonl`` rows with an empty ``expect``, for review; see eval/GOLD.md).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, case, desc, func, or_, select

from analytics.database import Database
from analytics.grouping import QuestionGrouper
from analytics.records import REASONS, utc_now
from analytics.tables import citations, questions

WORDINGS = 500          # distinct wordings considered for grouping (most asked first)
TOP = 20                # groups, feedback rows and clauses shown


def since_days(days: int | None) -> datetime | None:
    return utc_now() - timedelta(days=days) if days else None


def _window(since: datetime | None) -> list:
    return [questions.c.asked_at >= since] if since is not None else []


def summary(db: Database, grouper: QuestionGrouper, since: datetime | None = None, top: int = TOP) -> dict:
    """The admin view's data (GET /api/admin/summary). ``since``: only questions asked from then on (UTC)."""
    w = _window(since)
    with db.reading() as conn:
        total, refused = conn.execute(select(func.count(), func.coalesce(func.sum(
            case((questions.c.refused, 1), else_=0)), 0)).where(*w)).one()
        ratings = dict(conn.execute(select(questions.c.rating, func.count()).where(
            *w, questions.c.rating.is_not(None)).group_by(questions.c.rating)).all())
        reasons = dict(conn.execute(select(questions.c.reason, func.count()).where(
            *w, questions.c.rating == "down", questions.c.reason.is_not(None)).group_by(questions.c.reason)).all())
        per_day = conn.execute(select(questions.c.day, func.count(), func.sum(case((questions.c.refused, 1), else_=0)))
                               .where(*w).group_by(questions.c.day).order_by(questions.c.day)).all()
        asked = _wordings(conn, w)
        unanswered = _wordings(conn, [*w, questions.c.refused])
        down = _down_feedback(conn, w, top)
        documents, clauses = _citation_frequency(conn, w, top)
    top_groups, method = grouper.group(asked)
    refused_groups, _ = grouper.group(unanswered)
    return {
        "questions": int(total), "refused": int(refused),
        "feedback": {"up": int(ratings.get("up", 0)), "down": int(ratings.get("down", 0)),
                     "reasons": {r: int(reasons.get(r, 0)) for r in REASONS}},
        "per_day": [{"day": d, "questions": int(n), "refused": int(r or 0)} for d, n, r in per_day],
        "top_questions": top_groups[:top], "refused_questions": refused_groups[:top],
        "down_feedback": down, "citations": {"documents": documents, "clauses": clauses},
        "grouped_by": method, "since": since.isoformat() + "Z" if since else None,
    }


def _wordings(conn: Connection, where: list) -> list[tuple[str, int]]:
    n = func.count().label("n")
    rows = conn.execute(select(questions.c.question, n).where(*where).group_by(questions.c.question)
                        .order_by(desc(n), questions.c.question).limit(WORDINGS)).all()
    return [(q, int(c)) for q, c in rows]


def _down_feedback(conn: Connection, where: list, top: int) -> list[dict]:
    first = citations.alias("first")
    rows = conn.execute(
        select(questions.c.id, questions.c.question, questions.c.reason, questions.c.comment,
               questions.c.feedback_at, questions.c.refused, first.c.label)
        .outerjoin(first, and_(first.c.answer_id == questions.c.id, first.c.rank == 1))
        .where(*where, questions.c.rating == "down")
        .order_by(desc(questions.c.feedback_at)).limit(top)).all()
    return [{"answer_id": r.id, "question": r.question, "reason": r.reason, "comment": r.comment,
             "at": r.feedback_at.isoformat() + "Z" if r.feedback_at else None, "refused": bool(r.refused),
             "first_citation": r.label} for r in rows]


def _citation_frequency(conn: Connection, where: list, top: int) -> tuple[list[dict], list[dict]]:
    """How often each document and clause is cited in the answers' text (refusals cite nothing)."""
    cited = and_(citations.c.cited, ~questions.c.refused, *where)
    joined = citations.join(questions, questions.c.id == citations.c.answer_id)
    n = func.count().label("n")
    docs = conn.execute(select(citations.c.doc_title, n).select_from(joined).where(cited)
                        .group_by(citations.c.doc_title).order_by(desc(n), citations.c.doc_title)).all()
    clauses = conn.execute(select(citations.c.clause_id, citations.c.doc_title, citations.c.label, n)
                           .select_from(joined).where(cited)
                           .group_by(citations.c.clause_id, citations.c.doc_title, citations.c.label)
                           .order_by(desc(n), citations.c.clause_id).limit(top)).all()
    return ([{"doc_title": d, "count": int(c)} for d, c in docs],
            [{"clause_id": i, "doc_title": d, "label": lab, "count": int(c)} for i, d, lab, c in clauses])


def gold_candidates(db: Database, *, wordings: list[str] = (), answer_ids: list[str] = (),
                    refused: bool | None = None, rating: str | None = None, since: datetime | None = None,
                    limit: int = 200) -> list[dict]:
    """One ``eval/gold.jsonl``-shaped row per distinct wording selected, most asked first.

    ``split`` is empty and ``id`` is ``cand-…`` on purpose: the gold validator rejects both until a
    reviewer has assigned them, so an unreviewed candidate cannot slip into the gold set.
    """
    picked = [questions.c.question.in_(list(wordings))] if wordings else []
    picked += [questions.c.id.in_(list(answer_ids))] if answer_ids else []
    where = _window(since)
    if picked:
        where.append(or_(*picked))
    if refused is not None:
        where.append(questions.c.refused if refused else ~questions.c.refused)
    if rating is not None:
        where.append(questions.c.rating == rating)
    with db.reading() as conn:
        rows = conn.execute(select(questions).where(*where).order_by(desc(questions.c.asked_at))).all()
        latest: dict[str, object] = {}
        counts: dict[str, int] = {}
        for r in rows:
            latest.setdefault(r.question, r)
            counts[r.question] = counts.get(r.question, 0) + 1
        chosen = sorted(latest.values(), key=lambda r: (-counts[r.question], r.question))[:limit]
        cited = _cited_ids(conn, [r.id for r in chosen])
    return [_candidate(r, counts[r.question], cited.get(r.id, [])) for r in chosen]


def _cited_ids(conn: Connection, answer_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for start in range(0, len(answer_ids), 500):
        chunk = answer_ids[start:start + 500]
        for aid, clause_id in conn.execute(select(citations.c.answer_id, citations.c.clause_id)
                                           .where(citations.c.answer_id.in_(chunk))
                                           .order_by(citations.c.answer_id, citations.c.rank)):
            out.setdefault(aid, []).append(clause_id)
    return out


def _candidate(r, asked: int, cited: list[str]) -> dict:
    guess = "unanswerable" if r.refused else ("followup" if r.follow_up else "factoid")
    return {
        "id": f"cand-{r.id[:12]}", "split": "", "type": guess, "question": r.question,
        "expect": [], "facts": [],
        # For the reviewer only; delete before the row goes into eval/gold.jsonl (see eval/GOLD.md).
        "review": {"answer_id": r.id, "asked": asked, "last_asked": r.asked_at.isoformat() + "Z",
                   "refused": bool(r.refused), "follow_up": bool(r.follow_up), "cited": cited,
                   "feedback": {"rating": r.rating, "reason": r.reason, "comment": r.comment} if r.rating else None},
    }
