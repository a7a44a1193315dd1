"""Admin keys (KB_ADMIN_KEYS): the one place that decides whether a caller is an administrator.

The admin tab and every /api/admin/* route ask ``is_admin``; the routes through ``require_admin``,
which reads ``Authorization: Bearer <key>``.
"""
from __future__ import annotations

import secrets

from fastapi import HTTPException, Request


def admin_keys(setting: str | None) -> tuple[str, ...]:
    """``"k1, k2"`` → ("k1", "k2"); empty entries are ignored."""
    return tuple(k.strip() for k in (setting or "").split(",") if k.strip())


def is_admin(keys: tuple[str, ...], presented: str | None) -> bool:
    """Constant-time comparison against every key (no early exit that would time which one matched)."""
    if not presented:
        return False
    given = presented.strip().encode("utf-8")
    return any([secrets.compare_digest(given, k.encode("utf-8")) for k in keys])  # noqa: C419 - all keys, always


def require_admin(keys: tuple[str, ...]):
    """A FastAPI dependency: 404 when no admin key is configured, 401 without a key, 403 with a wrong one."""

    def check(request: Request) -> None:
        if not keys:
            raise HTTPException(404, "管理视图未启用：请设置 KB_ADMIN_KEYS / the admin view is off: set KB_ADMIN_KEYS")
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "需要管理员密钥：Authorization: Bearer <key> / admin key required",
                                headers={"WWW-Authenticate": "Bearer"})
        if not is_admin(keys, token):
            raise HTTPException(403, "管理员密钥不正确 / wrong admin key")
    return check
