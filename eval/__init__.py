"""The evaluation harness: the gold set, metrics as plain functions, baselines, report and gate.

    python -m eval --split all --gate          # what CI runs

    from eval.gold import load_gold
    from eval.metrics import Case, hit_at_k
    hit_at_k(cases, 1)   # {"score": 0.97, "per_question": [{"id": "q001", "value": 1.0, "rank": 1}, …]}
"""
