"""Domain vocabulary as data: the TOML files beside this module, extended by a deployment's own.

    lex = load_lexicon()                          # the built-in files
    lex = load_lexicon(Path("/etc/plankb/lexicon"))   # plus a deployment's (KB_LEXICON_DIR)
    lex.implied_terms("没钱周转，贷款难")             # ['资金', '融资', '贷款', '信贷']
    lex.asked_types("审批要多久？")                   # [AnswerType(name='duration', …), …]

Each file is documented in README.md here. A deployment's folder holds files of the same names;
its arrays of entries are appended to the built-in ones and its lists extend theirs, so it adds
vocabulary without editing (or losing on upgrade) the shipped files.
"""
from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import tomllib

from ingest.numerals import CN_NUMERAL_CHARS

BUILTIN = Path(__file__).resolve().parent
FILES = ("colloquial", "english", "places", "documents", "answer_types", "questions", "words")


class CueSet:
    """Cues matched in a question: Chinese ones as substrings; Latin ones on word boundaries,
    lower-cased, with an optional plural "s", or as a word prefix when they end in "*"."""

    def __init__(self, cues: list[str]):
        self.cues = tuple(cues)
        parts = []
        for cue in self.cues:
            if re.search(r"[a-z]", cue):
                stem = re.escape(cue.rstrip("*"))
                parts.append(rf"(?<![a-z]){stem}[a-z]*" if cue.endswith("*") else rf"(?<![a-z]){stem}s?(?![a-z])")
            else:
                parts.append(re.escape(cue))
        self._source = "|".join(sorted(parts, key=len, reverse=True))
        self._compiled: re.Pattern | None = None
        self.latin = bool(self.cues) and all(re.search(r"[a-z]", cue) for cue in self.cues)   # needs Latin letters

    @property
    def _pattern(self) -> re.Pattern | None:
        """Compiled on first use: hundreds of English cues need not cost a Chinese question's cold start."""
        if self._compiled is None and self._source:
            self._compiled = re.compile(self._source)
        return self._compiled

    def found(self, text: str) -> list[str]:
        """The cue spans in ``text``, in order."""
        return self._pattern.findall(text.lower()) if self._pattern else []

    def search(self, text: str) -> bool:
        return bool(self._pattern and self._pattern.search(text.lower()))


@dataclass(frozen=True)
class Mapping:
    """Question words (``cues``) and the official terms they imply."""

    cues: CueSet
    terms: tuple[str, ...]


@dataclass(frozen=True)
class AnswerType:
    name: str
    asks: re.Pattern     # in the question
    value: re.Pattern    # in a sentence that can answer it
    label: str = ""      # what a refusal says is missing (「具体金额」)
    label_en: str = ""

    def held_by(self, text: str) -> bool:
        return bool(self.value.search(text))


def _patterns(items: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p.replace('{cn}', CN_NUMERAL_CHARS)})" for p in items) or "(?!)")


