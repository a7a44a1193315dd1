"""The Gradio page: a failure banner over four tabs (问答, 条款检索, 目录, 关于), and 管理 with KB_ADMIN_KEYS."""
from __future__ import annotations

import gradio as gr

from analytics import QuestionLog
from analytics.grouping import QuestionGrouper
from app.about_view import about_html
from app.admin_keys import admin_keys
from app.admin_tab import build_admin_tab
from app.chat_tab import build_chat_tab
from app.failures import banner_html, health_problem, safe_health
from app.search_tab import build_search_tab
from app.toc_view import toc_html
from kb import KnowledgeBase

TITLE = "青岛市民营经济和中小企业政策问答 · Qingdao SME Policy Q&A"


def _static_views(kb: KnowledgeBase) -> tuple[str, str, dict]:
    """Table of contents and about page, rendered from the current index; plus its health."""
    health = safe_health(kb)
    try:
        toc = toc_html(kb.clauses())
        about = about_html(kb.documents(), kb.embed_model, health)
    except Exception as err:  # noqa: BLE001 - an unreadable catalog shows in the banner
        health = {"ok": False, "error": str(err) or type(err).__name__}
        toc = about = '<div class="kb-empty">暂时无法读取知识库。 The knowledge base cannot be read.</div>'
    return toc, about, health


def build_blocks(kb: KnowledgeBase, question_log: QuestionLog | None = None,
                 grouper: QuestionGrouper | None = None) -> gr.Blocks:
    toc, about, health = _static_views(kb)
    keys = admin_keys(kb.settings.admin_keys)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        problem = health_problem(health)
        banner = gr.HTML(banner_html(problem) if problem else "", visible=bool(problem),
                         elem_id="kb-banner", js_on_load=None)
        gr.HTML(f'<div class="kb-title">{TITLE}</div>'
                '<div class="kb-subtitle">依据《青岛市“十四五”民营经济和中小企业发展规划》及相关法律法规 · '
                'Answers cite the plan and related laws</div>', js_on_load=None)
        with gr.Tabs(elem_id="kb-tabs"):
            with gr.Tab("问答 Chat", id="chat", elem_id="tab-chat"):
                build_chat_tab(kb, banner, question_log)
            with gr.Tab("条款检索 Search", id="search", elem_id="tab-search"):
                build_search_tab(kb, banner)
            with gr.Tab("目录 Browse", id="browse", elem_id="tab-browse"):
                gr.HTML(toc, elem_id="kb-toc", js_on_load=None)
            with gr.Tab("关于 About", id="about", elem_id="tab-about"):
                gr.HTML(about, elem_id="kb-about", js_on_load=None)
            if keys:   # the tab exists only where an admin key is configured, and asks for it
                with gr.Tab("管理 Admin", id="admin", elem_id="tab-admin"):
                    build_admin_tab(question_log, grouper or QuestionGrouper(kb.embed_texts), keys)

        def check_health():
            # Every page load re-checks, so a Chroma server that went away shows at once.
            now = health_problem(safe_health(kb))
            return gr.update(value=banner_html(now) if now else "", visible=bool(now))

        demo.load(check_health, None, banner, api_visibility="private")
    return demo
