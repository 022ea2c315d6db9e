"""Due dates in nbgrader's gradebook, submission times from collect's timestamp.txt, and late
penalties by nbgrader's plugin (or ours, per day) from the scores hand grades included.

Results are merged as the grading coordinator merges them (no kernel runs here); the slow
round in tests/test_late_grading.py grades for real.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import pytest

from beth_course.cli import main
from beth_course.course import Course, CourseError
from beth_course.grades import grade_table, summary_lines
from beth_course.grading.gradebook import merge
from beth_course.grading.worker import GradingResult
from beth_course.late import Penalties, PercentPerDay, parse_due, submitted_at
from beth_course.report import write_report

from .helpers import TINY, TINY_CELLS, submit, tiny_course

WRITTEN = (
    "why",
    "markdown",
    {"grade": True, "solution": True, "points": 2},
    "The forest flags rare processes.",
)
PER_DAY = (
    'c.AssignLatePenalties.plugin_class = "beth_course.late.PercentPerDay"\n'
    "c.PercentPerDay.percent = 10\n"
)


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "text, utc",
    [("2026-12-10 17:00 Europe/London", _utc(2026, 12, 10, 17)),   # GMT
     ("2026-06-10 17:00 Europe/London", _utc(2026, 6, 10, 16)),    # BST
     ("2026-12-10 17:00 America/New_York", _utc(2026, 12, 10, 22)),
     ("2026-12-10 17:00:30 +01:00", _utc(2026, 12, 10, 16, 0, 30)),
     ("2026-12-10T17:00+05:30", _utc(2026, 12, 10, 11, 30)),
     ("2026-12-10 17:00 UTC", _utc(2026, 12, 10, 17))],
)  # fmt: skip
def test_parse_due_reads_the_zone_given(text, utc):
    """A due date with a zone (name, offset, ISO) means that moment, summer time included."""
    assert parse_due(text) == utc


def test_parse_due_reads_a_date_without_zone_in_the_course_zone():
    """Without a zone, the date is read in the zone passed (c.BethCollect.timezone)."""
    from zoneinfo import ZoneInfo

    assert parse_due("2026-12-10 17:00", ZoneInfo("America/New_York")) == _utc(2026, 12, 10, 22)


@pytest.mark.parametrize(
    "text, says",
    [("2026-12-10", "cannot read '2026-12-10' as a due date"),   # no time: not midnight
     ("next friday 17:00", "as a due date"),
     ("2026-12-10 17:00 Mars/Base", "'Mars/Base' is not a time zone"),
     ("2026-12-10T17:00+01:00 Europe/London", "as a due date")],  # two zones
)  # fmt: skip
def test_parse_due_refuses_what_it_cannot_read_and_shows_the_format(text, says):
    """Every refusal names what was wrong and shows a due date written the right way."""
    with pytest.raises(CourseError, match="Europe/London") as error:
        parse_due(text)
    assert says in str(error.value)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Course:
    """A released tiny course (2 autograded points, a 2-point written answer); read-only."""
    return tiny_course(tmp_path_factory.mktemp("late") / "course", cells=[*TINY_CELLS, WRITTEN])


def _copy(released: Course, root, config: str) -> Course:
    """A private copy of ``released`` with ``config`` added to its nbgrader_config.py."""
    import shutil

    shutil.copytree(released.root, root)
    with open(root / "nbgrader_config.py", "a") as fh:
        fh.write(config)
    return Course(root, TINY, TINY)


@pytest.fixture
def course(released, tmp_path) -> Course:
    """The tiny course, penalising 10% of the score per day late."""
    return _copy(released, tmp_path / "course", PER_DAY)


def _duedate(course: Course):
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        return gb.find_assignment(course.assignment).duedate


def test_due_stores_nbgraders_duedate_in_utc(course, capsys):
    """`beth-course due` writes Assignment.duedate (naive UTC, as nbgrader keeps it)."""
    args = ["--course", str(course.root), "due", "2026-06-10 17:00 Europe/London"]
    assert main(args) == 0
    assert _duedate(course) == datetime(2026, 6, 10, 16, 0)
    out = capsys.readouterr().out
    assert "tiny is due 2026-06-10 17:00 BST (2026-06-10 16:00 UTC)" in out
    assert "10% of the score per day late" in out
    assert main(["--course", str(course.root), "due", "--clear"]) == 0
    assert _duedate(course) is None


def test_due_reads_a_zoneless_date_in_the_course_zone(released, tmp_path, capsys):
    """c.BethCollect.timezone is the course's zone for due dates too."""
    course = _copy(released, tmp_path / "c", 'c.BethCollect.timezone = "America/New_York"\n')
    assert main(["--course", str(course.root), "due", "2026-12-10 17:00"]) == 0
    assert _duedate(course) == datetime(2026, 12, 10, 22, 0)
    assert "due 2026-12-10 17:00 EST (2026-12-10 22:00 UTC)" in capsys.readouterr().out


