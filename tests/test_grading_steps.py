"""Each grading step on its own, on notebooks built in memory (nbgrader's own test style).

One tiny released course (its gradebook holds the original cells) is shared by the module;
every test builds the notebook it needs and asks one question.
"""

from __future__ import annotations

import copy

import nbformat
import pytest

from beth_course import notebooks
from beth_course.grading.execute import GuardedExecute, cell_role, output_size
from beth_course.grading.gradebook import merge
from beth_course.grading.restore import RestoreCells
from beth_course.grading.runner import plan, write_autograded
from beth_course.grading.worker import GradingResult, hash_files

from .helpers import tiny_course

ORDER = ["parameters", "answer", "answer_is_right", "more", "more_is_one"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return tiny_course(tmp_path_factory.mktemp("steps") / "course")


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _released(course):
    return notebooks.read(course.release_notebook)


def _restore(course, nb):
    step = RestoreCells(cell_orders={"tiny": ORDER})
    resources = {"nbgrader": {"notebook": "tiny", "assignment": "tiny", "db_url": course.db_url}}
    return step.preprocess(nb, resources)[0]


def test_edited_tests_are_restored_with_their_hidden_part(course):
    """A test cell replaced by `pass` comes back as the gradebook's, hidden tests included."""
    nb = _released(course)
    for cell in nb.cells:
        if _gid(cell) == "answer_is_right":
            cell.source = "pass"
    restored = _restore(course, nb)
    test = next(c for c in restored.cells if _gid(c) == "answer_is_right")
    assert notebooks.HIDDEN_BEGIN in test.source and "answer.isdigit()" in test.source
    assert any(
        "answer_is_right was edited" in c for c in restored.metadata["beth_grading"]["restored"]
    )


def test_deleted_cells_come_back_in_their_place(course):
    """Deleting both test cells puts them back after the cells that precede them."""
    nb = _released(course)
    nb.cells = [c for c in nb.cells if _gid(c) not in ("answer_is_right", "more_is_one")]
    assert [_gid(c) for c in _restore(course, nb).cells] == ORDER


def test_a_duplicated_answer_keeps_the_copy_that_was_answered(course):
    """Of two copies of a solution cell, the answered one is graded; the stub is kept plain."""
    nb = _released(course)
    index = next(i for i, c in enumerate(nb.cells) if _gid(c) == "answer")
    answered = copy.deepcopy(nb.cells[index])
    answered.source, answered["id"] = "answer = '42'", "mine"
    nb.cells.insert(index, answered)
    restored = _restore(course, nb)
    graded = [c for c in restored.cells if _gid(c) == "answer"]
    assert len(graded) == 1 and graded[0].source == "answer = '42'"
    assert len(restored.cells) == len(ORDER) + 1


def test_unknown_grade_ids_lose_their_metadata(course):
    """A cell claiming a grade id the gradebook does not know is an ordinary cell."""
    nb = _released(course)
    extra = nbformat.v4.new_code_cell("pass")
    extra.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "always_passes",
        "points": 99,
        "locked": True,
        "solution": False,
        "schema_version": 3,
    }
    nb.cells.append(extra)
    restored = _restore(course, nb)
    assert "nbgrader" not in restored.cells[-1].metadata


def test_cells_pasted_without_metadata_are_recognised_by_their_text(course):
    """Locked cells copied into a fresh notebook (no nbgrader metadata) are matched by text."""
    nb = _released(course)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    assert [_gid(c) for c in _restore(course, nb).cells if _gid(c)] == ORDER


@pytest.mark.parametrize(
    "source, role",
    [
        ("assert answer == 1", "test"),
        ("orig = squares\ndel squares\nsquares = orig", "kernel_test"),
    ],
)
def test_test_cells_run_in_the_checker_unless_they_change_student_variables(source, role):
    """A test that deletes or rebinds a student's name needs the student's kernel."""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "t"}
    assert cell_role(cell) == role


def test_locked_and_student_cells_have_their_roles():
    """Locked code runs on both sides; solutions and plain cells only in the kernel."""
    locked = nbformat.v4.new_code_cell("X = 1")
    locked.metadata["nbgrader"] = {"locked": True, "solution": False, "grade": False}
    answer = nbformat.v4.new_code_cell("x = 1")
    answer.metadata["nbgrader"] = {"locked": False, "solution": True, "grade": False}
    roles = [
        cell_role(c)
        for c in (
            locked,
            answer,
            nbformat.v4.new_code_cell("1"),
            nbformat.v4.new_markdown_cell("hi"),
        )
    ]
    assert roles == ["locked", "student", "student", "other"]


