"""Mapping the intake's files to students: the presets, the instructor's patterns, and the
rules that keep a guess from ever being filed.

The collector half of collect (nbgrader's ``FileNameCollector`` plays this part for
``zip_collect``): it never reads a file's bytes, only paths. ``beth_course.collect``'s
docstring says what each preset matches and which files are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Iterable

from ..course import ASSIGNMENT, Course
from .dates import parse_stamp
from .limits import CollectError
from .reading import Entry
from .report import CollectReport

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A safe student id, matched against the whole id (:meth:`re.Pattern.fullmatch`)."""

_A = re.escape(ASSIGNMENT)
PRESETS: dict[str, str] = {
    "blackboard": (
        r"(?:^|/)[^/]*?_(?P<student>[^/_]+)_attempt_(?P<timestamp>\d{4}(?:-\d\d){5})"
        r"(?:_[^/]*)?(?:/[^/]+)*\.ipynb\Z"
    ),
    "canvas": r"(?:^|/)[a-z][a-z0-9]*_(?:LATE_)?(?P<student>\d+)_\d+_[^/]*(?:/[^/]+)*\.ipynb\Z",
    "moodle": (
        r"(?:^|/)[^/]*_(?P<student>\d+)_assignsubmission_file_(?:[^/]*|/(?:[^/]+/)*[^/]+)\.ipynb\Z"
    ),
    "folder": rf"(?:^|/)(?P<student>[^/]+)(?<!\.zip)(?<!\.ZIP)/(?:{_A}/)?[^/]+\.ipynb\Z",
}
"""The built-in mapping rules, by name, in the order they are tried (module docstring)."""


@dataclass(frozen=True)
class Claim:
    """One notebook of the assignment and the student it maps to."""

    student: str
    entry: Entry
    stamp: datetime | None
    """The date the matching pattern read from the path, if any."""
    folder: str | None
    """The folder the id was read from (``export/jsmith/``), None if read from a file name."""


def student_for(path: str, patterns: list[str] | None = None) -> str | None:
    """The student id the first matching pattern reads from ``path``, unchecked.

    Examples
    --------
    >>> student_for("beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb")
    'jsmith'
    >>> student_for("smithjohn_LATE_12345_67890_beth_workshop-1.ipynb")
    '12345'
    >>> student_for("export/John Smith_12345_assignsubmission_file_/beth_workshop.ipynb")
    '12345'
    >>> student_for("jsmith/Copy of beth_workshop (1).ipynb")
    'jsmith'
    >>> student_for("Copy of beth_workshop.ipynb") is None
    True
    """
    regexes = compile_patterns(patterns if patterns is not None else list(PRESETS.values()))
    match = _first_match(path, regexes)
    return match.group("student") if match else None


def compile_patterns(patterns: list[str]) -> list[re.Pattern]:
    """The patterns compiled; CollectError for one that is no regex or has no student."""
    if not patterns:
        raise CollectError("no mapping patterns: give at least one --pattern with (?P<student>...)")
    compiled = []
    for text in patterns:
        try:
            regex = re.compile(text)
        except re.error as exc:
            raise CollectError(f"pattern {text!r} is not a regular expression: {exc}") from None
        if "student" not in regex.groupindex:
            raise CollectError(
                f"pattern {text!r} has no group (?P<student>...) to read the student id from"
            )
        compiled.append(regex)
    return compiled


def _first_match(path: str, regexes: list[re.Pattern]) -> re.Match | None:
    return next((m for m in (r.search(path) for r in regexes) if m and m.group("student")), None)


def name_regex(notebook: str) -> re.Pattern:
    """A notebook stem that is the assignment's: optional prefix, Colab's and LMSs' marks."""
    return re.compile(
        r"(?:(?P<prefix>.*?)[ _-])??(?:copy[ _]of[ _])*"
        + re.escape(notebook)
        + r"(?:[ _]?\(\d+\)|-\d+)*",
        re.IGNORECASE,
    )


