"""The numbers that shape ranking, answers and refusal, as fitted by ``python -m eval.fit``.

Their meaning lives here; their values live in ``kb/params.toml``, which the fitting script
writes from the dev split with cross-validation (its header records the figures). No value in
that file is set by hand, and none to make one question pass.

    params = load_params()                 # kb/params.toml, or KB_PARAMS_FILE
    params.ranking["coverage"]             # weight of a ranking feature
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import tomllib

PARAMS_PATH = Path(__file__).resolve().parent / "params.toml"

# Features of a clause for a question (kb.retrieve); the ranking score is their weighted sum.
RANKING_FEATURES = (
    "dense",          # cosine of the best unit, min–max over this question's candidates (tied or lone: 1)
    "lexical",        # BM25 over words ÷ the best BM25 of the question
    "bigram",         # BM25 over character pairs ÷ the best
    "coverage",       # specificity-weighted share of the question's content words the clause holds
    "named_doc",      # the question names the clause's document
    "jurisdiction",   # the question says 青岛 / 省里 / 国家 and the document is of that level
    "box",            # a 专栏 (boxes echo the keywords of several items)
    "preface",        # a document's 前言
    "opening",        # a question about the document itself, and this is its opening (前言, 第一条)
    "general",        # a question about whom a document applies to, and this is one of its first articles (总则)
    "answer_type",    # the question asks for a value (多久, 多少钱) and the clause holds one of that kind
    "focus",          # a follow-up: BM25 of this turn's own words (character pairs) ÷ the best
    "continuity",     # a follow-up: BM25 of the previous answer ÷ the best
    "reference",      # the question cites the clause (「第7条」); 1 / (1 + its place among the matches)
    "dense_sentence", # cosine of the clause's best sentence (kb.sentences) minus the best of any sentence
)
# Features of a sentence of one of the best clauses (kb.evidence); a logistic model gives the
# probability that it holds what is asked.
SENTENCE_FEATURES = (
    "coverage",       # specificity-weighted share of the question's content words in the sentence
    "bigrams",        # share of the question's character pairs in the sentence
    "rare",           # specificity of the rarest question word the sentence holds (the words that pin it down)
    "type_held",      # the question asks for a kind of value and the sentence holds one
    "type_missing",   # … and the sentence holds none
    "title",          # the sentence is the clause's bare title (「完善融资机制。」)
    "window",         # the sentence lies in the unit the dense search matched best
    "clause_score",   # its clause's ranking score minus the best clause's
    "top_clause",     # it is a sentence of the best clause
    "first",          # the clause's first sentence
    "length",         # log of its length in characters
    "dense",          # its cosine with the question (kb.sentences) minus the best of these sentences
    "dense_raw",      # its cosine with the question
)
# Features of a question and its best evidence (kb.answerability); a logistic model gives the
# probability that the documents answer it.
ANSWERABILITY_FEATURES = (
    "dense_top",          # best cosine of any unit
    "sentence_top",       # probability of the best sentence
    "sentence_dense",     # best cosine of any sentence of the best clauses with the question (kb.sentences)
    "coverage_top",       # coverage of the content words by the best clauses
    "sentence_joint",     # best sentence of the best clauses: its coverage, 0 unless it holds the asked kind of value
    "score_top",          # ranking score of the best clause
    "score_margin",       # … minus that of the second
    "focus_missing",      # specificity of the least-covered focus word (next to the question word)
    "no_focus",           # no content word next to the question word (focus_missing says nothing then)
    "missing",            # summed specificity × (1 − coverage) over the other words of the asking clauses
    "absent_words",       # words of the asking clauses no clause holds at all
    "absent_common",      # … of them, everyday words of general Chinese (说法, 借助: wording, not a thing)
    "scene_missing",      # `missing` over the words of the clauses that set the scene (「我们厂有30人，」)
    "scene_absent",       # `absent_words` over them
    "type_missing",       # the question asks for a kind of value no evidence sentence about it holds
    "focus_type_missing", # … or no sentence holds that value next to the focus word (「价格扣除比例是百分之几」)
    "elsewhere",          # it asks about a place the best evidence never names
    "unknown_period",     # it names a year or plan period no clause mentions (十五五)
    "english",            # an English question (cross-lingual scores run lower)
)


@dataclass(frozen=True)
class Params:
    ranking: dict[str, float]
    sentence: dict[str, float]
    sentence_bias: float
    rerank: float                    # weight of the best sentence's probability in a clause's final score
    answerable: dict[str, float]
    answerable_bias: float
    # Values standing in for a feature that cannot be measured (dense_top while the vector store is
    # down): its mean over the questions the model was fitted on, so it pushes neither way.
    answerable_means: dict[str, float]
    refuse_below: float              # refuse when the answerable probability is below this
    second_sentence: float           # quote a second sentence when its probability is this share of the first's
    quote_chars: int = 150           # a factoid answer quotes about this much
    list_quote_chars: int = 320      # a list question quotes its list, up to this much
    evidence_clauses: int = 5        # clauses whose sentences are weighed
    dense_candidates: int = 60       # units fetched from the vector store
    fitted: dict = field(default_factory=dict)   # what the fit measured (cross-validation), for the README

    def ranking_score(self, features: dict[str, float]) -> float:
        return sum(self.ranking.get(name, 0.0) * value for name, value in features.items())

    def sentence_probability(self, features: dict[str, float]) -> float:
        return _logistic(self.sentence_bias + sum(self.sentence.get(k, 0.0) * v for k, v in features.items()))

    def answerable_probability(self, features: dict[str, float]) -> float:
        return _logistic(self.answerable_bias + sum(self.answerable.get(k, 0.0) * v for k, v in features.items()))

    def with_values(self, **changes) -> Params:
        return replace(self, **changes)


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def load_params(path: Path | None = None) -> Params:
    data = tomllib.loads((path or PARAMS_PATH).read_text(encoding="utf-8"))
    return Params(
        ranking={k: float(data["ranking"].get(k, 0.0)) for k in RANKING_FEATURES},
        sentence={k: float(data["sentence"].get(k, 0.0)) for k in SENTENCE_FEATURES},
        sentence_bias=float(data["sentence"].get("bias", 0.0)),
        rerank=float(data["answer"]["rerank"]),
        answerable={k: float(data["answerable"].get(k, 0.0)) for k in ANSWERABILITY_FEATURES},
        answerable_bias=float(data["answerable"].get("bias", 0.0)),
        answerable_means={k.removeprefix("mean_"): float(v) for k, v in data["answerable"].items()
                          if k.startswith("mean_")},
        refuse_below=float(data["answerable"]["refuse_below"]),
        second_sentence=float(data["answer"]["second_sentence"]),
        quote_chars=int(data["answer"].get("quote_chars", 150)),
        list_quote_chars=int(data["answer"].get("list_quote_chars", 320)),
        evidence_clauses=int(data["answer"].get("evidence_clauses", 5)),
        dense_candidates=int(data["ranking"].get("dense_candidates", 60)),
        fitted=dict(data.get("fitted", {})),
    )


def dump_params(params: Params, header: str) -> str:
    """The TOML text of ``params``, with ``header`` (comment lines) on top."""
    def table(name: str, values: dict) -> list[str]:
        return [f"[{name}]", *(f"{_key(k)} = {_toml(v)}" for k, v in values.items()), ""]

    lines = [f"# {line}".rstrip() for line in header.splitlines()] + [""]
    lines += table("ranking", {**params.ranking, "dense_candidates": params.dense_candidates})
    lines += table("sentence", {**params.sentence, "bias": params.sentence_bias})
    lines += table("answerable", {**params.answerable, "bias": params.answerable_bias,
                                  "refuse_below": params.refuse_below,
                                  **{f"mean_{k}": v for k, v in params.answerable_means.items()}})
    lines += table("answer", {"rerank": params.rerank, "second_sentence": params.second_sentence,
                              "quote_chars": params.quote_chars, "list_quote_chars": params.list_quote_chars,
                              "evidence_clauses": params.evidence_clauses})
    if params.fitted:
        lines += table("fitted", params.fitted)
    return "\n".join(lines)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml(key)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
