"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests: Debian's server binaries, a temporary data folder.

    with PostgresServer(tmp_path / "pg") as url:   # postgresql://postgres@127.0.0.1:PORT/postgres
        ...
        server.stop(); server.start()              # same folder, same port: a database that went away

Run as root (CI), the data folder is handed to the ``postgres`` user and the server runs as that user,
since PostgreSQL refuses to run as root.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path


def postgres_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` (Debian's layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One cluster in ``path``; ``start()``/``stop()`` keep its folder and port."""

    def __init__(self, path: Path, port: int | None = None):
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
        self.bindir, self.path, self.port = bindir, Path(path), port or free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._proc: subprocess.Popen | None = None
        # PostgreSQL will not run as root: a root caller runs it as the `postgres` user.
        self._user = "postgres" if os.geteuid() == 0 else None

    def _run_as(self) -> dict:
        return {"user": self._user, "group": pwd.getpwnam(self._user).pw_gid} if self._user else {}

    def _initdb(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        if self._user:
            owner = pwd.getpwnam(self._user)
            for p in self.path.parents:   # the server user must be able to reach its folder (search only)
                if not p.stat().st_mode & 0o001:
                    os.chmod(p, p.stat().st_mode | 0o001)
            os.chown(self.path, owner.pw_uid, owner.pw_gid)
            os.chown(self.path.parent, owner.pw_uid, owner.pw_gid)   # for the server's log file beside it
        done = subprocess.run([str(self.bindir / "initdb"), "-D", str(self.path), "-U", "postgres", "--auth=trust",
                               "-E", "UTF8", "--locale=C", "--no-sync"], capture_output=True, text=True, check=False,
                              **self._run_as())
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()}")

    def start(self, timeout: float = 60) -> str:
        if not (self.path / "PG_VERSION").exists():
            self._initdb()
        log = open(self.path.parent / f"{self.path.name}.log", "ab")   # noqa: SIM115 - the server keeps it
        self._proc = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.path), "-p", str(self.port), "-k", str(self.path),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
            stdout=log, stderr=log, **self._run_as())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self._proc.returncode}; see {log.name}")
            ready = subprocess.run([str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True, check=False)
            if ready.returncode == 0:
                return self.url
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"postgres did not come up on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        """A fast shutdown (SIGINT): open connections are cut, as when a database server goes away."""
        if self._proc is not None:
            self._proc.send_signal(2)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
