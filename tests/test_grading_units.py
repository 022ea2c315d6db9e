"""Quick checks of the grading machinery's parts (the slow tests grade whole classes)."""

from __future__ import annotations

import json
import sqlite3

import nbformat

from beth_course.feedback import HIDDEN_NOTE, scrub
from beth_course.grading.gradebook import template_bytes
from beth_course.grading.runner import umap_sample_size
from beth_course.grading.worker import check_notebook

from .helpers import copy_course


def test_umap_sample_size_is_read_from_the_parameters_cell(tmp_path):
    """The grader learns the notebook's UMAP sample size (to warm the right numba code)."""
    course = copy_course(tmp_path / "course")
    assert umap_sample_size(course) == 1000
    path = course.source_notebook
    path.write_text(
        path.read_text().replace("UMAP_SAMPLE_SIZE = 1_000", "UMAP_SAMPLE_SIZE = 25_000")
    )
    assert umap_sample_size(course) == 25000


def test_check_notebook_tells_broken_files_apart(tmp_path):
    """Not JSON, JSON but no cells, and nbformat 3 are reasons; a valid notebook is fine."""
    cases = {
        b"{oops": "not valid JSON",
        b'{"a": 1}': "no list of cells",
        json.dumps({"nbformat": 3, "cells": []}).encode(): "format version 3",
    }
    for content, reason in cases.items():
        problem, _ = check_notebook(content)
        assert reason in problem
    assert check_notebook(nbformat.writes(nbformat.v4.new_notebook()).encode()) == (None, None)


def test_check_notebook_repairs_what_nbformat_can(tmp_path):
    """A schema error nbformat can strip (a string 'collapsed') comes back repaired."""
    nb = json.loads(
        nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))
    )
    nb["cells"][0]["metadata"]["collapsed"] = "yes"
    problem, repaired = check_notebook(json.dumps(nb).encode())
    assert problem is None
    nbformat.validate(json.loads(repaired))


def test_scrub_removes_hidden_tests_and_traceback_source():
    """Hidden lines go, one note stays; an error keeps its name and message only."""
    test = nbformat.v4.new_code_cell(
        '"""Check."""\nassert x == 1, "x should be 1"\n### BEGIN HIDDEN TESTS\n'
        "assert secret_check(x)\n### END HIDDEN TESTS"
    )
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    test.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="x should be 1",
            traceback=["----> 4 assert secret_check(x)"],
        )
    ]
    nb = scrub(nbformat.v4.new_notebook(cells=[test]), {"status": "timeout", "reason": "slow"})
    source = nb.cells[1].source
    assert "secret_check" not in source and HIDDEN_NOTE in source and "x should be 1" in source
    assert nb.cells[1].outputs[0]["traceback"] == ["AssertionError: x should be 1"]
    assert "How grading went: timeout" in nb.cells[0].source


def test_template_gradebook_keeps_the_assignment_and_drops_students(released_course, tmp_path):
    """Workers get the assignment's cells and no student's data."""
    released = copy_course(tmp_path / "c")
    (released.root / "gradebook.db").write_bytes(released_course.gradebook_path.read_bytes())
    con = sqlite3.connect(released.gradebook_path)
    con.execute("INSERT INTO student (id) VALUES ('someone')")
    con.commit()
    con.close()
    copy = tmp_path / "template.db"
    copy.write_bytes(template_bytes(released.gradebook_path))
    con = sqlite3.connect(copy)
    assert con.execute("SELECT COUNT(*) FROM student").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM grade_cells").fetchone()[0] == 7
    con.close()


def test_a_submission_that_could_not_run_gets_a_feedback_page(released_course, tmp_path):
    """A file that was not a notebook still gets feedback saying why it scored 0."""
    import shutil

    from beth_course.course import Course
    from beth_course.feedback import generate
    from beth_course.grading.gradebook import merge
    from beth_course.grading.worker import GradingResult

    shutil.copytree(released_course.root, tmp_path / "course")
    course = Course(tmp_path / "course")
    result = GradingResult(
        student="zed", status="malformed", reason="the file is not a notebook (not valid JSON)"
    )
    merge(course.db_url, course.assignment, "zed", result)
    report = generate(course, ["zed"])
    (page,) = report.written
    text = page.read_text()
    assert "could not be graded (malformed)" in text and "not valid JSON" in text


def test_warm_cache_key_is_the_environment_not_the_interpreter_name(monkeypatch):
    """python and python3 of one venv share a cache; another environment gets its own."""
    import sys

    from beth_course.grading import warmup

    monkeypatch.setattr(sys, "executable", sys.prefix + "/bin/python3")
    first = warmup._key()
    monkeypatch.setattr(sys, "executable", sys.prefix + "/bin/python")
    assert warmup._key() == first
    monkeypatch.setattr(sys, "prefix", "/somewhere/else")
    assert warmup._key() != first
