"""Starting a student's kernel in the sandbox, and talking to it without trusting its files.

:class:`SandboxedKernelManager` is what nbclient uses to start the kernel of one submission.
Beyond jupyter_client's own manager it:

- runs the kernel under :func:`.bwrap.bwrap_args` (``python -I``: neither the working folder
  nor any ``PYTHON*`` variable can put code on the path before the kernel is up), inside the
  submission's cgroup or under a memory watchdog;
- keeps the kernel's own output (start-up messages, crashes) in a bounded buffer in this
  process, not in a file the sandbox could replace;
- talks over Unix sockets in a private folder: the connection file is bound read-only, the
  socket folder is the only writable thing the grader shares with the sandbox, and the
  grader connects only once every socket exists and is a socket (``lstat``), with
  reconnection off, so a socket swapped for a link later is never followed. As root the
  folder is then taken back from the sandbox user. Messages over ``max_message`` bytes
  disconnect the kernel instead of filling the grader's memory;
- runs no heartbeat (:class:`NoHeartbeatClient`): whether the kernel lives is known from its
  process.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type

from . import bwrap
from .cgroups import Cgroup
from .limits import Limits
from .procs import children
from .watchdog import MemoryWatchdog

_SOCKET_WAIT = 60.0


@dataclass
class Box:
    """One submission's sandbox settings (bound to a manager class by :func:`manager_for`).

    Each kernel started gets its own folder under ``run_dir`` (connection file, sockets);
    its input files are the regular files beside the notebook being executed, notebooks
    left out (the grader wrote them all; the sandbox never saw that folder).
    """

    run_dir: str
    uid: int
    limits: Limits
    env: dict[str, str]
    writable: list[str] = field(default_factory=list)
    sandboxed: bool = True
    cgroup: Cgroup | None = None  # the submission's, made and removed by the worker


def input_files(folder: str) -> dict[str, str]:
    """``{relative name: path}`` of the regular, non-notebook files under ``folder``."""
    found = {}
    for parent, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(parent, d))]
        for name in files:
            path = os.path.join(parent, name)
            if name.endswith(".ipynb") or not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            found[os.path.relpath(path, folder)] = path
    return found


def kernel_env(limits: Limits, cache_dir: str | None) -> dict[str, str]:
    """Environment of a graded kernel: threads capped, caches pointed at private copies."""
    threads = str(limits.threads)
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "NBGRADER_EXECUTION": "autograde",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "NUMBA_NUM_THREADS": threads,
        "MALLOC_ARENA_MAX": "2",
        "IPYTHONDIR": "/tmp/.ipython",
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = os.path.join(cache_dir, "numba")
        env["MPLCONFIGDIR"] = os.path.join(cache_dir, "matplotlib")
    return env


class OutputTail:
    """A pipe whose last ``keep`` bytes are kept in memory by a reader thread."""

    def __init__(self, keep: int = 64 * 1024):
        self.keep = keep
        self._data = bytearray()
        self.read_fd, self.write_fd = os.pipe()
        self._thread = threading.Thread(target=self._drain, name="beth-kernel-log", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while chunk := os.read(self.read_fd, 65536):
            self._data += chunk
            if len(self._data) > 2 * self.keep:
                del self._data[: len(self._data) - self.keep]
        os.close(self.read_fd)

    def close_writer(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def text(self) -> str:
        return bytes(self._data[-self.keep :]).decode("utf-8", "replace")


def hardened_context(max_message: int) -> zmq.asyncio.Context:
    """A ZeroMQ context whose sockets never reconnect and refuse oversized messages."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.RECONNECT_IVL, -1)
    context.setsockopt(zmq.MAXMSGSIZE, max_message)
    context.setsockopt(zmq.LINGER, 100)
    return context


def sockets_ready(paths: list[str], uid: int | None) -> bool:
    """Whether every path is a socket (not a link), owned by ``uid`` when given."""
    for path in paths:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return False
        if not stat.S_ISSOCK(info.st_mode) or (uid is not None and info.st_uid != uid):
            raise RuntimeError(f"the kernel's socket {os.path.basename(path)} is not a socket")
    return True


class _NoLinger:
    """jupyter_client gives each socket it connects a 1 s linger; once the grader closes a
    socket the kernel is gone, and waiting for it to take unsent messages only holds up the
    grading process (about 1 s a submission, in the context's clean-up). For the manager
    and its client alike."""

    def _create_connected_socket(self, channel, identity=None):
        sock = super()._create_connected_socket(channel, identity)
        sock.linger = 0
        return sock


class NoHeartbeatClient(_NoLinger, AsyncKernelClient):
    """A kernel client that never starts jupyter_client's heartbeat thread.

    A kernel starved of CPU (a student's busy loops share its cgroup's quota) misses
    heartbeats; the thread then makes a new socket, which, reconnection being off, can be
    left with no peer, and its next ping waits forever. Stopping the channels joins that
    thread, so the grading process hung once the notebook had run. The manager is this
    client's parent, and jupyter_client asks the manager, not the heartbeat, whether the
    kernel lives (the kernel's process).
    """

    def start_channels(self, shell=True, iopub=True, stdin=True, hb=False, control=True):
        super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=False, control=control)


