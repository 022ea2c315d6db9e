"""The sandbox: what its arguments say, and what code inside it can and cannot do.

The argument tests are pure. The others start real sandboxes (about 0.2 s each) and skip
where bubblewrap cannot run; CI installs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from beth_course.grading import bwrap
from beth_course.grading.limits import Limits

LIMITS = Limits(
    memory=2**30,
    cpu_seconds=60,
    processes=32,
    file_size=2**26,
    submission_timeout=300,
    threads=1,
    uid_base=61000,
    disk=32 * 2**20,
)


def _spec(command, **kw) -> bwrap.SandboxSpec:
    return bwrap.SandboxSpec(
        command=command,
        uid=61000,
        limits=kw.pop("limits", LIMITS),
        env=kw.pop("env", {"HOME": "/tmp"}),
        **kw,
    )


def test_arguments_bind_only_the_system_python_and_inputs(tmp_path):
    """Read-only /usr, Python and our packages; inputs inside the working folder; no '/'."""
    data = tmp_path / "course" / "source" / "a" / "data.csv"
    data.parent.mkdir(parents=True)
    data.write_text("x\n")
    args = bwrap.bwrap_args(_spec(["python"], inputs={"data.csv": str(data)}))
    pairs = list(zip(args, args[1:], args[2:], strict=False))
    assert ("--ro-bind", "/", "/") not in pairs
    assert ("--ro-bind", str(data), f"{bwrap.WORKDIR}/data.csv") in pairs
    binds = {(how, src) for how, src, _ in pairs if how in ("--bind", "--ro-bind")}
    assert not [src for how, src in binds if how == "--bind"]  # nothing writable from the host
    assert ("--ro-bind", sys.prefix) in binds
    assert "--clearenv" in args and "--unshare-net" in args and "--die-with-parent" in args


def test_writable_folders_are_size_capped_tmpfs():
    """/tmp (with the working folder) and /dev/shm are RAM-backed, with a size."""
    args = bwrap.bwrap_args(_spec(["python"]))
    joined = " ".join(args)
    assert f"--size {LIMITS.disk} --tmpfs /tmp" in joined
    assert f"--size {LIMITS.disk // 4} --tmpfs /dev/shm" in joined
    assert "--symlink /tmp /var/tmp" in joined


def test_the_command_line_of_bubblewrap_names_no_folder(tmp_path):
    """Options go through a descriptor; the command line shows only the program it runs."""
    command, fds = bwrap.launch_command(_spec(["python", "-I", "-c", "pass"]), str(tmp_path), [])
    fd = fds[0]
    try:
        assert command[command.index("--args") + 1] == str(fd)
        after = command[command.index("--") + 1 :]
        assert after[-4:] == ["python", "-I", "-c", "pass"]
        assert str(tmp_path) not in " ".join(command)
        assert list(tmp_path.iterdir()) == []  # the options file is already unlinked
        assert b"--clearenv" in os.pread(fd, 1 << 20, 0)
    finally:
        for fd in fds:
            os.close(fd)


def test_bubblewrap_starts_with_an_environment_of_its_own():
    """Nothing of the instructor's environment is passed to bubblewrap itself."""
    assert set(bwrap.launcher_env()) == {"PATH", "LANG"}


