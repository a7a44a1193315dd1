"""Turn a failing knowledge base into words for the banner, never a stack trace on screen."""
from __future__ import annotations

import logging

from app.markup import esc

log = logging.getLogger("app")

UNAVAILABLE = "知识库暂时不可用 · Knowledge base unavailable"


def describe_failure(err: BaseException) -> str:
    """A one-paragraph explanation; the traceback goes to the server log only."""
    log.error("knowledge base call failed", exc_info=err)
    detail = str(err).strip() or type(err).__name__
    if len(detail) > 300:
        detail = detail[:300] + "…"
    return (f"{UNAVAILABLE}：{detail}\n"
            "请检查向量库（Chroma）服务是否在运行，或联系管理员；恢复后刷新页面即可。 "
            "Check that the Chroma server is running, then reload the page.")


def health_problem(health: dict) -> str | None:
    """The banner text for an unhealthy ``kb.health()``, or None when all is well."""
    if health.get("ok"):
        return None
    if health.get("degraded"):
        return (f"{health.get('error')}\n"
                "回答仍然给出并附引用，但可能不如平时准确；向量库恢复后自动恢复。 "
                "Semantic search is down: answers use keyword search only until it returns.")
    return (f"{UNAVAILABLE}：{health.get('error') or '未知错误 unknown error'}\n"
            "问答和检索暂时无法使用。 Questions and search will fail until this is fixed.")


def safe_health(kb) -> dict:
    """``kb.health()``, with an exception reported as an unhealthy result."""
    try:
        return kb.health()
    except Exception as err:  # noqa: BLE001
        log.error("health check failed", exc_info=err)
        return {"ok": False, "error": str(err) or type(err).__name__}


def banner_html(message: str) -> str:
    """The red banner over every tab; the first line of ``message`` is its headline."""
    head, _, rest = message.partition("\n")
    return (f'<div class="kb-banner" role="alert"><b>{esc(head)}</b>'
            f'{"<br>" + esc(rest) if rest else ""}</div>')
