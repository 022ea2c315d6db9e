"""The grader's end of the checker (:mod:`.checker`): start it, send it cells, relay requests.

:class:`CheckerProcess` starts the checker in a sandbox of its own (its own user as root, no
network, the assignment's pristine input files in its working folder, no numba
compilation: ``NUMBA_DISABLE_JIT``, so it needs no compiled cache that a kernel could have
written). :meth:`CheckerProcess.run` sends one cell and serves the checker's requests
through a *bridge* to the student's kernel (``fetch(names) -> bytes`` and
``call(name, args) -> bytes``, see :class:`~.execute.GuardedExecute`) until the cell's
outputs come back. Every wait has a deadline; a checker that fails or runs late is killed
and the cell gets an error output saying so, which scores 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

from . import bwrap, protocol, wire
from .kernel import OutputTail
from .limits import Limits

_START_TIMEOUT = 120.0
_OUTPUT_TYPES = {"stream", "error", "execute_result"}


@dataclass
class CheckerSpec:
    """Where and how the checker runs."""

    uid: int
    limits: Limits
    env: dict[str, str]
    inputs: dict[str, str] = field(default_factory=dict)
    writable: list[str] = field(default_factory=list)
    sandboxed: bool = True
    cwd: str | None = None  # the unsandboxed checker's working folder


def error_output(ename: str, evalue: str) -> dict:
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": [f"{ename}: {evalue}"],
    }


def _launch(spec: CheckerSpec, run_dir: str, argv: list[str], stdin, stdout, tail: OutputTail):
    """Start ``python -I -m beth_course.grading.checker ARGV`` as ``spec`` says."""
    python = [sys.executable, "-I", "-m", "beth_course.grading.checker", *argv]
    if spec.sandboxed:
        sandbox = bwrap.SandboxSpec(
            command=python,
            uid=spec.uid,
            limits=spec.limits,
            env=spec.env,
            inputs=spec.inputs,
            writable=spec.writable,
        )
        command, fds = bwrap.launch_command(sandbox, run_dir, [])
        options: dict = {"env": bwrap.launcher_env(), "cwd": "/", "pass_fds": fds}
    else:
        env = dict(os.environ) | spec.env
        command, options = python, {"env": env, "cwd": spec.cwd or run_dir}
    try:
        return subprocess.Popen(
            command,
            stdin=stdin,
            stdout=stdout,
            stderr=tail.write_fd,
            start_new_session=True,
            **options,
        )
    finally:
        for fd in options.get("pass_fds", ()):
            os.close(fd)
        tail.close_writer()


class CheckerServer:
    """A long-lived checker server (``checker serve``) that forks a fresh checker per
    notebook, so the imports are paid once per grading process, not once per notebook.

    The server itself never reads student data: each fork starts from a process in which
    no student code has run. Its input files must outlive single gradings (see
    :func:`~.worker.checker_server`).
    """

    def __init__(self, spec: CheckerSpec, run_dir: str, preload: list[str]):
        import socket

        self.spec, self.run_dir, self.tail = spec, run_dir, OutputTail()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = ["serve", str(spec.limits.message), *preload]
        try:
            self.process = _launch(
                spec, run_dir, argv, theirs.fileno(), subprocess.DEVNULL, self.tail
            )
        finally:
            theirs.close()
        self.control = ours
        self.control.settimeout(_START_TIMEOUT)
        self.failure = None
        try:
            self.control.recv(4096)
        except OSError as exc:
            self.failure = f"the checker server did not start ({exc}): {self.tail.text()[-500:]}"

    def alive(self) -> bool:
        return self.failure is None and self.process.poll() is None

    def newest_child(self) -> int | None:
        """The host pid of the checker the server forked last (bwrap, its init, the server,
        then the server's children)."""
        from .procs import children

        chain = [self.process.pid]
        for _ in range(2 if self.spec.sandboxed else 0):
            found = children(chain[-1])
            if not found:
                return None
            chain.append(min(found))
        forks = children(chain[-1])
        return max(forks) if forks else None

    def spawn(self, lifetime: int) -> int:
        """A fresh checker's end of a new socket (a descriptor this process owns)."""
        import json
        import socket

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(
                self.control,
                [json.dumps({"op": "fork", "lifetime": lifetime}).encode()],
                [theirs.fileno()],
            )
            if not self.control.recv(4096):
                raise OSError("the checker server stopped")
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        return ours.detach()

    def close(self) -> None:
        self.control.close()
        try:
            os.killpg(self.process.pid, 9)
        except (ProcessLookupError, PermissionError):
            self.process.kill()
        self.process.wait(timeout=10)


class CheckerProcess:
    """One notebook's checker (module docstring): forked by ``server`` when given, else a
    process of its own."""

    def __init__(
        self, spec: CheckerSpec, run_dir: str, server: CheckerServer | None = None, cgroup=None
    ):
        self.spec, self.run_dir, self.server, self.cgroup = spec, run_dir, server, cgroup
        self.tail = server.tail if server else OutputTail()
        self.process: subprocess.Popen | None = None
        self.failure: str | None = None
        self.pid: int | None = None
        self._read = self._write = -1

    def start(self) -> None:
        try:
            if self.server is not None:
                self._read = self._write = self.server.spawn(
                    self.spec.limits.submission_timeout + 600
                )
                self._join_cgroup()
            else:
                self._start_process()
            for fd in {self._read, self._write}:
                os.set_blocking(fd, False)
            hello, _ = protocol.receive(self._read, 0, time.monotonic() + _START_TIMEOUT)
        except (OSError, protocol.ProtocolError) as exc:
            self._fail(f"the checker did not start ({exc}): {self.tail.text()[-500:]}")
            return
        self.pid = hello.get("pid")

    def _join_cgroup(self) -> None:
        """Count the forked checker in the submission's cgroup: what it decodes is the
        submission's doing, and comes out of the submission's memory."""
        if self.cgroup is None or self.server is None:
            return
        fresh = self.server.newest_child()
        if fresh is None:
            raise OSError("the forked checker could not be found")
        self.cgroup.add(fresh)

    def _start_process(self) -> None:
        to_child, from_child = os.pipe(), os.pipe()
        try:
            self.process = _launch(
                self.spec,
                self.run_dir,
                [str(self.spec.limits.message)],
                to_child[0],
                from_child[1],
                self.tail,
            )
        finally:
            os.close(to_child[0])
            os.close(from_child[1])
        self._write, self._read = to_child[1], from_child[0]

    def reserve(self, names: list[str]) -> None:
        """Tell the checker the names the locked cells bind (never read from the student)."""
        if not self.failure:
            try:
                protocol.send(
                    self._write,
                    {"op": "reserve", "names": sorted(names)},
                    deadline=time.monotonic() + 30,
                )
            except (OSError, protocol.ProtocolError) as exc:
                self._fail(f"the grader's checker failed: {exc}")

    def run(self, code: str, name: str, bridge, timeout: float) -> list[dict]:
        """The outputs of one cell run by the checker (an error output if it fails)."""
        if self.failure:
            return [error_output("GraderError", self.failure)]
        deadline = time.monotonic() + timeout
        try:
            protocol.send(self._write, {"op": "run", "code": code, "name": name}, deadline=deadline)
            while True:
                message, blob = protocol.receive(self._read, self.spec.limits.message, deadline)
                op = message.get("op")
                if op == "result":
                    return _clean_outputs(message.get("outputs"))
                if op == "need":
                    names = [str(n) for n in message.get("names", [])][:1000]
                    protocol.send(
                        self._write, {"op": "values"}, self._fetch(bridge, names), deadline
                    )
                elif op == "call":
                    self._relay_call(bridge, str(message.get("name", "")), blob, deadline)
                else:
                    raise protocol.ProtocolError(f"unexpected message {op!r}")
        except (protocol.ProtocolError, OSError) as exc:
            self._fail(f"the grader's checker failed on {name}: {exc}")
            return [error_output("GraderError", self.failure or "")]

    @staticmethod
    def _fetch(bridge, names: list[str]) -> bytes:
        """The values, or (when the kernel does not give them) a container saying why."""
        try:
            return bridge.fetch(names)
        except Exception as exc:  # a dead or silent kernel: each value is unreadable
            return wire.unreadable(names, f"the notebook did not give it: {exc}")

    def _relay_call(self, bridge, name: str, blob: bytes, deadline: float) -> None:
        try:
            result = bridge.call(name, blob)
        except Exception as exc:  # the kernel did not answer: the call fails, with why
            protocol.send(
                self._write, {"op": "returned", "error": str(exc)[:500]}, deadline=deadline
            )
            return
        protocol.send(self._write, {"op": "returned"}, result, deadline)

    def _fail(self, why: str) -> None:
        self.failure = why[:2000]
        self.close()

    def close(self) -> None:
        """End this checker: its socket closes (a forked checker then exits; the server
        kills it anyway before the next fork), its own process is killed."""
        for fd in dict.fromkeys((self._write, self._read)):
            if fd >= 0:
                os.close(fd)
        self._write = self._read = -1
        if self.process is not None:
            try:
                os.killpg(self.process.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _clean_outputs(outputs) -> list[dict]:
    """The checker's outputs, keeping only well-formed fields of the three kinds it makes."""
    if not isinstance(outputs, list):
        return [error_output("GraderError", "the checker sent malformed outputs")]
    clean = []
    for out in outputs[:20]:
        if not isinstance(out, dict) or out.get("output_type") not in _OUTPUT_TYPES:
            continue
        kind = out["output_type"]
        if kind == "stream":
            clean.append(
                {
                    "output_type": kind,
                    "name": "stderr" if out.get("name") == "stderr" else "stdout",
                    "text": str(out.get("text", "")),
                }
            )
        elif kind == "error":
            clean.append(
                {
                    "output_type": kind,
                    "ename": str(out.get("ename", "Error")),
                    "evalue": str(out.get("evalue", "")),
                    "traceback": [str(t) for t in out.get("traceback", [])][:200],
                }
            )
        else:
            text = str(out.get("data", {}).get("text/plain", ""))
            clean.append(
                {
                    "output_type": kind,
                    "execution_count": None,
                    "metadata": {},
                    "data": {"text/plain": text},
                }
            )
    return clean


def checker_env(limits: Limits, mpl_dir: str | None = None) -> dict[str, str]:
    """The checker's environment: as a graded kernel's, but numba never compiles (so no
    compiled cache is needed, which a kernel could have written) and plots go nowhere."""
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "NBGRADER_EXECUTION": "autograde",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMBA_DISABLE_JIT": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": mpl_dir or "/tmp/.matplotlib",
    }
    return env
