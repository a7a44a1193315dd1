"""``python -m eval.fit``: fit the ranking, sentence and answerability parameters on the dev split.

    python -m eval.fit              # k-fold cross-validation figures, then the fit on all of dev → kb/params.toml
    python -m eval.fit --no-write   # only the figures

Stages, each fitted on what the previous one produces (kb.params names every feature):
1. ranking: pairwise logistic regression over the candidate clauses of every answerable question
   (a gold target should outscore every other candidate);
2. sentences: logistic regression on the sentences of the best clauses (does it hold the key
   fact, ``facts[0]``?), then the weight of the best sentence in a clause's final score (grid);
3. answerability: logistic regression over the question's evidence (answerable or not), and the
   refusal threshold, chosen on out-of-fold probabilities so that at most ``--max-false-refusal``
   of answerable questions are refused;
4. answers: the share of the best sentence's probability a second sentence needs (grid: most key
   facts in the answer while the median factoid answer stays within ``--max-chars``).

The cross-validation splits dev by question into folds; every stage is refitted on the other
folds and the held-out fold is answered end to end with those parameters, so the figures are
what a new question would see. Only dev is read; the locked test split never is.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from eval.gold import GoldQuestion, load_gold, select_split
from eval.metrics import ANSWER_METRICS, RETRIEVAL_METRICS, median, normalize_text, quote_length
from eval.runner import case_from_answer
from eval.targets import matches_any, ref_of_clause
from kb.compose import choose_sentences
from kb.model import Hit
from kb.params import (
    ANSWERABILITY_FEATURES,
    PARAMS_PATH,
    RANKING_FEATURES,
    SENTENCE_FEATURES,
    Params,
    dump_params,
    load_params,
)

C_GRID = (0.01, 0.1, 1.0, 10.0)
RERANK_GRID = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0)
SECOND_GRID = (0.4, 0.6, 0.75, 0.9, 1.01)
SEED = 20261201
FIGURES = ("hit@1", "hit@5", "key_fact", "key_fact_first", "factoid_chars", "refusal_accuracy",
           "near_miss_refusal", "false_refusal_rate")


@dataclass
class Row:
    question: GoldQuestion
    explanation: object   # kb.answering.Explanation


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def collect(kb, questions: list[GoldQuestion], params: Params, keep: int = 20) -> list[Row]:
    return [Row(q, kb.explain(q.question, list(q.history) or None, params=params, keep=keep)) for q in questions]


def _target(kb, row: Row, clause_id: str) -> bool:
    return matches_any(row.question.expect, ref_of_clause(kb.clause(clause_id)))


# -- 1. ranking ------------------------------------------------------------------------------
def ranking_pairs(kb, rows: list[Row]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, ws = [], [], []
    for row in rows:
        cands = row.explanation.retrieval.candidates
        good = [c for c in cands if _target(kb, row, c.clause_id)]
        bad = [c for c in cands if c not in good]
        if not good or not bad:
            continue
        weight = 1.0 / (len(good) * len(bad))
        for g in good:
            gv = _vector(g.features, RANKING_FEATURES)
            for b in bad:
                diff = gv - _vector(b.features, RANKING_FEATURES)
                xs += [diff, -diff]
                ys += [1, 0]
                ws += [weight, weight]
    return np.array(xs), np.array(ys), np.array(ws)


def fit_ranking(kb, rows: list[Row], C: float) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    X, y, w = ranking_pairs(kb, rows)
    scale = _scale(X)
    model = LogisticRegression(C=C, fit_intercept=False, max_iter=2000).fit(X / scale, y, sample_weight=w * len(w))
    return dict(zip(RANKING_FEATURES, (float(v) for v in model.coef_[0] / scale)))


def ranking_hit1(kb, rows: list[Row], weights: dict[str, float]) -> float:
    hits = []
    for row in rows:
        cands = row.explanation.retrieval.candidates
        if not row.question.expect or not cands:
            continue
        best = max(cands, key=lambda c: (sum(weights[k] * c.features.get(k, 0.0) for k in weights), c.clause_id))
        hits.append(float(_target(kb, row, best.clause_id)))
    return float(np.mean(hits)) if hits else 0.0


def choose_ranking(kb, rows: list[Row]) -> dict[str, float]:
    """The regularisation with the best held-out hit@1 inside ``rows`` (3 folds), refitted on all."""
    scores = {C: np.mean([ranking_hit1(kb, test, fit_ranking(kb, train, C)) for train, test in _folds(rows, 3)])
              for C in C_GRID}
    return fit_ranking(kb, rows, max(scores, key=scores.get))


# -- 2. sentences ----------------------------------------------------------------------------
def sentence_data(rows: list[Row]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for row in rows:
        q = row.question
        if not q.expect or not q.facts:
            continue
        fact = normalize_text(q.facts[0])
        labels = [fact in normalize_text(s.text) for s in row.explanation.sentences]
        if not any(labels):
            continue
        xs += [_vector(s.features, SENTENCE_FEATURES) for s in row.explanation.sentences]
        ys += labels
    return np.array(xs), np.array(ys, dtype=int)


def fit_sentences(rows: list[Row]) -> tuple[dict[str, float], float]:
    X, y = sentence_data(rows)
    best = None
    for C in C_GRID:
        weights, bias = _logistic(X, y, C)
        score = _first_sentence_rate(rows, dict(zip(SENTENCE_FEATURES, weights)), bias)
        if best is None or score > best[0]:
            best = (score, weights, bias)
    _, weights, bias = best
    return dict(zip(SENTENCE_FEATURES, (float(v) for v in weights))), float(bias)


def _scale(X: np.ndarray) -> np.ndarray:
    """Per-feature standard deviation (1 for a constant one), so the penalty treats features alike."""
    sd = X.std(axis=0)
    return np.where(sd > 1e-9, sd, 1.0)


def _logistic(X: np.ndarray, y: np.ndarray, C: float, balanced: bool = False) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised features, returned as weights and bias on the raw ones."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = X.mean(axis=0), _scale(X)
    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced" if balanced else None)
    model.fit((X - mean) / scale, y)
    weights = model.coef_[0] / scale
    return weights, float(model.intercept_[0] - (weights * mean).sum())


def _first_sentence_rate(rows: list[Row], weights: dict, bias: float) -> float:
    out = []
    for row in rows:
        q, sentences = row.question, row.explanation.sentences
        if q.expect and q.facts and sentences:
            top = max(sentences, key=lambda s: bias + sum(weights[k] * s.features.get(k, 0.0) for k in weights))
            out.append(normalize_text(q.facts[0]) in normalize_text(top.text))
    return float(np.mean(out)) if out else 0.0


def choose_rerank(kb, rows: list[Row], params: Params) -> float:
    """The weight of the best sentence's probability in the final clause score with the best hit@1."""
    def hit1(weight: float) -> float:
        out = []
        for row in rows:
            top = row.explanation.retrieval.candidates[:params.evidence_clauses]
            if not row.question.expect or not top:
                continue
            best_p: dict[str, float] = {}
            for s in row.explanation.sentences:
                p = params.sentence_probability(s.features)
                best_p[s.clause_id] = max(best_p.get(s.clause_id, 0.0), p)
            winner = max(top, key=lambda c: (c.score + weight * best_p.get(c.clause_id, 0.0), c.clause_id))
            out.append(float(_target(kb, row, winner.clause_id)))
        return float(np.mean(out)) if out else 0.0
    scores = {w: hit1(w) for w in RERANK_GRID}
    return max(scores, key=lambda w: (scores[w], -w))