# -- real sandboxes ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox():
    ok, why = bwrap.bwrap_status()
    if not ok:
        pytest.skip(why)

    def run(code: str, tmp: Path, limits=LIMITS, inputs=None, env=None):
        spec = _spec(
            [sys.executable, "-I", "-c", code],
            limits=limits,
            inputs=inputs or {},
            env=env or {"HOME": "/tmp"},
        )
        command, fds = bwrap.launch_command(spec, str(tmp), [])
        try:
            return subprocess.run(
                command,
                pass_fds=fds,
                env=bwrap.launcher_env(),
                cwd="/",
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            for fd in fds:
                os.close(fd)

    return run


def test_inside_the_course_and_home_are_not_there(sandbox, tmp_path):
    """The course folder, /root, /home and /run do not exist inside; the cwd is neutral."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "gradebook.db").write_text("secret")
    code = (
        "import os\n"
        f"print(os.path.exists({str(course)!r}), os.path.exists('/run'), os.getcwd())\n"
        "print(sorted(os.listdir('/')))\n"
    )
    done = sandbox(code, tmp_path)
    first, second = done.stdout.splitlines()
    assert first == f"False False {bwrap.WORKDIR}", done.stderr
    assert "run" not in second and "home" not in second


def test_proc_shows_no_path_and_no_grader_environment(sandbox, tmp_path, monkeypatch):
    """/proc/1/cmdline, /proc/1/environ and mountinfo hold no canary and no grader folder."""
    monkeypatch.setenv("BETH_CANARY_SECRET", "canary-7d1f")
    code = (
        "import os\n"
        "seen = ''\n"
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    for name in ('cmdline', 'environ'):\n"
        "        try:\n"
        "            seen += open(f'/proc/{pid}/{name}', 'rb').read().decode(errors='replace')\n"
        "        except OSError:\n"
        "            pass\n"
        "seen += open('/proc/self/mountinfo').read()\n"
        # The probes are written backwards so that this program's own command line,
        # which is in /proc too, does not hold them.
        f"print({'canary-7d1f'[::-1]!r}[::-1] in seen, {str(tmp_path)[::-1]!r}[::-1] in seen)\n"
    )
    done = sandbox(code, tmp_path)
    assert done.stdout.strip() == "False False", done.stderr


def test_writes_stop_at_the_disk_limit_and_inputs_are_read_only(sandbox, tmp_path):
    """/tmp and the working folder share the cap; an input file cannot be changed."""
    data = tmp_path / "data.csv"
    data.write_text("pristine\n")
    code = (
        "import os\n"
        "try:\n"
        "    with open('big', 'wb') as fh:\n"
        "        for _ in range(64):\n"
        "            fh.write(b'x' * 2**20)\n"
        "    print('wrote all')\n"
        "except OSError as exc:\n"
        "    print('stopped', exc.errno)\n"
        "try:\n"
        "    open('data.csv', 'w').write('forged')\n"
        "except OSError as exc:\n"
        "    print('read-only', exc.errno)\n"
    )
    done = sandbox(code, tmp_path, inputs={"data.csv": str(data)})
    lines = done.stdout.splitlines()
    assert lines[0] in ("stopped 28", "stopped 27"), done.stdout + done.stderr  # ENOSPC or EFBIG
    assert lines[1].startswith("read-only")
    assert data.read_text() == "pristine\n"


def test_no_network_not_even_the_graders_loopback(sandbox, tmp_path):
    """A listener on the host's 127.0.0.1 cannot be reached."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    code = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('connected')\n"
        "except OSError:\n"
        "    print('refused')\n"
    )
    try:
        assert sandbox(code, tmp_path).stdout.strip() == "refused"
    finally:
        listener.close()


def test_shared_memory_and_process_pools_work(sandbox, tmp_path):
    """A normal machine's /dev/shm: multiprocessing works inside (joblib, numba need it)."""
    code = "import multiprocessing as mp\nwith mp.Pool(2) as p:\n    print(p.map(abs, [-1, -2]))\n"
    done = sandbox(code, tmp_path)
    assert done.stdout.strip() == "[1, 2]", done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="sandbox users exist only when grading as root")
def test_as_root_the_code_runs_as_the_sandbox_user_without_capabilities(sandbox, tmp_path):
    """setpriv: the slot's uid, no supplementary groups, no capabilities, no new privileges."""
    code = "import os\nprint(os.getuid(), os.getgid(), os.getgroups(), open('/proc/self/status').read().count('CapEff:\\t0000000000000000'))"
    assert sandbox(code, tmp_path).stdout.strip() == "61000 61000 [] 1"


def test_the_kernels_key_store_cannot_be_used_inside(sandbox, tmp_path):
    """add_key and keyctl fail with EPERM (a key would outlive the submission: red team #6)."""
    import platform

    from beth_course.grading.seccomp import _ARCHES

    if platform.machine() not in _ARCHES:
        pytest.skip("no seccomp filter for this machine")
    numbers = _ARCHES[platform.machine()][1]
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"r = libc.syscall(ctypes.c_long({numbers['add_key']}), b'user', b'k', b'v', ctypes.c_long(1), ctypes.c_long(-4))\n"
        "print(r, ctypes.get_errno())\n"
        f"r = libc.syscall(ctypes.c_long({numbers['keyctl']}), ctypes.c_long(0), ctypes.c_long(-4))\n"
        "print(r, ctypes.get_errno())\n"
    )
    done = sandbox(code, tmp_path)
    assert done.stdout.split() == ["-1", "1", "-1", "1"], done.stdout + done.stderr


def test_the_seccomp_program_is_well_formed_for_each_machine():
    """Each program is whole BPF instructions ending in a return; unknown machines get none."""
    from beth_course.grading.seccomp import program

    for machine in ("x86_64", "aarch64"):
        code = program(machine)
        assert code is not None and len(code) % 8 == 0 and code[-8:-6] == b"\x06\x00"
    assert program("sparc") is None
