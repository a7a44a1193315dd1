"""管理 tab: asks for an admin key, then shows what people ask, what goes unanswered and how answers are rated.

Every event checks the key again (Gradio events can be called directly), through app/admin_keys.py.
"""
from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import gradio as gr

from analytics import QuestionLog, StoreUnavailable
from analytics.grouping import QuestionGrouper
from analytics.report import gold_candidates, since_days, summary
from app.admin_keys import is_admin
from app.admin_view import summary_html
from app.markup import esc

PERIODS = [("近 7 天 · 7 days", 7), ("近 30 天 · 30 days", 30), ("近 90 天 · 90 days", 90), ("全部 · all", 0)]
WRONG_KEY = "管理员密钥不正确。 Wrong admin key."


def _message(text: str) -> str:
    return f'<div class="kb-banner" role="alert">{esc(text)}</div>'


def build_admin_tab(question_log: QuestionLog | None, grouper: QuestionGrouper, keys: frozenset[str]) -> None:
    key_state = gr.State("")
    with gr.Column(visible=True) as login:
        gr.HTML('<div class="kb-muted">输入管理员密钥（KB_ADMIN_KEYS 之一）查看提问统计。 '
                'Enter an admin key (one of KB_ADMIN_KEYS) to see what people ask.</div>', js_on_load=None)
        with gr.Row(equal_height=True):
            key = gr.Textbox(show_label=False, type="password", scale=6, elem_id="kb-admin-key",
                             placeholder="管理员密钥 · Admin key")
            enter = gr.Button("打开 Open", variant="primary", scale=1, elem_id="kb-admin-open")
        login_message = gr.HTML("", js_on_load=None)
    with gr.Column(visible=False) as board:
        with gr.Row(equal_height=True):
            period = gr.Dropdown(PERIODS, value=30, show_label=False, scale=3, elem_id="kb-admin-period")
            refresh = gr.Button("刷新 Refresh", scale=1, elem_id="kb-admin-refresh")
        view = gr.HTML("", elem_id="kb-admin-view", js_on_load=None)
        gr.HTML('<h3>导出为评测候选 · Export as gold candidates</h3><div class="kb-muted">选中的问题导出为 '
                'eval/gold.jsonl 格式（expect 为空，待审核；流程见 eval/GOLD.md）。 Selected questions are exported in the '
                'eval/gold.jsonl schema with an empty expect, for review (see eval/GOLD.md).</div>', js_on_load=None)
        pick = gr.CheckboxGroup([], show_label=False, elem_id="kb-admin-pick")
        export = gr.Button("导出 Export JSONL", elem_id="kb-admin-export")
        download = gr.File(label="候选 Candidates", interactive=False, visible=False, elem_id="kb-admin-file")

    def load(secret: str, days: int):
        """The dashboard and the export choices, or a message saying why not."""
        if question_log is None:
            return _message("问题日志已关闭（KB_LOG_QUESTIONS=0）。 The question log is off."), gr.update()
        question_log.flush(2.0)
        try:
            data = summary(question_log.database, grouper, since_days(days or None))
        except StoreUnavailable as err:
            return _message(f"问题日志数据库暂不可用 · Log database unavailable: {err}"), gr.update()
        data["log"] = question_log.status()
        choices = {}
        for tag, groups in (("未答 refused · ", data["refused_questions"]), ("", data["top_questions"])):
            for g in groups:
                choices.setdefault(g["question"], f'{tag}{g["question"]}（{g["count"]}）')
        return summary_html(data, days or None), gr.update(choices=[(label, q) for q, label in choices.items()],
                                                           value=[])

    def open_board(secret: str, days: int):
        if not is_admin(keys, secret):
            return ("", gr.update(), gr.update(), _message(WRONG_KEY), gr.update(), gr.update(), "")
        html, choices = load(secret, days)
        return secret, gr.update(visible=False), gr.update(visible=True), "", html, choices, ""

    def reload(secret: str, days: int):
        if not is_admin(keys, secret):
            return _message(WRONG_KEY), gr.update()
        return load(secret, days)

    def export_candidates(secret: str, days: int, chosen: list[str]):
        if not is_admin(keys, secret) or question_log is None or not chosen:
            return gr.update(visible=False)
        try:
            rows = gold_candidates(question_log.database, wordings=chosen, since=since_days(days or None))
        except StoreUnavailable:
            return gr.update(visible=False)
        folder = Path(tempfile.mkdtemp(prefix="plankb-candidates-"))
        path = folder / f"gold-candidates-{date.today():%Y%m%d}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    private = {"api_visibility": "private"}
    opened = [key_state, login, board, login_message, view, pick, key]
    enter.click(open_board, [key, period], opened, **private)
    key.submit(open_board, [key, period], opened, **private)
    refresh.click(reload, [key_state, period], [view, pick], **private)
    period.change(reload, [key_state, period], [view, pick], **private)
    export.click(export_candidates, [key_state, period, pick], download, **private)
