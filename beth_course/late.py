"""Due dates, lateness and late penalties, all kept where nbgrader keeps them.

- **Due date**: nbgrader's ``Assignment.duedate`` in the gradebook (UTC), set by
  ``beth-course due "2026-12-10 17:00 Europe/London"`` (:func:`set_due`); nbgrader's own
  ``nbgrader db assignment add NAME --duedate=...`` and formgrader's "Manage Assignments"
  set the same field. ``beth-course release`` keeps it.
- **Submission time**: nbgrader's ``SubmittedAssignment.timestamp``, read from the
  ``timestamp.txt`` that ``beth-course collect`` writes (:func:`submitted_at`): the LMS's
  date or the download's, never a date from inside a student's upload. nbgrader's
  ``total_seconds_late`` is the lateness (after any extension given in formgrader).
- **Penalty**: nbgrader's ``late_submission_penalty`` per notebook, worked out by the plugin
  nbgrader's ``AssignLatePenalties`` is configured with in ``nbgrader_config.py``:
  ``c.LateSubmissionPlugin.penalty_method`` (``"none"`` or ``"zero"``), or
  ``c.AssignLatePenalties.plugin_class = "beth_course.late.PercentPerDay"`` for a share of
  the score per day (:class:`PercentPerDay`).

nbgrader works the penalty out once, at autograde, from the score at that moment, so a hand
grade given afterwards escapes it (a late notebook under ``"zero"`` ends up with the
hand-graded points). Here penalties are worked out again from the course gradebook's
current scores (:func:`refresh_penalties`, :class:`Penalties`) whenever they can have
changed and before anything is read out: when a result is merged after grading, when the
due date changes, and before ``beth-course feedback`` and ``beth-course report``. Grading
workers do not assign penalties: they see a copy of the gradebook without hand grades.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone, tzinfo

from nbgrader.plugins import BasePlugin
from traitlets import Float

from .course import Course, CourseError

DUE_EXAMPLE = '"2026-12-10 17:00 Europe/London"'
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d\d):?(\d\d)$")


class PercentPerDay(BasePlugin):
    """A late notebook loses ``percent`` of its score per day late, a started day counting
    as a day, after ``grace_minutes``, and at most ``max_percent``.

    Use it in ``nbgrader_config.py``::

        c.AssignLatePenalties.plugin_class = "beth_course.late.PercentPerDay"
        c.PercentPerDay.percent = 10

    >>> plugin = PercentPerDay(percent=10, grace_minutes=15)
    >>> [plugin.late_submission_penalty("ada", 8.0, s) for s in (600, 3600, 86400 + 3600)]
    [None, 0.8, 1.6]
    """

    percent = Float(
        10.0,
        help="Percent of the notebook's score taken off per day late (a "
        "started day counts as a day).",
    ).tag(config=True)
    grace_minutes = Float(
        0.0,
        help="Minutes after the due date still counted as on time "
        "(for slow uploads); lateness is counted from the due date "
        "itself past them.",
    ).tag(config=True)
    max_percent = Float(100.0, help="The most taken off, in percent of the score.").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        """Points taken off ``score`` for a notebook ``total_seconds_late`` late (None if none)."""
        if total_seconds_late <= 60 * self.grace_minutes:
            return None
        days = math.ceil(total_seconds_late / 86400)
        return round(score * min(self.max_percent, self.percent * days) / 100, 6)

    def describe(self) -> str:
        grace = f" after {self.grace_minutes:g} minutes' grace" if self.grace_minutes else ""
        return (
            f"{self.percent:g}% of the score per day late (a started day counts){grace}, "
            f"at most {self.max_percent:g}%"
        )


class Penalties:
    """The course's late-submission plugin, applied to submissions in a gradebook session."""

    def __init__(self, config):
        from nbgrader.preprocessors import AssignLatePenalties
        from traitlets import TraitError

        try:
            assign = AssignLatePenalties(config=config)
            assign.init_plugin()
        except (TraitError, ImportError) as exc:
            raise CourseError(
                f"the late penalty set in nbgrader_config.py cannot be used: {exc}. Set "
                'c.LateSubmissionPlugin.penalty_method to "none" or "zero", or '
                'c.AssignLatePenalties.plugin_class to "beth_course.late.PercentPerDay"'
            ) from None
        self.plugin = assign.plugin_inst

    def apply(self, submission) -> None:
        """Set each notebook's penalty from its current score (hand grades included) and
        the submission's lateness, by nbgrader's rules: None when on time, else the
        plugin's penalty held between 0 and the notebook's score."""
        seconds = submission.total_seconds_late
        for notebook in submission.notebooks:
            notebook.late_submission_penalty = None
            if seconds <= 0:
                continue
            penalty = self.plugin.late_submission_penalty(
                submission.student.id, notebook.score, seconds
            )
            if penalty is not None:
                notebook.late_submission_penalty = min(max(penalty, 0.0), notebook.score)

    def describe(self) -> str:
        """The policy in words, for the report and ``beth-course due``."""
        if hasattr(self.plugin, "describe"):
            return self.plugin.describe()
        method = getattr(self.plugin, "penalty_method", None)
        return {
            "none": "none, lateness is reported and nothing is taken off",
            "zero": "zero, a late notebook scores 0",
        }.get(str(method), type(self.plugin).__name__)