class SandboxedKernelManager(_NoLinger, AsyncKernelManager):
    """A kernel manager whose kernel runs in the submission's sandbox (module docstring)."""

    box: Box  # set on the per-submission subclass
    client_factory = Type(NoHeartbeatClient, klass=AsyncKernelClient)

    def __init__(self, **kwargs):
        box = self.box
        kwargs.setdefault("context", hardened_context(box.limits.message))
        super().__init__(**kwargs)
        self.transport = "ipc"
        own = tempfile.mkdtemp(prefix="k", dir=box.run_dir)
        for sub in ("conn", "sock"):
            os.mkdir(os.path.join(own, sub), 0o755 if sub == "conn" else 0o700)
        if box.sandboxed and os.geteuid() == 0:
            os.chmod(own, 0o755)
            os.chown(os.path.join(own, "sock"), box.uid, box.uid)
        self.connection_file = os.path.join(own, "conn", "kernel.json")
        self.ip = os.path.join(own, "sock", "k")
        self.tail = OutputTail()
        self.cgroup: Cgroup | None = box.cgroup
        self.watchdog: MemoryWatchdog | None = None
        self._fds: tuple[int, ...] = ()

    # -- start ---------------------------------------------------------------------------
    def format_kernel_cmd(self, extra_arguments=None):
        cmd = list(super().format_kernel_cmd(extra_arguments))
        if len(cmd) > 1 and cmd[1] == "-m":
            cmd.insert(1, "-I")  # nothing from the working folder on the path at start-up
        box = self.box
        if not box.sandboxed:
            return cmd
        if os.geteuid() == 0:
            os.chown(self.connection_file, box.uid, box.uid)
        folder = self._launch_args.get("cwd") or os.getcwd()
        spec = bwrap.SandboxSpec(
            command=cmd,
            uid=box.uid,
            limits=box.limits,
            env=box.env,
            inputs=input_files(folder),
            readonly=[self.connection_file],
            writable=[os.path.dirname(self.ip), *box.writable],
        )
        procs = self.cgroup.procs_files if self.cgroup else []
        command, self._fds = bwrap.launch_command(spec, box.run_dir, procs)
        return command

    async def _async_pre_start_kernel(self, **kw):
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        kw["stdout"] = kw["stderr"] = self.tail.write_fd
        if self.box.sandboxed:
            kw["env"] = bwrap.launcher_env()
            kw["pass_fds"] = self._fds
            kw["cwd"] = "/"
        else:  # nbgrader's own way: in the notebook's folder, with the grader's rights
            env = dict(os.environ)
            env.update({k: v for k, v in self.box.env.items() if k not in ("HOME", "PATH")})
            kw["env"] = env
        return cmd, kw

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            self.tail.close_writer()
            for fd in self._fds:
                os.close(fd)
            self._fds = ()
        if self.box.sandboxed and self.cgroup is None:
            self.watchdog = MemoryWatchdog(self.provisioner.process.pid, self.box.limits.memory)
            self.watchdog.start()

    async def _async_post_start_kernel(self, **kw):
        await self._wait_for_sockets()
        await super()._async_post_start_kernel(**kw)

    def _socket_paths(self) -> list[str]:
        ports = (self.shell_port, self.iopub_port, self.stdin_port, self.hb_port, self.control_port)
        return [f"{self.ip}-{port}" for port in ports]

    async def _wait_for_sockets(self) -> None:
        uid = self.box.uid if os.geteuid() == 0 and self.box.sandboxed else None
        deadline = time.monotonic() + _SOCKET_WAIT
        while not sockets_ready(self._socket_paths(), uid):
            process = getattr(self.provisioner, "process", None)
            if process is None or process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the kernel did not start: " + self.tail.text()[-500:])
            await asyncio.sleep(0.02)
        if uid is not None:  # the sandbox may no longer add, remove or swap entries
            folder = os.path.dirname(self.ip)
            os.chown(folder, 0, 0)
            os.chmod(folder, 0o755)

    def client(self, **kwargs):
        kwargs.setdefault("context", self.context)
        return super().client(**kwargs)

    # -- signals and the end -------------------------------------------------------------
    def sandbox_pids(self) -> tuple[int, ...]:
        """``(bwrap, sandbox init, kernel)`` host pids, as far as they exist."""
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        if process is None:
            return ()
        chain = [process.pid]
        for _ in range(2 if self.box.sandboxed else 0):
            found = children(chain[-1])
            if not found:
                break
            chain.append(min(found))  # the first child forked has the lowest pid
        return tuple(chain)

    async def _async_signal_kernel(self, signum: int) -> None:
        # jupyter_client signals what it started (bwrap); interrupts must reach the kernel.
        pids = self.sandbox_pids()
        if self.box.sandboxed and len(pids) == 3:
            try:
                os.kill(pids[2], signum)
                return
            except ProcessLookupError:
                pass
        await super()._async_signal_kernel(signum)

    def memory_exceeded(self) -> bool:
        """Whether the submission as a whole was stopped for using too much memory."""
        if self.cgroup is not None and self.cgroup.oom_killed():
            return True
        return bool(self.watchdog and self.watchdog.fired)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if restart:
            return
        if self.watchdog is not None:
            self.watchdog.stop()


def manager_for(box: Box) -> type:
    """A kernel manager class with this submission's sandbox settings bound to it."""
    return type("SandboxedKernelManagerForSubmission", (SandboxedKernelManager,), {"box": box})
