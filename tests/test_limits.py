"""Limits per submission, not per process: cgroups, the watchdog, and the slot folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from beth_course.grading import cgroups, slots
from beth_course.grading.limits import Limits, parse_size
from beth_course.grading.watchdog import MemoryWatchdog

# Children that each allocate and touch `MB` megabytes, then sleep.
HOG = """
import os, sys, time
mb, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n - 1):
    if os.fork() == 0:
        break
block = bytearray(mb * 2**20)
for i in range(0, len(block), 4096):
    block[i] = 1
time.sleep(30)
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        ("4G", 4 * 2**30),
        ("512M", 512 * 2**20),
        ("1.5G", int(1.5 * 2**30)),
        (2048, 2048),
        ("100", 100),
    ],
)
def test_parse_size_reads_config_sizes(text, expected):
    """Sizes in nbgrader_config.py may be written 4G, 512M, or bytes."""
    assert parse_size(text) == expected


def test_parse_size_rejects_nonsense():
    """A size written wrong is an error naming the value."""
    with pytest.raises(ValueError, match="'four gigs'"):
        parse_size("four gigs")


def test_limits_come_from_the_config_section():
    """Every c.BethSandbox size is read, with units."""
    from traitlets.config import Config

    config = Config()
    config.BethSandbox.memory_limit = "2G"
    config.BethSandbox.disk_limit = "300M"
    config.BethSandbox.max_cell_output = "1M"
    limits = Limits.from_config(config)
    assert (limits.memory, limits.disk, limits.cell_output) == (2 * 2**30, 300 * 2**20, 2**20)


@pytest.fixture
def cgroup():
    group = cgroups.Cgroup.create(memory=200 * 2**20, processes=16)
    if group is None:
        pytest.skip("no cgroup can be made here (not root, or no memory/pids controller)")
    yield group
    group.destroy()


def _start_in(group, *argv) -> subprocess.Popen:
    join = (
        'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1"; shift; n=$((n-1)); done; exec "$@"'
    )
    files = group.procs_files
    return subprocess.Popen(["/bin/sh", "-c", join, "sh", str(len(files)), *files, *argv])


def test_a_cgroup_limits_all_processes_together(cgroup):
    """Four processes of 100 MB each exceed a 200 MB group: the OOM killer stops them."""
    process = _start_in(cgroup, sys.executable, "-c", HOG, "100", "4")
    deadline = time.monotonic() + 20
    while not cgroup.oom_killed() and time.monotonic() < deadline:
        time.sleep(0.1)
    process.kill()
    process.wait()
    assert cgroup.oom_killed()


def test_one_process_under_the_limit_is_left_alone(cgroup):
    """50 MB in a 200 MB group runs; destroy() then kills it and removes the group."""
    process = _start_in(cgroup, sys.executable, "-c", HOG, "50", "1")
    time.sleep(1.5)
    assert process.poll() is None and not cgroup.oom_killed()
    assert process.pid in cgroup.pids()
    cgroup.destroy()
    process.wait(timeout=10)
    assert not cgroup.memory_dir.exists()


def test_a_cgroup_caps_the_cpu_time_of_all_processes_together():
    """With half a CPU, three busy processes are held to it together (red team #8)."""
    group = cgroups.Cgroup.create(memory=200 * 2**20, processes=16, cpus=0.5)
    if group is None or group.cpu_dir is None:
        pytest.skip("no cgroup with a cpu controller can be made here")
    busy = (
        "import os, time\nfor _ in range(2):\n    os.fork()\n"
        "end = time.time() + 2\nwhile time.time() < end:\n    pass\n"
    )
    try:
        _start_in(group, sys.executable, "-c", busy).wait(timeout=60)
        fields = dict(
            line.split() for line in (group.cpu_dir / "cpu.stat").read_text().splitlines()
        )
        if "usage_usec" in fields:  # cgroup v2: three loops of 2 s would use 6 s uncapped
            assert int(fields["usage_usec"]) / 1e6 < 1.6
        else:  # cgroup v1: the group was throttled in most of its periods
            assert int(fields["nr_throttled"]) > int(fields["nr_periods"]) // 2 > 0
    finally:
        group.destroy()


