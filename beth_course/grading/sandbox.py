"""Running a student's kernel where it can do no harm.

Each kernel runs under bubblewrap (``bwrap``) with:

- its own network namespace (no route to any other host, the grading machine's loopback
  included) and its own PID, IPC and UTS namespaces;
- a read-only view of the file system in which the course directory, home folders and
  ``/tmp`` are replaced by empty folders; only the submission's own working folder is
  writable, and the Python environment is visible read-only;
- its own session (so the scheduler's autogroups share CPU per submission, not per process);
- resource limits: address space (memory), CPU seconds per process, processes, file size.

When the grader runs as root, each sandbox also runs as its own unprivileged user (one per
concurrent slot), which is what makes the process limit bite per submission. The kernel
talks to the grader over Unix sockets in a private folder, so no TCP port is opened.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, Unicode
from traitlets.config import Configurable

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """``"4G"`` -> 4294967296; plain integers are bytes."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"not a size: {text!r} (write it as 512M, 4G, ...)")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * 1024 ** " KMGT".index(unit or " "))


class BethSandbox(Configurable):
    """Limits for student code at autograde. Set them in ``nbgrader_config.py`` as
    ``c.BethSandbox.<name>``; nbgrader itself ignores this section."""

    memory_limit = Unicode(
        "6G", help="Address space per process (RLIMIT_AS); an allocation past it raises MemoryError."
    ).tag(config=True)
    cpu_time_limit = Integer(600, help="CPU seconds per process (RLIMIT_CPU).").tag(config=True)
    max_processes = Integer(
        64, help="Processes per submission (RLIMIT_NPROC of the sandbox user)."
    ).tag(config=True)
    max_file_size = Unicode("1G", help="Largest file a submission may write (RLIMIT_FSIZE).").tag(
        config=True
    )
    submission_timeout = Integer(
        900, help="Wall-clock seconds for the whole notebook; cells left then are not run."
    ).tag(config=True)
    threads = Integer(
        1, help="Threads each submission may use for numeric work (OMP, BLAS, numba)."
    ).tag(config=True)
    uid_base = Integer(
        61000, help="First uid of the sandbox users, one per concurrent slot (root only)."
    ).tag(config=True)


@dataclass(frozen=True)
class Limits:
    """Plain, picklable copy of the settings that travel with each grading task."""

    memory: int
    cpu_seconds: int
    processes: int
    file_size: int
    submission_timeout: int
    threads: int
    uid_base: int

    @classmethod
    def from_config(cls, config) -> "Limits":
        s = BethSandbox(config=config)
        return cls(
            memory=parse_size(s.memory_limit),
            cpu_seconds=s.cpu_time_limit,
            processes=s.max_processes,
            file_size=parse_size(s.max_file_size),
            submission_timeout=s.submission_timeout,
            threads=s.threads,
            uid_base=s.uid_base,
        )

    def describe(self) -> str:
        gib = self.memory / 2**30
        return (
            f"{gib:g} GiB memory, {self.cpu_seconds} CPU-s per process, {self.processes} "
            f"processes, {self.submission_timeout} s per notebook"
        )