def _executor(cell_cap: int, notebook_cap: int) -> GuardedExecute:
    executor = GuardedExecute(cell_output=cell_cap, notebook_output=notebook_cap)
    executor._output_bytes = {"notebook": 0}
    executor.clear_before_next_output = False
    executor._display_id_map = {}
    from collections import defaultdict

    executor.output_hook_stack = defaultdict(list)
    return executor


def _stream(text: str) -> dict:
    return {
        "msg_type": "stream",
        "header": {"msg_type": "stream"},
        "parent_header": {"msg_id": "m"},
        "content": {"name": "stdout", "text": text},
        "metadata": {},
    }


def test_output_past_the_cell_cap_is_replaced_by_one_note():
    """Within the cap outputs are kept; past it they are dropped and a single note says so."""
    executor = _executor(cell_cap=1000, notebook_cap=10_000)
    outs: list = []
    for text in ("a" * 600, "b" * 600, "c" * 600):
        executor.output(outs, _stream(text), None, 0)
    assert [o.get("text", "")[:1] for o in outs] == ["a", "["]
    assert "output not kept" in outs[1]["text"] and sum(output_size(o) for o in outs) < 1000


def test_output_past_the_notebook_cap_stops_later_cells_too():
    """The notebook's budget is shared by all cells."""
    executor = _executor(cell_cap=1000, notebook_cap=1500)
    first, second = [], []
    executor.output(first, _stream("a" * 900), None, 0)
    executor.output(second, _stream("b" * 900), None, 1)
    assert first[0]["text"].startswith("a") and "output not kept" in second[0]["text"]


def test_plan_skips_what_is_graded_and_regrades_a_changed_submission(course, tmp_path):
    """Same files, already graded: skipped. Changed files, or --force: graded again."""
    import shutil

    from beth_course.course import Course

    root = tmp_path / "course"
    shutil.copytree(course.root, root)
    copy_ = Course(root, "tiny", "tiny")
    folder = copy_.folder("submitted", "ann")
    folder.mkdir(parents=True)
    (folder / "tiny.ipynb").write_text(copy_.release_notebook.read_text())
    files = {"tiny.ipynb": (folder / "tiny.ipynb").read_bytes()}
    merge(
        copy_.db_url,
        "tiny",
        "ann",
        GradingResult(student="ann", status="ok", submission_sha256=hash_files(files)),
    )
    write_autograded(copy_, GradingResult(student="ann", status="ok", files=files), {})
    assert plan(copy_, None, force=False) == ([], ["ann"])
    assert plan(copy_, None, force=True) == (["ann"], [])
    (folder / "tiny.ipynb").write_text(copy_.release_notebook.read_text() + "\n")
    assert plan(copy_, None, force=False) == (["ann"], [])


def test_write_autograded_replaces_the_folder_whole_and_removes_a_stale_one(course, tmp_path):
    """A new result replaces every file; a result with nothing graded leaves no folder."""
    import shutil

    from beth_course.course import Course

    root = tmp_path / "course"
    shutil.copytree(course.root, root)
    copy_ = Course(root, "tiny", "tiny")
    write_autograded(
        copy_,
        GradingResult(student="bo", status="ok", files={"tiny.ipynb": b"one", "old.txt": b"x"}),
        {},
    )
    write_autograded(
        copy_,
        GradingResult(student="bo", status="ok", files={"tiny.ipynb": b"two"}),
        {"data.csv": b"42\n"},
    )
    folder = copy_.folder("autograded", "bo")
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv", "tiny.ipynb"]
    assert (folder / "tiny.ipynb").read_bytes() == b"two"
    write_autograded(copy_, GradingResult(student="bo", status="malformed"), {})
    assert not folder.exists() and not list(folder.parent.glob(".*"))


def test_a_solution_cell_whose_flags_were_edited_gets_the_assignments_flags_back(course):
    """An answer marked "not a solution" (or a test) is graded as the answer it is."""
    nb = _released(course)
    for cell in nb.cells:
        if _gid(cell) == "answer":
            cell.source = "answer = '42'"
            cell.metadata["nbgrader"].update(solution=False, grade=True, points=5)
    restored = _restore(course, nb)
    cell = next(c for c in restored.cells if _gid(c) == "answer")
    assert cell.source == "answer = '42'"
    assert cell.metadata["nbgrader"]["solution"] and not cell.metadata["nbgrader"]["grade"]
    assert cell_role(cell) == "student"