def test_a_due_date_set_before_release_is_kept_by_release(tmp_path):
    """Set in a fresh course, the due date survives nbgrader's generate_assignment."""
    from beth_course.release import release

    assert main(["init", str(tmp_path / "course")]) == 0
    course = Course.find(tmp_path / "course")
    assert main(["--course", str(course.root), "due", "2026-12-10 17:00 UTC"]) == 0
    release(course, validate=False)
    assert _duedate(course) == datetime(2026, 12, 10, 17, 0)


def test_percent_per_day_counts_started_days_after_the_grace():
    """10%: 1 s late is a day; 25 h is two; inside the grace, nothing; at most max_percent."""
    plugin = PercentPerDay(percent=10, grace_minutes=30, max_percent=50)
    penalty = lambda seconds: plugin.late_submission_penalty("ada", 10.0, seconds)  # noqa: E731
    assert [penalty(s) for s in (60, 1800, 1801, 25 * 3600, 30 * 86400)] == [
        None,
        None,
        1.0,
        2.0,
        5.0,
    ]


def test_nbgraders_own_methods_describe_themselves(tmp_path):
    """The penalty policy in words, for `due` and the report, for nbgrader's plugin too."""
    from traitlets.config import Config

    config = Config({"LateSubmissionPlugin": {"penalty_method": "zero"}})
    assert Penalties(config).describe() == "zero, a late notebook scores 0"


def _result(student: str, sha: str = "sha-1", stamp: str | None = None) -> GradingResult:
    """The worker's result with both autograded cells passed and the written answer pending."""
    grades = [
        {"notebook": TINY, "cell": cell, "auto_score": score, "max_score": points}
        for cell, score, points in (
            ("answer_is_right", 1.0, 1),
            ("more_is_one", 1.0, 1),
            ("why", None, 2),
        )
    ]
    return GradingResult(
        student=student, status="ok", grades=grades, submission_sha256=sha, timestamp=stamp
    )


def _penalty(course: Course, student: str):
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        return gb.find_submission_notebook(TINY, TINY, student).late_submission_penalty


def _hand_grade(course: Course, student: str, score: float) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        grade = gb.find_grade("why", TINY, TINY, student)
        grade.manual_score, grade.needs_manual_grade = score, False
        gb.db.commit()


def test_merge_stores_the_time_and_the_penalty_of_a_late_submission(course):
    """25 h late at 10% a day: 20% of the 2 autograded points; on time: no penalty."""
    assert main(["--course", str(course.root), "due", "2026-12-10 17:00 UTC"]) == 0
    penalties = Penalties(course.config())
    merge(course.db_url, TINY, "ada", _result("ada", stamp="2026-12-11T18:00:00"), penalties)
    merge(course.db_url, TINY, "ben", _result("ben", stamp="2026-12-10T16:59:00"), penalties)
    assert (_penalty(course, "ada"), _penalty(course, "ben")) == (0.4, None)
    rows = {r["student"]: r for r in grade_table(course)}
    assert rows["ada"]["submitted_at"] == datetime(2026, 12, 11, 18, 0)
    assert (rows["ada"]["seconds_late"], rows["ben"]["seconds_late"]) == (25 * 3600, 0)