def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap can make a sandbox here, and if not, why."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = [exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net"]
    if os.geteuid() != 0:
        probe.append("--unshare-user")
    try:
        done = subprocess.run(probe + ["true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        return False, f"bubblewrap cannot create namespaces here: {done.stderr.strip()}"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return False, "setpriv (util-linux) is missing; it drops root to the sandbox user"
    return True, "bubblewrap " + subprocess.run(
        [exe, "--version"], capture_output=True, text=True
    ).stdout.strip().split()[-1]


class Slot:
    """One of the concurrent sandbox slots on this machine, held by a file lock.

    Each slot has its own uid when the grader is root, so that process limits and the
    clean-up of stray processes apply per submission.
    """

    def __init__(self, uid_base: int, max_slots: int = 256):
        lock_dir = Path(tempfile.gettempdir()) / "beth-course-slots"
        lock_dir.mkdir(mode=0o755, exist_ok=True)
        for index in range(max_slots):
            fh = open(lock_dir / f"slot-{index}.lock", "w")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            self.index, self._fh = index, fh
            self.uid = uid_base + index if os.geteuid() == 0 else os.geteuid()
            return
        raise RuntimeError(f"all {max_slots} sandbox slots on this machine are busy")

    def release(self) -> None:
        kill_user_processes(self.uid)
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def kill_user_processes(uid: int, keep: set[int] = frozenset()) -> int:
    """SIGKILL every process of ``uid`` except ``keep``; only for sandbox uids. Returns count."""
    if os.geteuid() != 0 or uid == 0:
        return 0
    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in keep:
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return killed


def _exposed_paths() -> list[str]:
    """Folders the kernel needs to read: the Python installation and our packages."""
    import beth_course
    import beth_helpers

    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        str(Path(os.path.realpath(sys.executable)).parent.parent),
        str(Path(beth_helpers.__file__).resolve().parent),
        str(Path(beth_course.__file__).resolve().parent),
    }
    return sorted(p for p in paths if os.path.isdir(p))


def _hidden_paths(course_root: str | None) -> list[str]:
    hidden = {"/tmp", "/var/tmp", "/root", "/home", "/run/user", os.path.expanduser("~")}
    if course_root:
        hidden.add(os.path.realpath(course_root))
    return sorted(p for p in hidden if os.path.isdir(p))


def _dirs_between(hidden: str, target: str) -> list[str]:
    """The folders bwrap must create (readable to all) to reach ``target`` inside ``hidden``."""
    rel = Path(target).relative_to(hidden)
    out, current = [], Path(hidden)
    for part in rel.parts[:-1]:
        current = current / part
        out.append(str(current))
    return out


def bwrap_command(
    cmd: list[str],
    *,
    workdir: str,
    private_dirs: list[str],
    uid: int,
    limits: Limits,
    env: dict[str, str],
    course_root: str | None = None,
) -> list[str]:
    """Wrap ``cmd`` so that it runs sandboxed with ``workdir`` as its only writable folder.

    ``private_dirs`` (the kernel's socket folder, its cache copies) are also writable; they
    must belong to this submission alone.
    """
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    hidden = _hidden_paths(course_root)
    for path in hidden:
        mode = "1777" if path in ("/tmp", "/var/tmp") else "0755"
        args += ["--perms", mode, "--tmpfs", path]
    made: set[str] = set()
    binds = [(p, "--ro-bind") for p in _exposed_paths()]
    binds += [(p, "--bind") for p in [*private_dirs, workdir]]
    for path, how in binds:
        for parent in hidden:
            if path == parent or not path.startswith(parent.rstrip("/") + "/"):
                continue
            for folder in _dirs_between(parent, path):
                if folder not in made:
                    args += ["--perms", "0755", "--dir", folder]
                    made.add(folder)
        args += [how, path, path]
    args += [
        "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--die-with-parent", "--new-session", "--chdir", workdir,
        "--clearenv",
    ]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if os.geteuid() == 0:
        name = f"sandbox{uid}"
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            pass
        args += ["--setenv", "USER", name, "--setenv", "LOGNAME", name]
        args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        processes = limits.processes
    else:
        args[1:1] = ["--unshare-user"]
        # Without root the process limit counts all of this user's processes.
        processes = limits.processes + _count_user_processes(os.geteuid())
    args += [
        "prlimit",
        f"--as={limits.memory}",
        f"--cpu={limits.cpu_seconds}",
        f"--nproc={processes}",
        f"--fsize={limits.file_size}",
        "--core=0",
        "--",
        *cmd,
    ]
    return args


def chown_tree(path: str | Path, uid: int) -> None:
    """Give a private folder to the sandbox user (as root; otherwise it is ours already)."""
    if os.geteuid() != 0:
        return
    for folder, _, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, uid)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def sandbox_pids(bwrap_pid: int) -> tuple[int, ...]:
    """``(bwrap, sandbox init, kernel)`` host pids for a sandbox started as ``bwrap_pid``.

    bwrap forks the sandbox's init (pid 1 inside), which forks the command; setpriv and
    prlimit exec, so the command's process is the kernel. Later children of init are
    orphans the submission left behind. Returns what exists so far.
    """
    chain = [bwrap_pid]
    for _ in range(2):
        children = _children(chain[-1])
        if not children:
            break
        chain.append(min(children))  # the first child forked has the lowest pid
    return tuple(chain)


