"""Load: 50 concurrent clients × 10 questions against ``POST /api/ask`` of the real app (``python -m app``).

Every answer must be the one the question gets when asked alone, and its first citation the gold
target: a session that leaked into another (a follow-up answered with someone else's history) shows
up as a wrong answer. The question log is on (SQLite in the KB folder): every request must be in it
exactly once, under the id its answer carried. Latency and throughput are printed, not asserted.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from eval.gold import load_gold
from eval.metrics import percentile
from eval.targets import matches_any, ref_of_citation

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
CLIENTS, QUESTIONS_EACH = 50, 10
# Types whose first citation is one known clause (a "multi" question needs all its targets).
SINGLE_TARGET = ("factoid", "numeric", "reference", "english", "followup")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("load-kb")


@pytest.fixture(scope="module")
def answer_ids() -> list[str]:
    """The id of every answer the app returned in this module."""
    return []


@pytest.fixture(scope="module")
def app_url(kb_dir, embed_cache, full_sources):
    """The app as a user starts it, on a fresh KB folder (embeddings come from the session cache),
    with the question log on as by default."""
    port = _free_port()
    env = {**os.environ, "KB_DIR": str(kb_dir), "KB_EMBED_CACHE": str(embed_cache),
           "KB_SOURCES": json.dumps([str(s) for s in full_sources]), "KB_PORT": str(port),
           "KB_HOST": "127.0.0.1", "HF_HUB_OFFLINE": "1"}
    for name in ("KB_AUTH", "KB_LLM_BASE_URL", "KB_LOG_QUESTIONS", "KB_ANALYTICS_URL"):
        env.pop(name, None)
    log = kb_dir.parent / "load-app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"python -m app exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not become healthy in 300 s:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _request(q) -> dict:
    body = {"question": q.question}
    if q.history:
        body["history"] = list(q.history)
    return body


def _signature(body: dict) -> tuple:
    """What must not change between asking alone and asking under load."""
    return body["question"], body["answer"], body["refused"], tuple(c["id"] for c in body["citations"])


@pytest.fixture(scope="module")
def pool(app_url, answer_ids):
    """Answerable gold questions with the answer each gets when asked alone, kept when it cites its target first."""
    candidates = [q for q in load_gold() if q.answerable and q.type in SINGLE_TARGET]
    followups = [q for q in candidates if q.history]
    others = random.Random(7).sample([q for q in candidates if not q.history], 40)
    kept, alone = [], []
    with httpx.Client(base_url=app_url, timeout=60) as client:
        for q in followups + others:
            started = time.perf_counter()
            r = client.post("/api/ask", json=_request(q))
            alone.append(time.perf_counter() - started)
            assert r.status_code == 200, r.text
            body = r.json()
            answer_ids.append(body["id"])
            if body["citations"] and matches_any(q.expect, ref_of_citation(body["citations"][0])):
                kept.append((q, _signature(body)))
    assert len(kept) >= 0.8 * len(followups + others), "most gold questions cite their target first when asked alone"
    assert sum(1 for q, _ in kept if q.history) >= 5
    print(f"\none at a time: {len(alone)} requests, latency median {percentile(alone, 0.5) * 1000:.0f} ms")
    return kept


async def _client(url: str, mix: list, latencies: list, failures: list, ids: list) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for q, expected in mix:
            started = time.perf_counter()
            try:
                r = await client.post("/api/ask", json=_request(q))
            except httpx.HTTPError as err:
                failures.append(f"{q.id}: {type(err).__name__} {err}")
                continue
            latencies.append(time.perf_counter() - started)
            if r.status_code != 200:
                failures.append(f"{q.id}: HTTP {r.status_code} {r.text[:200]}")
                continue
            body = r.json()
            ids.append(body["id"])
            if _signature(body) != expected:
                failures.append(f"{q.id}: answer differs from the one asked alone: {body['question']!r} → "
                                f"{[c['id'] for c in body['citations']][:3]}, expected {expected[3][:3]}")
            elif not matches_any(q.expect, ref_of_citation(body["citations"][0])):
                failures.append(f"{q.id}: first citation {body['citations'][0]['id']} misses {q.expect}")


def test_fifty_concurrent_clients_get_their_own_correct_answers(app_url, pool, answer_ids, kb_dir):
    rng = random.Random(2024)
    followups = [p for p in pool if p[0].history]
    mixes = []
    for _ in range(CLIENTS):
        mix = rng.sample(pool, QUESTIONS_EACH - 2) + rng.sample(followups, 2)   # every client has follow-ups
        rng.shuffle(mix)
        mixes.append(mix)
    latencies: list[float] = []
    failures: list[str] = []

    async def run_all():
        await asyncio.gather(*(_client(app_url, mix, latencies, failures, answer_ids) for mix in mixes))

    started = time.perf_counter()
    asyncio.run(run_all())
    wall = time.perf_counter() - started
    total = CLIENTS * QUESTIONS_EACH
    print(f"\nload: {total} requests from {CLIENTS} clients in {wall:.1f} s → {total / wall:.1f} req/s; "
          f"latency median {percentile(latencies, 0.5) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms; errors {len(failures)}")
    assert not failures, "\n".join(failures[:20])
    assert len(latencies) == total
    _assert_logged_exactly_once(app_url, kb_dir / "analytics.sqlite", answer_ids)


def _assert_logged_exactly_once(url: str, db: Path, ids: list[str]) -> None:
    deadline = time.monotonic() + 60
    while (log := httpx.get(f"{url}/api/health", timeout=10).json()["question_log"])["pending"]:
        assert time.monotonic() < deadline, f"the question log did not catch up: {log}"
        time.sleep(0.2)
    assert log["ok"] and log["dropped"] == 0, log
    with sqlite3.connect(db) as conn:
        logged = [row[0] for row in conn.execute("SELECT id FROM questions WHERE interface = 'api'")]
    assert len(ids) == len(set(ids)), "every answer has its own id"
    assert sorted(logged) == sorted(ids), (f"{len(ids)} answers, {len(logged)} rows; missing "
                                          f"{len(set(ids) - set(logged))}, unexpected {len(set(logged) - set(ids))}")
    print(f"question log: {len(logged)} rows for {len(ids)} answers, each once")
