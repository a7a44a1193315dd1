"""A ``chroma run`` server on 127.0.0.1 for the length of a ``with`` block."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.timing import process_peak_rss_mib


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """    with ChromaServer(tmp / "chroma-server") as server:
            Settings(chroma_url=server.url, ...)
            server.peak_rss_mib()
    """

    def __init__(self, path: Path, startup_seconds: float = 60):
        self.path, self.startup_seconds = path, startup_seconds
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        self.path.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([exe, "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"chroma run did not answer on {self.url} within {self.startup_seconds:.0f} s")

    def peak_rss_mib(self) -> float | None:
        return process_peak_rss_mib(self.proc.pid) if self.proc else None

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
