"""One writer at a time, on an embedded KB folder and on a real ``chroma run``; readers delete nothing.

The first writer is this process, held inside its ingest (``on_plan`` runs under the lock) until
the second, a real ``python -m kb ingest``, says it is waiting: the overlap is certain, not hoped for.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from chroma_proc import ChromaServer
from conftest import DATA, ROOT

from kb import KnowledgeBase, Settings
from kb.publish import SharedState
from kb.units import units_for
from kb.vectors import VectorIndex

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAITING = "另一个导入正在进行"


def _sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DATA / "plan_excerpt.txt", src / "plan_excerpt.txt")
    shutil.copy(DATA / "law_gb18030.txt", src / "law_gb18030.txt")
    return src


def _env(embed_cache: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    return env | {"KB_EMBED_CACHE": str(embed_cache), "HF_HUB_OFFLINE": "1", **extra}


def _state(kb: KnowledgeBase) -> dict:
    """What a user can observe: clauses, documents (but when they were ingested), and the vectors."""
    docs = [{k: v for k, v in vars(d).items() if k != "ingested_at"} for d in kb.documents()]
    return {"clauses": [c.to_json() for c in kb.clauses()], "documents": docs, "vectors": kb.vectors.ids()}


class SecondWriter:
    """``python -m kb ingest`` in the background, its stderr collected line by line."""

    def __init__(self, kb_dir: Path, src: Path, env: dict):
        self.proc = subprocess.Popen([sys.executable, "-m", "kb", "ingest", "--quiet", "--kb", str(kb_dir),
                                      "--source", str(src)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.err: list[str] = []
        self._reader = threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True)
        self._reader.start()

    def saw(self, text: str, seconds: float = 180) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(text in line for line in self.err):
                return True
            if self.proc.poll() is not None:
                self._reader.join(5)
                return any(text in line for line in self.err)
            time.sleep(0.1)
        return False

    def finish(self) -> tuple[int, str, str]:
        out = self.proc.stdout.read()
        code = self.proc.wait(timeout=600)
        self._reader.join(5)
        return code, out, "".join(self.err)


def _ingest_while(kb: KnowledgeBase, src: Path, during) -> None:
    """Ingest with this process holding the writer's lock while ``during()`` runs."""
    kb.ingest(sources=[src], progress=False, on_plan=lambda plan: during())


@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_two_concurrent_ingests_wait_for_each_other_and_equal_one(backend, tmp_path, embed_cache):
    src = _sources(tmp_path)
    server = ChromaServer(tmp_path / "chroma") if backend == "server" else None
    url = server.start() if server else None
    try:
        first = KnowledgeBase(Settings(dir=tmp_path / "kb", sources=[src], embed_cache=embed_cache, chroma_url=url))
        # The second writer shares the folder (embedded) or only the server (its own folder).
        second_dir = tmp_path / ("kb" if backend == "embedded" else "kb-second")
        env = _env(embed_cache, **({"KB_CHROMA_URL": url} if url else {}))
        outcome: dict = {}

        def second_waits() -> None:
            outcome["second"] = SecondWriter(second_dir, src, env)
            outcome["waited"] = outcome["second"].saw(WAITING)

        _ingest_while(first, src, second_waits)
        code, out, err = outcome["second"].finish()
        assert outcome["waited"], err
        assert code == 0, err
        assert "未变 2 个文件" in out and "嵌入 0 段" in out   # it ran after the first, and found it done

        single = KnowledgeBase.open(Settings(dir=tmp_path / "single", sources=[src], embed_cache=embed_cache),
                                    progress=False)
        reader_dir = tmp_path / ("reader" if url else "kb")   # embedded: the folder both wrote
        reader = KnowledgeBase.open(Settings(dir=reader_dir, sources=[src], embed_cache=embed_cache,
                                             chroma_url=url), progress=False)
        assert _state(reader) == _state(single)
        assert reader.vectors.count() == len({u.id for c in reader.clauses() for u in units_for(c)})
    finally:
        if server:
            server.stop()


def test_a_second_ingest_refuses_after_its_wait_with_a_clear_message(tmp_path, embed_cache):
    src = _sources(tmp_path)
    kb = KnowledgeBase(Settings(dir=tmp_path / "kb", sources=[src], embed_cache=embed_cache))
    outcome: dict = {}

    def impatient_second() -> None:
        second = SecondWriter(tmp_path / "kb", src, _env(embed_cache, KB_WRITER_WAIT_SECONDS="1"))
        outcome["result"] = second.finish()

    _ingest_while(kb, src, impatient_second)
    code, _, err = outcome["result"]
    assert code == 2 and "另一个导入正在写入这个知识库" in err and "python -m kb ingest" in err
    assert not kb.answer("某市小微企业服务促进条例第四条").refused   # the first one's result stands


