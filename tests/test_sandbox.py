"""Hostile and broken submissions are contained, recorded, and do not stop the others.

One grading round (2 workers, in the sandbox) of a correct control submission and one
submission per attack or failure: a connection to a listener on 127.0.0.1; writes into
source/, release/ and the gradebook; reading the gradebook and another student's work; a
fork bomb; unbounded memory; a cell that hangs (interruptible, and not); a kernel that
kills itself; a file that is not a notebook. The course copy gets tight limits so the
round stays short.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import threading

import pytest

from beth_course import notebooks
from beth_course.grades import grade_table
from beth_course.grading.runner import autograde

from .helpers import fictional_students

pytestmark = pytest.mark.slow

LIMITS = """
# Tight limits for the sandbox tests (appended by tests/test_sandbox.py).
c.Execute.timeout = 25
c.ExecutePreprocessor.timeout = 25
c.BethSandbox.memory_limit = "3G"
c.BethSandbox.max_processes = 32
"""


def _with(release_nb, answers: dict[str, str]):
    """ada's correct notebook with some solution cells replaced."""
    nb = fictional_students().build(release_nb, "ada")
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile_round(tmp_path_factory, sandbox_available):
    if not sandbox_available:
        pytest.skip("bubblewrap is not available here; CI installs it")
    import shutil

    from beth_course.course import Course
    from beth_course.release import release

    from .helpers import copy_course

    course = copy_course(tmp_path_factory.mktemp("hostile") / "course")
    shutil.rmtree(course.root / "submitted")
    with open(course.root / "nbgrader_config.py", "a") as fh:
        fh.write(LIMITS)
    release(course, validate=False)
    course = Course(course.root)

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connections = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connections.append(listener.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    root = course.root
    gradebook = course.gradebook_path
    load = "df = pandas.read_csv(DATA_FILE)\n"
    attacks = {
        "control": {},
        "net": {"load_data": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'grades please')\n" + load},
        "write_source": {"load_data": f"open({str(course.folder('source') / 'data.csv')!r}, 'a').write('0,0\\n')\n" + load},
        "write_release": {"load_data": f"open({str(course.release_notebook)!r}, 'w').write('{{}}')\n" + load},
        "write_gradebook": {"load_data": f"import sqlite3\nsqlite3.connect({str(gradebook)!r}).execute('UPDATE grade SET auto_score = 99').connection.commit()\n" + load},
        "read_gradebook": {"load_data": f"assert b'SQLite' in open({str(gradebook)!r}, 'rb').read()\n" + load},
        "read_peer": {"load_data": f"print(open({str(root / 'submitted' / 'control' / 'beth_workshop' / 'beth_workshop.ipynb')!r}).read()[:100])\n" + load},
        "fork_bomb": {"load_data": "import os\nwhile True:\n    os.fork()\n"},
        "memory": {"umap_projection": "hog = []\nwhile True:\n    hog.append(bytearray(256 * 2**20))\n"},
        "hang": {"isolation_forest": "while True:\n    pass\n"},
        "hang_hard": {"isolation_forest": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"},
        "crash": {"isolation_forest": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
    }
    for student, answers in attacks.items():
        folder = course.folder("submitted", student)
        folder.mkdir(parents=True)
        notebooks.write(_with(course.release_notebook, answers), folder / "beth_workshop.ipynb")
    broken = course.folder("submitted", "not_a_notebook")
    broken.mkdir(parents=True)
    (broken / "beth_workshop.ipynb").write_bytes(b'{"cells": [{"cell_type": "code", "sou')

    protected = {p: _sha(p) for p in (course.folder("source") / "data.csv", course.release_notebook)}
    summary = autograde(course, workers=2, progress=False)
    stop.set()
    thread.join()
    listener.close()
    rows = {r["student"]: r for r in grade_table(course)}
    return course, summary, rows, connections, protected


def _result(summary, student):
    return next(r for r in summary.results if r.student == student)


def test_control_submission_is_graded_normally_beside_the_attacks(hostile_round):
    """The correct submission, graded in the same round, gets every point."""
    _, _, rows, _, _ = hostile_round
    assert rows["control"]["auto_score"] == 9 and rows["control"]["status"] == "ok"


@pytest.mark.parametrize("student", ["net", "write_source", "write_release", "write_gradebook",
                                     "read_gradebook", "read_peer", "fork_bomb"])
def test_attack_fails_and_is_graded_as_failing(hostile_round, student):
    """Each attack is stopped by the sandbox, so the attacking cell fails and scores 0."""
    _, _, rows, _, _ = hostile_round
    assert rows[student]["cells"]["df_matches_data_file"] == 0
    assert rows[student]["auto_score"] == 0


def test_no_connection_reached_the_listener_on_loopback(hostile_round):
    """The kernel has no route to the grading machine's 127.0.0.1."""
    _, _, _, connections, _ = hostile_round
    assert connections == []


def test_source_release_and_gradebook_are_untouched(hostile_round):
    """Files outside the submission's own folder are unchanged; no score is 99."""
    course, _, _, _, protected = hostile_round
    for path, digest in protected.items():
        assert _sha(path) == digest, path
    con = sqlite3.connect(course.gradebook_path)
    assert con.execute("SELECT COUNT(*) FROM grade WHERE auto_score > 2").fetchone()[0] == 0
    con.close()


def test_fork_bomb_leaves_no_process_behind(hostile_round):
    """After grading, no process of any sandbox user is still running."""
    if os.geteuid() != 0:
        pytest.skip("per-slot sandbox users exist only when grading as root")
    leftovers = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and 61000 <= os.stat(f"/proc/{entry}").st_uid < 61256:
                leftovers.append(entry)
        except FileNotFoundError:
            continue
    assert leftovers == []


def test_memory_exhaustion_is_recorded_and_earlier_work_keeps_its_points(hostile_round):
    """MemoryError at the sandbox limit: recorded as 'memory'; other tasks still score."""
    _, summary, rows, _, _ = hostile_round
    result = _result(summary, "memory")
    assert result.status == "memory" and "memory limit" in result.reason
    assert rows["memory"]["cells"]["umap_projection_of_balanced_sample"] == 0
    assert rows["memory"]["auto_score"] == 7


def test_interruptible_hang_is_recorded_as_timeout(hostile_round):
    """A cell past the per-cell limit is interrupted; the kernel lives on; status says so."""
    _, summary, rows, _, _ = hostile_round
    result = _result(summary, "hang")
    assert result.status == "timeout" and "isolation_forest" in result.reason
    assert rows["hang"]["auto_score"] == 7


def test_hang_that_ignores_interrupts_stops_the_notebook_not_the_round(hostile_round):
    """A kernel that ignores SIGINT is given up on; earlier points stay, later cells NotRun."""
    course, summary, rows, _, _ = hostile_round
    result = _result(summary, "hang_hard")
    assert result.status == "timeout" and "did not stop" in result.reason
    assert rows["hang_hard"]["auto_score"] == 7
    text = notebooks.notebook_text(notebooks.read(course.autograded_notebook("hang_hard")))
    assert "NotRun" in text


def test_kernel_death_is_recorded_with_the_cell(hostile_round):
    """A kernel that dies is recorded as kernel_died, naming the cell; earlier points stay."""
    _, summary, rows, _, _ = hostile_round
    result = _result(summary, "crash")
    assert result.status == "kernel_died" and "isolation_forest" in result.reason
    assert rows["crash"]["auto_score"] == 7


def test_malformed_notebook_is_recorded_and_scores_zero(hostile_round):
    """A file that is not a notebook is recorded as malformed, with 0 on every test."""
    course, summary, rows, _, _ = hostile_round
    result = _result(summary, "not_a_notebook")
    assert result.status == "malformed" and "not valid JSON" in result.reason
    assert rows["not_a_notebook"]["auto_score"] == 0
    assert not course.autograded_notebook("not_a_notebook").exists()
