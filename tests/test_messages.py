"""What beth-course says: errors for what cannot be done, counts in words, aligned tables."""

from __future__ import annotations

import shutil

import pytest

from beth_course.cli import _graded_line, main
from beth_course.grades import summary_lines
from beth_course.grading.runner import RunSummary
from beth_course.grading.worker import GradingResult
from beth_course.report import score_histogram
from beth_course.wording import count

from .helpers import REPO, copy_course


def test_feedback_for_an_unknown_student_is_an_error(tmp_path, capsys):
    """`feedback --student nosuch` exits 1, names the id and the students there are."""
    course = copy_course(tmp_path / "course")
    assert main(["--course", str(course.root), "feedback", "--student", "nosuch"]) == 1
    err = capsys.readouterr().err
    assert "no submission of beth_workshop from nosuch" in err and "ada, ben, cleo" in err
    assert not course.folder("feedback").exists()


def test_feedback_for_a_student_not_graded_yet_exits_non_zero(tmp_path, capsys):
    """A student asked for whose submission is not graded gets no page, and the exit says so."""
    course = copy_course(tmp_path / "course")
    assert main(["--course", str(course.root), "feedback", "--student", "ada"]) == 1
    out, err = capsys.readouterr()
    assert "ada: not graded yet (run beth-course autograde)" in err
    assert "0 feedback pages for 0 students" in out


def _result(student: str, status: str = "ok") -> GradingResult:
    return GradingResult(student=student, status=status)


def test_autograde_says_nothing_was_graded_when_nothing_was():
    """All skipped: no "graded 0 submissions in 0 s on -", but what was skipped and why."""
    line = _graded_line(RunSummary(skipped=["ada", "ben", "cleo"]))
    assert line == "nothing graded: 3 submissions already graded (--force regrades)"
    assert _graded_line(RunSummary()) == "nothing graded"


def test_autograde_counts_in_words():
    """One submission is "1 submission"; several are plural; skipped ones are counted too."""
    one = RunSummary(results=[_result("ada")], seconds=12.2, workers="1 process")
    assert _graded_line(one) == "graded 1 submission in 12 s on 1 process (1 ok)"
    two = RunSummary(
        results=[_result("ada"), _result("ben", "timeout")],
        skipped=["cleo"],
        seconds=30,
        workers="2 processes",
    )
    assert _graded_line(two) == (
        "graded 2 submissions in 30 s on 2 processes (1 ok, 1 timeout); "
        "skipped 1 submission already graded (--force regrades)"
    )


def test_autograde_with_nothing_submitted_says_to_collect(course_copy, capsys):
    """An empty submitted/ is an error naming beth-course collect, not "graded 0"."""
    shutil.rmtree(course_copy.folder("submitted"))
    assert main(["--course", str(course_copy.root), "autograde", "--no-sandbox"]) == 1
    err = capsys.readouterr().err
    assert "nothing to grade" in err and "beth-course collect" in err


def test_count_uses_the_plural_unless_one():
    """count() says 1 thing, 0 things, 2 things, with irregular plurals given."""
    assert [count(n, "student") for n in (0, 1, 2)] == ["0 students", "1 student", "2 students"]
    assert count(1_000, "class", "classes") == "1,000 classes"


def test_the_score_histogram_counts_students_in_whole_numbers():
    """With one student per score, the count axis shows 0, 1, ... and never 0.5."""
    fig = score_histogram([9.0, 5.0, 0.0], 11.0)
    ax = fig.axes[0]
    for ticks in (ax.get_yticks(), ax.get_xticks()):
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), list(ticks)


def _row(student, auto, auto_max, manual=None, status="ok", reason=""):
    return dict(
        student=student,
        auto_score=auto,
        auto_max=auto_max,
        manual_score=manual or 0.0,
        manual_max=2.0,
        needs_manual=manual is None,
        status=status,
        reason=reason,
    )


def test_summary_table_columns_line_up():
    """Scores end under the end of "auto"; every other column starts under its header."""
    rows = [
        _row("ada", 9, 9),
        _row("a_very_long_id", 10.5, 11, manual=2.0),
        _row("bo", 0, 9, status="timeout", reason="the notebook ran out of time"),
    ]
    header, *lines = summary_lines(rows)
    for line, row in zip(lines, rows, strict=False):
        auto = f"{row['auto_score']:g}/{row['auto_max']:g}"
        assert line.index(auto) + len(auto) == header.index("auto") + len("auto"), line
        manual = "to grade" if row["needs_manual"] else "2/2"
        assert line[header.index("manual") :].startswith(manual), line
        assert line[header.index("status") :].startswith(row["status"]), line


def test_readme_shows_the_summary_table_as_it_is_printed():
    """The README's example table is what summary_lines prints for the demo's grades."""
    rows = [_row("ada", 9, 9), _row("ben", 5, 9), _row("cleo", 0, 9, manual=0.0)]
    table = "\n".join("  " + line for line in summary_lines(rows))
    assert "```\n" + table + "\n```" in (REPO / "README.md").read_text()


@pytest.mark.parametrize(
    "module", ["beth_course.wording", "beth_course.grades", "beth_course.late"]
)
def test_docstring_examples_hold(module):
    """The examples in these modules' docstrings run and print what they show."""
    import doctest
    import importlib

    failed, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failed == 0
