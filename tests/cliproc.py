"""``python -m threshnet ARGS`` for the tests, without paying for ``import torch`` per command.

A fresh interpreter spends about 2 s importing torch and threshnet before a
command starts; the documented commands alone are 70 of them.  Here one
server process per (thread, environment) imports threshnet once, and each
command runs in a ``fork`` of it: a new process with its own working
directory, standard streams (files holding stdin and catching stdout and
stderr) and exit status, exactly as ``python -m threshnet`` would run it
(``threshnet/__main__.py``: ``sys.exit(main())``), an uncaught exception
printed as a traceback with status 1.  The server runs no Python threads, so
forking it is safe.

What a fork cannot show is the interpreter's own start and shutdown; the
tests of those (importing without sympy, loading with torch alone, the same
hash-seeded compile in another interpreter) keep ``subprocess``.

``run(argv, cwd=..., stdin=..., env=..., timeout=..., text=...)`` returns a
``subprocess.CompletedProcess`` like ``subprocess.run(..., capture_output=True)``.
"""

from __future__ import annotations

import locale
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_SERVER_CODE = r"""
import io, os, pickle, struct, sys, traceback
import threshnet.cli  # the import paid once
req, rep = os.fdopen(int(sys.argv[1]), "rb"), os.fdopen(int(sys.argv[2]), "wb")
sys.argv = sys.argv[:1]

def child(argv, cwd, paths):
    req.close(); rep.close()
    os.chdir(cwd)
    for fd, path, flags in ((0, paths[0], os.O_RDONLY), (1, paths[1], os.O_WRONLY), (2, paths[2], os.O_WRONLY)):
        f = os.open(path, flags)
        os.dup2(f, fd)
        os.close(f)
    def stream(fd, mode, old):  # the same encoding and error handler as the interpreter's own streams
        raw = io.FileIO(fd, mode, closefd=False)
        buf = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
        return io.TextIOWrapper(buf, encoding=old.encoding, errors=old.errors,
                                line_buffering=old.line_buffering, write_through=mode == "w" and fd == 2)
    sys.stdin, sys.stdout, sys.stderr = (stream(0, "r", sys.__stdin__), stream(1, "w", sys.__stdout__),
                                        stream(2, "w", sys.__stderr__))
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    sys.argv = [os.path.join(os.path.dirname(threshnet.cli.__file__), "__main__.py"), *argv]
    try:
        code = threshnet.cli.main()
    except SystemExit as e:
        code = e.code
    except BaseException:
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception as e:  # as the interpreter reports a failed final flush
            print(f"Exception ignored on flushing sys.stdout: {e!r}", file=sys.__stderr__)
            code = 120
    os._exit(code & 0xFF)

while True:
    head = req.read(4)
    if len(head) < 4:
        break
    argv, cwd, paths = pickle.loads(req.read(struct.unpack("<I", head)[0]))
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        child(argv, cwd, paths)
    _, status = os.waitpid(pid, 0)
    rep.write(struct.pack("<i", os.waitstatus_to_exitcode(status)))
    rep.flush()
"""


class _Server:
    """One forking server: requests go down one pipe, exit statuses come back up another."""

    def __init__(self, env: dict[str, str]) -> None:
        r1, self.w = os.pipe()
        self.r, w2 = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVER_CODE, str(r1), str(w2)], pass_fds=(r1, w2),
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        os.close(r1)
        os.close(w2)

    def run(self, argv: list[str], cwd: str, paths: tuple[str, str, str], timeout: float) -> int:
        data = pickle.dumps((argv, cwd, paths))
        os.write(self.w, struct.pack("<I", len(data)) + data)  # a few hundred bytes: one write
        if not select.select([self.r], [], [], timeout)[0]:
            self.close()
            raise subprocess.TimeoutExpired(["threshnet", *argv], timeout)
        got = os.read(self.r, 4)
        if len(got) < 4:
            self.close()
            raise RuntimeError(f"the threshnet test server died (status {self.proc.poll()})")
        return struct.unpack("<i", got)[0]

    @property
    def alive(self) -> bool:
        return self.w >= 0 and self.proc.poll() is None

    def close(self) -> None:
        """Stop the server and a command it runs (one process group); safe to call twice."""
        for fd in (self.w, self.r):
            if fd >= 0:
                os.close(fd)
        self.w = self.r = -1
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()


_servers: dict[int, tuple[tuple, _Server]] = {}  # thread -> (its environment, its server)
_lock = threading.Lock()


def _server(env: dict[str, str]) -> _Server:
    """The calling thread's server for ``env`` (one per thread: a new environment replaces the old one)."""
    key = tuple(sorted(env.items()))
    with _lock:
        have = _servers.get(threading.get_ident())
    if have is not None and have[0] == key and have[1].alive:
        return have[1]
    if have is not None:
        have[1].close()
    s = _Server(env)
    with _lock:
        _servers[threading.get_ident()] = (key, s)
    return s


def close_all() -> None:
    """Stop every server (pytest's session end; the servers also stop when their pipe closes)."""
    with _lock:
        servers = [s for _, s in _servers.values()]
        _servers.clear()
    for s in servers:
        s.close()


def run(argv: list[str], *, cwd: str | Path = ".", stdin: str | bytes | None = None,
        env: dict[str, str] | None = None, timeout: float = 300, text: bool = True) -> subprocess.CompletedProcess:
    """``subprocess.run([python, "-m", "threshnet", *argv], capture_output=True, ...)``, forked from a warm server."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTEST_CURRENT_TEST", None)  # differs per test: it would start a server per test
    with tempfile.TemporaryDirectory(prefix="threshnet-cli-") as tmp:
        paths = tuple(os.path.join(tmp, n) for n in ("stdin", "stdout", "stderr"))
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        Path(paths[0]).write_bytes(data)
        Path(paths[1]).touch()
        Path(paths[2]).touch()
        code = _server(env).run([str(a) for a in argv], os.path.abspath(cwd), paths, timeout)
        out, err = Path(paths[1]).read_bytes(), Path(paths[2]).read_bytes()
    if text:  # as subprocess's text mode: the locale's encoding, universal newlines
        out, err = (_text(b) for b in (out, err))
    return subprocess.CompletedProcess([sys.executable, "-m", "threshnet", *argv], code, out, err)


def _text(b: bytes) -> str:
    return b.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")
