"""Ctrl-C during `beth-course autograde` (issue 9, item 7).

Before, the terminal's SIGINT printed a screen of "Task exception was never retrieved"
tracebacks. Now the run stops cleanly: what was graded stays in the gradebook, nothing
half-written, no sandbox process left, one message saying what was kept and what was not,
and the next run grades only the rest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from beth_course.grades import grade_table

from .helpers import submit, tiny_course

pytestmark = pytest.mark.slow

UID_BASE = 64000  # this module's sandbox users only (another module may grade meanwhile)
CONFIG = f"c.BethSandbox.uid_base = {UID_BASE}\n"
SLOW_RIGHT = {
    "answer": "import time\ntime.sleep(4)\nanswer = open(DATA_FILE).read().strip()",
    "more": "more = 1",
}
CLASS = [f"s{n}" for n in range(1, 7)]


def _autograde(course, *extra: str, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "beth_course.cli", "--course", str(course.root)]
    command += ["autograde", "--workers", "2", "--no-progress", *extra]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
    )


def _graded_folders(course) -> set[str]:
    root = course.folder("autograded")
    if not root.exists():
        return set()
    return {p.parent.parent.name for p in root.glob(f"*/{course.assignment}/*.ipynb")}


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, sandbox_available):
    """Six students of 4 s each on two workers; Ctrl-C (SIGINT to the whole process group,
    as a terminal sends it) once the first is graded."""
    if not sandbox_available:
        pytest.skip("bubblewrap is not available here; CI installs it")
    course = tiny_course(tmp_path_factory.mktemp("interrupt") / "course", config=CONFIG)
    for student in CLASS:
        submit(course, student, SLOW_RIGHT)
    run = _autograde(course, start_new_session=True)
    deadline = time.monotonic() + 300
    while not _graded_folders(course) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    assert run.poll() is None, "the run ended before it could be interrupted"
    os.killpg(run.pid, signal.SIGINT)
    sent = time.monotonic()
    out, err = run.communicate(timeout=120)
    print(f"the run ended {time.monotonic() - sent:.1f} s after Ctrl-C")
    return course, run.returncode, out, err


def test_ctrl_c_exits_with_one_message_and_no_traceback(interrupted):
    _, code, out, err = interrupted
    assert code == 130, out + err
    assert "Traceback" not in err and "Task exception" not in err, err[-3000:]
    assert "beth-course autograde: interrupted" in err
    assert "kept in the gradebook: " in err


def test_what_was_graded_is_kept_whole_and_the_rest_is_named(interrupted):
    """Every student with an autograded notebook has their full score in the gradebook;
    the others are listed as not graded, and nobody is both."""
    course, _, _, err = interrupted
    kept = _graded_folders(course)
    assert 1 <= len(kept) < len(CLASS), (kept, err)
    rows = {r["student"]: r for r in grade_table(course)}
    for student in kept:
        assert rows[student]["auto_score"] == 2.0, rows[student]
        assert rows[student]["status"] == "ok"
    not_graded = sorted(set(CLASS) - kept)
    assert f"not graded: {len(not_graded)} submission" in err, err
    for student in not_graded:
        assert student not in rows or rows[student]["auto_score"] == 0.0
    named = err.split("not graded:")[1]
    assert all(s in named for s in not_graded) and not any(s in named for s in kept)


def test_no_sandbox_process_outlives_the_interrupted_run(interrupted):
    if os.geteuid() != 0:
        pytest.skip("per-slot sandbox users exist only when grading as root")
    from beth_course.grading.procs import processes

    assert [p.pid for p in processes() if UID_BASE <= p.uid < UID_BASE + 1024] == []


def test_the_next_run_grades_only_the_rest(interrupted):
    course, _, _, _ = interrupted
    kept = _graded_folders(course)
    again = _autograde(course)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err
    assert f"{len(kept)} submission" in out and "already graded" in out, out
    rows = {r["student"]: r for r in grade_table(course)}
    assert {s: rows[s]["auto_score"] for s in CLASS} == {s: 2.0 for s in CLASS}
