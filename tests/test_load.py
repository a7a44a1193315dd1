"""Load: 50 concurrent clients × 10 questions against the real app (``python -m app``, keys on),
once on ``POST /api/ask`` and once on ``POST /v1/chat/completions`` (the ``openai`` client, half of
the clients streaming).

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
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest

from eval.gold import load_gold
from eval.metrics import percentile
from eval.targets import matches_any, ref_of_citation

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
CLIENTS, QUESTIONS_EACH = 50, 10
# Types whose first citation is one known clause (a "multi" question needs all its targets).
SINGLE_TARGET = ("factoid", "numeric", "reference", "english", "followup")
MIN_POOL = 40
KEY = "sk-plankb-load"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("load-kb")


@pytest.fixture(scope="module")
def app_url(kb_dir, embed_cache, full_sources):
    """The app as a user starts it, with keys on, on a fresh KB folder (embeddings come from the
    session cache), with the question log on as by default."""
    port = _free_port()
    env = {**os.environ, "KB_DIR": str(kb_dir), "KB_EMBED_CACHE": str(embed_cache),
           "KB_SOURCES": json.dumps([str(s) for s in full_sources]), "KB_PORT": str(port),
           "KB_HOST": "127.0.0.1", "HF_HUB_OFFLINE": "1", "KB_API_KEYS": KEY}
    for name in ("KB_AUTH", "KB_LLM_BASE_URL", "KB_RATE_LIMIT", "KB_LOG_QUESTIONS", "KB_ANALYTICS_URL"):
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


# -- what a question is, and what its answer must be ----------------------------------------
# An interface is a pair of functions over one gold question ``q``: asked alone (sync, to build the
# pool) and asked under load (async, by client number). Each returns (signature, citations, answer id):
# the signature is what must not change between the two, the citations' first must be the gold target,
# and the id is what the question log must hold exactly once.
def _questions() -> list:
    candidates = [q for q in load_gold() if q.answerable and q.type in SINGLE_TARGET]
    followups = [q for q in candidates if q.history]
    return followups + random.Random(7).sample([q for q in candidates if not q.history], 40)


def _pool(ask_alone, ids: list[str]) -> list:
    """Gold questions with the answer each gets when asked alone, kept when it cites its target first."""
    asked = _questions()
    kept, alone = [], []
    for q in asked:
        started = time.perf_counter()
        signature, citations, answer_id = ask_alone(q)
        alone.append(time.perf_counter() - started)
        ids.append(answer_id)
        if citations and matches_any(q.expect, ref_of_citation(citations[0])):
            kept.append((q, signature))
    # Enough questions with a known right answer to mix: how many cite their target is the eval's
    # business (python -m eval), not the load test's.
    assert len(kept) >= MIN_POOL, f"only {len(kept)} of {len(asked)} gold questions cite their target first alone"
    assert sum(1 for q, _ in kept if q.history) >= 5
    print(f"\none at a time: {len(alone)} requests, latency median {percentile(alone, 0.5) * 1000:.0f} ms; "
          f"{len(kept)} cite their gold target first and make the pool")
    return kept


def _load(pool: list, open_client, ask: Callable, label: str, ids: list[str]) -> None:
    """CLIENTS clients at once, each asking QUESTIONS_EACH questions (two of them follow-ups) in turn."""
    rng = random.Random(2024)
    followups = [p for p in pool if p[0].history]
    mixes = []
    for _ in range(CLIENTS):
        mix = rng.sample(pool, QUESTIONS_EACH - 2) + rng.sample(followups, 2)   # every client has follow-ups
        rng.shuffle(mix)
        mixes.append(mix)
    latencies: list[float] = []
    failures: list[str] = []

    async def one_client(number: int, mix: list) -> None:
        async with open_client() as client:
            for q, expected in mix:
                started = time.perf_counter()
                try:
                    signature, citations, answer_id = await ask(client, number, q)
                except Exception as err:  # noqa: BLE001 - every failure is counted and shown
                    failures.append(f"{q.id}: {type(err).__name__} {str(err)[:200]}")
                    continue
                latencies.append(time.perf_counter() - started)
                ids.append(answer_id)
                if signature != expected:
                    failures.append(f"{q.id}: answer differs from the one asked alone: "
                                    f"{[c['id'] for c in citations][:3]}, expected {expected[-1][:3]}")
                elif not matches_any(q.expect, ref_of_citation(citations[0])):
                    failures.append(f"{q.id}: first citation {citations[0]['id']} misses {q.expect}")

    async def run_all():
        await asyncio.gather(*(one_client(n, mix) for n, mix in enumerate(mixes)))

    started = time.perf_counter()
    asyncio.run(run_all())
    wall = time.perf_counter() - started
    total = CLIENTS * QUESTIONS_EACH
    print(f"\nload {label}: {total} requests from {CLIENTS} clients in {wall:.1f} s → {total / wall:.1f} req/s; "
          f"latency median {percentile(latencies, 0.5) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms; errors {len(failures)}")
    assert not failures, "\n".join(failures[:20])
    assert len(latencies) == total


def _assert_logged_exactly_once(url: str, db: Path, ids: list[str], interface: str) -> None:
    deadline = time.monotonic() + 60
    while (log := httpx.get(f"{url}/api/health", timeout=10).json()["question_log"])["pending"]:
        assert time.monotonic() < deadline, f"the question log did not catch up: {log}"
        time.sleep(0.2)
    assert log["ok"] and log["dropped"] == 0, log
    with sqlite3.connect(db) as conn:
        logged = [row[0] for row in conn.execute("SELECT id FROM questions WHERE interface = ?", (interface,))]
    assert len(ids) == len(set(ids)), "every answer has its own id"
    assert sorted(logged) == sorted(ids), (f"{len(ids)} answers, {len(logged)} rows; missing "
                                          f"{len(set(ids) - set(logged))}, unexpected {len(set(logged) - set(ids))}")
    print(f"question log ({interface}): {len(logged)} rows for {len(ids)} answers, each once")


# -- POST /api/ask ------------------------------------------------------------------------------
def _ask_body(q) -> dict:
    body = {"question": q.question}
    if q.history:
        body["history"] = list(q.history)
    return body


def _api_answer(r: httpx.Response) -> tuple:
    if r.status_code != 200:
        raise RuntimeError(f"HTTP {r.status_code} {r.text[:200]}")
    body = r.json()
    signature = body["question"], body["answer"], body["refused"], tuple(c["id"] for c in body["citations"])
    return signature, body["citations"], body["id"]


def test_fifty_concurrent_clients_get_their_own_correct_answers(app_url, kb_dir):
    ids: list[str] = []
    with httpx.Client(base_url=app_url, timeout=60, headers=AUTH) as client:
        pool = _pool(lambda q: _api_answer(client.post("/api/ask", json=_ask_body(q))), ids)

    async def ask(client, _number, q):
        return _api_answer(await client.post("/api/ask", json=_ask_body(q)))

    _load(pool, lambda: httpx.AsyncClient(base_url=app_url, timeout=120, headers=AUTH), ask, "POST /api/ask", ids)
    _assert_logged_exactly_once(app_url, kb_dir / "analytics.sqlite", ids, "api")


# -- POST /v1/chat/completions (half of the clients streaming) ---------------------------------
MODEL = "plan-kb-extractive"


def _messages(q) -> list[dict]:
    return [*(q.history or []), {"role": "user", "content": q.question}]


def _v1_answer(content: str, data) -> tuple:
    return (content, data.refused, tuple(c["id"] for c in data.citations)), data.citations, data.answer_id


async def _ask_v1(client: openai.AsyncOpenAI, number: int, q) -> tuple:
    if number % 2:
        done = await client.chat.completions.create(model=MODEL, messages=_messages(q))
        return _v1_answer(done.choices[0].message.content, done)
    pieces, last = [], None
    async for chunk in await client.chat.completions.create(model=MODEL, messages=_messages(q), stream=True):
        pieces.append(chunk.choices[0].delta.content or "")
        last = chunk
    if last is None or last.choices[0].finish_reason != "stop":
        raise RuntimeError(f"the stream ended without its final chunk: {last}")
    return _v1_answer("".join(pieces), last)


def test_fifty_openai_clients_half_streaming_get_their_own_correct_answers(app_url, kb_dir):
    ids: list[str] = []
    with openai.OpenAI(base_url=f"{app_url}/v1", api_key=KEY, max_retries=0, timeout=60) as client:
        assert MODEL in [m.id for m in client.models.list().data]

        def alone(q):
            done = client.chat.completions.create(model=MODEL, messages=_messages(q))
            return _v1_answer(done.choices[0].message.content, done)
        pool = _pool(alone, ids)

    def open_client():
        return openai.AsyncOpenAI(base_url=f"{app_url}/v1", api_key=KEY, max_retries=0, timeout=120)

    _load(pool, open_client, _ask_v1, "POST /v1/chat/completions", ids)
    _assert_logged_exactly_once(app_url, kb_dir / "analytics.sqlite", ids, "v1")
