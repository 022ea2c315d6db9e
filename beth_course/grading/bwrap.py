"""The sandbox a submission's kernel (and the grader's checker) runs in, made with bubblewrap.

Inside a sandbox there is only what the process needs, all read-only: the operating system's
programs and libraries (``/usr``), a few files of ``/etc``, the Python environment and our
two packages. There is no course folder, no home folder, no ``/run`` and no network (not
even the grading machine's loopback). The only writable places are RAM-backed and
size-capped: ``/tmp`` (which holds the working folder ``/tmp/submission`` and is also
``/var/tmp``) and ``/dev/shm``. The submission's input files (``data.csv``, its own extra
files) are bound read-only into the working folder from the grader's private copy.

bubblewrap reads its arguments from a file descriptor (``--args``), so the sandbox's
``/proc/1/cmdline`` shows no path, and it is started with an environment of its own
(:func:`launcher_env`), not the instructor's. As root the command runs as a sandbox user
(``setpriv``) with every capability dropped; otherwise in a user namespace as the
instructor's own uid. Resource limits per process are set with ``prlimit``; limits for the
whole submission come from :mod:`.cgroups` or :mod:`.watchdog`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .limits import Limits

WORKDIR = "/tmp/submission"
# Files of /etc a Python process needs (dynamic linker, users for getpwuid, fonts, zones).
_ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "nsswitch.conf",
    "passwd",
    "group",
    "localtime",
    "timezone",
    "fonts",
    "mime.types",
    "alternatives",
)
_SYSTEM = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")


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
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    return True, "bubblewrap " + version.strip().split()[-1]


def _package_dir(name: str) -> str:
    """Where a package lives, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return os.path.realpath(locations[0]) if locations else ""


def exposed_paths() -> list[str]:
    """Folders the sandboxed Python needs to read: its installation and our packages."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        str(Path(os.path.realpath(sys.executable)).parent.parent),
        _package_dir("beth_helpers"),
        _package_dir("beth_course"),
    }
    return _outermost(p for p in paths if p and os.path.isdir(p))


def _outermost(paths) -> list[str]:
    """Drop paths inside others of the list (binding the outer one covers them)."""
    ordered = sorted({os.path.normpath(p) for p in paths})
    kept: list[str] = []
    for path in ordered:
        if not any(path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


@dataclass
class SandboxSpec:
    """What one sandbox gets. Host paths are bound at the same path inside, except
    ``inputs``, which appear in the working folder under their names."""

    command: list[str]
    uid: int
    limits: Limits
    env: dict[str, str]
    inputs: dict[str, str] = field(default_factory=dict)
    readonly: list[str] = field(default_factory=list)
    writable: list[str] = field(default_factory=list)
    workdir: str = WORKDIR


class _Args:
    """bwrap's argument list, creating readable parent folders for every mount point."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self._made: set[str] = {"/"}

    def parents(self, path: str) -> None:
        parts = Path(path).parts
        for depth in range(2, len(parts)):
            folder = str(Path(*parts[:depth]))
            if folder not in self._made:
                self.args += ["--perms", "0755", "--dir", folder]
                self._made.add(folder)

    def mount(self, how: str, source: str, dest: str) -> None:
        self.parents(dest)
        self.args += [how, source, dest]
        self._made.add(dest)


def _system(a: _Args) -> None:
    for name in _SYSTEM:
        host = "/" + name
        if os.path.islink(host):
            a.args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            a.mount("--ro-bind", host, host)
    for name in _ETC:
        a.mount("--ro-bind-try", "/etc/" + name, "/etc/" + name)


