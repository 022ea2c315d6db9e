"""Red team: attacks on the redesigned grader (checker, value wire, sandbox).

Each test here failed on ec684e8 (the first version of the checker) and passes since the
fix its docstring names. The slow ones grade a tiny assignment (built in the test, like
tests/test_hostile_grading.py) or the BETH notebook; the fast ones call the wire and the
checker directly. What each attack is, what it achieved and where the weakness was is in
each test's docstring.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from beth_course.grading import wire
from beth_course.grading.checker import Checker

from .helpers import tiny_course

LIMITS = """
c.Execute.timeout = 30
c.ExecutePreprocessor.timeout = 30
c.BethSandbox.memory_limit = "1500M"
c.BethSandbox.disk_limit = "48M"
c.BethSandbox.max_processes = 32
c.BethSandbox.max_cell_output = "64K"
c.BethSandbox.max_notebook_output = "256K"
c.BethSandbox.submission_timeout = 180
c.BethSandbox.uid_base = 62000
"""
# Sandbox users of this module's round only (another module may grade at the same time).
UID_BASE = 62000
MEMORY_LIMIT = 1500 * 2**20
HIDDEN_MARK = "HIDDEN-MARK-5521"
HIDDEN_ARG = 7319  # appears only in a hidden test
KEYRING_CANARY = "FROM-GIVER-8c1d"
LINK_CANARY = "CANARY-LINKED-INPUT-3e7a"

# An assignment like the BETH one: parameters and imports in a locked cell, a hand-graded
# code answer, tests that read parameters and an imported helper, a test calling a function.
CELLS = [
    (
        "parameters",
        "code",
        {"locked": True},
        'DATA_FILE = "data.csv"\nSAMPLE_SIZE = 5\nfrom statistics import mean',
    ),
    (
        "essay",
        "code",
        {"solution": True, "grade": True, "points": 2},
        "### BEGIN SOLUTION\n# explore the data here; graded by hand\n### END SOLUTION",
    ),
    (
        "answer",
        "code",
        {"solution": True},
        "### BEGIN SOLUTION\nanswer = open(DATA_FILE).read().strip()\n### END SOLUTION",
    ),
    (
        "answer_is_right",
        "code",
        {"grade": True, "locked": True, "points": 1},
        'assert answer == open(DATA_FILE).read().strip(), f"answer is {answer!r}, not the text of DATA_FILE"\n'
        '### BEGIN HIDDEN TESTS\nassert len(answer) == 2, "answer should be two characters"\n### END HIDDEN TESTS',
    ),
    (
        "sample",
        "code",
        {"solution": True},
        "### BEGIN SOLUTION\nsample = list(range(SAMPLE_SIZE))\naverage = mean(sample)\n### END SOLUTION",
    ),
    (
        "sample_is_right",
        "code",
        {"grade": True, "locked": True, "points": 1},
        "assert len(sample) == SAMPLE_SIZE, 'sample should hold SAMPLE_SIZE values'\n"
        "### BEGIN HIDDEN TESTS\nassert average == mean(sample), 'average should be the mean of sample'\n"
        "### END HIDDEN TESTS",
    ),
    (
        "func",
        "code",
        {"solution": True},
        "### BEGIN SOLUTION\ndef double(x):\n    return 2 * x\n### END SOLUTION",
    ),
    (
        "double_works",
        "code",
        {"grade": True, "locked": True, "points": 1},
        f"assert double(2) == 4\n### BEGIN HIDDEN TESTS\n# {HIDDEN_MARK}\n"
        f"assert double({HIDDEN_ARG}) == {2 * HIDDEN_ARG}, 'double is wrong'\n### END HIDDEN TESTS",
    ),
    ("more", "code", {"solution": True}, "### BEGIN SOLUTION\nmore = 1\n### END SOLUTION"),
    (
        "more_is_one",
        "code",
        {"grade": True, "locked": True, "points": 1},
        "assert more == 1\n### BEGIN HIDDEN TESTS\nassert isinstance(more, int)\n### END HIDDEN TESTS",
    ),
]
TESTS = ["answer_is_right", "sample_is_right", "double_works", "more_is_one"]
GOOD = {
    "answer": "answer = open(DATA_FILE).read().strip()",
    "sample": "sample = list(range(SAMPLE_SIZE))\naverage = mean(sample)",
    "func": "def double(x):\n    return 2 * x",
    "more": "more = 1",
}

# Runs in the CHECKER (see test_a_hand_graded_code_cell_...): every later test cell is
# sent to the student's function `leak` and then reported as passed (no outputs).
CHECKER_TAKEOVER = textwrap.dedent("""\
    import sys, gc
    _main = sys.modules["__main__"]
    _channel = next(o for o in gc.get_objects() if type(o).__name__ == "Channel")
    from beth_course.grading import wire as _wire
    def _passes(code, namespace, filename):
        try:
            _channel.request({"op": "call", "name": "leak"},
                             _wire.encode({"args": [code], "kwargs": {}}, callables=False), "returned")
        except Exception:
            pass
        return []
    _main.execute = _passes
