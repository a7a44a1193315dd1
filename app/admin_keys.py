"""Admin keys (KB_ADMIN_KEYS): the one place that decides whether a caller is an administrator.

The admin tab and every /api/admin/* route ask ``is_admin``; the routes through ``require_admin``,
which reads ``Authorization: Bearer <key>``.
"""
from __future__ import annotations

from fastapi import HTTPException, Request

from app.access import bearer_key, parse_keys


def admin_keys(setting: str | None) -> frozenset[str]:
    """``"k1, k2"`` or ``@file`` → the keys, read as KB_API_KEYS is (app.access.parse_keys)."""
    return parse_keys(setting, "KB_ADMIN_KEYS")


def is_admin(keys: frozenset[str], presented: str | None) -> bool:
    """The key typed into the admin tab is one of ``keys`` (compared in constant time)."""
    return bool(presented) and bearer_key(f"Bearer {presented}", keys) is not None


def require_admin(keys: frozenset[str]):
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
