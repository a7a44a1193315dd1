"""POST /api/feedback (👍/👎 on an answer) and the admin view's JSON: GET /api/admin/summary, /api/admin/export.

Admin routes answer only to ``Authorization: Bearer <one of KB_ADMIN_KEYS>`` (app/admin_keys.py).
"""
from __future__ import annotations

import json
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from analytics import REASONS, Feedback, QuestionLog, StoreUnavailable
from analytics.grouping import QuestionGrouper
from analytics.records import MAX_COMMENT_CHARS
from analytics.report import gold_candidates, since_days, summary
from app.admin_keys import admin_keys, require_admin
from app.api import _explain, _http_error, read_body
from kb import KnowledgeBase

LOG_OFF = "问题日志已关闭（KB_LOG_QUESTIONS=0），无法记录或查看反馈 / the question log is off (KB_LOG_QUESTIONS=0)"
Reason = Literal[REASONS]   # type: ignore[valid-type]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    answer_id: StrictStr = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    reason: Reason | None = None
    comment: StrictStr | None = Field(None, max_length=MAX_COMMENT_CHARS)


async def _json_object(request: Request) -> dict:
    raw = await read_body(request)
    try:
        payload = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise _http_error(400, f"请求体不是有效的 JSON / request body is not valid JSON: {err}") from None
    if not isinstance(payload, dict):
        raise _http_error(422, '请求体应为 JSON 对象，如 {"answer_id": "…", "rating": "down"} / body must be a JSON object')
    return payload


def _days(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) < 1:
        raise _http_error(422, f"days: 应为正整数 / must be a positive whole number, not {value!r}")
    return int(value)


def _flag(name: str, value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise _http_error(422, f"{name}: 应为 true 或 false / must be true or false, not {value!r}")


def analytics_router(kb: KnowledgeBase, question_log: QuestionLog | None, grouper: QuestionGrouper) -> APIRouter:
    # /api/feedback is under the access guard like the rest of /api (keys, or the KB_AUTH login);
    # /api/admin is not, and answers only to an admin key.
    router = APIRouter(prefix="/api")
    admin = [Depends(require_admin(admin_keys(kb.settings.admin_keys)))]

    @router.post("/feedback")
    async def feedback(request: Request) -> JSONResponse:
        payload = await _json_object(request)
        try:
            req = FeedbackRequest.model_validate(payload)
        except ValidationError as err:
            raise _http_error(422, _explain(err)) from None
        if req.reason is not None and req.rating != "down":
            raise _http_error(422, "reason: 只有 👎（rating 为 down）才附原因 / a reason goes with rating \"down\" only")
        if question_log is None:
            raise _http_error(404, LOG_OFF)
        outcome = await run_in_threadpool(question_log.feedback,
                                          Feedback(req.answer_id, req.rating, req.reason, req.comment))
        body = {"answer_id": req.answer_id, "rating": req.rating, "reason": req.reason}
        if outcome == "unknown":
            raise _http_error(404, f"answer_id: 没有编号为 {req.answer_id!r} 的回答 / no answer has this id")
        if outcome == "full":
            raise _http_error(503, "问题日志暂时无法接收反馈，请稍后重试 / the question log cannot take feedback now")
        if outcome == "queued":
            return JSONResponse({**body, "stored": False, "detail": "问题日志数据库暂不可用，反馈将在恢复后写入 / "
                                 "the log database is unavailable; the feedback is written when it is back"},
                                status_code=202)
        return JSONResponse({**body, "stored": True})

    @router.get("/admin/summary", dependencies=admin)
    async def admin_summary(days: str | None = None) -> dict:
        since = since_days(_days(days))
        log = _require_log(question_log)
        await run_in_threadpool(log.flush, 2.0)   # what this process just answered is counted
        try:
            data = await run_in_threadpool(summary, log.database, grouper, since)
        except StoreUnavailable as err:
            raise _http_error(503, f"问题日志数据库暂不可用 / the question log database is unavailable: {err}") from None
        return {**data, "log": log.status()}

    @router.get("/admin/export", dependencies=admin)
    async def admin_export(request: Request, days: str | None = None, refused: str | None = None,
                           rating: str | None = None) -> Response:
        if rating not in (None, "", "up", "down"):
            raise _http_error(422, f"rating: 只能是 up 或 down / must be up or down, not {rating!r}")
        selection = {"wordings": request.query_params.getlist("question"),
                     "answer_ids": request.query_params.getlist("answer_id"),
                     "refused": _flag("refused", refused), "rating": rating or None,
                     "since": since_days(_days(days))}
        log = _require_log(question_log)
        await run_in_threadpool(log.flush, 2.0)
        try:
            rows = await run_in_threadpool(lambda: gold_candidates(log.database, **selection))
        except StoreUnavailable as err:
            raise _http_error(503, f"问题日志数据库暂不可用 / the question log database is unavailable: {err}") from None
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        name = f"gold-candidates-{date.today():%Y%m%d}.jsonl"
        return Response(text, media_type="application/x-ndjson; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return router


def _require_log(question_log: QuestionLog | None) -> QuestionLog:
    if question_log is None:
        raise _http_error(404, LOG_OFF)
    return question_log