""")
KEYRING = "import ctypes\n_libc = ctypes.CDLL(None, use_errno=True)\n_L = ctypes.c_long\n"


def _arrow_bomb(rows: int) -> str:
    """A value container (base64) whose one DataFrame is ``rows`` int64 zeros, zstd-packed
    to a few tens of kilobytes: it decompresses to ``8 * rows`` bytes in the checker."""
    import numpy as np
    import pyarrow as pa

    table = pa.table({"a": pa.array(np.zeros(rows, dtype=np.int64))})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(
        sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")
    ) as writer:
        writer.write_table(table)
    part = sink.getvalue().to_pybytes()
    head = json.dumps({"values": {"answer": {"$arrow": [0, len(part)], "as": "frame"}}}).encode()
    return base64.b64encode(wire.MAGIC + struct.pack("<Q", len(head)) + head + part).decode()


def attacks(secret_link: Path) -> dict[str, dict]:
    return {
        "control": dict(answers=GOOD),
        # the locked parameters/imports cell moved after every test
        "moved_params": dict(
            answers={
                **GOOD,
                "answer": "answer = open('data.csv').read().strip()",
                "sample": "SAMPLE_SIZE = 1\ndef mean(values):\n    return 'whatever'\n"
                "sample = ['not a sample']\naverage = 'whatever'",
            },
            order=[
                "essay",
                "answer",
                "answer_is_right",
                "sample",
                "sample_is_right",
                "func",
                "double_works",
                "more",
                "more_is_one",
                "parameters",
            ],
        ),
        # the hand-graded code answer's metadata: solution false -> it runs in the checker
        "flip_manual": dict(
            answers={
                "essay": CHECKER_TAKEOVER,
                "answer": "LEAKED = []\ndef leak(code):\n    LEAKED.append(code)\nanswer = 'wrong'",
                "sample": "sample = []\naverage = -1",
                "func": "def double(x):\n    return 0",
                "more": "print('LEAKED:', [c.replace('###', '#') for c in LEAKED])\nmore = 2",
            },
            meta={"essay": {"solution": False}},
        ),
        # a student function sees the hidden tests' arguments, fetch sees the names they read
        "spy": dict(
            answers={
                **GOOD,
                "answer": "import beth_course.grading.capture as _capture\nSEEN = []\n_fetch = _capture.fetch\n"
                "def _spy(names):\n    SEEN.append(names)\n    return _fetch(names)\n"
                "_capture.fetch = _spy\nanswer = open(DATA_FILE).read().strip()",
                "func": "ARGS = []\ndef double(x):\n    ARGS.append(x)\n    return 2 * x",
                "more": "print('SPIED', SEEN, ARGS)\nmore = 1",
            }
        ),
        # a test's assertion message quotes the answer: 20 MB of it
        "big_echo": dict(answers={**GOOD, "answer": "answer = 'x' * 20_000_000"}),
        # a 40 kB value that is 480 MB in the checker, while the kernel uses its own limit
        "arrow_bomb": dict(
            answers={
                **GOOD,
                "answer": "import beth_course.grading.capture as _capture\n_B = "
                + repr(_arrow_bomb(60_000_000))
                + "\n_fetch = _capture.fetch\n"
                "_capture.fetch = lambda names: _B if 'answer' in names else _fetch(names)\nanswer = '42'",
                "more": "import os, time\nif os.fork() == 0:\n    _hold = bytearray(600 * 2**20)\n"
                "    for _i in range(0, len(_hold), 4096):\n        _hold[_i] = 1\n"
                "    time.sleep(8)\n    os._exit(0)\ntime.sleep(6)\nmore = 1",
            }
        ),
        # the kernel keyring of the slot's uid outlives the submission
        "k1_giver": dict(
            answers={
                **GOOD,
                "answer": KEYRING + f"_p = {KEYRING_CANARY.encode()!r}\n"
                "_libc.syscall(_L(248), b'user', b'beth-answer', _p, _L(len(_p)), _L(-4))\n"
                "answer = open(DATA_FILE).read().strip()",
            }
        ),
        "k2_taker": dict(
            answers={
                **GOOD,
                "answer": KEYRING
                + "_id = _libc.syscall(_L(250), _L(10), _L(-4), b'user', b'beth-answer', _L(0))\n"
                "_b = ctypes.create_string_buffer(256)\n_n = _libc.syscall(_L(250), _L(11), _L(_id), _b, _L(256))\n"
                "print('from the keyring:', _b.raw[:max(_n, 0)])\nanswer = open(DATA_FILE).read().strip()",
            }
        ),
        # a link in submitted/ (left by nbgrader's own collect, or a local user)
        "linked_input": dict(
            answers={
                **GOOD,
                "answer": "print(open('notes.txt').read())\n"
                "answer = open(DATA_FILE).read().strip()",
            },
            links={"notes.txt": secret_link},
        ),
    }


def submit(course, student, answers, order=None, meta=None, links=None):
    """File a submission from the release notebook: sources, nbgrader metadata and cell order
    changed as a student can change them in their notebook file."""
    nb = nbformat.read(str(course.release_notebook), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
        if meta and gid in meta:
            cell.metadata["nbgrader"].update(meta[gid])
    if order:
        by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells}
        nb.cells = [by_id[g] for g in order]
    folder = course.folder("submitted", student)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{course.notebook}.ipynb"))
    for name, target in (links or {}).items():
        os.symlink(target, folder / name)


def cell_scores(course, student) -> dict[str, float | None]:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        nb = gb.find_submission_notebook(course.notebook, course.assignment, student)
        return {g.name: g.auto_score for g in nb.grades}


class PeakMemory:
    """Samples, as root, the resident memory of all kernel and of all checker sandbox users."""

    def __init__(self, uid_base: int = UID_BASE):
        self.kernels = range(uid_base, uid_base + 256)
        self.checkers = range(uid_base + 512, uid_base + 768)
        self.peak = (0, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        from beth_course.grading.procs import processes

        while not self._stop.is_set():
            procs = processes()
            kernel = sum(p.rss for p in procs if p.uid in self.kernels)
            checker = sum(p.rss for p in procs if p.uid in self.checkers)
            if kernel + checker > sum(self.peak):
                self.peak = (kernel, checker)
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def round_(tmp_path_factory, sandbox_available):
    """One grading round of the attacks above, one at a time (one sandbox slot)."""
    if not sandbox_available:
        pytest.skip("bubblewrap is not available here; CI installs it")
    from beth_course.feedback import generate
    from beth_course.grading.runner import autograde

    base = tmp_path_factory.mktemp("redteam")
    course = tiny_course(base / "course", config=LIMITS, cells=CELLS)
    secret = base / "secret.txt"
    secret.write_text(LINK_CANARY + "\n")
    secret.chmod(0o600)
    for student, how in attacks(secret).items():
        submit(course, student, **how)
    with PeakMemory() as memory:
        summary = autograde(course, workers=1, progress=False)
    results = {r.student: r for r in summary.results}
    generate(course)
    return course, results, memory.peak


def _notebook_text(course, student) -> str:
    return course.autograded_notebook(student).read_text()


def _feedback(course, student) -> str:
    """The student's feedback page, as the student reads it ("" if it was not written)."""
    from beth_course.feedback import html_text

    page = course.folder("feedback", student) / f"{course.notebook}.html"
    return html_text(page.read_text()) if page.exists() else ""


