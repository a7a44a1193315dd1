"""Who may call the machine interfaces (/v1, /mcp, /api) and how often.

- ``KB_API_KEYS`` set: every request there needs ``Authorization: Bearer <key>``.
- otherwise ``KB_AUTH`` set: the app's ``user:pass`` login (HTTP Basic), so no interface is more
  open than the page; OpenAI and MCP clients need keys then, and the 401 says so.
- neither: open, as a knowledge base of public documents on a trusted network may well be.

``/api/health`` (monitoring) and the API's docs stay open; ``/api/admin`` checks its own keys.
``KB_RATE_LIMIT`` (``60/min``) is a token bucket per key, or per client address without keys,
answered with 429 and ``Retry-After``.

The admin endpoints use the same check with their own keys::

    keys = parse_keys(settings.admin_keys, "KB_ADMIN_KEYS")
    if bearer_key(request.headers.get("authorization"), keys) is None: ...
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb import Settings

GUARDED = ("/v1", "/mcp", "/api")
OPEN = ("/api/health", "/api/docs", "/api/openapi.json")
# The admin endpoints check their own keys (KB_ADMIN_KEYS) with ``bearer_key``; an API key opens nothing there.
OWN_KEYS = ("/api/admin",)
KEY_MISSING = ("需要 API 密钥：请在请求头加入 Authorization: Bearer <密钥>（密钥由管理员通过 KB_API_KEYS 设置） / "
               "API key required: send the header Authorization: Bearer <key>")
KEY_WRONG = "API 密钥无效，请检查密钥是否完整、是否已停用 / invalid API key: check that it is complete and still valid"
LOGIN_NEEDED = ("需要登录：请使用本应用的用户名和密码（HTTP Basic）；OpenAI 或 MCP 客户端请让管理员设置 KB_API_KEYS / "
                "authentication required: use the app's user name and password (HTTP Basic); "
                "for OpenAI or MCP clients ask the administrator to set KB_API_KEYS")
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
            "d": 86400, "day": 86400}
_PERIOD_NAMES = {1: ("秒", "second"), 60: ("分钟", "minute"), 3600: ("小时", "hour"), 86400: ("天", "day")}


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """``user:pass`` → (user, pass); the password may itself contain colons."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth / KB_AUTH 应写成 user:pass / must look like user:pass")
    return user, password