def _scratch(a: _Args, spec: SandboxSpec) -> None:
    disk = spec.limits.disk
    a.args += ["--proc", "/proc", "--dev", "/dev"]
    a.args += ["--perms", "1777", "--size", str(disk), "--tmpfs", "/tmp"]
    a.args += ["--perms", "1777", "--size", str(max(disk // 4, 2**20)), "--tmpfs", "/dev/shm"]
    a.args += ["--perms", "0755", "--dir", "/var", "--symlink", "/tmp", "/var/tmp"]
    a.args += ["--perms", "0777", "--dir", spec.workdir]
    a._made.update({"/tmp", "/dev", "/var", spec.workdir})


def bwrap_args(spec: SandboxSpec) -> list[str]:
    """bubblewrap's options for ``spec`` (read from a descriptor; see :func:`launch_command`)."""
    a = _Args()
    _system(a)
    _scratch(a, spec)
    for path in exposed_paths():
        a.mount("--ro-bind", path, path)
    for name, host in sorted(spec.inputs.items()):
        a.mount("--ro-bind", host, f"{spec.workdir}/{name}")
    for path in spec.readonly:
        a.mount("--ro-bind", path, path)
    for path in spec.writable:
        a.mount("--bind", path, path)
    a.args += [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--chdir",
        spec.workdir,
        "--clearenv",
    ]
    for key, value in spec.env.items():
        a.args += ["--setenv", key, value]
    if os.geteuid() != 0:
        a.args.append("--unshare-user")
    return a.args


def sandboxed_command(spec: SandboxSpec) -> list[str]:
    """What bubblewrap runs: ``spec.command`` as the sandbox user, under per-process limits.

    bubblewrap takes the command itself from its real command line, so the sandbox's
    ``/proc/1/cmdline`` shows this (the Python program and its arguments), never the bind
    mounts that would name the grader's folders.
    """
    limits = spec.limits
    prefix: list[str] = []
    processes = limits.processes
    if os.geteuid() == 0:
        prefix = [
            "setpriv",
            f"--reuid={spec.uid}",
            f"--regid={spec.uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
    else:
        # Without root the process limit counts all of this user's processes.
        from .procs import processes as _all

        processes += sum(1 for p in _all() if p.uid == os.geteuid())
    return prefix + [
        "prlimit",
        f"--as={limits.memory}",
        f"--cpu={limits.cpu_seconds}",
        f"--nproc={processes}",
        f"--fsize={limits.file_size}",
        "--core=0",
        "--",
        *spec.command,
    ]


def launcher_env() -> dict[str, str]:
    """The environment bubblewrap itself starts with: nothing of the instructor's."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def private_fd(data: bytes, folder: str) -> int:
    """A descriptor on an unlinked file in ``folder`` holding ``data``, at its start."""
    path = os.path.join(folder, f"bwrap-{os.getpid()}-{os.urandom(6).hex()}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.unlink(path)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def launch_command(
    spec: SandboxSpec, folder: str, cgroup_procs: list[str]
) -> tuple[list[str], tuple[int, ...]]:
    """``(command, fds)``: join the submission's cgroups, then become bubblewrap.

    A shell writes its own pid into each ``cgroup.procs`` before ``exec``, so bubblewrap and
    everything it starts are in the groups from the first instruction on. bubblewrap reads
    its options and the seccomp filter (:mod:`.seccomp`) from ``fds``: pass them to the
    child (``pass_fds``) and close them once it has started.
    """
    from .seccomp import program

    fds: list[int] = []
    options = bwrap_args(spec)
    filter_ = program()
    if filter_ is not None:
        fds.append(private_fd(filter_, folder))
        options += ["--seccomp", str(fds[-1])]
    fds.insert(0, private_fd(b"".join(arg.encode() + b"\0" for arg in options), folder))
    bwrap = shutil.which("bwrap") or "bwrap"
    join = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 111; shift; n=$((n-1)); done; exec "$@"'
    command = [
        "/bin/sh",
        "-c",
        join,
        "sh",
        str(len(cgroup_procs)),
        *cgroup_procs,
        bwrap,
        "--args",
        str(fds[0]),
        "--",
        *sandboxed_command(spec),
    ]
    return command, tuple(fds)