def _student_outputs(course, student) -> str:
    """The outputs of the student's own cells (what a later cell of theirs printed)."""
    nb = json.loads(_notebook_text(course, student))
    return json.dumps(
        [
            c.get("outputs", [])
            for c in nb["cells"]
            if not c["metadata"].get("nbgrader", {}).get("locked")
        ]
    )


@pytest.mark.slow
def test_control_scores_every_test(round_):
    course, results, _ = round_
    assert results["control"].status == "ok"
    assert {t: cell_scores(course, "control")[t] for t in TESTS} == dict.fromkeys(TESTS, 1.0)


@pytest.mark.slow
def test_moving_the_locked_parameters_cell_after_the_tests_lets_the_student_set_them(round_):
    """ATTACK: move the locked cell that sets parameters and imports helpers (BETH:
    ``parameters`` and ``setup``) to the end of the notebook, and define those names
    yourself. RestoreCells keeps the student's cell order, the checker evaluates locked
    cells only when their turn comes, and a name no checker cell has bound *yet* is fetched
    from the student: the test reads the student's ``SAMPLE_SIZE = 1`` and calls the
    student's ``mean`` (a StudentFunction) as its reference. ACHIEVES: a wrong sample
    ('not a sample', of size 1) earns the point. In BETH the same trick hands the student
    DATA_FILE, UMAP_SAMPLE_SIZE, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, FEATURE_COLUMNS,
    BETH_COLUMNS, ``confusion_rates`` and ``anomaly_labels`` (issue 10's rebinding attack).
    WHERE: restore.RestoreCells._rebuild (order), checker.Checker.run (``free - own``).
    FIX: put locked cells back in release order (or evaluate every locked non-test cell in
    the checker before the first test), and never fetch from the kernel a name that any
    locked cell of the notebook binds (fail the test instead)."""
    course, results, _ = round_
    assert cell_scores(course, "moved_params")["sample_is_right"] == 0.0