# -- 3. answerability ------------------------------------------------------------------------
def answerability_data(rows: list[Row]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    xs, ys, idx = [], [], []
    for i, row in enumerate(rows):
        j = row.explanation.judgement
        if j is None:   # a lookup by reference is always answered
            continue
        xs.append(_vector(j.features, ANSWERABILITY_FEATURES))
        ys.append(int(row.question.answerable))
        idx.append(i)
    return np.array(xs), np.array(ys), idx


def fit_answerability(rows: list[Row], max_false_refusal: float) -> tuple[dict[str, float], float, float]:
    """Weights, bias and the refusal threshold (from out-of-fold probabilities inside ``rows``)."""
    from sklearn.model_selection import StratifiedKFold

    X, y, _ = answerability_data(rows)
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED).split(X, y))
    best = None
    for C in C_GRID:
        probs = np.zeros(len(y))
        for train, held in folds:
            weights, bias = _logistic(X[train], y[train], C, balanced=True)
            probs[held] = 1 / (1 + np.exp(-(X[held] @ weights + bias)))
        threshold, accuracy = choose_threshold(probs, y, max_false_refusal)
        if best is None or accuracy > best[0]:
            best = (accuracy, C, threshold)
    _, C, threshold = best
    weights, bias = _logistic(X, y, C, balanced=True)
    return dict(zip(ANSWERABILITY_FEATURES, (float(v) for v in weights))), bias, threshold


