"""A hostile class: nothing a submission does reaches the grading machine, its files, other
students or the instructor's secrets, and no submission stops the others.

One grading round (2 workers, sandboxed) of a tiny assignment: a correct control, and one
student per attack or failure. Victims (a root-only secret, a public file, another
student's submission, the gradebook) live where the grader can reach them; the checks are
that each is unchanged, that no canary text reaches any file the tool writes (autograded
notebooks, feedback, report, grades), and that the round ends within a bound.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from beth_course.grades import grade_table
from beth_course.grading.runner import autograde

from .helpers import submit, tiny_course

pytestmark = pytest.mark.slow

CANARY_FILE = "CANARY-FILE-4a1c9e"
CANARY_ENV = "CANARY-ENV-77b2f0"
LIMITS = """
c.Execute.timeout = 10
c.ExecutePreprocessor.timeout = 10
c.BethSandbox.memory_limit = "1G"
c.BethSandbox.disk_limit = "48M"
c.BethSandbox.max_processes = 32
c.BethSandbox.max_cell_output = "64K"
c.BethSandbox.max_notebook_output = "256K"
c.BethSandbox.submission_timeout = 120
c.BethSandbox.uid_base = 63000
"""
# Sandbox users of this module's round only (another module may grade at the same time).
UID_BASE = 63000
ANSWER = "answer = open(DATA_FILE).read().strip()\n"


def attacks(victims: dict[str, str], port: int) -> dict[str, dict[str, str]]:
    """Per student, the solution cells replaced (``answer`` and ``more``)."""
    secret, public, peer, gradebook = (
        victims[k] for k in ("secret", "public", "peer", "gradebook")
    )
    names = ["tiny.ipynb", "kernel.log", "kernel.json", "timestamp.txt", "data2.csv", "tiny.html"]
    return {
        "control": {},
        "links": {
            "answer": (
                "import os\n"
                f"for name in {names!r}:\n"
                "    if os.path.lexists(name):\n"
                "        os.remove(name)\n"
                f"    os.symlink({secret!r}, name)\n"
                f"for name, target in [('peer.ipynb', {peer!r}), ('gradebook.db', {gradebook!r}),"
                f" ('public.txt', {public!r}), ('root', '/')]:\n"
                "    os.symlink(target, name)\n"
                "os.makedirs('sub', exist_ok=True)\n"
                f"os.symlink({secret!r}, 'sub/tiny.ipynb')\n" + ANSWER
            )
        },
        "fifos": {
            "answer": (
                "import os\n"
                f"for name in {names + ['data.csv.fifo']!r}:\n"
                "    if os.path.lexists(name):\n"
                "        os.remove(name)\n"
                "    os.mkfifo(name)\n" + ANSWER
            )
        },
        "hardlink": {
            "answer": (
                "import os\n"
                f"try:\n    os.link({secret!r}, 'copy')\nexcept OSError as exc:\n    print('no link', exc.errno)\n"
                + ANSWER
            )
        },
        "read_secret": {"answer": f"print(open({secret!r}).read())\n" + ANSWER},
        "snoop": {
            "answer": (
                "import os\n"
                "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
                "    for name in ('cmdline', 'environ'):\n"
                "        try:\n"
                "            print(open(f'/proc/{pid}/{name}', 'rb').read())\n"
                "        except OSError as exc:\n"
                "            print(pid, name, exc.errno)\n"
                "print(open('/proc/self/mountinfo').read(), dict(os.environ), os.getcwd())\n"
                + ANSWER
            )
        },
        "write_out": {
            "answer": (
                f"for path in {[public, peer, gradebook, victims['source'], victims['release']]!r}:\n"
                "    try:\n        open(path, 'a').write('forged')\n"
                "    except OSError as exc:\n        print('refused', exc.errno)\n" + ANSWER
            )
        },
        "net": {
            "answer": (
                "import socket\n"
                f"socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'grades please')\n"
                + ANSWER
            )
        },
        "memory_split": {
            "answer": (
                "import os, time\n"
                "def hog():\n"
                "    block = bytearray(400 * 2**20)\n"
                "    for i in range(0, len(block), 4096):\n"
                "        block[i] = 1\n"
                "    return block\n"
                "for _ in range(3):\n"
                "    if os.fork() == 0:\n"
                "        keep = hog()\n"
                "        time.sleep(60)\n"
                "        os._exit(0)\n"
                "keep = hog()\n"
                "time.sleep(10)\n" + ANSWER
            )
        },
        "memory_one": {"answer": "hog = []\nwhile True:\n    hog.append(bytearray(64 * 2**20))\n"},
        "fill_disk": {
            "answer": (
                "import os\n"
                "for folder in ['.', '/tmp', '/var/tmp', '/dev/shm']:\n"
                "    try:\n"
                "        with open(os.path.join(folder, 'fill'), 'wb') as fh:\n"
                "            while True:\n"
                "                fh.write(b'x' * 2**20)\n"
                "    except OSError as exc:\n"
                "        print(folder, exc.errno)\n" + ANSWER
            )
        },
        "big_output": {
            "answer": (
                "print('x' * (8 * 2**20))\n"
                "from IPython.display import HTML, display\n"
                "display(HTML('<b>' + 'y' * (8 * 2**20) + '</b>'))\n"
                "for _ in range(100):\n    print('z' * 50_000)\n" + ANSWER
            )
        },
        "fork_bomb": {"answer": "import os\nwhile True:\n    os.fork()\n"},
        "hang": {"more": "while True:\n    pass\n"},
        "hang_hard": {
            "more": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
        },
        "crash": {"more": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
    }


# student: (autograded points of 2, status, words the reason must hold)
EXPECTED = {
    "control": (2, "ok", ""),
    "links": (2, "ok", ""),
    "fifos": (2, "ok", ""),
    "hardlink": (2, "ok", ""),
    "read_secret": (1, "ok", ""),
    "snoop": (2, "ok", ""),
    "write_out": (2, "ok", ""),
    "net": (1, "ok", ""),
    "memory_split": (0, "memory", "memory limit"),
    "memory_one": (1, "memory", "memory limit"),
    "fill_disk": (2, "ok", ""),
    "big_output": (2, "ok", ""),
    "fork_bomb": (1, "ok", ""),
    "hang": (1, "timeout", "more"),
    "hang_hard": (1, "timeout", "did not stop"),
    "crash": (1, "kernel_died", "more"),
    "not_a_notebook": (0, "malformed", "not valid JSON"),
}


def _digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, sandbox_available):
    if not sandbox_available:
        pytest.skip("bubblewrap is not available here; CI installs it")
    base = tmp_path_factory.mktemp("hostile")
    course = tiny_course(base / "course", config=LIMITS)
    victims_dir = base / "victims"
    victims_dir.mkdir()
    secret, public = victims_dir / "secret.txt", victims_dir / "public.txt"
    secret.write_text(CANARY_FILE + "\n")
    secret.chmod(0o600)
    public.write_text("public\n")
    peer = submit(course, "control", {"answer": ANSWER, "more": "more = 1"})
    victims = {
        "secret": str(secret),
        "public": str(public),
        "peer": str(peer),
        "gradebook": str(course.gradebook_path),
        "source": str(course.folder("source") / "data.csv"),
        "release": str(course.folder("release") / "tiny.ipynb"),
    }
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    connections: list = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connections.append(listener.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    for student, answers in attacks(victims, listener.getsockname()[1]).items():
        submit(course, student, {"answer": ANSWER, "more": "more = 1", **answers})
    broken = course.folder("submitted", "not_a_notebook")
    broken.mkdir(parents=True)
    (broken / "tiny.ipynb").write_bytes(b'{"cells": [{"cell_type": "code", "sou')
    before = {name: _digest(Path(path)) for name, path in victims.items() if name != "gradebook"}
    os.environ["BETH_TEST_CANARY"] = CANARY_ENV
    started = time.monotonic()
    try:
        summary = autograde(course, workers=2, progress=False)
    finally:
        del os.environ["BETH_TEST_CANARY"]
        stop.set()
        thread.join()
        listener.close()
    seconds = time.monotonic() - started
    rows = {r["student"]: r for r in grade_table(course)}
    return course, summary, rows, victims, before, connections, seconds


def _result(summary, student):
    return next(r for r in summary.results if r.student == student)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_scores_what_it_earned_with_its_status(hostile, student):
    """Attacks fail inside the sandbox; the failure is recorded, and the rest is graded."""
    _, summary, rows, *_ = hostile
    points, status, words = EXPECTED[student]
    result = _result(summary, student)
    assert (rows[student]["auto_score"], result.status) == (points, status), result.reason
    assert words in result.reason


def test_victims_are_unchanged(hostile):
    """The secret, the public file and the other student's notebook: same bytes, same mode."""
    _, _, _, victims, before, _, _ = hostile
    after = {name: _digest(Path(victims[name])) for name in before}
    assert after == before