@pytest.mark.slow
def test_a_hand_graded_code_cell_marked_not_a_solution_runs_in_the_checker(round_):
    """ATTACK: in the notebook file, set ``"solution": false`` in the nbgrader metadata of a
    hand-graded code answer (solution + grade). RestoreCells keeps a solution cell's own
    metadata, nbgrader's OverwriteCells resets ``locked`` and ``points`` but not
    ``solution``, so ``cell_role`` calls it a *test*: the student's code is sent to the
    checker and runs there. ACHIEVES: (1) the hand-graded cell gets full points
    automatically (no error output); (2) the code replaces the checker's ``execute``, so
    every later test passes with wrong answers (4/4 for an empty notebook); (3) it sends each
    later test cell, hidden tests included, to the student's function, and a later student
    cell prints them (markers turned into plain comments) into the autograded notebook and
    the feedback page. The feedback check does not stop it: feedback.student_text counts
    the *outputs* of solution cells as the student's own text, so every hidden line the
    student printed is exempt from the leak check (only the ``###`` markers are not).
    WHERE: restore.RestoreCells._rebuild (``elif gid in solutions: cells.append(cell)``),
    execute.cell_role (trusts the metadata). FIX: rebuild every known cell's nbgrader
    metadata from the gradebook (keep only the student's source for solution cells), and
    decide the role from the gradebook, never from the submitted file."""
    course, results, _ = round_
    scores = cell_scores(course, "flip_manual")
    assert scores["essay"] is None, "a hand-graded answer was scored automatically"
    assert all(scores[t] == 0.0 for t in TESTS), scores
    assert HIDDEN_MARK not in _feedback(course, "flip_manual")


@pytest.mark.slow
def test_hidden_test_code_never_reaches_the_student(round_):
    """ATTACK: wrap ``capture.fetch`` and the function a test calls, record what they are
    given, print it in a later cell. The kernel sees the names a test reads and the
    arguments a test passes to the student's function (a known limit, in the README's
    Security model: student code that is called sees its arguments); it never sees the
    test's code, so a line of it (here a comment in the hidden part) appears nowhere the
    student can read."""
    course, results, _ = round_
    assert HIDDEN_MARK in _notebook_text(course, "spy")  # the instructor's copy has it
    assert HIDDEN_MARK not in _student_outputs(course, "spy")
    assert HIDDEN_MARK not in _feedback(course, "spy")


