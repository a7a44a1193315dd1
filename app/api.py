"""The JSON API beside the page: POST /api/ask, GET /api/clause, GET /api/health
(feedback and the admin view: app/analytics_api.py).

Error bodies are ``{"detail": "中文说明 / English explanation"}`` so a caller sees what to fix.
"""
from __future__ import annotations

import json
import re
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from analytics import QuestionLog
from app.failures import describe_failure, safe_health
from kb import KnowledgeBase

REFERENCE_FORMS = "可用的写法 / Examples: 第7条、专栏5、第二章第三节、中小企业促进法第十条、plan/ch3/s1/item7"
# A question is cut at KB_MAX_QUESTION_CHARS anyway; 2 MB still holds a very long conversation.
MAX_BODY_BYTES = 2 * 1024 * 1024
# JSON may spell half of a UTF-16 pair ("\ud800"); such a string cannot be encoded, so it is not text.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class HistoryMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["user", "assistant"]
    content: StrictStr


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: StrictStr
    history: list[HistoryMessage] | None = None


_EXPECTED = {"string_type": ("字符串", "string"), "list_type": ("数组", "array"),
             "model_type": ("对象", "object"), "dict_type": ("对象", "object")}


def _explain(err: ValidationError) -> str:
    """One line per problem, naming the field: ``question: 类型错误，应为字符串 / wrong type, expected string``."""
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "body"
        if e["type"] == "missing":
            what = "缺少此字段 / field is required"
        elif e["type"] in _EXPECTED:
            zh, en = _EXPECTED[e["type"]]
            what = f"类型错误，应为{zh} / wrong type, expected {en}"
        elif e["type"] == "literal_error":
            expected = e['ctx']['expected']
            what = f"只能是 {expected.replace(' or ', ' 或 ')} / must be {expected}"
        else:
            what = e["msg"]
        lines.append(f"{where}: {what}")
    return "；".join(lines)


def _http_error(status: int, detail: str) -> HTTPException:
    return HTTPException(status_code=status, detail=detail)


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it grows past ``MAX_BODY_BYTES``."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _http_error(413, f"请求体过大（超过 {MAX_BODY_BYTES // 1024 // 1024} MB），请缩短问题或对话历史 / "
                                   f"request body larger than {MAX_BODY_BYTES // 1024 // 1024} MB")
        chunks.append(chunk)
    return b"".join(chunks)


def _not_text(req: AskRequest) -> str | None:
    """The first field holding a lone UTF-16 surrogate, with what to do about it."""
    fields = [("question", req.question)] + [(f"history.{i}.content", m.content) for i, m in enumerate(req.history or [])]
    for where, text in fields:
        if LONE_SURROGATE.search(text):
            return (f"{where}: 含有无效的 Unicode 字符（单独的代理项 \\ud800–\\udfff），请检查文本的编码 / "
                    "contains a lone UTF-16 surrogate, which is not text")
    return None


def api_router(kb: KnowledgeBase, question_log: QuestionLog | None = None) -> APIRouter:
    """The routes over ``kb``; every answer served goes to ``question_log`` when there is one.
    Keys, the KB_AUTH login and the rate limit are applied before any route (app.access)."""
    router = APIRouter(prefix="/api")

    @router.post("/ask")
    async def ask(request: Request) -> dict:
        raw = await read_body(request)
        try:
            payload = json.loads(raw or b"")
        except (ValueError, UnicodeDecodeError) as err:
            raise _http_error(400, f"请求体不是有效的 JSON / request body is not valid JSON: {err}") from None
        except RecursionError:
            raise _http_error(400, "请求体的 JSON 嵌套过深 / request body is nested too deeply") from None
        if not isinstance(payload, dict):
            raise _http_error(422, '请求体应为 JSON 对象，如 {"question": "…"} / body must be a JSON object '
                                   'like {"question": "..."}')
        try:
            req = AskRequest.model_validate(payload)
        except ValidationError as err:
            raise _http_error(422, _explain(err)) from None
        if not req.question.strip():
            raise _http_error(422, "question: 问题不能为空 / question must not be empty")
        if problem := _not_text(req):
            raise _http_error(422, problem)
        history = [m.model_dump() for m in req.history] if req.history else None
        try:
            answer = await run_in_threadpool(kb.answer, req.question, history)
        except Exception as err:  # noqa: BLE001
            raise _http_error(503, describe_failure(err)) from None
        if question_log is not None:
            question_log.record(answer, "api", follow_up=bool(history))
        return answer.to_json()

    @router.get("/clause")
    async def clause(ref: str | None = None) -> dict:
        if ref is None or not ref.strip():
            raise _http_error(422, f"ref: 缺少条款引用 / query parameter ref is required. {REFERENCE_FORMS}")
        ref = ref.strip()
        try:
            found = await run_in_threadpool(kb.clause, ref)
            if found is not None:
                return found.to_json()
            lookup = await run_in_threadpool(kb.lookup, ref)
            documents = await run_in_threadpool(kb.documents)
        except Exception as err:  # noqa: BLE001
            raise _http_error(503, describe_failure(err)) from None
        existing = "；".join(f"《{d.short_title}》{d.clause_count}个条款" for d in documents)
        reason = (lookup.message or f"没有找到「{ref}」 / no clause matches {ref!r}").rstrip("。")
        raise _http_error(404, f"{reason}。现有文件 / documents: {existing}。{REFERENCE_FORMS}")

    @router.get("/health")
    async def health() -> JSONResponse:
        info = await run_in_threadpool(safe_health, kb)
        # Reported, not failing the check: answers are served while the log's database is away.
        info["question_log"] = question_log.status() if question_log is not None else {"enabled": False}
        return JSONResponse(info, status_code=200 if info.get("ok") else 503)

    return router
