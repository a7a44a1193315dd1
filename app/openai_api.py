"""The knowledge base as an OpenAI-compatible "model": GET /v1/models, POST /v1/chat/completions.

Open WebUI, Cherry Studio, Dify and the ``openai`` package talk to it as to any OpenAI endpoint.
The last message (a user's) is the question and the earlier user/assistant messages are the
history, so follow-ups work. The content is the answer with its [n] markers and a source list
(``app.source_list``); ``citations``, ``refused`` and the rest of the answer's JSON contract come
as data too, on the response and on the final chunk of a stream, so no client parses text.

A stream carries the finished, verified answer: an LLM answer is checked against its clauses
before a word of it is sent, because a chat front-end cannot take back text it has shown.
"""
from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from analytics import QuestionLog
from app.api import LONE_SURROGATE, read_body
from app.failures import describe_failure
from app.source_list import answer_with_sources, strip_sources
from kb import Answer, KnowledgeBase

MODEL_EXTRACTIVE = "plan-kb-extractive"   # verbatim sentences from the clauses, each with its [n]
MODEL_LLM = "plan-kb-llm"                 # the configured LLM's answer, every sentence checked (KB_LLM_*)
# Accepted and ignored: they steer a sampling model, and these answers are not sampled.
IGNORED = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "presence_penalty",
           "frequency_penalty", "seed", "stop", "user", "logit_bias", "stream_options", "metadata",
           "store", "parallel_tool_calls", "reasoning_effort", "service_level", "tools", "functions",
           "modalities", "prediction", "audio", "web_search_options")
# The exception list: parameters that would silently change what the caller gets, answered with 400.
REJECTED = {
    "n": "只返回一个回答，n 只能为 1 / only one choice is returned: n must be 1",
    "logprobs": "不提供 logprobs（回答摘自原文，不是采样生成）/ logprobs are not available: answers are not sampled",
    "top_logprobs": "不提供 logprobs / logprobs are not available",
    "response_format": '只支持 {"type": "text"} / only {"type": "text"} is supported',
    "tool_choice": "不调用工具，tool_choice 只能是 none 或 auto / "
                   "no tools are called: tool_choice must be none or auto",
}
_SENDER_ROLES = {"user", "assistant"}
_SKIPPED_ROLES = {"system", "developer", "tool", "function"}   # not part of the conversation asked about


class OpenAIError(Exception):
    """An error in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"message": self.message, "type": self.kind, "param": self.param,
                                       "code": self.code}}, status_code=self.status)


def models(kb: KnowledgeBase) -> list[str]:
    """One model per answer mode; the first is what the rest of the app answers with."""
    return [MODEL_LLM, MODEL_EXTRACTIVE] if kb.settings.llm_base_url else [MODEL_EXTRACTIVE]


def _rejected(body: dict) -> OpenAIError | None:
    def present(name: str) -> bool:
        return body.get(name) not in (None, False)
    if present("n") and body["n"] != 1:
        return OpenAIError(400, REJECTED["n"], "n", "unsupported_parameter")
    for name in ("logprobs", "top_logprobs"):
        if present(name):
            return OpenAIError(400, REJECTED[name], name, "unsupported_parameter")
    fmt = body.get("response_format")
    if fmt is not None and not (isinstance(fmt, dict) and fmt.get("type") == "text"):
        return OpenAIError(400, REJECTED["response_format"], "response_format", "unsupported_parameter")
    if body.get("tool_choice") not in (None, "none", "auto"):
        return OpenAIError(400, REJECTED["tool_choice"], "tool_choice", "unsupported_parameter")
    return None


def _text_of(content: Any, where: str) -> str | None:
    """A message's text: a string, or the text parts of a list; images and files cannot be read."""
    if content is None or isinstance(content, str):
        text = content
    elif isinstance(content, list):
        pieces = []
        for i, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text" or not isinstance(part.get("text"), str):
                raise OpenAIError(400, f"{where}[{i}]: 只能读取文字（type 为 text），不能读取图片、音频或文件 / "
                                       f"only text parts can be read, not {kind or type(part).__name__}",
                                  f"{where}[{i}]", "unsupported_content")
            pieces.append(part["text"])
        text = "\n".join(pieces)
    else:
        raise OpenAIError(400, f"{where}: 应为字符串或内容数组 / must be a string or an array of content parts", where)
    if text is not None and LONE_SURROGATE.search(text):
        raise OpenAIError(400, f"{where}: 含有无效的 Unicode 字符（单独的代理项）/ contains a lone UTF-16 surrogate",
                          where)
    return text