class Mapper:
    """Maps each file of one intake to a student, or says in the report why not."""

    def __init__(self, course: Course, regexes: list[re.Pattern], zone: tzinfo | None,
                 report: CollectReport):
        self.course = course
        self.regexes = regexes
        self.zone = zone
        self.report = report
        self.names = name_regex(course.notebook)

    def claims(self, entries: Iterable[Entry]) -> dict[str, list[Claim]]:
        """student -> the notebooks mapped to them; every other file goes into the report."""
        found = [claim for claim in map(self._claim, entries) if claim is not None]
        return self._without_class_folders(found)

    def _claim(self, entry: Entry) -> Claim | None:
        base = entry.path.rsplit("/", 1)[-1]
        named = self._assignment_notebook(entry.path, base)
        if named is None:
            return None
        match = _first_match(entry.path, self.regexes)
        if match is None:
            self.report.unmapped[entry.path] = (
                f"no pattern matches this path (tried {len(self.regexes)}); nothing is guessed"
            )
            return None
        student = match.group("student")
        why = unsafe(student, self.course)
        if why:
            self.report.unmapped[entry.path] = f"{student!r} {why}"
            return None
        in_name = match.start("student") >= len(entry.path) - len(base)
        if named.group("prefix") is not None and not in_name:
            self.report.ignored[entry.path] = (
                f"not the assignment's notebook: {base!r} has {named.group('prefix')!r} before "
                f"{self.course.notebook}, and no pattern reads the student from the file name "
                "(if that is an LMS's prefix, add a --pattern for it)"
            )
            return None
        return Claim(student, entry, self._stamp(match), _folder_of(match))

    def _assignment_notebook(self, path: str, base: str) -> re.Match | None:
        """The name match if ``base`` names the assignment's notebook, else None (reported)."""
        if not base.lower().endswith(".ipynb"):
            self.report.ignored[path] = "not a notebook"
            return None
        named = self.names.fullmatch(base[: -len(".ipynb")])
        if not named:
            self.report.ignored[path] = (
                f"not the assignment's notebook ({self.course.notebook}.ipynb)"
            )
        return named

    def _stamp(self, match: re.Match) -> datetime | None:
        if "timestamp" in match.re.groupindex and match.group("timestamp"):
            return parse_stamp(match.group("timestamp"), self.zone)
        return None

    def _without_class_folders(self, found: list[Claim]) -> dict[str, list[Claim]]:
        """The claims by student, without those read from a folder that also holds other
        students' submissions: that folder is the class's (a stray notebook in an export)."""
        by_student: dict[str, list[Claim]] = {}
        for claim in found:
            others = sorted({
                c.student for c in found
                if claim.folder and c.student != claim.student
                and c.entry.path.startswith(claim.folder)
            })
            if others:
                self.report.unmapped[claim.entry.path] = (
                    f"the student would be {claim.student!r}, from the folder {claim.folder}, "
                    f"but that folder also holds other students' submissions "
                    f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); "
                    "nothing is guessed"
                )
                continue
            by_student.setdefault(claim.student, []).append(claim)
        return by_student


def _folder_of(match: re.Match) -> str | None:
    end = match.end("student")
    path = match.string
    return path[: end + 1] if path[end : end + 1] == "/" else None


def unsafe(student: str, course: Course) -> str | None:
    """Why ``student`` cannot be a student id here, or None if it can."""
    if not SAFE_ID.fullmatch(student):
        return (
            "is not a safe student id: ids start with a letter or digit and hold only "
            "letters, digits, '_', '.' and '-'"
        )
    if student.lower() in (course.assignment.lower(), course.notebook.lower()):
        return "is the assignment's name, not a student's"
    return None


def refuse_case_clashes(
    claims: dict[str, list[Claim]], existing: set[str], report: CollectReport
) -> None:
    """Move students whose ids differ only by case (from each other in this intake, or from
    a student already in submitted/) out of ``claims`` into ``report.id_conflicts``."""
    by_fold: dict[str, list[str]] = {}
    for student in claims:
        by_fold.setdefault(student.casefold(), []).append(student)
    clashing: dict[str, str] = {}
    for student in sorted(claims):
        twins = [s for s in by_fold[student.casefold()] if s != student]
        filed_twins = [e for e in existing if e.casefold() == student.casefold()]
        if twins:
            why = "in this intake"
        elif filed_twins and student not in existing:
            twins, why = filed_twins, "already in submitted/"
        else:
            continue
        others = ", ".join(repr(t) for t in sorted(twins))
        clashing[student] = f"its student id {student!r} differs only by case from {others}, {why}"
    for student, why in clashing.items():
        for claim in claims.pop(student):
            report.id_conflicts[claim.entry.path] = why
