"""One writer at a time: an OS file lock on the KB folder, or a lease in the Chroma server's state.

A second ``python -m kb ingest`` waits for the first (saying who holds the lock) and refuses with
a clear message after ``KB_WRITER_WAIT_SECONDS``. Each lock also tells its next holder whether
the previous writer finished: one that was killed may have left vectors the catalog does not
know, so the next ingest lists the collection instead of trusting the catalog.

    with writer_lock(settings, state) as lock:
        lock.previous_finished   # False after a killed ingest
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("kb")

LOCK_FILE = "ingest.lock"
LEASE_SECONDS = 30.0   # a crashed writer's lease blocks others this long at most
CONFIRM_SECONDS = 1.0  # Chroma has no compare-and-swap: write the lease, wait, read back who won
POLL_SECONDS = 0.5


class WriterBusy(RuntimeError):
    """Another ingest holds the knowledge base; the message names it and says what to do."""


def _holder(info: dict) -> str:
    return f"主机 {info.get('host', '?')}，进程 {info.get('pid', '?')}，开始于 {info.get('started', '?')}"


def _busy(info: dict, waited: float) -> WriterBusy:
    return WriterBusy(f"另一个导入正在写入这个知识库（{_holder(info)}），已等待 {waited:.0f} 秒仍未结束。"
                      "请等它完成后再运行 python -m kb ingest。"
                      f"Another ingest is writing this knowledge base; waited {waited:.0f} s.")


def _me() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "state": "running"}


class FolderLock:
    """``flock`` on ``<KB folder>/ingest.lock``; the OS releases it when the process dies."""

    def __init__(self, kb_dir: Path):
        self.path = kb_dir / LOCK_FILE
        self._fd: int | None = None
        self.previous_finished = True
        self.lease: ServerLease | None = None   # with a Chroma server, set by ``writer_lock``

    def acquire(self, wait_seconds: float, on_wait: Callable[[str], None] | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started, told = time.monotonic(), False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                info = _read_json(self.path)
                waited = time.monotonic() - started
                if waited >= wait_seconds:
                    os.close(fd)
                    raise _busy(info, waited) from None
                if not told and on_wait:
                    on_wait(f"另一个导入正在进行（{_holder(info)}），等待它结束… "
                            "Another ingest is running; waiting for it…")
                    told = True
                time.sleep(POLL_SECONDS)
        self._fd = fd
        self.previous_finished = _read_json(self.path).get("state") != "running"
        _write_json(fd, _me())

    def release(self) -> None:
        if self._fd is None:
            return
        _write_json(self._fd, {**_read_json(self.path), "state": "finished"})
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @staticmethod
    def held(kb_dir: Path) -> bool:
        """Some process is writing the folder right now (a reader's check; it takes nothing)."""
        try:
            fd = os.open(kb_dir / LOCK_FILE, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)


class ServerLease:
    """A ``lease`` record (in the lease collection, ``kb.publish``) with an expiry, renewed while the ingest runs."""

    def __init__(self, state, ttl: float = LEASE_SECONDS):
        self.state, self.ttl = state, ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.previous_finished = True
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _record(self) -> dict:
        return {**_me(), "owner": self.owner, "expires": time.time() + self.ttl}

    def acquire(self, wait_seconds: float, on_wait: Callable[[str], None] | None = None) -> None:
        started, told = time.monotonic(), False
        while True:
            current = self.state.lease()
            if current is None or not live(current):
                self.state.put_lease(self._record())
                time.sleep(CONFIRM_SECONDS)
                if (self.state.lease() or {}).get("owner") == self.owner:
                    self.previous_finished = current is None or current.get("state") == "finished"
                    break
                continue
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise _busy(current, waited)
            if not told and on_wait:
                on_wait(f"另一个导入正在进行（{_holder(current)}），等待它结束… "
                        "Another ingest is running; waiting for it…")
                told = True
            time.sleep(POLL_SECONDS)
        self._renewer = threading.Thread(target=self._renew, name="kb-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if self.still_mine():
                    self.state.put_lease(self._record())
            except Exception as err:  # noqa: BLE001 - the ingest itself will fail on the same server
                log.warning("导入租约续期失败：%s", err)

    def still_mine(self) -> bool:
        """Checked before publishing: a writer paused past its lease must not move the head."""
        current = self.state.lease() or {}
        return current.get("owner") == self.owner and live(current)

    def release(self) -> None:
        self._stop.set()
        if self._renewer:
            self._renewer.join()
        if (self.state.lease() or {}).get("owner") == self.owner:
            self.state.put_lease({**self._record(), "state": "finished", "expires": 0})


def live(lease: dict) -> bool:
    """The lease is held: not released and not expired (a crashed writer's lapses after ``ttl``)."""
    return lease.get("state") == "running" and float(lease.get("expires", 0)) > time.time()


@contextmanager
def writer_lock(kb_dir: Path, state, wait_seconds: float, on_wait: Callable[[str], None] | None = None):
    """The folder lock, and with a Chroma server (``state`` given) its lease as well."""
    lock = FolderLock(kb_dir)
    lock.acquire(wait_seconds, on_wait)
    lease = None
    try:
        if state is not None:
            lease = ServerLease(state)
            lease.acquire(wait_seconds, on_wait)
            lock.previous_finished = lock.previous_finished and lease.previous_finished
            lock.lease = lease
        yield lock
    finally:
        try:
            if lease is not None:
                lease.release()
        except Exception as err:  # noqa: BLE001 - the server went away: the lease lapses by itself
            log.warning("导入租约未能释放（%s 秒后自动失效）：%s", LEASE_SECONDS, err)
        lock.release()


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(fd: int, data: dict) -> None:
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, raw, 0)
    os.fsync(fd)
