"""A throwaway PostgreSQL server for the test suite, from Debian's postgresql package.

`PostgresServer().start()` makes a cluster in a new temporary folder (initdb), starts it on a free
port of 127.0.0.1 with its socket in that folder, and `stop()` ends it and removes the folder.
PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` account (created by
the Debian package) and initdb and pg_ctl run under it (subprocess's `user=`, no su or sudo needed).
Durability is switched off (fsync, synchronous_commit, full_page_writes): a test server is thrown
away, and this makes it several times faster.  No mocks: this is the real server.

Used by tests/conftest.py (the `backend` fixture) and benchmarks/bench_history.py.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVER_USER = "postgres"         # who runs the server when we are root
SUPERUSER = "wangge"             # the cluster's superuser role (trust authentication on 127.0.0.1 only)


class PostgresUnavailable(RuntimeError):
    """The server could not be started (say why, with the log's last lines)."""


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[-3].split(".")])
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("没有找到 initdb（请先运行 scripts/install-system.sh 安装 Debian 的 postgresql 软件包）")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.root: Path | None = None
        self.port = 0
        self.url = ""
        self._as: dict = {}

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], cwd=self.root, capture_output=True, text=True,
                              timeout=timeout, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
                                                    "LANG": "C.UTF-8"}, **self._as)

    def start(self) -> "PostgresServer":
        root_user = os.geteuid() == 0
        # as root the folder must be reachable by the server's account: /tmp, not root's own TMPDIR
        self.root = Path(tempfile.mkdtemp(prefix="wangge-pg-", dir="/tmp" if root_user and os.path.isdir("/tmp") else None))
        if root_user:
            try:
                pw = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(f"以 root 运行时需要系统用户 {SERVER_USER}（Debian 的 postgresql 软件包会创建它）") from None
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self._as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        data = self.root / "data"
        r = self._run("initdb", "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C",
                      "--no-sync")
        if r.returncode != 0:
            self.stop()
            raise PostgresUnavailable(f"initdb 失败：{(r.stderr or r.stdout).strip()[-800:]}")
        last = ""
        for _attempt in range(5):          # a free port can be taken between choosing and binding it
            self.port = free_port()
            opts = self._options()
            r = self._run("pg_ctl", "-D", str(data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                          "-o", opts, "start")
            if r.returncode == 0:
                self.url = f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"
                return self
            last = _tail(self.root / "server.log") or r.stderr
            time.sleep(0.2)
        self.stop()
        raise PostgresUnavailable(f"pg_ctl start 失败：{last.strip()[-800:]}")

    def _options(self) -> str:
        return (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")

    def crash(self) -> None:
        """Stop the server as a power cut would (immediate: no checkpoint; open transactions are lost
        and the next start recovers from the WAL)."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop", timeout=60)

    def restart(self) -> None:
        """Start the crashed server again on the same port."""
        r = self._run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                      "-o", self._options(), "start")
        if r.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl start 失败：{(_tail(self.root / 'server.log') or r.stderr).strip()[-800:]}")

    def stop(self) -> None:
        if self.root is None:
            return
        if self.url:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop", timeout=60)
            self.url = ""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
