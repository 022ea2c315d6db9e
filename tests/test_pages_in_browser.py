"""Open pages in headless Chromium and check that no student script ran.

Optional: skipped where ``/usr/bin/chromium`` is absent (Debian: ``apt-get install
chromium``). Each payload in tests/hostile.py marks the page's ``<html>`` element when it
runs; Chromium's ``--dump-dom`` prints the DOM after the page loaded (with a few seconds of
virtual time for handlers and frames). Chromium resolves no host name here
(``--host-resolver-rules``): pages that try to load MathJax or jQuery from a CDN fail at once.
The first test is the control: the same hostile notebook rendered by plain nbconvert runs
its script, so an empty result below means blocked, not undetected.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from beth_course.course import Course
from beth_course.feedback import generate
from beth_course.inert import make_inert
from beth_course.pages import with_csp

from .hostile import ASSIGNMENT, RAN, formgrader_exporter, formgrader_html, hostile_notebook

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
)
# Payloads that ran in nbconvert 7.17's classic template in Chromium 156 (a subset, so that
# another browser version running more of them still passes the control).
KNOWN_TO_RUN = {"html-script", "html-onerror", "md-script", "md-onerror", "png-width"}


def ran_in_chromium(html: str, folder: Path) -> set[str]:
    """Names of the payloads that ran when Chromium opened ``html`` from a file."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "page.html"
    page.write_text(html, encoding="utf-8")
    done = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={folder / 'profile'}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return set(RAN.findall(done.stdout))


def classic(nb: nbformat.NotebookNode) -> str:
    return HTMLExporter(template_name="classic").from_notebook_node(nb)[0]


def test_control_student_script_runs_in_a_plain_nbconvert_page(tmp_path):
    """Unprotected, the hostile notebook's script runs: the detector works."""
    assert KNOWN_TO_RUN <= ran_in_chromium(classic(hostile_notebook()), tmp_path)


def test_an_inert_notebook_runs_no_script_even_without_the_csp(tmp_path):
    """MakeInert alone is enough."""
    assert ran_in_chromium(classic(make_inert(hostile_notebook())), tmp_path) == set()


def test_the_csp_alone_stops_every_script_of_a_hostile_page(tmp_path):
    """The policy alone is enough (the second line of defence holds on its own)."""
    assert ran_in_chromium(with_csp(classic(hostile_notebook())), tmp_path) == set()


def test_a_beth_course_feedback_page_runs_no_student_script(hostile_course, tmp_path):
    """The page beth-course feedback writes for the hostile student, opened as she would."""
    shutil.copytree(hostile_course, tmp_path / "course")
    report = generate(Course(tmp_path / "course", ASSIGNMENT, ASSIGNMENT), ["ada"])
    (page,) = report.written
    assert ran_in_chromium(page.read_text(encoding="utf-8"), tmp_path / "browser") == set()


def test_formgrader_page_runs_no_student_script(hostile_course, tmp_path):
    """The page formgrader would serve the instructor for the hostile autograded notebook."""
    path = hostile_course / "autograded" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    html = formgrader_html(formgrader_exporter(hostile_course), nbformat.read(path, 4))
    assert ran_in_chromium(html, tmp_path) == set()