def test_a_locked_cell_moved_after_the_tests_goes_back_in_front(course):
    """Cells come back in the assignment's order; the student's own cells move with them."""
    nb = _released(course)
    params = next(c for c in nb.cells if _gid(c) == "parameters")
    extra = nbformat.v4.new_code_cell("DATA_FILE = 'mine.csv'")
    nb.cells = [c for c in nb.cells if c is not params] + [params, extra]
    restored = _restore(course, nb)
    assert [_gid(c) for c in restored.cells] == ["parameters", None, *ORDER[1:]]
    assert restored.cells[1].source == "DATA_FILE = 'mine.csv'"
    assert "moved back" in " ".join(restored.metadata["beth_grading"]["restored"])


def test_names_bound_by_locked_cells_are_never_read_from_the_student():
    """Even before its locked cell has run in the checker, a reserved name is not fetched."""
    from beth_course.grading.checker import Checker

    from .test_checker import FakeChannel

    channel = FakeChannel({"DATA_FILE": "forged.csv", "x": 1})
    checker = Checker(channel)
    checker.reserve(["DATA_FILE"])
    (error,) = checker.run("assert DATA_FILE and x", "test")
    assert error["ename"] == "NameError" and channel.asked == [["x"]]


def test_an_error_past_the_cap_is_shortened_never_dropped():
    """Dropping a test's error (or stderr) would make nbgrader pass it: it is cut instead."""
    executor = _executor(cell_cap=1000, notebook_cap=10_000)
    outs: list = []
    executor.output(outs, _stream("a" * 900), None, 0)
    error = {
        "msg_type": "error",
        "header": {"msg_type": "error"},
        "parent_header": {"msg_id": "m"},
        "content": {"ename": "AssertionError", "evalue": "x" * 5000, "traceback": []},
        "metadata": {},
    }
    executor.output(outs, error, None, 0)
    assert outs[-1]["output_type"] == "error" and outs[-1]["ename"] == "AssertionError"
    assert len(outs[-1]["evalue"]) < 1200


@pytest.fixture
def kernel_manager(tmp_path):
    """The grader's kernel manager for one submission, unsandboxed, with its connection
    file written and no kernel started: what its clients and sockets are made of."""
    from beth_course.grading.kernel import Box, manager_for
    from beth_course.grading.limits import Limits

    limits = Limits(
        memory=2**30,
        cpu_seconds=60,
        processes=32,
        file_size=2**26,
        submission_timeout=300,
        threads=1,
        uid_base=61000,
    )
    box = Box(run_dir=str(tmp_path), uid=61000, limits=limits, env={}, sandboxed=False)
    manager = manager_for(box)()
    manager.write_connection_file()
    yield manager
    manager.cleanup_connection_file()


def test_the_kernel_client_runs_no_heartbeat_thread(kernel_manager):
    """A kernel starved of CPU misses heartbeats; jupyter_client's heartbeat thread then makes
    a new socket, which (reconnection being off) can be left with no peer, and its next ping
    waits forever: stopping the channels joined that thread, and the grading process hung
    after the notebook had run (seen with the CPU hog of tests/test_redteam.py). Whether the
    kernel lives is known from its process, so the client starts no heartbeat at all."""
    client = kernel_manager.client()
    client.start_channels()
    try:
        assert client.iopub_channel.is_alive() and client.shell_channel.is_alive()
        assert not client.hb_channel.is_alive()
    finally:
        client.stop_channels()


def test_kernel_sockets_do_not_linger_once_closed(kernel_manager):
    """jupyter_client gives its sockets a 1 s linger; the context's clean-up then waited
    that long for a kernel that was gone, about 1 s of every submission's grading (2.15 s
    against 1.13 s for a tiny notebook, profiled). The grader's sockets drop what is unsent."""
    client = kernel_manager.client()
    sockets = [kernel_manager.connect_shell(), client.connect_iopub(), client.connect_stdin()]
    try:
        assert [s.linger for s in sockets] == [0, 0, 0]
    finally:
        for sock in sockets:
            sock.close()


def test_a_checker_stopped_by_the_memory_limit_gives_the_memory_status():
    """The checker counts against the submission's memory: when the submission's cgroup
    stopped it (a value that inflates in the checker, tests/test_redteam.py's arrow bomb),
    the status is ``memory``, not a grader error."""
    from types import SimpleNamespace

    execute = GuardedExecute()
    execute.checker = SimpleNamespace(failure="the grader's checker failed on t: Broken pipe")
    cell = nbformat.v4.new_code_cell("assert x", metadata={"nbgrader": {"grade_id": "t"}})
    execute.km = SimpleNamespace(memory_exceeded=lambda: True)
    stopped = execute._checker_failure(cell)
    assert stopped["status"] == "memory" and "memory limit" in stopped["reason"]
    execute.km = SimpleNamespace(memory_exceeded=lambda: False)
    assert execute._checker_failure(cell) == {
        "status": "error",
        "reason": "the grader's checker failed on t: Broken pipe",
    }