def test_a_crashed_writers_lease_expires(tmp_path, embed_cache):
    """A writer killed mid-ingest leaves its lease; the next ingest waits for it to lapse, then runs."""
    src = _sources(tmp_path)
    with ChromaServer(tmp_path / "chroma") as url:
        settings = Settings(dir=tmp_path / "kb", sources=[src], embed_cache=embed_cache, chroma_url=url)
        kb = KnowledgeBase(settings)
        state = SharedState(kb.vectors)
        crashed = {"owner": "crashed:1:x", "host": "crashed", "pid": 1, "started": "earlier", "state": "running"}
        state.put_lease(crashed | {"expires": time.time() + 3})
        second = SecondWriter(settings.dir, src, _env(embed_cache, KB_CHROMA_URL=url))
        deadline = time.monotonic() + 180
        while not second.saw(WAITING, seconds=1):   # the "writer" renews until the second one waits, then dies
            assert time.monotonic() < deadline and second.proc.poll() is None, second.err
            state.put_lease(crashed | {"expires": time.time() + 3})
        code, out, err = second.finish()
        assert code == 0, err
        assert "新增 2" in out and (state.lease() or {}).get("state") == "finished"


NEWER = ("import kb.vectors; kb.vectors.CHUNKING_VERSION = 'u99'\n"   # a process of the next version
         "import sys; from pathlib import Path; from kb import KnowledgeBase, Settings\n"
         "kb = KnowledgeBase.open(Settings(dir=Path(sys.argv[1]), sources=[Path(sys.argv[2])]), progress=False)\n"
         "print(kb.vectors.name, kb.vectors.count())\n")


NEWER_CLI = ("import kb.vectors; kb.vectors.CHUNKING_VERSION = 'u99'\n"
             "import sys; from kb.__main__ import main; sys.exit(main(sys.argv[1:]))")


def _newer_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    """``python -m kb …`` as the next chunking version runs it."""
    return subprocess.run([sys.executable, "-c", NEWER_CLI, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _newer_process(kb_dir: Path, src: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NEWER, str(kb_dir), str(src)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_a_process_of_a_newer_chunking_version_deletes_nothing(backend, tmp_path, embed_cache):
    src = _sources(tmp_path)
    server = ChromaServer(tmp_path / "chroma") if backend == "server" else None
    url = server.start() if server else None
    try:
        old = KnowledgeBase.open(Settings(dir=tmp_path / "kb", sources=[src], embed_cache=embed_cache,
                                          chroma_url=url), progress=False)
        before = old.vectors.ids()
        head = SharedState(old.vectors).head() if url else None
        old.close()

        env = _env(embed_cache, **({"KB_CHROMA_URL": url} if url else {}))
        newer_dir = tmp_path / ("kb" if backend == "embedded" else "kb-newer")
        newer = _newer_process(newer_dir, src, env)
        assert newer.returncode == 0, newer.stderr
        assert newer.stdout.split()[0].endswith("-u99") and int(newer.stdout.split()[1]) == len(before)

        still = VectorIndex(tmp_path / "kb", old.embedder.name, url)   # this process: the current version
        assert still.ids() == before
        if url:
            assert SharedState(still).head().generation == head.generation

        # kb gc, run by the newer version, removes the old collections (its own is published).
        gc = _newer_cli(env, "gc", "--kb", str(newer_dir))
        assert gc.returncode == 0, gc.stderr
        assert f"已删除 deleted {still.name}" in gc.stdout
        # Listed through the client opened before gc: a new VectorIndex of u4 would create the collection again.
        names = [getattr(c, "name", c) for c in still.client.list_collections()]
        assert still.name not in names and still.name.replace("-u4", "-u99") in names
    finally:
        if server:
            server.stop()


def test_gc_refuses_while_its_version_has_nothing_published(tmp_path, embed_cache):
    src = _sources(tmp_path)
    kb = KnowledgeBase.open(Settings(dir=tmp_path / "kb", sources=[src], embed_cache=embed_cache), progress=False)
    count = kb.vectors.count()
    kb.close()
    env = _env(embed_cache)
    gc = _newer_cli(env, "gc", "--kb", str(tmp_path / "kb"))
    assert gc.returncode == 2 and "还没有可用的知识库版本" in gc.stderr
    assert json.loads((tmp_path / "kb" / "manifest.json").read_text(encoding="utf-8"))["collection"].endswith("-u4")
    assert VectorIndex(tmp_path / "kb", kb.embedder.name).count() == count > 0