def conversation(messages: Any) -> tuple[str, list[dict]]:
    """(question, history) from OpenAI messages; our source lists are taken off earlier answers."""
    if not isinstance(messages, list) or not messages:
        raise OpenAIError(400, "messages: 应为非空数组 / must be a non-empty array of messages", "messages")
    turns: list[dict] = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        role = m.get("role") if isinstance(m, dict) else None
        if role not in _SENDER_ROLES | _SKIPPED_ROLES:
            raise OpenAIError(400, f"{where}.role: 应为 user、assistant 或 system / must be user, assistant or system",
                              f"{where}.role")
        text = _text_of(m.get("content"), f"{where}.content")
        if role in _SENDER_ROLES and text is not None:
            turns.append({"role": role, "content": text if role == "user" else strip_sources(text)})
    where = f"messages[{len(messages) - 1}]"
    if messages[-1].get("role") != "user":
        raise OpenAIError(400, f"{where}: 最后一条消息应是用户的问题 / the last message must be the user's question",
                          where)
    if messages[-1].get("content") is None or not turns[-1]["content"].strip():
        raise OpenAIError(400, f"{where}.content: 问题不能为空 / the question must not be empty", f"{where}.content")
    return turns[-1]["content"], turns[:-1]


def answer_fields(answer: Answer) -> dict:
    """What a client reads instead of parsing text: citations, refused, and the rest of the answer's JSON."""
    data = answer.to_json()
    return {
        "answer_id": data["id"],       # what POST /api/feedback takes, as for /api/ask
        "citations": data["citations"], "refused": data["refused"], "mode": data["mode"],
        "verified": data["verified"], "notices": data["notices"], "degraded": data["degraded"],
    }


def _chunk(head: dict, delta: dict, finish: str | None = None, **extra) -> str:
    body = {**head, "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _stream(head: dict, content: str, fields: dict):
    """OpenAI's chunk sequence: the role, the content line by line, a final chunk with the data, [DONE]."""
    yield _chunk(head, {"role": "assistant", "content": ""})
    for piece in content.splitlines(keepends=True):
        yield _chunk(head, {"content": piece})
    yield _chunk(head, {}, "stop", **fields)
    yield "data: [DONE]\n\n"


async def _payload(request: Request) -> dict:
    try:
        raw = await read_body(request)
    except HTTPException as err:   # too large
        raise OpenAIError(err.status_code, err.detail, None, "request_too_large") from None
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise OpenAIError(400, "请求体不是有效的 JSON / the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise OpenAIError(400, '请求体应为 JSON 对象，如 {"model": …, "messages": […]} / '
                               "the body must be a JSON object")
    return body


def openai_router(kb: KnowledgeBase, question_log: QuestionLog | None = None) -> APIRouter:
    """The /v1 routes over ``kb``; every answer served goes to ``question_log`` (as "v1") when there is one."""
    router = APIRouter(prefix="/v1")
    created = int(time.time())

    def model_card(name: str) -> dict:
        return {"id": name, "object": "model", "created": created, "owned_by": "plan-kb"}

    @router.get("/models")
    async def list_models() -> dict:
        return {"object": "list", "data": [model_card(m) for m in models(kb)]}

    @router.get("/models/{name}")
    async def one_model(name: str):
        if name not in models(kb):
            return _unknown_model(name).response()
        return model_card(name)

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        try:
            body = await _payload(request)
            model = body.get("model") or models(kb)[0]
            if model not in models(kb):
                raise _unknown_model(model)
            if problem := _rejected(body):
                raise problem
            question, history = conversation(body.get("messages"))
            mode = "extractive" if model == MODEL_EXTRACTIVE else None
            try:
                answer = await run_in_threadpool(kb.answer, question, history or None, mode=mode)
            except Exception as err:  # noqa: BLE001 - the kb's failure, explained
                raise OpenAIError(503, describe_failure(err), None, "knowledge_base_unavailable",
                                  "server_error") from None
        except OpenAIError as err:
            return err.response()
        if question_log is not None:
            question_log.record(answer, "v1", follow_up=bool(history))
        fields = answer_fields(answer)
        head = {"id": f"chatcmpl-{fields['answer_id']}", "created": int(time.time()),
                "model": model, "system_fingerprint": None}
        content = answer_with_sources(answer)
        if body.get("stream") is True:
            return StreamingResponse(_stream(head, content, fields), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return {**head, "object": "chat.completion", **fields,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": content, "refusal": None}}]}

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown(path: str, request: Request):
        return OpenAIError(404, f"没有这个接口 / no such endpoint: {request.method} /v1/{path}。"
                                "可用 / available: GET /v1/models, POST /v1/chat/completions",
                           None, "unknown_url").response()

    return router


def _unknown_model(name: object) -> OpenAIError:
    return OpenAIError(404, f"没有模型 {name!r}，请从 GET /v1/models 中选择 / the model {name!r} does not exist; "
                            "use one listed by GET /v1/models", "model", "model_not_found")
