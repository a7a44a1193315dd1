"""Keys, login and rate limit of the machine interfaces (app.access), without a server.

Over HTTP, with the real clients, they are tested in test_openai_api.py and test_mcp.py.
"""
from __future__ import annotations

import base64

import pytest

from app.access import (
    AccessPolicy,
    RateLimit,
    RateLimiter,
    bearer_key,
    error_body,
    parse_keys,
)
from kb import Settings

pytestmark = pytest.mark.unit


class Clock:
    """A hand-turned clock, so the bucket's refill is exact."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- KB_API_KEYS ------------------------------------------------------------------------------
def test_keys_come_as_a_comma_list_or_from_a_file_with_comments(tmp_path):
    assert parse_keys(" sk-one, sk-two ,") == {"sk-one", "sk-two"}
    keys = tmp_path / "keys.txt"
    keys.write_text("# 办公室 office\nsk-office\n\nsk-dify  # 区里的 Dify\nsk-a,sk-b\n", encoding="utf-8")
    assert parse_keys(f"@{keys}") == {"sk-office", "sk-dify", "sk-a", "sk-b"}
    assert parse_keys(None) == parse_keys("") == parse_keys("  ") == frozenset()


@pytest.mark.parametrize("spec, words", [
    (" , ,", ["没有密钥", "holds no key"]),
    ("sk one", ["空格", "spaces"]),
])
def test_a_set_but_useless_key_setting_is_an_error_not_an_open_door(spec, words):
    with pytest.raises(ValueError) as err:
        parse_keys(spec)
    assert all(w in str(err.value) for w in words)


def test_a_key_file_that_is_missing_or_empty_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="无法读取密钥文件.*cannot read the key file"):
        parse_keys(f"@{tmp_path / 'nope.txt'}")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ValueError, match="没有密钥"):
        parse_keys(f"@{empty}")


def test_bearer_key_accepts_only_a_listed_key_under_the_bearer_scheme():
    keys = frozenset({"sk-one", "sk-two"})
    assert bearer_key("Bearer sk-two", keys) == "sk-two"
    assert bearer_key("bearer  sk-one ", keys) == "sk-one"
    assert bearer_key("Bearer sk-three", keys) is None
    assert bearer_key("Bearer sk-one-and-more", keys) is None
    assert bearer_key("Basic c2stb25l", keys) is None
    assert bearer_key(None, keys) is None and bearer_key("Bearer ", keys) is None


# -- the policy -------------------------------------------------------------------------------
@pytest.mark.parametrize("path, guarded", [
    ("/v1/models", True), ("/v1/chat/completions", True), ("/mcp", True), ("/api/ask", True),
    ("/api/clause", True), ("/api/health", False), ("/api/docs", False), ("/api/admin/summary", False),
    ("/", False), ("/gradio_api/queue/join", False), ("/apiary", False), ("/v1x", False),
])
def test_which_paths_are_guarded(path, guarded):
    assert AccessPolicy.guards(path) is guarded


def test_keys_missing_wrong_and_right_say_different_things():
    policy = AccessPolicy(keys=frozenset({"sk-one"}))
    missing, wrong = policy.check(None, "10.0.0.7"), policy.check("Bearer sk-nope", "10.0.0.7")
    assert missing.status == wrong.status == 401
    assert "需要 API 密钥" in missing.message and "Authorization: Bearer" in missing.message
    assert "API 密钥无效" in wrong.message and "invalid API key" in wrong.message
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert policy.check("Bearer sk-one", "10.0.0.7") is None


def test_without_keys_the_app_login_guards_the_interfaces_and_points_to_keys():
    policy = AccessPolicy(login=("ann", "s3:cret"))
    basic = "Basic " + base64.b64encode(b"ann:s3:cret").decode()
    assert policy.check(basic, "10.0.0.7") is None
    denied = policy.check("Basic " + base64.b64encode(b"ann:wrong").decode(), "10.0.0.7")
    assert denied.status == 401 and "KB_API_KEYS" in denied.message
    assert denied.headers["WWW-Authenticate"].startswith("Basic")
    assert AccessPolicy().check(None, "10.0.0.7") is None        # nothing set: open, as before


def test_the_rate_limit_counts_per_key_and_says_when_to_retry():
    clock = Clock()
    policy = AccessPolicy(keys=frozenset({"sk-one", "sk-two"}), limiter=RateLimiter(RateLimit(3, 60), clock))
    assert [policy.check("Bearer sk-one", "a") for _ in range(3)] == [None] * 3
    refused = policy.check("Bearer sk-one", "b")         # the same key from another address
    assert refused.status == 429 and refused.headers["Retry-After"] == "20"
    assert "每分钟最多 3 次" in refused.message and "retry in 20 s" in refused.message
    assert policy.check("Bearer sk-two", "a") is None     # another key has its own bucket
    clock.now += 20                                      # one request's worth refilled
    assert policy.check("Bearer sk-one", "a") is None
    assert policy.check("Bearer sk-one", "a").status == 429


def test_without_keys_the_rate_limit_counts_per_address():
    clock = Clock()
    policy = AccessPolicy(limiter=RateLimiter(RateLimit(1, 1), clock))
    assert policy.check(None, "10.0.0.7") is None and policy.check(None, "10.0.0.8") is None
    assert policy.check(None, "10.0.0.7").headers["Retry-After"] == "1"


def test_idle_clients_are_forgotten_so_memory_stays_bounded():
    clock = Clock()
    limiter = RateLimiter(RateLimit(5, 1), clock, max_clients=100)
    for i in range(100):
        limiter.acquire(f"c{i}")
    clock.now += 5
    limiter.acquire("new")
    assert len(limiter._buckets) == 1


@pytest.mark.parametrize("spec, expected", [
    ("60/min", RateLimit(60, 60)), ("5/s", RateLimit(5, 1)), ("1000/hour", RateLimit(1000, 3600)),
    ("100 / 2min", RateLimit(100, 120)), ("10/MINS", RateLimit(10, 60)), (None, None), ("", None),
])
def test_rate_limits_are_written_as_requests_per_period(spec, expected):
    assert RateLimit.parse(spec) == expected


@pytest.mark.parametrize("spec", ["60", "sixty/min", "0/min", "5/0min", "5/fortnight"])
def test_a_malformed_rate_limit_says_how_to_write_one(spec):
    with pytest.raises(ValueError, match="应写成.*60/min"):
        RateLimit.parse(spec)


def test_settings_that_cannot_work_stop_the_app_with_the_reason():
    with pytest.raises(ValueError, match="KB_RATE_LIMIT"):
        AccessPolicy.from_settings(Settings(rate_limit="lots"))
    with pytest.raises(ValueError, match="KB_API_KEYS"):
        AccessPolicy.from_settings(Settings(api_keys=","))
    policy = AccessPolicy.from_settings(Settings(api_keys="sk-one", rate_limit="60/min", auth="ann:pw"))
    assert policy.keys == {"sk-one"} and policy.login == ("ann", "pw") and policy.limiter.limit == RateLimit(60, 60)


def test_each_interface_gets_its_own_error_shape():
    policy = AccessPolicy(keys=frozenset({"sk-one"}))
    denial = policy.check(None, "a")
    assert error_body("/v1/models", denial)["error"]["code"] == "invalid_api_key"
    assert error_body("/mcp", denial) == {"error": "invalid_token", "error_description": denial.message}
    assert error_body("/api/ask", denial) == {"detail": denial.message}