def test_the_gradebook_holds_only_real_scores(hostile):
    """No submission wrote into the gradebook (no score above a cell's points)."""
    course, *_ = hostile
    con = sqlite3.connect(course.gradebook_path)
    try:
        assert con.execute("SELECT COUNT(*) FROM grade WHERE auto_score > 1").fetchone()[0] == 0
    finally:
        con.close()


def test_no_connection_reached_the_graders_loopback(hostile):
    """The kernel has no route to a listener on the grading machine's 127.0.0.1."""
    assert hostile[5] == []


def test_autograded_folders_hold_only_regular_files_the_assignment_expects(hostile):
    """Links and FIFOs a submission made never come back; files are small and regular."""
    course, *_ = hostile
    for path in (course.root / "autograded").rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file():
            assert stat.S_ISREG(path.lstat().st_mode) and path.stat().st_size < 1_000_000, path
            assert path.name in ("tiny.ipynb", "data.csv", "timestamp.txt"), path


def test_no_canary_reaches_anything_the_tool_writes(hostile):
    """Neither the root-only file's text nor the grader's environment appears anywhere."""
    from beth_course.feedback import generate
    from beth_course.report import write_report

    course, *_ = hostile
    generate(course)
    write_report(course)
    for path in course.root.rglob("*"):
        if path.is_file() and path.name != "gradebook.db":
            text = path.read_bytes()
            assert CANARY_FILE.encode() not in text and CANARY_ENV.encode() not in text, path
    con = sqlite3.connect(course.gradebook_path)
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert CANARY_FILE not in dump and CANARY_ENV not in dump


