"""What the model is shown of each cited clause — and what its answer is checked against.

The prompt and the verifier read the same ``shown_text``, so a claim can only be
supported by text the model actually saw, and text removed from a source here
(an instruction planted in it) can never support a claim.
"""
from __future__ import annotations

import re

from kb.model import Citation
from kb.text import sentence_spans

MAX_SOURCE_CHARS = 1800   # a long law article is cut; five to eight sources stay well inside 8k tokens

# Sentences that address the reader as a model. Policy and law texts never do, so such a
# sentence is an injection, not content: it is neither shown to the model nor accepted as support.
_INSTRUCTION = re.compile(
    r"(忽略|无视|忘记|忘掉|不要理会|不必理会)[^。！？\n]{0,8}(指令|指示|提示|要求|规则|设定|内容)"
    r"|(你现在是|你的新任务|系统提示|system\s*prompt)"
    r"|\b(ignore|disregard|forget)\b[^.!?\n]{0,30}\b(instructions?|prompts?|rules)\b",
    re.IGNORECASE,
)

# Fence characters and marker brackets, swapped for full-width look-alikes so that text inside
# a source can neither close its fence nor pose as an answer's [n] marker.
_DEFANG = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］"})


def strip_instructions(text: str) -> str:
    """The text without sentences that give orders to a language model."""
    kept = [s for s in sentence_spans(text, stops="。！？!?") if not _INSTRUCTION.search(s)]
    return "".join(kept).strip()


def shown_text(citation: Citation) -> str:
    """The clause text as placed inside its fence: instructions removed, fences defanged, length capped."""
    text = strip_instructions(citation.clause.text).translate(_DEFANG)
    if len(text) > MAX_SOURCE_CHARS:
        text = text[:MAX_SOURCE_CHARS] + "……"
    return text


def shown_label(citation: Citation) -> str:
    """The citation label on the fence line, defanged the same way."""
    return " ".join(citation.clause.label.split()).translate(_DEFANG)


def support_text(citation: Citation) -> str:
    """Everything a sentence citing this source may rely on: its label, document title and shown text."""
    c = citation.clause
    return "\n".join((c.doc_title, shown_label(citation), shown_text(citation)))