def test_a_hand_grade_given_later_is_penalised_too(course, tmp_path):
    """The report works penalties out again: the 2 hand-graded points lose 20% as well."""
    assert main(["--course", str(course.root), "due", "2026-12-10 17:00 UTC"]) == 0
    merge(
        course.db_url,
        TINY,
        "ada",
        _result("ada", stamp="2026-12-11T18:00:00"),
        Penalties(course.config()),
    )
    _hand_grade(course, "ada", 2.0)
    files = write_report(course, tmp_path / "out")
    assert _penalty(course, "ada") == 0.8
    with open(files.csv, newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert (row["late_penalty"], row["hours_late"], row["score_after_penalty"]) == (
        "0.8",
        "25.0",
        "3.2",
    )
    assert (row["submitted_at"], row["due_at"]) == ("2026-12-11 18:00:00Z", "2026-12-10 17:00:00Z")
    page = files.html.read_text()
    assert (
        "<td>1 d 1 h (-0.8)</td>" in page and "Due 2026-12-10 17:00 UTC; 1 submission late" in page
    )


def test_changing_the_due_date_works_the_penalties_out_again(course, capsys):
    """Moved past the submission, the penalty goes; a zero policy takes the whole score."""
    merge(
        course.db_url,
        TINY,
        "ada",
        _result("ada", stamp="2026-12-11T18:00:00"),
        Penalties(course.config()),
    )
    assert main(["--course", str(course.root), "due", "2026-12-10 17:00 UTC"]) == 0
    assert (
        _penalty(course, "ada") == 0.4
        and "late by this date: 1 submission" in capsys.readouterr().out
    )
    assert main(["--course", str(course.root), "due", "2026-12-12 17:00 UTC"]) == 0
    assert _penalty(course, "ada") is None


def test_zero_policy_takes_the_whole_score(released, tmp_path):
    """nbgrader's "zero": the penalty equals the notebook's score."""
    course = _copy(released, tmp_path / "c", 'c.LateSubmissionPlugin.penalty_method = "zero"\n')
    assert main(["--course", str(course.root), "due", "2026-12-10 17:00 UTC"]) == 0
    grades = [
        {"notebook": TINY, "cell": c, "auto_score": 1.0, "max_score": 1}
        for c in ("answer_is_right", "more_is_one")
    ]
    result = GradingResult(
        student="ada", status="ok", grades=grades, timestamp="2026-12-10T17:01:00"
    )
    merge(course.db_url, TINY, "ada", result, Penalties(course.config()))
    assert _penalty(course, "ada") == 2.0


def test_the_summary_table_shows_lateness_when_a_submission_is_late(course):
    """A "late" column appears, with how late and the points lost."""
    assert main(["--course", str(course.root), "due", "2026-12-10 17:00 UTC"]) == 0
    merge(
        course.db_url,
        TINY,
        "ada",
        _result("ada", stamp="2026-12-13T17:30:00"),
        Penalties(course.config()),
    )
    merge(course.db_url, TINY, "ben", _result("ben"), Penalties(course.config()))
    header, ada, ben = summary_lines(grade_table(course))
    assert header.split() == ["student", "auto", "manual", "late", "status"]
    assert ada[header.index("late") :].startswith("3 d 0 h (-0.8)")  # 4 started days: 40% of 2
    assert ben[header.index("late") :].startswith("-  ")


def test_submission_time_is_read_from_timestamp_txt(course):
    """collect's timestamp.txt is the time; none is None; a broken one says what to do."""
    submit(course, "ada", {})
    assert submitted_at(course, "ada") is None
    stamp = course.folder("submitted", "ada") / "timestamp.txt"
    stamp.write_text("2026-12-11 18:00:00.000000 UTC\n")
    assert submitted_at(course, "ada") == "2026-12-11T18:00:00"
    stamp.write_text("yesterday-ish")
    with pytest.raises(CourseError, match="collect --force"):
        submitted_at(course, "ada")


@pytest.mark.parametrize(
    "config",
    [
        'c.LateSubmissionPlugin.penalty_method = "percent"\n',
        'c.AssignLatePenalties.plugin_class = "beth_course.late.Nope"\n',
    ],
)
def test_a_penalty_setting_that_cannot_work_says_what_to_set(released, tmp_path, capsys, config):
    """A wrong method or plugin in nbgrader_config.py is an error naming the settings that work."""
    course = _copy(released, tmp_path / "c", config)
    assert main(["--course", str(course.root), "due", "2026-12-10 17:00 UTC"]) == 1
    assert 'penalty_method to "none" or "zero"' in capsys.readouterr().err
    assert _duedate(course) is None  # refused before anything was written