@pytest.mark.slow
def test_test_outputs_from_the_checker_are_capped_too(round_):
    """ATTACK: make the answer a 20 MB string; the test's assertion message quotes it.
    ACHIEVES: a 20 MB test output in the autograded notebook and feedback page although
    ``max_cell_output`` is 64 kB and ``max_notebook_output`` 256 kB (up to ~64 MB per test
    cell: MAX_HEADER). WHERE: checker._error keeps the whole message in the traceback
    (``format_exception_only``; only ``evalue`` is cut to MAX_TEXT), and
    checking._clean_outputs / GuardedExecute._check apply neither output cap (the caps live
    in ``GuardedExecute.output``, which sees only kernel messages). FIX: cut every string of
    a checker output, and count checker outputs against the cell and notebook caps."""
    course, results, _ = round_
    assert course.autograded_notebook("big_echo").stat().st_size < 1_000_000


@pytest.mark.slow
def test_the_checkers_memory_counts_against_the_submission(round_):
    """ATTACK: replace ``capture.fetch`` so the test reads a 40 kB Arrow stream of zstd-packed
    zeros; the checker inflates it to 480 MB (and to_pandas copies it) and keeps it, while
    the kernel uses up to its own limit. ACHIEVES: kernel + checker hold more than the
    submission's memory limit (1.5 GB here), status ``ok``: the checker is in no cgroup and
    is not watched, only its own RLIMIT_AS (the full limit) bounds it, so one submission
    can use twice its limit (12 GB at the default 6G) and push the machine into the OOM
    killer, which may pick another student's kernel. WHERE: checking.CheckerProcess._command
    (``launch_command(sandbox, self.run_dir, [])``: no cgroup), wire._arrow (no size check
    before decompressing). FIX: put the checker into the submission's cgroup (or a small one
    of its own) and refuse Arrow/npy parts whose declared uncompressed size is over a cap."""
    course, results, (kernel, checker) = round_
    if os.geteuid() != 0:
        pytest.skip("sandbox users (and so the sampling by uid) exist only as root")
    assert results["arrow_bomb"].status == "memory" or kernel + checker <= MEMORY_LIMIT, (
        f"kernel {kernel >> 20} MB + checker {checker >> 20} MB"
    )


@pytest.mark.slow
def test_nothing_survives_from_one_submission_to_the_next_in_the_same_slot(round_):
    """ATTACK: ``add_key("user", ..., KEY_SPEC_USER_KEYRING)`` (ctypes, syscall 248) in one
    submission; the next one graded in the same slot (same uid) finds it with
    ``keyctl(KEYCTL_SEARCH)``. ACHIEVES: a channel between submissions that outlives the
    sandbox (the kernel keyring is per uid, not per mount/pid/ipc namespace, and bubblewrap
    installs no seccomp filter): answers handed from one student's grading to another's,
    invisible in the submitted notebook of the receiver. WHERE: bwrap.bwrap_args (no
    ``--seccomp``), slots (uids reused across submissions). FIX: a seccomp filter denying
    add_key/request_key/keyctl (as Docker's default profile does), or a user namespace per
    sandbox also as root; and unlink the uid's keyrings when the slot is released."""
    course, results, _ = round_
    assert KEYRING_CANARY not in _notebook_text(course, "k2_taker")


@pytest.mark.slow
def test_links_in_the_submitted_folder_are_not_followed(round_):
    """ATTACK (local user or a collect that kept links): a symlink in
    ``submitted/<student>/<assignment>/`` pointing at a root-only file. ACHIEVES: the grader
    (root) reads the target and binds it into the sandbox as the student's input file; the
    student prints it. WHERE: runner._submission_files (``p.is_file()`` and
    ``p.read_bytes()`` follow links). FIX: lstat, skip (and report) anything that is not a
    regular file, open with O_NOFOLLOW."""
    course, results, _ = round_
    assert LINK_CANARY not in _notebook_text(course, "linked_input")


# -- a hog slows another student's grading until it times out ------------------------------
HOG_LIMITS = """
c.Execute.timeout = 12
c.ExecutePreprocessor.timeout = 12
c.BethSandbox.memory_limit = "1G"
c.BethSandbox.max_processes = 40
c.BethSandbox.submission_timeout = 120
"""


