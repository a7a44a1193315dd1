"""What a question asks: its content words, what they imply, and the kind of answer it wants.

One ``Query`` is built per question and read by every later stage: the retrievers search its
``lexical_text``, the ranking and the answer measure how much of its ``terms`` a clause or a
sentence covers, and the answerability check asks whether the best evidence covers its focus.

    q = analyse("个体户的增值税起征点是多少？", tokenizer, lexicon, corpus)
    [t.text for t in q.terms]      # ['个体', '户', '增值税', '起征', '点']
    q.focus_phrases()              # ['增值税起征点']: what is asked, named from the question's own words
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from kb.lexicon import AnswerType, Lexicon
from kb.text import fold_width, has_cjk, is_english
from kb.tokenize import Tokenizer

_PIECE = re.compile(r"[，,。？?！!；;：:\s]+")     # a question's clauses; focus stays within one
_PIECE_EN = re.compile(r"[,.?!;:]+")              # in English, spaces separate words, not clauses
_CJK_PAIR = re.compile(r"(?=([\u3400-\u9fff]{2}))")


@dataclass(frozen=True)
class Term:
    """A content word of the question, as segmented by the corpus's own tokenizer."""

    text: str
    position: int           # index among the question's words (stop words included)
    specificity: float      # 0 (in every clause) … 1 (in none): how much a clause holding it says
    in_corpus: bool         # some clause contains it
    generic: bool           # 企业, 政策, 支持: says nothing about what is asked
    focus: bool             # in the phrase next to the question word (「起征点是多少」「有什么补贴」)
    asking: bool = True     # in a clause that asks, not one that sets the scene (Lexicon.asking_spans)
    common: bool = False    # an everyday word of general Chinese (Tokenizer.is_common)


@dataclass
class Query:
    text: str                       # what is searched: the question, with the earlier turn for a follow-up
    own: str                        # the user's own words this turn
    english: bool
    terms: list[Term]               # content words of ``own``, in order
    words: list[str]                # every word of ``own`` (stop words too), for naming phrases
    implied: list[str]              # official terms the colloquial or English words imply
    mapped: dict[str, list[str]]    # question word → implied terms that stand for it
    asked_types: list[AnswerType]
    jurisdictions: set[str]
    elsewhere: list[str]            # places outside these documents' reach it asks about (上海, 深圳 …)
    periods: list[str]              # years and plan periods it names (kb/lexicon/questions.toml [period])
    about_document: bool
    about_scope: bool               # whom a document applies to (a law's general provisions say)
    wants_list: bool
    multi_part: bool
    bigrams: list[str] = field(default_factory=list)   # CJK character pairs of ``own``'s content words
    naming: str = ""                # the words that name a document (「保障中小企业款项支付条例」)

    @property
    def lexical_text(self) -> str:
        """What BM25 searches: the question without the words naming a document (every clause of
        it would match them; the ranking prefers the named document by itself), plus the official
        terms the question implies."""
        text = self.text.replace(self.naming, " ") if self.naming else self.text
        return f"{text} {' '.join(self.implied)}" if self.implied else text

    def content_terms(self) -> list[Term]:
        """The terms that say what is asked: not generic, not single characters (unless Latin)."""
        return [t for t in self.terms if not t.generic and (len(t.text) > 1 or not has_cjk(t.text))]

    def implied_by(self, word: str) -> list[str]:
        """The official terms a colloquial or English cue within ``word`` (or containing it) implies."""
        return [t for cue, implied in self.mapped.items() if word in cue or cue in word for t in implied]

    def focus_phrases(self, uncovered: list[Term] | None = None) -> list[str]:
        """Names for what is asked, grown from the given terms (default: the focus terms) to the
        run of adjacent content words around them: 起征 → 增值税起征点."""
        chosen = uncovered if uncovered is not None else [t for t in self.terms if t.focus]
        content = {t.position for t in self.terms if not t.generic}
        names: list[str] = []
        for term in chosen:
            lo = hi = term.position
            while lo - 1 in content:
                lo -= 1
            while hi + 1 in content:
                hi += 1
            name = _join_words(self.words[lo:hi + 1])
            if name and name not in names and not any(name in n for n in names):
                names = [n for n in names if n not in name] + [name]
        return names


def _join_words(words: list[str]) -> str:
    """Words as written: Chinese ones run together, Latin ones spaced (「注册 iPhone 账号」)."""
    out = ""
    for w in words:
        if out and out[-1].isascii() and out[-1].isalnum() and w[:1].isascii() and w[:1].isalnum():
            out += " "
        out += w
    return out.strip()