def choose_threshold(probs: np.ndarray, answerable: np.ndarray, max_false_refusal: float) -> tuple[float, float]:
    """The threshold refusing the most unanswerable questions while refusing at most
    ``max_false_refusal`` of the answerable ones; returns it and the refusal accuracy it reaches."""
    best = (0.0, -1.0)
    for t in sorted(set(np.round(probs, 4)) | {0.0}):
        refused = probs < t
        false = refused[answerable == 1].mean() if (answerable == 1).any() else 0.0
        accuracy = refused[answerable == 0].mean() if (answerable == 0).any() else 0.0
        if false <= max_false_refusal and accuracy > best[1]:
            best = (float(t), float(accuracy))
    return best


# -- 4. answers ------------------------------------------------------------------------------
def choose_second_sentence(kb, rows: list[Row], params: Params, max_chars: int) -> float:
    def figures(ratio: float) -> tuple[float, float]:
        p = params.with_values(second_sentence=ratio)
        found, lengths = [], []
        for row in rows:
            q, e = row.question, row.explanation
            if not q.expect or not q.facts or e.judgement is None:
                continue
            hits = [Hit(kb.clause(c.clause_id), c.score) for c in e.candidates]
            chosen = choose_sentences(e.query, hits, e.sentences, p)
            text = "".join(s.text for s in chosen)
            found.append(normalize_text(q.facts[0]) in normalize_text(text))
            if q.type == "factoid":
                lengths.append(quote_length(text))
        return float(np.mean(found)) if found else 0.0, median(lengths) or 0.0
    scored = {r: figures(r) for r in SECOND_GRID}
    within = [r for r, (_, chars) in scored.items() if chars <= max_chars] or [max(SECOND_GRID)]
    return max(within, key=lambda r: (scored[r][0], r))


# -- the whole fit -----------------------------------------------------------------------------
def fit_all(kb, train: list[GoldQuestion], start: Params, args) -> Params:
    t0 = time.perf_counter()
    rows = collect(kb, [q for q in train if q.answerable], start, keep=10_000)
    params = start.with_values(ranking=choose_ranking(kb, rows), rerank=0.0)
    rows = collect(kb, train, params)
    weights, bias = fit_sentences(rows)
    params = params.with_values(sentence=weights, sentence_bias=bias)
    params = params.with_values(rerank=choose_rerank(kb, rows, params))
    rows = collect(kb, train, params)
    weights, bias, threshold = fit_answerability(rows, args.max_false_refusal)
    X, _, _ = answerability_data(rows)
    params = params.with_values(answerable=weights, answerable_bias=bias, refuse_below=threshold,
                                answerable_means={"dense_top": float(X[:, ANSWERABILITY_FEATURES.index("dense_top")].mean())})
    rows = collect(kb, train, params)
    params = params.with_values(second_sentence=choose_second_sentence(kb, rows, params, args.max_chars))
    _log(f"  fitted on {len(train)} questions in {time.perf_counter() - t0:.0f} s")
    return params