@dataclass(frozen=True)
class Lexicon:
    colloquial: tuple[Mapping, ...]
    english: tuple[Mapping, ...]
    jurisdictions: dict[str, CueSet]             # level → question cues
    jurisdiction_of_documents: tuple[tuple[str, tuple[str, ...]], ...]   # (level, title/issuer cues), in order
    elsewhere: tuple[str, ...]                   # places outside these documents' reach
    elsewhere_english: dict[str, str]            # their English names → the Chinese ones
    plan_words: CueSet
    aliases: tuple[tuple[CueSet, str], ...]      # English names → Chinese title words
    law_words: CueSet
    answer_types: tuple[AnswerType, ...]
    about_document: re.Pattern
    scope: re.Pattern
    follow_up: re.Pattern
    multi_part: re.Pattern
    period: re.Pattern                           # a year or plan period a question names (2027年, 十五五)
    list_question: re.Pattern
    part_separator: re.Pattern                   # between the parts of a question (？；)
    clause_separator: re.Pattern                 # between the clauses of a part (，)
    stop_words: frozenset[str]
    generic_words: frozenset[str]                # say nothing about what is asked (企业, 政策, 支持)
    question_words: frozenset[str]               # 多少, 哪些, 怎么, how …
    question_cue: CueSet                         # any of them, in running text

    def is_generic(self, word: str) -> bool:
        return word in self.generic_words or self.is_place_word(word)

    # -- what a question implies --------------------------------------------------------------
    def mappings(self, question: str) -> list[Mapping]:
        """The colloquial and English entries whose cues occur in the question."""
        latin = bool(re.search(r"[a-z]", question.lower()))
        return [m for m in (*self.colloquial, *self.english) if (latin or not m.cues.latin) and m.cues.search(question)]

    def implied_terms(self, question: str) -> list[str]:
        """The official Chinese terms the question's colloquial or English words imply, in order, once each."""
        return list(dict.fromkeys(t for m in self.mappings(question) for t in m.terms))

    def asked_types(self, question: str) -> list[AnswerType]:
        """The kinds of value the question asks for, read from its asking clauses
        (「手上有几项专利，能不能押给银行？」 asks whether, not how many)."""
        asking = "\n".join(self.asking_clauses(question.lower()))
        return [t for t in self.answer_types if t.asks.search(asking)]

    def asking_clauses(self, question: str) -> list[str]:
        """The text of each asking span (``asking_spans``)."""
        return [question[a:b] for a, b in self.asking_spans(question)]

    def asking_spans(self, question: str) -> list[tuple[int, int]]:
        """Where the question asks: in each part that is a question (it holds a question word or ends
        in ？), the last clause holding a question word, else its last clause. Parts that are not
        questions set the scene (「我们厂有30人。…能贷款吗？」); if no part is a question, each
        part's last clause asks. Character spans of ``question``."""
        parts = []
        for a, b in _segments(question, self.part_separator):
            clauses = _segments(question, self.clause_separator, a, b)
            if not clauses:     # only separators (「，」 where a document's name stood)
                continue
            asking = [c for c in clauses if self.question_cue.search(question[c[0]:c[1]])]
            is_question = bool(asking) or question[b:b + 1] in ("？", "?")
            parts.append((is_question, (asking or clauses)[-1]))
        if any(q for q, _ in parts):
            return [span for q, span in parts if q]
        return [span for _, span in parts]

    def answer_type(self, name: str) -> AnswerType:
        return next(t for t in self.answer_types if t.name == name)

    def question_jurisdictions(self, question: str) -> set[str]:
        return {level for level, cues in self.jurisdictions.items() if cues.search(question)}

    def document_jurisdiction(self, title: str, issuer: str | None) -> str:
        text = f"{title} {issuer or ''}"
        for level, cues in self.jurisdiction_of_documents:
            if any(c in text for c in cues):
                return level
        return "national"

    def is_place_word(self, word: str) -> bool:
        """A word that says where, not what (青岛, 省里, 全国)."""
        return any(cues.search(word) and "".join(cues.found(word)) == word.lower()
                   for cues in self.jurisdictions.values())

    def places_elsewhere(self, question: str) -> list[str]:
        """The places outside these documents' reach a question names, by their Chinese names."""
        found = [p for p in self.elsewhere if p in question]
        if self.elsewhere_english and re.search(r"[a-z]", question.lower()):
            for span in self._english_places.found(question):
                zh = self.elsewhere_english.get(span) or self.elsewhere_english.get(span[:-1], "")
                if zh and zh not in found:
                    found.append(zh)
        return found

    def place_in_english(self, zh: str) -> str:
        """A place's English name (``[elsewhere.english]``), or ``zh`` itself."""
        return next((en.title() for en, name in self.elsewhere_english.items() if name == zh), zh)

    @cached_property
    def _english_places(self) -> CueSet:
        return CueSet(list(self.elsewhere_english))

    def asks_about_document(self, question: str) -> bool:
        return bool(self.about_document.search(question.lower()))

    def asks_scope(self, question: str) -> bool:
        return bool(self.scope.search(question.lower()))

    def is_elliptical(self, question: str) -> bool:
        return bool(self.follow_up.search(question.strip().lower()))

    def is_multi_part(self, question: str) -> bool:
        return bool(self.multi_part.search(question.lower()))

    def periods(self, question: str) -> list[str]:
        """The years and plan periods the question names, as written."""
        return [m.group(0) for m in self.period.finditer(question.lower())]

    def asks_for_list(self, question: str) -> bool:
        return bool(self.list_question.search(question.lower()))