def analyse(text: str, tokenizer: Tokenizer, lexicon: Lexicon, corpus: CorpusStats,
            own: str | None = None, naming: str = "") -> Query:
    """The ``Query`` for a question (``own`` is this turn's words when ``text`` also carries history;
    ``naming``, the words that name a document, which say nothing about what is asked)."""
    own = own if own is not None else text
    english = is_english(own)
    source = fold_width(own.replace(naming, "，") if naming else own).lower()   # as the tokenizer reads it
    words = _join_unknown(tokenizer.words(source), lexicon)
    interrogatives = [i for i, w in enumerate(words) if w in lexicon.question_words]
    offsets = _offsets(source, words)
    pieces = _pieces(source, words, offsets, _PIECE_EN if english else _PIECE)
    spans = lexicon.asking_spans(source)
    terms = []
    for i, w in enumerate(words):
        if w in lexicon.stop_words or w in lexicon.question_words or not re.search(r"\w", w):
            continue
        df = corpus.document_frequency(w)
        asking = offsets[i] < 0 or any(a <= offsets[i] < b for a, b in spans)
        near = [j for j in interrogatives if pieces[j] == pieces[i]]
        focus = asking and any(_adjacent(i, j, words, lexicon) for j in near)
        terms.append(Term(w, i, corpus.specificity(df), df > 0, lexicon.is_generic(w), focus, asking,
                          tokenizer.is_common(w)))
    asking_text = "\n".join(source[a:b] for a, b in spans)    # a place in the scene is not asked about
    mapped: dict[str, list[str]] = {}
    for m in lexicon.mappings(own):
        for cue in m.cues.found(own):
            mapped.setdefault(cue, []).extend(t for t in m.terms if t not in mapped.get(cue, []))
    content = "".join(t.text for t in terms if not t.generic)
    return Query(
        text=text, own=own, english=english, terms=terms, words=words,
        implied=lexicon.implied_terms(text), mapped=mapped, asked_types=lexicon.asked_types(own),
        jurisdictions=lexicon.question_jurisdictions(text), elsewhere=lexicon.places_elsewhere(asking_text),
        periods=lexicon.periods(own), about_document=lexicon.asks_about_document(own),
        about_scope=lexicon.asks_scope(own),
        wants_list=lexicon.asks_for_list(own), multi_part=lexicon.is_multi_part(own),
        bigrams=list(dict.fromkeys(m.group(1) for m in _CJK_PAIR.finditer(content))), naming=naming)


def _join_unknown(words: list[str], lexicon: Lexicon) -> list[str]:
    """A run of single Chinese characters that are no stop, generic or question words is a word
    the dictionary does not know (起/征/点 → 起征点, 公告/期 stays two words): joined back into one."""
    out: list[str] = []
    run = ""
    for w in [*words, ""]:
        single = (len(w) == 1 and has_cjk(w) and w not in lexicon.stop_words and w not in lexicon.question_words
                  and not lexicon.is_generic(w))
        if single:
            run += w
            continue
        if run:
            out.append(run)
            run = ""
        if w:
            out.append(w)
    return out


def _offsets(text: str, words: list[str]) -> list[int]:
    """Where each word starts in ``text`` (-1 for one the tokenizer changed beyond finding)."""
    out, pos = [], 0
    for w in words:
        at = text.find(w, pos)
        out.append(at)
        if at >= 0:
            pos = at + len(w)
    return out


def _pieces(text: str, words: list[str], offsets: list[int], separator: re.Pattern) -> list[int]:
    """For each word, which comma- or stop-separated piece of the question it sits in."""
    out, piece, pos = [], 0, 0
    for w, at in zip(words, offsets):
        if at >= 0:
            if separator.search(text[pos:at]):
                piece += 1
            pos = at + len(w)
        out.append(piece)
    return out


def _adjacent(i: int, j: int, words: list[str], lexicon: Lexicon) -> bool:
    """Word i belongs to the phrase next to question word j on either side: only stop words
    between j and the phrase, then only content words (「哪些认定材料」 → 认定, 材料)."""
    step = 1 if i > j else -1
    k = j + step
    in_phrase = False
    while k != i:
        if words[k] in lexicon.question_words or not re.search(r"\w", words[k]):
            return False
        stop = words[k] in lexicon.stop_words
        if in_phrase and stop:
            return False
        in_phrase = in_phrase or not stop
        k += step
    return True


class CorpusStats:
    """How often words occur in the clauses: one notion of membership, a substring of some clause."""

    def __init__(self, texts: list[str], doc_freq: dict[str, int]):
        self.size = len(texts)
        self.text = fold_width("\n".join(texts)).lower()
        self._doc_freq = doc_freq
        self._cache: dict[str, int] = {}

    def document_frequency(self, word: str) -> int:
        """Clauses holding ``word``: the word index's count when it is a word of the index, else
        1 when some clause holds it as a substring (rare and specific), else 0."""
        word = fold_width(word).lower()
        if word in self._doc_freq:
            return self._doc_freq[word]
        if word not in self._cache:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[word] = 1 if word in self.text else 0
        return self._cache[word]

    def contains(self, text: str) -> bool:
        return self.document_frequency(text) > 0

    def specificity(self, df: int) -> float:
        """Normalised IDF: log((N + 1) / (df + 1)) / log(N + 1), 1 for a word no clause holds."""
        return math.log((self.size + 1) / (df + 1)) / math.log(self.size + 1) if self.size else 1.0