def evaluate(kb, questions: list[GoldQuestion], params: Params) -> list:
    cases = []
    for q in questions:
        started = time.perf_counter()
        answer = kb.explain(q.question, list(q.history) or None, params=params).answer.to_json()
        cases.append(case_from_answer(q, answer, (time.perf_counter() - started) * 1000))
    return cases


def figures(cases: list) -> dict[str, float | None]:
    metrics = {**RETRIEVAL_METRICS, **ANSWER_METRICS}
    return {name: metrics[name](cases)["score"] for name in FIGURES}


def _folds(items: list, k: int):
    order = list(range(len(items)))
    random.Random(SEED).shuffle(order)
    for f in range(k):
        held = set(order[f::k])
        yield [x for i, x in enumerate(items) if i not in held], [x for i, x in enumerate(items) if i in held]


def _vector(features: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    return np.array([features.get(n, 0.0) for n in names], dtype=float)


def _table(rows: dict[str, dict]) -> str:
    lines = ["| | " + " | ".join(FIGURES) + " |", "|---|" + "---|" * len(FIGURES)]
    for name, fig in rows.items():
        lines.append(f"| {name} | " + " | ".join("–" if fig.get(m) is None else
                                                 (f"{fig[m]:.0f}" if m == "factoid_chars" else f"{fig[m]:.3f}")
                                                 for m in FIGURES) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.fit", description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--no-cv", action="store_true", help="skip cross-validation (only the fit)")
    ap.add_argument("--no-write", action="store_true", help=f"do not write {PARAMS_PATH.name}")
    # 1.5%, half the 3% bar. On new questions the share of answerable ones refused ran 1.8–5× the
    # estimate of a dev whose answerable questions were tidy; dev now also holds 100 untidy ones by
    # other writers (scene-setting, typos, terse), and the nested out-of-fold estimate at 1.5% is 2%.
    ap.add_argument("--max-false-refusal", type=float, default=0.015)
    ap.add_argument("--max-chars", type=int, default=120)
    args = ap.parse_args(argv)
    from kb import KnowledgeBase

    kb = KnowledgeBase.open(progress=False)
    dev = select_split(load_gold(), "dev")
    start = load_params()
    results = {"before the fit (dev)": figures(evaluate(kb, dev, start))}
    _log(_table(results))
    cv_cases = []
    if not args.no_cv:
        for k, (train, held) in enumerate(_folds(dev, args.folds), start=1):
            _log(f"fold {k}/{args.folds}: fit on {len(train)}, answer {len(held)}")
            cv_cases += evaluate(kb, held, fit_all(kb, train, start, args))
        results[f"dev, {args.folds}-fold cross-validation"] = figures(cv_cases)
    params = fit_all(kb, dev, start, args)
    results["dev, fitted on all of dev (in-sample)"] = figures(evaluate(kb, dev, params))
    print(_table(results))
    if not args.no_write:
        cv = results.get(f"dev, {args.folds}-fold cross-validation", {})
        params = params.with_values(fitted={"date": date.today().isoformat(), "folds": args.folds, "n": len(dev),
                                            **{k: round(v, 4) for k, v in cv.items() if v is not None}})
        header = (f"Written by `python -m eval.fit` on {date.today().isoformat()} from the {len(dev)} dev questions "
                  f"of eval/gold.jsonl; do not edit by hand.\n\n" + _table(results))
        PARAMS_PATH.write_text(dump_params(params, header) + "\n", encoding="utf-8")
        _log(f"wrote {PARAMS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
