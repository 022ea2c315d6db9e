"""Grading as a normal user: the same isolation without per-slot users or cgroups.

The suite runs as root in CI, so this module grades a tiny class as ``nobody`` (through
``setpriv``) with a canary in the grader's environment: the submissions must not see it
(bubblewrap itself starts with an environment of its own), and the grader keeps its state
in a folder of its own, whatever a root run left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .helpers import REPO, submit, tiny_course

pytestmark = pytest.mark.slow

NOBODY = 65534
CANARY = "CANARY-NONROOT-31e8"
SNOOP = (
    "import os\n"
    "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
    "    for name in ('cmdline', 'environ'):\n"
    "        try:\n"
    "            print(pid, name, open(f'/proc/{pid}/{name}', 'rb').read())\n"
    "        except OSError as exc:\n"
    "            print(pid, name, exc.errno)\n"
    "print(dict(os.environ))\n"
    "answer = open(DATA_FILE).read().strip()\n"
)


def _readable_python() -> list[str]:
    """A prefix that lets ``nobody`` run this Python where it lives in a private home.

    On these machines Python is installed under /root (mode 0700). The grader under test
    then runs in a mount namespace where /root is an empty, readable folder holding only
    that installation; everything else is the machine as it is (devices included).
    """
    base = os.path.realpath(sys.base_prefix)
    if not base.startswith("/root/"):
        return []
    top = "/root/" + base.split("/")[2]  # bound whole, so its folders keep their modes
    return [
        "bwrap",
        "--dev-bind",
        "/",
        "/",
        "--perms",
        "0755",
        "--tmpfs",
        "/root",
        "--ro-bind",
        top,
        top,
        "--",
    ]


def _closed_to_others(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users may not enter, if any
    (/root is handled by :func:`_readable_python`)."""
    for folder in [*reversed(Path(path).resolve().parents), Path(path).resolve()]:
        if str(folder) in ("/", "/root"):
            continue
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


@pytest.fixture(scope="module")
def graded_as_nobody(sandbox_available):
    if os.geteuid() != 0 or not sandbox_available or shutil.which("setpriv") is None:
        pytest.skip("needs root (to become nobody), setpriv and bubblewrap")
    closed = _closed_to_others(REPO)
    if closed is not None:  # e.g. a checkout in a `mktemp -d` folder (mode 0700)
        pytest.skip(f"nobody cannot enter {closed}, so cannot run this checkout's Python")
    base = Path(tempfile.mkdtemp(prefix="beth-nonroot-", dir="/tmp"))
    course = tiny_course(base / "course")
    submit(
        course, "control", {"answer": "answer = open(DATA_FILE).read().strip()", "more": "more = 1"}
    )
    submit(course, "snoop", {"answer": SNOOP, "more": "more = 1"})
    (base / "home").mkdir()
    for path in [base, *base.rglob("*")]:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(base / "home"),
        "LANG": "C.UTF-8",
        "BETH_TEST_CANARY": CANARY,
    }
    done = subprocess.run(
        [
            *_readable_python(),
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            sys.executable,
            "-m",
            "beth_course.cli",
            "--course",
            str(course.root),
            "autograde",
            "--workers",
            "1",
            "--no-progress",
        ],
        env=env,
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=600,
    )
    yield course, done
    shutil.rmtree(base, ignore_errors=True)


def test_grading_as_a_normal_user_works_and_scores(graded_as_nobody):
    """Both submissions are graded, whatever state a root run left on the machine."""
    course, done = graded_as_nobody
    assert done.returncode == 0, done.stdout + done.stderr
    assert "graded 2 submissions" in done.stdout


def test_the_graders_environment_does_not_reach_the_sandbox(graded_as_nobody):
    """The snooping student read every /proc/*/environ it could; no canary among them."""
    course, done = graded_as_nobody
    text = course.autograded_notebook("snoop").read_text()
    assert "environ" in text and CANARY not in text
    assert str(course.root) not in text


def test_a_normal_users_state_is_its_own(graded_as_nobody):
    """The slot locks of a normal user live in a folder of that user's, never root's."""
    _, done = graded_as_nobody
    folder = Path(tempfile.gettempdir()) / f"beth-course-{NOBODY}"
    assert folder.is_dir() and not folder.is_symlink()
    assert folder.stat().st_uid == NOBODY and (folder.stat().st_mode & 0o077) == 0