def _merge(base: dict, extra: dict) -> dict:
    """Arrays and lists are appended, tables merged; a deployment's scalar wins."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + value
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_files(extra_dir: Path | None = None) -> dict[str, dict]:
    data = {}
    for name in FILES:
        data[name] = tomllib.loads((BUILTIN / f"{name}.toml").read_text(encoding="utf-8"))
        extra = extra_dir / f"{name}.toml" if extra_dir else None
        if extra and extra.is_file():
            data[name] = _merge(data[name], tomllib.loads(extra.read_text(encoding="utf-8")))
    return data


def _mappings(entries: list[dict]) -> tuple[Mapping, ...]:
    return tuple(Mapping(CueSet(e["cues"]), tuple(e["terms"])) for e in entries)


def _stop_lists(languages: list[str]) -> frozenset[str]:
    """The stopwords-iso lists (github.com/stopwords-iso, MIT) of ``languages``: function words by an
    outside definition, so which colloquial filler counts as generic is not chosen question by question.
    Their single characters are left out: 点, 起, 下 are morphemes of terms (起征点, 下限) as often as particles.
    The package's data file is read directly: importing the package costs 80 ms of every cold start."""
    if not languages:
        return frozenset()
    spec = importlib.util.find_spec("stopwordsiso")
    data = Path(spec.origin).with_name("stopwords-iso.json") if spec and spec.origin else None
    if data is not None and data.is_file():
        table = json.loads(data.read_text(encoding="utf-8"))
        words = [w for lang in languages for w in table.get(lang, [])]
    else:
        import stopwordsiso

        words = stopwordsiso.stopwords(languages)
    return frozenset(w.lower() for w in words if len(w) > 1)


@lru_cache(maxsize=8)
def load_lexicon(extra_dir: Path | None = None) -> Lexicon:
    """The built-in vocabulary, plus ``extra_dir``'s files of the same names (see the module docstring)."""
    d = read_files(extra_dir)
    places, docs, q, words = d["places"], d["documents"], d["questions"], d["words"]
    levels = places["jurisdiction"]
    return Lexicon(
        colloquial=_mappings(d["colloquial"].get("entry", [])),
        english=_mappings(d["english"].get("entry", [])),
        jurisdictions={level: CueSet(v["cues"]) for level, v in levels.items()},
        jurisdiction_of_documents=tuple((level, tuple(v.get("document_cues", []))) for level, v in levels.items()),
        elsewhere=tuple(places.get("elsewhere", {}).get("places", [])),
        elsewhere_english={k.lower(): v for k, v in places.get("elsewhere", {}).get("english", {}).items()},
        plan_words=CueSet(docs["plan"]["cues"]),
        aliases=tuple((CueSet(a["cues"]), a["zh"]) for a in docs.get("alias", [])),
        law_words=CueSet(docs["law_words"]["cues"]),
        answer_types=tuple(AnswerType(t["name"], _patterns(t["asks"]), _patterns(t["value"]),
                                      t.get("label", ""), t.get("label_en", "")) for t in d["answer_types"]["type"]),
        about_document=_patterns(q["about_document"]["patterns"]),
        scope=_patterns(q["scope"]["patterns"]),
        follow_up=_patterns(q["follow_up"]["patterns"]),
        multi_part=_patterns(q["multi_part"]["patterns"]),
        period=_patterns(q["period"]["patterns"]),
        list_question=_patterns(q["list"]["patterns"]),
        part_separator=re.compile(q["asking"]["part_separator"]),
        clause_separator=re.compile(q["asking"]["clause_separator"]),
        stop_words=frozenset(words["stop"]["words"]),
        generic_words=frozenset(words["generic"]["words"]) | _stop_lists(words["generic"].get("stopwords_iso", [])),
        question_words=frozenset(words["question"]["words"]),
        question_cue=CueSet(words["question"]["words"]),
    )


def _segments(text: str, separator: re.Pattern, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of ``text[start:end]`` between matches of ``separator``, blank ones left out."""
    end = len(text) if end is None else end
    out, at = [], start
    for m in separator.finditer(text, start, end):
        if text[at:m.start()].strip():
            out.append((at, m.start()))
        at = m.end()
    if text[at:end].strip():
        out.append((at, end))
    return out
