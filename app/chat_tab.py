"""问答 tab: a streaming chatbot whose answers cite clauses, with the source cards underneath."""
from __future__ import annotations

import gradio as gr

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


def build_chat_tab(kb: KnowledgeBase, banner: gr.HTML) -> None:
    """Lay out the chat inside the current ``gr.Tab`` and wire its events."""
    limit = kb.settings.max_question_chars
    conversation = gr.State(Conversation())
    chatbot = gr.Chatbot(
        label="问答 · Ask the plan", elem_id="kb-chat", height=None, min_height=320, max_height=520,
        render_markdown=False, sanitize_html=True, buttons=[], feedback_options=None,
        examples=[{"text": q} for q in EXAMPLES],
        placeholder="<b>问一问规划和相关法规</b><br>答案摘自原文并注明出处。 Answers quote the documents and cite them.",
    )
    with gr.Row(equal_height=True, elem_id="kb-ask-row"):
        question = gr.Textbox(show_label=False, scale=8, elem_id="kb-question", autofocus=True, lines=1,
                              max_lines=6, placeholder="输入问题，回车发送 · Type a question and press Enter")
        send = gr.Button("提问 Ask", variant="primary", scale=1, elem_id="kb-send")
        new_chat = gr.Button("新对话 New chat", scale=1, elem_id="kb-new-chat")
    sources = gr.HTML(sources_html(None), elem_id="kb-sources", js_on_load=None)

    def respond(text: str, conv: Conversation):
        if not (text or "").strip():   # an empty question does nothing
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        for turn in ask(kb, conv, text, limit):
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


def _banner(message: str):
    return gr.update(value=banner_html(message), visible=True)