def _count_user_processes(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                count += 1
        except FileNotFoundError:
            continue
    return count


def kernel_env(limits: Limits, cache_dir: str | None) -> dict[str, str]:
    """Environment of a graded kernel: threads capped, caches pointed at private copies."""
    threads = str(limits.threads)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
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


class _SubmissionKernelManager(AsyncKernelManager):
    """Kernel output that is not a cell's (start-up notes, crashes) goes to a log file in
    the submission's private folder, not to the instructor's terminal."""

    sandbox: dict = {}

    @property
    def log_path(self) -> str:
        return os.path.join(self.sandbox["run_dir"], "kernel.log")

    _log_file = None

    async def _async_pre_start_kernel(self, **kw):
        if self._log_file is None:
            self._log_file = open(self.log_path, "ab")
        kw["stdout"] = kw["stderr"] = self._log_file
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._log_file is not None and not restart:
            self._log_file.close()
            self._log_file = None


class SandboxedKernelManager(_SubmissionKernelManager):
    """A kernel manager whose kernels run under :func:`bwrap_command`.

    The grading worker makes a subclass with the per-submission settings bound (see
    :func:`kernel_manager_for`); nbclient instantiates it like any kernel manager.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        run_dir = self.sandbox["run_dir"]
        self.connection_file = os.path.join(run_dir, "kernel.json")
        self.ip = os.path.join(run_dir, "k")

    async def _async_signal_kernel(self, signum: int) -> None:
        # jupyter_client signals the process group of what it started (bwrap), which the
        # kernel is not in; interrupts must go to the kernel itself.
        provisioner = self.provisioner
        process = getattr(provisioner, "process", None) if provisioner else None
        pids = sandbox_pids(process.pid) if process else ()
        if len(pids) == 3:
            try:
                os.kill(pids[2], signum)
                return
            except ProcessLookupError:
                pass
        await super()._async_signal_kernel(signum)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        box = self.sandbox
        workdir = os.path.realpath(self._launch_args.get("cwd") or box["workdir"])
        os.chown(self.connection_file, box["uid"], box["uid"])
        chown_tree(workdir, box["uid"])  # the submission's own folder: the one it may write
        return bwrap_command(
            cmd,
            workdir=workdir,
            private_dirs=[box["run_dir"]],
            uid=box["uid"],
            limits=box["limits"],
            env=box["env"],
            course_root=box.get("course_root"),
        )


class PlainKernelManager(_SubmissionKernelManager):
    """The unsandboxed kernel (``--no-sandbox``), with the same environment tweaks."""

    async def _async_pre_start_kernel(self, **kw):
        env = dict(os.environ)
        env.update({k: v for k, v in self.sandbox["env"].items() if k not in ("HOME", "PATH")})
        env["PATH"] = self.sandbox["env"]["PATH"] + os.pathsep + os.environ.get("PATH", "")
        kw["env"] = env
        return await super()._async_pre_start_kernel(**kw)


def kernel_manager_for(sandboxed: bool, **box) -> type:
    """A kernel manager class with this submission's sandbox settings bound to it."""
    base = SandboxedKernelManager if sandboxed else PlainKernelManager
    return type(base.__name__ + "ForSubmission", (base,), {"sandbox": box})
