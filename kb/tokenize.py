"""jieba tokens for BM25, with a domain dictionary mined from the corpus and Chinese stop words.

Policy text coins terms that jieba's general dictionary splits apart (“信易贷”, “拿地即开工”,
“个转企”); the plan itself puts most of them in quotation marks, so they are mined from
“…” spans, plus a short seed list of terms the documents use without quotes.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import logging

import jieba

from kb.text import fold_width

SEED_TERMS = ("专精特新", "小巨人", "瞪羚", "独角兽", "隐形冠军", "单项冠军", "小微企业", "中小微企业",
              "中小企业", "民营企业", "民营经济", "个体工商户", "营商环境", "融资担保", "应收账款",
              "政府采购", "知识产权", "招商引资", "孵化器", "工业互联网", "新基建", "胶东经济圈",
              "上合示范区", "自贸试验区", "跨境电商", "海外仓", "服务贸易", "研发费用", "加计扣除",
              "款项支付", "逾期利息", "负面清单", "告知承诺制", "电子营业执照", "标准地", "人才住房")

STOP_WORDS = frozenset("""
的 了 是 在 和 与 及 或 有 对 就 都 也 还 被 把 从 向 给 让 又 并 而 之 其 该 此 等 各 个 为 以 于 由 将 要 会 能 可 可以
我 你 他 她 它 我们 你们 他们 咱们 自己 这 那 这个 那个 这些 那些 这里 那里 哪 哪些 哪个 哪里 什么 啥 怎么 怎样 怎么样
如何 多少 几 吗 呢 吧 啊 呀 嘛 么 哦 请问 请 想 想要 需要 一下 一些 一个 有没有 是不是 能不能 可不可以 是否 没有 没 不 很
还有 以及 关于 对于 规定 具体 方面 问题 情况 时候 现在 目前 怎么办 有何 何 如果 的话 那么 所以 因为 但是 但 就是
the a an of to in on for and or is are be what how which who does do can with about any there
""".split())

jieba.setLogLevel(logging.WARNING)

_QUOTED = re.compile(r"[“\"]([^”\"]{2,12})[”\"]")
_PUNCT_ONLY = re.compile(r"^[\W_]+$")


def mine_domain_terms(texts: Iterable[str]) -> list[str]:
    """Quoted coinages, split on 、 (“个转企、小升规” → 个转企, 小升规), plus the seed terms."""
    terms = set(SEED_TERMS)
    for text in texts:
        for span in _QUOTED.findall(text):
            for part in re.split(r"[、，,]", span):
                part = re.split(r"[（(]", part)[0].strip()
                if 2 <= len(part) <= 8 and not re.search(r"[。；：\s]", part):
                    terms.add(part)
    return sorted(terms)


class Tokenizer:
    """A private jieba instance (the global one is shared by every importer) plus our dictionary."""

    def __init__(self, domain_terms: Iterable[str] = ()):
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.domain_terms = sorted(set(domain_terms))
        for term in self.domain_terms:
            self._jieba.add_word(term, freq=20000)

    def tokenize(self, text: str) -> list[str]:
        """Search-mode tokens (long words also yield their parts), lower-cased, no stop words."""
        out = []
        for tok in self._jieba.lcut_for_search(fold_width(text).lower()):
            tok = tok.strip()
            if tok and tok not in STOP_WORDS and not _PUNCT_ONLY.match(tok):
                out.append(tok)
        return out

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.domain_terms) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Tokenizer":
        terms = [t for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
        return cls(terms)


_default: Tokenizer | None = None


def tokenize(text: str) -> list[str]:
    """Tokens with the seed dictionary only (for callers without a knowledge base at hand)."""
    global _default
    if _default is None:
        _default = Tokenizer(SEED_TERMS)
    return _default.tokenize(text)
