"""Pages beth-course writes (feedback, report): inert content, and a CSP that forbids script."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nbconvert import HTMLExporter

from beth_course.course import Course
from beth_course.feedback import generate, html_text
from beth_course.pages import CONTENT_SECURITY_POLICY, CSP_META, with_csp
from beth_course.report import write_report

from .hostile import (
    ASSIGNMENT,
    HIDDEN_LINES,
    NBGRADER_DEFAULT,
    TABLE_CANARY,
    VISIBLE_TEST,
    PageScan,
    unknown_scripts,
)

MATHJAX = HTMLExporter().mathjax_url


def tiny(root: Path) -> Course:
    return Course(root, ASSIGNMENT, ASSIGNMENT)


@pytest.fixture(scope="module")
def fed(hostile_course, tmp_path_factory):
    """``beth-course feedback`` run on a copy of the hostile course: (course, report)."""
    root = tmp_path_factory.mktemp("fed") / "course"
    shutil.copytree(hostile_course, root)
    course = tiny(root)
    stale = course.folder("feedback", "eve") / f"{ASSIGNMENT}.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("an older page, from before the hidden tests were removed")
    return course, generate(course)


def ada_page(fed) -> str:
    course, _ = fed
    return (course.folder("feedback", "ada") / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")


def test_with_csp_puts_the_policy_first_in_head():
    """The policy governs only what follows it: it must precede every script."""
    page = with_csp(
        '<!DOCTYPE html><html><HEAD lang="en"><script src="a.js"></script></HEAD></html>'
    )
    assert page.index(CSP_META) < page.index("<script") and page.count(CSP_META) == 1


def test_with_csp_refuses_a_page_without_head():
    """No <head>, no place for the policy: an error rather than an unprotected page."""
    with pytest.raises(ValueError, match="no <head>"):
        with_csp("<p>hello</p>")


def test_the_policy_forbids_script_and_keeps_styles_and_images():
    """Spelled out: no script, object or form; inline CSS and data: images allowed."""
    rules = dict(rule.strip().split(" ", 1) for rule in CONTENT_SECURITY_POLICY.split(";"))
    assert rules["script-src"] == "'none'" and rules["default-src"] == "'none'"
    assert rules["object-src"] == "'none'" and rules["form-action"] == "'none'"
    assert "data:" in rules["img-src"] and rules["style-src"] == "'unsafe-inline'"


def test_feedback_page_carries_the_csp_before_any_script(fed):
    """The written page has exactly one policy, as the first element of <head>."""
    page = ada_page(fed)
    scan = PageScan(page)
    assert scan.csp == [(3, CONTENT_SECURITY_POLICY)]  # <html>, <head>, then the policy
    assert page.index(CSP_META) < page.index("<script")


def test_feedback_page_runs_no_student_script(fed):
    """Only nbconvert's MathJax tags remain; no handler, bad URL, frame, form or SVG."""
    scan = PageScan(ada_page(fed))
    assert unknown_scripts(scan, MATHJAX) == []
    assert (scan.handlers, scan.bad_urls, scan.active_tags) == ([], [], [])


def test_feedback_page_keeps_tables_answers_and_visible_tests(fed):
    """What the student should see is still there: the table, the answer's text, the test."""
    page = ada_page(fed)
    text = html_text(page)
    assert {"border": "1", "class": "dataframe"} in PageScan(page).tables
    assert str(TABLE_CANARY) in text and "the **forest** isolates evil processes" in text
    assert VISIBLE_TEST in text and "hidden tests: not shown" in text
    assert not any(line in text for line in HIDDEN_LINES)


def test_feedback_is_refused_for_a_notebook_that_printed_its_hidden_tests(fed):
    """eve's last cell printed the test cell: no page (an older one is removed), and why."""
    course, report = fed
    assert "hidden-test lines" in report.refused["eve"]
    assert not (course.folder("feedback", "eve") / f"{ASSIGNMENT}.html").exists()


def test_feedback_is_safe_without_the_course_config_settings(hostile_course, tmp_path):
    """beth-course scrubs and makes inert itself: it does not rely on nbgrader_config.py."""
    shutil.copytree(hostile_course, tmp_path / "course")
    with open(tmp_path / "course" / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(NBGRADER_DEFAULT)
    (written,) = generate(tiny(tmp_path / "course"), ["ada"]).written
    page = written.read_text(encoding="utf-8")
    scan = PageScan(page)
    assert unknown_scripts(scan, MATHJAX) == [] and (scan.handlers, scan.bad_urls) == ([], [])
    assert not any(line in html_text(page) for line in HIDDEN_LINES)


def test_a_submission_that_could_not_run_gets_a_page_with_the_csp(hostile_course, tmp_path):
    """The short page for an ungradable submission carries the policy; its reason is escaped."""
    from beth_course.grading.gradebook import merge
    from beth_course.grading.worker import GradingResult

    shutil.copytree(hostile_course, tmp_path / "course")
    course = tiny(tmp_path / "course")
    merge(
        course.db_url,
        ASSIGNMENT,
        "zed",
        GradingResult(student="zed", status="malformed", reason="<script>steal()</script>"),
    )
    (page,) = generate(course, ["zed"]).written
    scan = PageScan(page.read_text())
    assert scan.csp and scan.scripts == [] and "&lt;script&gt;" in page.read_text()


def test_report_page_carries_the_csp(hostile_course, tmp_path):
    """report.html quotes failure reasons: it forbids script too."""
    shutil.copytree(hostile_course, tmp_path / "course")
    files = write_report(tiny(tmp_path / "course"))
    scan = PageScan(files.html.read_text())
    assert scan.csp == [(3, CONTENT_SECURITY_POLICY)] and scan.scripts == []
