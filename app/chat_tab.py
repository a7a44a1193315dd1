"""问答 tab: a streaming chatbot whose answers cite clauses, with the source cards underneath.

With a question log, every answer is logged and carries 👍/👎; a 👎 opens a row asking why.
"""
from __future__ import annotations

import gradio as gr

from analytics import REASON_ENGLISH, REASONS, Feedback, QuestionLog
from app.chat_view import THINKING, sources_html
from app.conversation import Conversation, ask
from app.failures import banner_html
from app.markup import esc
from kb import KnowledgeBase

# On first open: financing, procurement, starting a business, districts, laws, and English.
EXAMPLES = [
    "小微企业贷款难，规划有哪些融资支持？",
    "中小企业参与政府采购有什么支持政策？",
    "我想开个小公司，办执照要多久？",
    "西海岸新区重点发展哪些产业？",
    "机关、事业单位拖欠中小企业款项，法律怎么规定？",
    "According to the plan, how long should it take to start a business in Qingdao?",
]

_PENDING = f'<div class="kb-sources kb-empty">{esc(THINKING)}</div>'


def build_chat_tab(kb: KnowledgeBase, banner: gr.HTML, question_log: QuestionLog | None = None) -> None:
    """Lay out the chat inside the current ``gr.Tab`` and wire its events."""
    limit = kb.settings.max_question_chars
    conversation = gr.State(Conversation())
    chatbot = gr.Chatbot(
        label="问答 · Ask the plan", elem_id="kb-chat", height=None, min_height=320, max_height=520,
        render_markdown=False, sanitize_html=True, buttons=[],
        feedback_options=("Like", "Dislike") if question_log is not None else None,
        examples=[{"text": q} for q in EXAMPLES],
        placeholder="<b>问一问规划和相关法规</b><br>答案摘自原文并注明出处。 Answers quote the documents and cite them.",
    )
    with gr.Row(equal_height=True, elem_id="kb-ask-row"):
        question = gr.Textbox(show_label=False, scale=8, elem_id="kb-question", autofocus=True, lines=1,
                              max_lines=6, placeholder="输入问题，回车发送 · Type a question and press Enter")
        send = gr.Button("提问 Ask", variant="primary", scale=1, elem_id="kb-send")
        new_chat = gr.Button("新对话 New chat", scale=1, elem_id="kb-new-chat")
    rating = _FeedbackRow(question_log) if question_log is not None else None
    sources = gr.HTML(sources_html(None), elem_id="kb-sources", js_on_load=None)

    def respond(text: str, conv: Conversation):
        if not (text or "").strip():   # an empty question does nothing
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        for turn in ask(kb, conv, text, limit):
            if turn.answer is not None and question_log is not None:
                question_log.record(turn.answer, "chat", follow_up=len(conv.turns) > 1)
            if turn.error:
                yield conv.messages(), sources_html(conv.last_answer), conv, _banner(turn.error)
            elif turn.answer is not None:
                yield conv.messages(), sources_html(turn.answer), conv, gr.update(visible=False)
            else:
                yield conv.messages(), _PENDING, conv, gr.skip()

    def respond_example(conv: Conversation, evt: gr.SelectData):
        yield from respond(evt.value["text"], conv)

    outputs = [chatbot, sources, conversation, banner]
    # One answer at a time across all sessions; later questions wait in Gradio's queue.
    # trigger_mode="multiple": Gradio's default ("once") would drop a question asked while one is pending.
    chat = dict(concurrency_limit=1, concurrency_id="chat", show_progress="minimal", trigger_mode="multiple")
    # The answering event is registered first, so it captures the text before the box is emptied.
    # Emptying happens in the browser: a server round trip could land after the user typed again.
    question.submit(respond, [question, conversation], outputs, api_name="chat", **chat)
    send.click(respond, [question, conversation], outputs, api_visibility="private", **chat)
    for trigger in (question.submit, send.click):
        trigger(None, None, question, js="() => ''", queue=False, api_visibility="private")
    chatbot.example_select(respond_example, [conversation], outputs, api_visibility="private", **chat)

    def reset():
        return [], sources_html(None), Conversation()

    new_chat.click(reset, None, [chatbot, sources, conversation], queue=False, api_visibility="private")
    chatbot.clear(reset, None, [chatbot, sources, conversation], queue=False, api_visibility="private")
    if rating is not None:
        rating.wire(chatbot, conversation, [new_chat.click, chatbot.clear])


class _FeedbackRow:
    """The row under the chat that asks why after a 👎: five reasons, an optional comment, submit."""

    def __init__(self, question_log: QuestionLog):
        self.log = question_log
        self.target = gr.State(None)            # the id of the answer that got the 👎
        with gr.Group(visible=False, elem_id="kb-feedback") as self.box:
            gr.HTML('<div class="kb-feedback-head">这个回答哪里不好？ · What was wrong with this answer?</div>',
                    js_on_load=None)
            self.reason = gr.Radio([(f"{r} · {REASON_ENGLISH[r]}", r) for r in REASONS], show_label=False,
                                   elem_id="kb-feedback-reason")
            self.comment = gr.Textbox(show_label=False, lines=1, max_lines=4, elem_id="kb-feedback-comment",
                                      placeholder="补充说明（可选） · Anything to add (optional)")
            with gr.Row():
                self.submit = gr.Button("提交 Submit", variant="primary", size="sm", elem_id="kb-feedback-submit")
                self.skip = gr.Button("跳过 Skip", size="sm", elem_id="kb-feedback-skip")
        self.thanks = gr.HTML("", elem_id="kb-feedback-thanks", js_on_load=None)

    def wire(self, chatbot: gr.Chatbot, conversation: gr.State, resets: list) -> None:
        outputs = [self.box, self.target, self.reason, self.comment, self.thanks]
        chatbot.like(self.rated, [conversation], outputs, queue=False, api_visibility="private")
        self.submit.click(self.explained, [self.target, self.reason, self.comment], outputs, api_visibility="private")
        self.skip.click(lambda: self._closed(""), None, outputs, queue=False, api_visibility="private")
        for reset in resets:
            reset(lambda: self._closed(""), None, outputs, queue=False, api_visibility="private")

    def rated(self, conv: Conversation, evt: gr.LikeData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        turn = conv.turns[index // 2] if 0 <= index // 2 < len(conv.turns) else None
        if turn is None or turn.answer is None:   # an error bubble or an answer still streaming
            return self._closed("")
        rating = "up" if evt.liked is True else "down" if evt.liked is False else None
        outcome = self.log.feedback(Feedback(turn.answer.id, rating))
        if rating == "down":
            return gr.update(visible=True), turn.answer.id, None, "", _thanks_html(outcome, asking=True)
        return self._closed(_thanks_html(outcome) if rating else "")

    def explained(self, answer_id: str | None, reason: str | None, comment: str | None):
        if not answer_id:
            return self._closed("")
        outcome = self.log.feedback(Feedback(answer_id, "down", reason, (comment or "").strip() or None))
        return self._closed(_thanks_html(outcome))

    def _closed(self, thanks: str):
        return gr.update(visible=False), None, None, "", thanks


def _thanks_html(outcome: str, asking: bool = False) -> str:
    if outcome in ("stored", "queued"):
        text = "已记录“踩”，请告诉我们原因。 Noted; tell us why." if asking else "谢谢反馈！ Thanks for the feedback."
    else:
        text = "反馈暂时无法记录。 Feedback could not be recorded right now."
    return f'<div class="kb-feedback-thanks">{esc(text)}</div>'


def _banner(message: str):
    return gr.update(value=banner_html(message), visible=True)