def test_cgroup_v2_files_are_written_where_the_machine_has_v2(tmp_path, monkeypatch):
    """On a cgroup2 machine: memory.max, swap off, pids.max, controllers enabled."""
    root = tmp_path / "cgroup2"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    monkeypatch.setattr(cgroups, "_mounts", lambda: [(str(root), "cgroup2", {"rw"})])
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    real_mkdir = type(root).mkdir

    def mkdir(self, *args, **kwargs):  # a real cgroupfs makes these files itself
        real_mkdir(self, *args, **kwargs)
        for name in ("cgroup.subtree_control", "memory.swap.max"):
            (self / name).touch()

    monkeypatch.setattr(type(root), "mkdir", mkdir)
    group = cgroups.Cgroup.create(memory=123, processes=7)
    assert group.version == 2 and group.cpu_dir == group.memory_dir
    assert (group.memory_dir / "memory.max").read_text() == "123"
    assert (group.memory_dir / "memory.swap.max").read_text() == "0"
    assert (group.memory_dir / "pids.max").read_text() == "7"
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert group.procs_files == [str(group.memory_dir / "cgroup.procs")]


def test_without_cgroups_the_watchdog_stops_a_tree_over_the_limit():
    """The fallback sums the whole tree: 3 x 60 MB passes a 120 MB limit and is killed."""
    process = subprocess.Popen([sys.executable, "-c", HOG, "60", "3"])
    watchdog = MemoryWatchdog(process.pid, 120 * 2**20, interval=0.1).start()
    try:
        process.wait(timeout=30)
    finally:
        watchdog.stop()
        process.kill()
    assert watchdog.fired and watchdog.peak > 120 * 2**20


# -- the slot folder ---------------------------------------------------------------------------
def test_private_dir_refuses_a_link_planted_in_its_place(tmp_path):
    """A symlink where the grader's folder should be is refused, not followed."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "state").symlink_to(target)
    with pytest.raises(slots.StateDirError, match="not a folder owned by this user"):
        slots.private_dir(tmp_path / "state")


def test_private_dir_refuses_a_folder_others_can_write(tmp_path):
    """A group- or world-writable folder (made by someone else first) is refused."""
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(slots.StateDirError):
        slots.private_dir(folder)


def test_lock_files_are_never_followed_or_truncated(tmp_path, monkeypatch):
    """A link planted as a lock file is refused; the file it points to is untouched."""
    monkeypatch.setattr(slots, "state_dir", lambda: tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "slots").mkdir(mode=0o700)
    (tmp_path / "slots" / "slot-0.lock").symlink_to(victim)
    with pytest.raises(OSError):
        slots.Slot(61000)
    assert victim.read_text() == "precious"


def test_two_slots_at_once_get_different_users(tmp_path, monkeypatch):
    """Concurrent graders on one machine never share a slot (nor, as root, a uid)."""
    monkeypatch.setattr(slots, "state_dir", lambda: tmp_path)
    with slots.Slot(61000) as first, slots.Slot(61000) as second:
        assert first.index != second.index
        if os.geteuid() == 0:
            assert len({first.uid, second.uid, first.checker_uid, second.checker_uid}) == 4


def test_root_and_other_users_keep_grader_state_apart(monkeypatch, tmp_path):
    """Root's folder is under /run; anyone else's is their own, so neither breaks the other."""
    monkeypatch.setattr(os, "geteuid", lambda: 12345)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "missing"))
    monkeypatch.setattr(slots, "private_dir", lambda path: path)
    assert slots.state_dir().name == "beth-course-12345"
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert str(slots.state_dir()).startswith(("/run/", "/tmp/"))
