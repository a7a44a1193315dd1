"""``python -m app`` reads the same settings as the kb: KB_* variables, overridden by flags."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.__main__ import settings_from_args
from app.access import parse_auth

pytestmark = pytest.mark.unit


def test_defaults_bind_to_localhost_7860(monkeypatch):
    for name in ("KB_HOST", "KB_PORT", "KB_AUTH", "KB_DIR"):
        monkeypatch.delenv(name, raising=False)
    s = settings_from_args([])
    assert (s.host, s.port, s.auth) == ("127.0.0.1", 7860, None)


def test_flags_override_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_PORT", "9000")
    monkeypatch.setenv("KB_HOST", "0.0.0.0")
    s = settings_from_args(["--port", "7001", "--kb", str(tmp_path), "--auth", "ann:s3:cret"])
    assert s.port == 7001 and s.host == "0.0.0.0"      # --port wins, KB_HOST still applies
    assert s.dir == Path(tmp_path) and s.auth == "ann:s3:cret"


def test_auth_must_be_user_colon_password():
    assert parse_auth("ann:s3:cret") == ("ann", "s3:cret")
    assert parse_auth(None) is None
    for bad in ("ann", "ann:", ":pw"):
        with pytest.raises(ValueError, match="user:pass"):
            parse_auth(bad)