@pytest.mark.slow
def test_one_submission_cannot_starve_another_of_cpu(tmp_path, sandbox_available):
    """ATTACK: fork 24 busy loops, each in a session of its own (``os.setsid()``: with the
    scheduler's autogroups each session is weighted like a whole sandbox), that outlive the
    cell (a cell that succeeds leaves its children running), then sleep in the next cells.
    ACHIEVES: another student graded at the same time gets about 2/25 of the machine; a
    2 s computation of theirs runs past the 12 s cell timeout and they lose the test
    (status ``timeout``). At the defaults (64
    processes, 120 s cells, 900 s notebooks) one student can time out every concurrent
    student's UMAP cell. WHERE: cgroups.Cgroup (memory and pids only, no cpu controller),
    execute.GuardedExecute (stray processes are killed only after a failing cell). FIX:
    per-submission ``cpu.max`` (v2) / ``cpu.cfs_quota_us`` (v1) of ``threads`` CPUs, or at
    least equal ``cpu.weight`` and a nice level; kill the sandbox's stray processes after
    every cell, not only failing ones."""
    if not sandbox_available:
        pytest.skip("bubblewrap is not available here; CI installs it")
    from beth_course.grading.runner import autograde

    from .helpers import submit as plain_submit

    course = tiny_course(tmp_path / "course", config=HOG_LIMITS)
    plain_submit(
        course,
        "a_hog",
        {
            "answer": "import os, time\nfor _ in range(24):\n    if os.fork() == 0:\n        os.setsid()\n"
            "        while True:\n            pass\ntime.sleep(10)\nanswer = open(DATA_FILE).read().strip()",
            "more": "import time\ntime.sleep(10)\nmore = 1",
        },
    )
    plain_submit(
        course,
        "b_victim",
        {
            "answer": "import time\ntime.sleep(8)\nanswer = open(DATA_FILE).read().strip()",
            "more": "_t = sum(i * i for i in range(25_000_000))\nmore = 1",
        },
    )
    summary = autograde(course, workers=2, progress=False)
    victim = next(r for r in summary.results if r.student == "b_victim")
    assert victim.status == "ok", victim.reason


# -- the checker itself: crafted containers ---------------------------------------------------
def _container(values_json: bytes, parts: bytes = b"") -> bytes:
    return wire.MAGIC + struct.pack("<Q", len(values_json)) + values_json + parts


class _Channel:
    """The grader's side, as a hostile kernel makes it answer: always this container."""

    def __init__(self, blob: bytes):
        self.blob = blob

    def request(self, header, blob, expect):
        return self.blob


def test_a_deeply_nested_container_does_not_crash_the_checker():
    """ATTACK: reply to ``fetch`` with a container whose JSON header nests 100,000 lists.
    ACHIEVES: ``json.loads`` raises RecursionError in wire.split, outside ``_safely`` and not
    a WireError; it escapes Checker._load and Checker.run and kills the checker's main loop,
    so every later test of the notebook is a GraderError and the result's status is
    ``error`` (the instructor is told the grader failed). WHERE: wire.split / wire.decode.
    FIX: catch RecursionError (any Exception) in split and decode, and let Checker.run turn
    any failure to read values into the cell's error output."""
    head = b'{"values": {"answer": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    checker = Checker(_Channel(_container(head)))
    try:
        outputs = checker.run("assert answer == 1", "answer_is_right")
    except BaseException as exc:  # noqa: BLE001 -- what escapes here ends the checker
        pytest.fail(f"the checker's run raised {type(exc).__name__}: {str(exc)[:100]}")
    assert outputs and outputs[-1]["output_type"] == "error"


