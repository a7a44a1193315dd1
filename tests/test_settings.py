"""Every setting is documented in the README and loads from its KB_* variable."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from kb.settings import Settings

pytestmark = pytest.mark.unit
README = Path(__file__).resolve().parents[1] / "README.md"

SAMPLES = {"dir": "/tmp/somewhere", "sources": '["/tmp/a", "/tmp/b"]', "chroma_url": "http://127.0.0.1:8000",
           "embed_model": "sentence-transformers:BAAI/bge-small-zh-v1.5", "embed_cache": "/tmp/cache.sqlite",
           "sync_seconds": "0.5",
           "top_k": "7", "max_question_chars": "500", "max_file_mb": "12.5", "max_pdf_pages": "300",
           "host": "0.0.0.0", "port": "8080", "auth": "user:pass",
           "llm_base_url": "http://localhost:8000/v1", "llm_model": "qwen2.5", "llm_api_key": "sk-test",
           "llm_timeout": "12.5", "llm_max_tokens": "256", "llm_temperature": "0.3",
           "lexicon_dir": "/tmp/lexicon", "params_file": "/tmp/params.toml", "query_cache": "0",
           "log_questions": "0", "log_retention_days": "30", "log_buffer": "500",
           "analytics_url": "postgresql://kb:secret@db.internal/plankb", "admin_keys": "key-one,key-two",
           "api_keys": "sk-one,sk-two", "rate_limit": "60/min",
           "writer_wait_seconds": "90", "today": "2024-01-01"}


def readme_settings() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- settings-table:start -->")[1].split("<!-- settings-table:end -->")[0]
    return set(re.findall(r"^\| `(KB_[A-Z_]+)`", table, flags=re.MULTILINE))


def test_readme_table_lists_exactly_the_settings():
    assert readme_settings() == {f"KB_{name.upper()}" for name in Settings.model_fields}


def test_every_setting_has_a_description():
    assert all(field.description for field in Settings.model_fields.values())


def test_every_setting_loads_from_the_environment(monkeypatch):
    assert set(SAMPLES) == set(Settings.model_fields)
    for name, value in SAMPLES.items():
        monkeypatch.setenv(f"KB_{name.upper()}", value)
    s = Settings()
    assert s.dir == Path("/tmp/somewhere") and s.sources == [Path("/tmp/a"), Path("/tmp/b")]
    assert s.top_k == 7 and s.port == 8080 and s.llm_timeout == 12.5 and s.auth == "user:pass"
    assert s.embed_model.startswith("sentence-transformers:") and s.embed_cache_path == Path("/tmp/cache.sqlite")
    assert s.source_limits.max_file_bytes == int(12.5 * 1024 * 1024) and s.source_limits.max_pdf_pages == 300
    assert s.writer_wait_seconds == 90
    assert s.log_questions is False and s.log_retention_days == 30 and s.log_buffer == 500
    assert s.analytics_database == "postgresql://kb:secret@db.internal/plankb" and s.admin_keys == "key-one,key-two"
    assert s.today == date(2024, 1, 1)


def test_the_question_log_defaults_to_sqlite_in_the_kb_folder(monkeypatch):
    monkeypatch.delenv("KB_ANALYTICS_URL", raising=False)
    assert Settings(dir=Path("/srv/kb")).analytics_database == "sqlite:////srv/kb/analytics.sqlite"


def test_unknown_fields_are_rejected():
    with pytest.raises(ValidationError) as err:
        Settings(not_a_setting=1)
    assert "not_a_setting" in str(err.value) and "Extra inputs are not permitted" in str(err.value)