def parse_keys(spec: str | None, variable: str = "KB_API_KEYS") -> frozenset[str]:
    """``a,b,c`` or ``@/path/keys.txt`` (one key per line, ``#`` comments) → the set of keys.

    Unset or empty means no keys; set but holding none is an error, never a silently open door.
    """
    if spec is None or not spec.strip():
        return frozenset()
    spec = spec.strip()
    if spec.startswith("@"):
        path = Path(spec[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"{variable}: 无法读取密钥文件 {path}（{err}） / cannot read the key file") from None
        items = [line.split("#", 1)[0] for line in text.splitlines()]
        items = [k for line in items for k in line.split(",")]
    else:
        items = spec.split(",")
    keys = [k.strip() for k in items if k.strip()]
    if not keys:
        raise ValueError(f"{variable} 已设置，但其中没有密钥 / is set but holds no key")
    if any(re.search(r"[\s\x00-\x1f\x7f]", k) for k in keys):
        raise ValueError(f"{variable}: 密钥中不能有空格或控制字符 / keys must not contain spaces or control characters")
    return frozenset(keys)


def bearer_key(authorization: str | None, keys: frozenset[str]) -> str | None:
    """The key sent as ``Bearer <key>`` when it is one of ``keys`` (compared in constant time), else None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    sent = token.strip().encode("utf-8", "surrogatepass")
    found = None
    for key in keys:   # every key is compared, so the time does not say which one nearly matched
        if hmac.compare_digest(key.encode(), sent):
            found = key
    return found


def _basic_login_ok(authorization: str | None, login: tuple[str, str]) -> bool:
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    ok_user = hmac.compare_digest(user.encode(), login[0].encode())
    ok_password = hmac.compare_digest(password.encode(), login[1].encode())
    return bool(sep) and ok_user and ok_password


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: int

    @classmethod
    def parse(cls, spec: str | None) -> RateLimit | None:
        """``60/min``, ``5/s``, ``1000/hour``, ``100/2min`` → RateLimit; unset → None."""
        if spec is None or not spec.strip():
            return None
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*", spec.lower())
        name = m.group(3) if m else ""
        unit = _PERIODS.get(name) or _PERIODS.get(name.removesuffix("s"))   # min, mins, hours
        if not m or unit is None or int(m.group(1)) < 1 or m.group(2) == "0":
            raise ValueError(f"KB_RATE_LIMIT={spec!r} 应写成「次数/时间」，如 60/min、5/s、1000/hour / "
                             "must look like 60/min, 5/s or 1000/hour")
        return cls(int(m.group(1)), unit * int(m.group(2) or 1))

    def describe(self) -> tuple[str, str]:
        zh, en = _PERIOD_NAMES.get(self.seconds, (f" {self.seconds} 秒", f"{self.seconds} seconds"))
        return f"每{zh}最多 {self.requests} 次", f"{self.requests} requests per {en}"


@dataclass
class RateLimiter:
    """A token bucket per client: ``requests`` at once, refilled evenly over the period.

    Each app process counts on its own; behind a proxy with N processes a client gets up to N×.
    """

    limit: RateLimit
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 10_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)   # client → (tokens, when)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, client: str) -> float:
        """0 when the request may go ahead (and is counted), else the seconds until it may."""
        rate = self.limit.requests / self.limit.seconds
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(client, (float(self.limit.requests), now))
            tokens = min(float(self.limit.requests), tokens + (now - then) * rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > self.max_clients:
                    self._forget_idle(now, rate)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / rate

    def _forget_idle(self, now: float, rate: float) -> None:
        """Drop clients whose bucket has refilled: they are indistinguishable from new ones."""
        full = [c for c, (t, when) in self._buckets.items() if t + (now - when) * rate >= self.limit.requests]
        for c in full:
            del self._buckets[c]


@dataclass(frozen=True)
class Denial:
    status: int
    message: str
    code: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccessPolicy:
    keys: frozenset[str] = frozenset()
    login: tuple[str, str] | None = None
    limiter: RateLimiter | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        """Raises ValueError with a bilingual message for a malformed setting."""
        limit = RateLimit.parse(settings.rate_limit)
        return cls(parse_keys(settings.api_keys), parse_auth(settings.auth), RateLimiter(limit) if limit else None)

    @staticmethod
    def guards(path: str) -> bool:
        def under(prefix: str) -> bool:
            return path == prefix or path.startswith(prefix + "/")
        return any(under(p) for p in GUARDED) and not any(under(p) for p in OPEN + OWN_KEYS)

    def check(self, authorization: str | None, client_address: str) -> Denial | None:
        """None when the request may go ahead (it is then counted against its rate limit)."""
        if self.keys:
            key = bearer_key(authorization, self.keys)
            if key is None:
                missing = not (authorization or "").strip().lower().startswith("bearer ")
                return Denial(401, KEY_MISSING if missing else KEY_WRONG, "invalid_api_key",
                              {"WWW-Authenticate": 'Bearer realm="plan-kb"'})
            client = "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
        elif self.login is not None:
            if not _basic_login_ok(authorization, self.login):
                return Denial(401, LOGIN_NEEDED, "authentication_required",
                              {"WWW-Authenticate": 'Basic realm="plan-kb"'})
            client = "login"
        else:
            client = "addr:" + client_address
        if self.limiter is not None:
            wait = self.limiter.acquire(client)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                zh, en = self.limiter.limit.describe()
                return Denial(429, f"请求过于频繁（{zh}），请 {seconds} 秒后再试 / rate limit reached ({en}); "
                                   f"retry in {seconds} s", "rate_limit_exceeded", {"Retry-After": str(seconds)})
        return None


def error_body(path: str, denial: Denial) -> dict:
    """Each interface's own error shape, so its clients show the message: OpenAI's under /v1,
    OAuth's (what MCP clients read) under /mcp, the JSON API's ``detail`` elsewhere."""
    if path.startswith("/v1"):
        kind = "requests" if denial.status == 429 else "invalid_request_error"
        return {"error": {"message": denial.message, "type": kind, "param": None, "code": denial.code}}
    if path.startswith("/mcp"):
        return {"error": "invalid_token" if denial.status == 401 else denial.code,
                "error_description": denial.message}
    return {"detail": denial.message}


class AccessGuard:
    """ASGI middleware applying an ``AccessPolicy`` before any route (streaming ones and the
    mounted MCP app included) sees the request."""

    def __init__(self, app, policy: AccessPolicy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.policy.guards(scope["path"]):
            return await self.app(scope, receive, send)
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        address = (scope.get("client") or ("unknown", 0))[0]
        denial = self.policy.check(authorization, address)
        if denial is None:
            return await self.app(scope, receive, send)
        body = json.dumps(error_body(scope["path"], denial), ensure_ascii=False).encode()
        headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in denial.headers.items()]
        await send({"type": "http.response.start", "status": denial.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