def test_a_module_value_runs_no_installed_program_in_the_checker():
    """ATTACK: send ``{"$module": "unittest.__main__"}`` (or ``ipykernel.__main__``,
    ``IPython.__main__``, ``venv.__main__``, ``antigravity``...). ACHIEVES: wire._module
    imports it in the checker, which *runs* that program's top-level code there (unittest's
    main ran, with the checker's argv) and ends with SystemExit, a BaseException that
    ``except Exception`` in _module and _safely does not catch: the checker exits.
    ``ipykernel.__main__`` instead starts a kernel inside the checker. WHERE: wire._module
    (``importlib.import_module`` of any name). FIX: rebuild modules only from an allow-list
    (or only modules already in the checker's ``sys.modules``), and catch BaseException
    around every decode."""
    script = textwrap.dedent("""
        import json, struct, sys
        from beth_course.grading import wire
        head = json.dumps({"values": {"m": {"$module": "unittest.__main__"}}}).encode()
        values = wire.decode(wire.MAGIC + struct.pack("<Q", len(head)) + head)
        print("DECODED", type(values["m"]).__name__, "unittest.main" in sys.modules)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    assert "DECODED Unreadable False" in done.stdout, (
        done.returncode,
        done.stdout,
        done.stderr[-500:],
    )


def test_a_crafted_tree_does_not_crash_the_checker():
    """ATTACK: send a fitted IsolationForest whose first tree's ``left_child`` and
    ``right_child`` point outside the node array (``feature`` out of range does the same;
    children pointing at their own node make ``apply`` loop forever in nogil code).
    ACHIEVES: wire.decode accepts it (``sklearn.tree._tree.Tree`` is on TRUSTED_TYPES and
    its ``__setstate__`` checks dtypes, not indices); the forest test's ``_tree.apply`` then
    reads out of bounds and the checker dies with SIGSEGV (or hangs to the cell timeout).
    skops itself leaves ``TreePredictor`` untrusted for exactly this reason. WHERE:
    wire.TRUSTED_TYPES / wire._skops. FIX: after loading, check every Tree: children in
    ``[-1, node_count)`` and forming a tree (each node reached once, from the root, no
    cycle), ``feature`` in ``[-2, n_features)``, array lengths equal to ``node_count``;
    refuse the model otherwise."""
    script = textwrap.dedent("""
        import numpy as np
        from sklearn.ensemble import IsolationForest
        from beth_course.grading import wire
        X = np.random.default_rng(0).random((50, 7))
        model = IsolationForest(n_estimators=2, random_state=0).fit(X)
        tree = model.estimators_[0].tree_
        state = tree.__getstate__()
        nodes = state["nodes"].copy()
        nodes["left_child"][0] = nodes["right_child"][0] = 10**9
        state["nodes"] = nodes
        tree.__setstate__(state)
        loaded = wire.decode(wire.encode({"model": model}))["model"]
        if type(loaded).__name__ == "Unreadable":
            print("REFUSED")
        else:
            loaded.estimators_[0].apply(X.astype(np.float32))
            print("APPLIED")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    assert done.returncode == 0 and "REFUSED" in done.stdout, (
        done.returncode,
        done.stdout,
        done.stderr[-500:],
    )


# -- BETH: the tests trust the student's df --------------------------------------------------
HOLLOW = {
    "load_data": "df = pandas.read_csv(DATA_FILE)",
    "inspect_head": "real_df = df",
    "raw_histograms": (
        "df = pandas.DataFrame({'note': ['no numeric column here']})\n"
        "_fig, axes = plt.subplots()\naxes.bar([0], [1])"
    ),
    "engineer_features": (
        "df = real_df.iloc[:0]\n"
        "X = pandas.DataFrame({c: pandas.Series([], dtype='int64') for c in FEATURE_COLUMNS})\n"
        "y = np.array([], dtype='int64')\n"
        "df_eng = X.assign(evil=pandas.Series([], dtype='int64'))"
    ),
    "correlation_heatmap": "correlations = df_eng.corr()",
}


@pytest.mark.slow
def test_beth_tests_check_against_the_data_file_not_the_students_df(course_copy, sandbox_available):
    """ATTACK (no trick, plain Python): after the df test, rebind ``df`` to a frame with no
    numeric column (histograms) and to an empty frame (feature engineering), and hand in
    empty X, y, df_eng with the right columns and dtypes. ACHIEVES: the histogram task (1)
    passes with one bar drawn, the feature-engineering task (2) and the correlation task (1)
    pass with no feature engineered: 4 points for three tasks not done. Every check derives
    its expectation from the student's current ``df`` (``_numeric`` from ``df.columns``,
    ``_expected`` from ``df["processId"]``, ``len(df)``), which the student controls at
    each test. WHERE: source/beth_workshop/beth_workshop.ipynb, tests
    ``raw_histograms_cover_numeric_fields`` and ``engineered_features_follow_paper``
    (the forest and UMAP tests likewise never tie X to the data: any 500 x 7 X with five 1s
    in y passes the forest task). FIX: in hidden tests, build the reference from
    ``_pd.read_csv(DATA_FILE)`` (the checker's pristine copy) and compare the student's
    values with it (row counts, columns, a histogram per numeric column of the file)."""
    if not sandbox_available:
        pytest.skip("bubblewrap is not available here; CI installs it")
    from beth_course.grading.runner import autograde

    course = course_copy
    nb = nbformat.read(str(course.release_notebook), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in HOLLOW:
            cell.source = HOLLOW[gid]
    folder = course.folder("submitted", "hollow")
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{course.notebook}.ipynb"))
    autograde(course, students=["hollow"], workers=1, progress=False)
    scores = cell_scores(course, "hollow")
    assert scores["df_matches_data_file"] == 1.0
    assert (
        scores["raw_histograms_cover_numeric_fields"],
        scores["engineered_features_follow_paper"],
    ) == (0.0, 0.0)


def test_the_grader_never_blocks_writing_to_a_checker_that_stopped_reading(tmp_path):
    """ATTACK (reachable from a submission through the checker takeover above): the checker
    asks for a value (``need``) and then never reads its stdin again. ACHIEVES: the grader
    writes the 16 MB answer with a blocking ``os.write`` into a 64 kB pipe and waits
    forever: no cell timeout, no submission timeout and no deadline applies, so the worker
    and with it the whole batch stall for good (reproduced end to end: a submission whose
    hand-graded cell sends ``need`` and sleeps kept ``autograde`` busy past 150 s with a
    60 s submission budget). WHERE: protocol.send (no deadline; the module docstring says
    readers have one, writers have none), checking.CheckerProcess.run/_relay_call. FIX:
    make the write end non-blocking and write with ``select`` against the same deadline
    as reads (or write from a thread and kill the checker at the deadline)."""
    from beth_course.grading.checking import CheckerProcess, CheckerSpec
    from beth_course.grading.limits import Limits

    repo = str(Path(__file__).resolve().parents[1])
    script = tmp_path / "stuck_checker.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {repo!r})
        from beth_course.grading import protocol
        protocol.send(1, {{"op": "ready", "pid": os.getpid()}})
        protocol.receive(0, 2**30)                      # the cell to run
        protocol.send(1, {{"op": "need", "names": ["big"]}})
        time.sleep(600)                                 # and never read again
    """)
    )

    class StuckChecker(CheckerProcess):
        def _start_process(self):
            to_child, from_child = os.pipe(), os.pipe()
            self.process = subprocess.Popen(
                [sys.executable, str(script)],
                stdin=to_child[0],
                stdout=from_child[1],
                cwd=str(tmp_path),
                start_new_session=True,
            )
            os.close(to_child[0])
            os.close(from_child[1])
            self._write, self._read = to_child[1], from_child[0]

    class Bridge:
        def fetch(self, names):
            return b"x" * (16 * 2**20)

        def call(self, name, blob):
            return b""

    limits = Limits(
        memory=2**31,
        cpu_seconds=60,
        processes=16,
        file_size=2**30,
        submission_timeout=60,
        threads=1,
        uid_base=61000,
    )
    checker = StuckChecker(
        CheckerSpec(uid=os.geteuid(), limits=limits, env={}, sandboxed=False), str(tmp_path)
    )
    checker.start()
    assert checker.failure is None, checker.failure
    outputs: list = []
    thread = threading.Thread(
        target=lambda: outputs.append(checker.run("big", "cell", Bridge(), 5.0)), daemon=True
    )
    thread.start()
    thread.join(30)
    stalled = thread.is_alive()
    if stalled:  # unblock the grader's write: kill the stuck checker we started
        os.killpg(checker.process.pid, 9)
        thread.join(10)
    assert not stalled, "the grader was still writing to the checker 30 s after a 5 s deadline"
