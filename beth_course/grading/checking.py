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

from . import bwrap, protocol
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
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


class CheckerProcess:
    """One running checker (module docstring)."""

    def __init__(self, spec: CheckerSpec, run_dir: str):
        self.spec, self.run_dir = spec, run_dir
        self.tail = OutputTail()
        self.process: subprocess.Popen | None = None
        self.failure: str | None = None
        self.pid: int | None = None

    def _command(self) -> tuple[list[str], dict]:
        python = [sys.executable, "-I", "-m", "beth_course.grading.checker", str(self.spec.limits.message)]
        if not self.spec.sandboxed:
            env = {**os.environ, **self.spec.env}
            return python, {"env": env, "cwd": self.spec.cwd or self.run_dir}
        sandbox = bwrap.SandboxSpec(
            command=python, uid=self.spec.uid, limits=self.spec.limits, env=self.spec.env,
            inputs=self.spec.inputs, writable=self.spec.writable,
        )
        command, args_fd = bwrap.launch_command(sandbox, self.run_dir, [])
        return command, {"env": bwrap.launcher_env(), "cwd": "/", "pass_fds": (args_fd,)}

    def start(self) -> None:
        command, options = self._command()
        to_child, from_child = os.pipe(), os.pipe()
        try:
            self.process = subprocess.Popen(
                command, stdin=to_child[0], stdout=from_child[1], stderr=self.tail.write_fd,
                start_new_session=True, **options,
            )
        finally:
            for fd in (to_child[0], from_child[1], *options.get("pass_fds", ())):
                os.close(fd)
            self.tail.close_writer()
        self._write, self._read = to_child[1], from_child[0]
        try:
            hello, _ = protocol.receive(self._read, 0, time.monotonic() + _START_TIMEOUT)
        except protocol.ProtocolError as exc:
            self._fail(f"the checker did not start ({exc}): {self.tail.text()[-500:]}")
            return
        self.pid = hello.get("pid")

    def run(self, code: str, name: str, bridge, timeout: float) -> list[dict]:
        """The outputs of one cell run by the checker (an error output if it fails)."""
        if self.failure:
            return [error_output("GraderError", self.failure)]
        deadline = time.monotonic() + timeout
        try:
            protocol.send(self._write, {"op": "run", "code": code, "name": name})
            while True:
                message, blob = protocol.receive(self._read, self.spec.limits.message, deadline)
                op = message.get("op")
                if op == "result":
                    return _clean_outputs(message.get("outputs"))
                if op == "need":
                    names = [str(n) for n in message.get("names", [])][:1000]
                    protocol.send(self._write, {"op": "values"}, bridge.fetch(names))
                elif op == "call":
                    self._relay_call(bridge, str(message.get("name", "")), blob)
                else:
                    raise protocol.ProtocolError(f"unexpected message {op!r}")
        except (protocol.ProtocolError, OSError) as exc:
            self._fail(f"the grader's checker failed on {name}: {exc}")
            return [error_output("GraderError", self.failure)]

    def _relay_call(self, bridge, name: str, blob: bytes) -> None:
        try:
            result = bridge.call(name, blob)
        except Exception as exc:  # the kernel did not answer: the call fails, with why
            protocol.send(self._write, {"op": "returned", "error": str(exc)[:500]})
            return
        protocol.send(self._write, {"op": "returned"}, result)

    def _fail(self, why: str) -> None:
        self.failure = why[:2000]
        self.close()

    def close(self) -> None:
        if self.process is None:
            return
        for fd in (getattr(self, "_write", -1), getattr(self, "_read", -1)):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    continue
        self._write = self._read = -1
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
            clean.append({"output_type": kind, "name": "stderr" if out.get("name") == "stderr" else "stdout",
                          "text": str(out.get("text", ""))})
        elif kind == "error":
            clean.append({"output_type": kind, "ename": str(out.get("ename", "Error")),
                          "evalue": str(out.get("evalue", "")),
                          "traceback": [str(t) for t in out.get("traceback", [])][:200]})
        else:
            text = str(out.get("data", {}).get("text/plain", ""))
            clean.append({"output_type": kind, "execution_count": None, "metadata": {},
                          "data": {"text/plain": text}})
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