def test_the_graders_paths_are_not_shown_to_the_student(hostile):
    """What the snooping student printed holds neither the course's folder nor the victims'."""
    course, _, _, victims, *_ = hostile
    text = course.autograded_notebook("snoop").read_text()
    assert "cmdline" in text and str(course.root) not in text
    assert str(Path(victims["secret"]).parent) not in text


def test_output_is_capped_per_cell_and_notebook(hostile):
    """Megabytes printed or displayed leave a short autograded notebook with a note."""
    course, *_ = hostile
    path = course.autograded_notebook("big_output")
    assert path.stat().st_size < 400_000
    assert "output not kept" in path.read_text()


def test_the_round_ends_within_a_bound(hostile):
    """Hangs, FIFOs and bombs cost their time limits, not more: the round stays short."""
    assert hostile[6] < 240


def test_no_sandbox_process_is_left_running(hostile):
    """After grading, no process of any sandbox user is left."""
    if os.geteuid() != 0:
        pytest.skip("per-slot sandbox users exist only when grading as root")
    from beth_course.grading.procs import processes

    left = [p for p in processes() if UID_BASE <= p.uid < UID_BASE + 1024]
    assert left == [], [(p, _command(p.pid)) for p in left]


def _command(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()[:300]
    except OSError as exc:
        return f"({exc.strerror})"