def refresh_penalties(course: Course, penalties: Penalties | None = None) -> int:
    """Work out every submission's penalties again (module docstring); returns how many
    submissions are late. Does nothing before the assignment has a gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    if not course.gradebook_path.exists():
        return 0
    penalties = penalties or Penalties(course.config())
    with Gradebook(course.db_url) as gb:
        try:
            submissions = gb.find_assignment(course.assignment).submissions
        except MissingEntry:
            return 0
        for submission in submissions:
            penalties.apply(submission)
        gb.db.commit()
        return sum(1 for s in submissions if s.total_seconds_late > 0)


def submitted_at(course: Course, student: str) -> str | None:
    """The submission time ``timestamp.txt`` holds, as nbgrader reads it (ISO, UTC), or
    None when there is no such file. Raises `CourseError` for a file nbgrader cannot read."""
    from nbgrader.utils import parse_utc

    path = course.folder("submitted", student) / "timestamp.txt"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    try:
        return parse_utc(text).isoformat() if text else None
    except (ValueError, OverflowError):
        raise CourseError(
            f"{path} holds {text[:60]!r}, which is not a date: collect the submission again "
            "(beth-course collect --force), or write its time there as 2026-11-20 09:12:44 UTC"
        ) from None


# -- the due date ----------------------------------------------------------------------------


def _zone_word(word: str) -> tzinfo:
    from datetime import timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    offset = _OFFSET.match(word)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    try:
        return ZoneInfo(word)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(
            f"{word!r} is not a time zone: use an IANA name (Europe/London, America/New_York), "
            f"UTC or an offset (+01:00), as in {DUE_EXAMPLE}"
        ) from None


def parse_due(text: str, default_zone: tzinfo | None = None) -> datetime:
    """A due date as an instructor writes it, as an aware datetime in the zone given.

    ``2026-12-10 17:00 Europe/London``, ``2026-12-10 17:00 +01:00``, ISO 8601 with an
    offset, or without a zone (read in ``default_zone``, None: this computer's local time).

    >>> for text in ("2026-12-10 17:00 Europe/London", "2026-06-10 17:00 Europe/London"):
    ...     print(parse_due(text).astimezone(timezone.utc))
    2026-12-10 17:00:00+00:00
    2026-06-10 16:00:00+00:00
    """
    words = text.split()
    zone_word = words.pop() if len(words) == 3 else None
    when = None
    if ":" in " ".join(words):  # a time is required: "2026-12-10" alone would mean midnight
        try:
            when = datetime.fromisoformat(" ".join(words))
        except ValueError:
            pass  # said below, with the format to use
    if when is None or (zone_word is not None and when.tzinfo is not None):
        raise CourseError(
            f"cannot read {text!r} as a due date: write the date, the 24-hour time and the "
            f"time zone, as in {DUE_EXAMPLE}"
        )
    zone = _zone_word(zone_word) if zone_word else None
    if when.tzinfo is None:
        where = zone or default_zone
        when = when.replace(tzinfo=where) if where is not None else when.astimezone()
    return when


def due_date(course: Course) -> datetime | None:
    """The assignment's due date from the gradebook (UTC), None if it has none."""
    from nbgrader.api import Gradebook, MissingEntry

    if not course.gradebook_path.exists():
        return None
    with Gradebook(course.db_url) as gb:
        try:
            due = gb.find_assignment(course.assignment).duedate
        except MissingEntry:
            return None
    return due.replace(tzinfo=timezone.utc) if due else None


def set_due(course: Course, when: datetime | None) -> int:
    """Store ``when`` (None: no due date) as the assignment's due date in the gradebook,
    creating the assignment there if it was not released yet (nbgrader's release keeps it),
    and work the penalties out again. Returns how many submissions are late now."""
    from nbgrader.api import Gradebook

    from .course import use_this_environment

    use_this_environment()  # nbgrader runs alembic by name when it makes a gradebook
    penalties = Penalties(course.config())  # a broken setting is refused before any write
    naive = when.astimezone(timezone.utc).replace(tzinfo=None) if when else None
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(course.assignment, duedate=naive)
    return refresh_penalties(course, penalties)
