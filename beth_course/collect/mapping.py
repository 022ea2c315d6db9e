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

from ..course import Course
from .dates import COLLECTION_TIME, FILE_NAME, parse_stamp
from .ids import to_id, unsafe
from .limits import CollectError
from .reading import Entry, Hop
from .report import CollectReport
from .uploads import Layout, Upload

PRESETS: dict[str, str] = {
    "blackboard": (
        r"^[^/]*?_(?P<student>(?P<lms_user_id>(?P<name>[^/_]+)))_attempt_"
        r"(?P<timestamp>\d{4}(?:-\d\d){5})(?:_[^/]*)?(?:/[^/]+)*\.ipynb\Z"
    ),
    "canvas": (
        r"^(?P<name>[a-z][a-z0-9]*)_(?P<late>LATE_)?(?P<student>(?P<lms_user_id>\d+))_\d+_"
        r"[^/]*(?:/[^/]+)*\.ipynb\Z"
    ),
    "moodle": (
        r"^(?P<name>[^/]*)_(?P<student>(?P<lms_user_id>\d+))_assignsubmission_file_"
        r"(?:[^/]*|/(?:[^/]+/)*[^/]+)\.ipynb\Z"
    ),
    "folder": r"^(?P<student>[^/]+)(?<!\.zip)(?<!\.ZIP)/(?:[^/]+/)*[^/]+\.ipynb\Z",
}
"""The built-in mapping rules, by name, in the order they are tried (module docstring of
``beth_course.collect``). Each is matched against the path from the student's upload down
(``jsmith/week3/beth_workshop.ipynb``) and reads the student from the upload's own name;
the groups besides ``student`` are what the LMS says (:data:`MARKS`)."""

MARKS = ("name", "email", "lms_user_id", "late", "timestamp")
"""Named groups a rule may have besides ``student``: the person's name, their email, the
LMS's id for them, a late marker (any text: present means late) and the LMS's date."""


@dataclass(frozen=True)
class Rule:
    """A preset (read from the upload's own name) or the instructor's regex (read from
    anywhere in the path relative to the intake)."""

    regex: re.Pattern
    preset: str | None
    """The preset's name; None for the instructor's regex."""

    def read(self, path: str, upload: Upload) -> Read | None:
        """What this rule reads from ``path``, or None if it does not match there."""
        base = upload.start if self.preset else 0
        match = self.regex.search(path[base:])
        if not match or not match.group("student"):
            return None
        start, end = base + match.start("student"), base + match.end("student")
        if self.preset and end > upload.end:
            return None
        marks = {
            key: value
            for key, value in match.groupdict().items()
            if key != "student"
            and value
            and upload.start <= base + match.start(key)
            and base + match.end(key) <= upload.end
        }
        return Read(match.group("student"), start, end, marks)


@dataclass(frozen=True)
class Read:
    """A student id read from a path, where it was, and the marks read from the upload's
    own name (named groups other than ``student``, such as ``timestamp``)."""

    student: str
    start: int
    end: int
    marks: dict[str, str]


@dataclass(frozen=True)
class Claim:
    """One notebook of the assignment and the student it maps to."""

    student: str
    entry: Entry
    when: datetime | None
    """The submission time (see ``time_source``), None when the download carries none."""
    time_source: str
    """Where ``when`` came from: one of the constants in :mod:`.dates`."""
    folder: str | None
    """The folder the id was read from (``export/jsmith/``), None if read from a file name."""
    marks: dict[str, str]
    """What the upload's name says besides the id (:data:`MARKS`)."""
    raw: str
    """The text the id was made from (``Priya Patel`` for ``priya_patel``)."""


def student_for(path: str, patterns: list[str] | None = None) -> str | None:
    """The student id the first matching pattern reads from ``path``, unchecked.

    ``path`` starts at the student's upload (the top of the intake); ``patterns`` are
    preset names or regular expressions (default: all presets).

    Examples
    --------
    >>> student_for("beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb")
    'jsmith'
    >>> student_for("smithjohn_LATE_12345_67890_beth_workshop-1.ipynb")
    '12345'
    >>> student_for("John Smith_12345_assignsubmission_file_/beth_workshop.ipynb")
    '12345'
    >>> student_for("jsmith/Copy of beth_workshop (1).ipynb")
    'jsmith'
    >>> student_for("carol/week3/upload/beth_workshop.ipynb")
    'carol'
    >>> student_for("Copy of beth_workshop.ipynb") is None
    True
    """
    rules = compile_rules(patterns if patterns is not None else list(PRESETS))
    top = path.split("/", 1)[0]
    read = _first_read(path, Upload(0, 0, len(top)), rules)
    return read.student if read else None


def compile_rules(patterns: list[str]) -> list[Rule]:
    """Preset names and regexes as rules; CollectError for a regex that does not compile
    or has no group ``student``."""
    if not patterns:
        raise CollectError("no mapping patterns: give at least one --pattern with (?P<student>...)")
    rules = []
    for text in patterns:
        if text in PRESETS:
            rules.append(Rule(re.compile(PRESETS[text]), preset=text))
            continue
        try:
            regex = re.compile(text)
        except re.error as exc:
            raise CollectError(f"pattern {text!r} is not a regular expression: {exc}") from None
        if "student" not in regex.groupindex:
            raise CollectError(
                f"pattern {text!r} has no group (?P<student>...) to read the student id from "
                f"(or is not a preset: {', '.join(PRESETS)})"
            )
        rules.append(Rule(regex, preset=None))
    return rules


def _first_read(path: str, upload: Upload, rules: list[Rule]) -> Read | None:
    return next((r for r in (rule.read(path, upload) for rule in rules) if r), None)


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

    def __init__(
        self, course: Course, rules: list[Rule], zone: tzinfo | None, report: CollectReport
    ):
        self.course = course
        self.rules = rules
        self.zone = zone
        self.report = report
        self.names = name_regex(course.notebook)

    def claims(self, entries: list[Entry]) -> dict[str, list[Claim]]:
        """student -> the notebooks mapped to them; every other file goes into the report."""
        layout = Layout(entries, self._lms_names)
        found = [self._claim(entry, layout) for entry in entries]
        return self._without_class_folders([c for c in found if c is not None])

    def _lms_names(self, path: str, upload: Upload) -> bool:
        """Whether a rule other than the folder preset (which takes any folder) reads a
        student from the upload's own name: then it is an upload, whatever it holds."""
        reads = (rule.read(path, upload) for rule in self.rules if rule.preset != "folder")
        return any(r and upload.start <= r.start and r.end <= upload.end for r in reads)

    def _claim(self, entry: Entry, layout: Layout) -> Claim | None:
        base = entry.path.rsplit("/", 1)[-1]
        named = self._assignment_notebook(entry.path, base)
        if named is None:
            return None
        upload = layout.upload(entry)
        read = _first_read(entry.path, upload, self.rules)
        if read is None:
            self.report.unmapped[entry.path] = (
                f"no pattern matches this path (tried {len(self.rules)}); nothing is guessed"
            )
            return None
        student, said = to_id(read.student)
        why = unsafe(student, self.course)
        if why:
            self.report.unmapped[entry.path] = f"{read.student!r} {why}"
            return None
        in_name = read.start >= len(entry.path) - len(base)
        if named.group("prefix") is not None and not in_name:
            self.report.ignored[entry.path] = (
                f"not the assignment's notebook: {base!r} has {named.group('prefix')!r} before "
                f"{self.course.notebook}, and no pattern reads the student from the file name "
                "(if that is an LMS's prefix, add a --pattern for it)"
            )
            return None
        when, source = self._time(read, entry.hops[upload.hop])
        folder = _folder_of(entry.path, read)
        return Claim(student, entry, when, source, folder, {**said, **read.marks}, read.student)

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

    def _time(self, read: Read, hop: Hop) -> tuple[datetime | None, str]:
        """The LMS's date in the upload's name, else the date its class container records
        for the upload, else none (the collection time will be used)."""
        text = read.marks.get("timestamp")
        stamp = parse_stamp(text, self.zone) if text else None
        if stamp:
            return stamp, FILE_NAME
        if hop.when:
            return hop.when, hop.source
        return None, COLLECTION_TIME

    def _without_class_folders(self, found: list[Claim]) -> dict[str, list[Claim]]:
        """The claims by student, without those read from a folder that also holds other
        students' submissions: that folder is the class's (a stray notebook in an export)."""
        by_student: dict[str, list[Claim]] = {}
        for claim in found:
            others = sorted(
                {
                    c.student
                    for c in found
                    if claim.folder
                    and c.student != claim.student
                    and c.entry.path.startswith(claim.folder)
                }
            )
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


def _folder_of(path: str, read: Read) -> str | None:
    return path[: read.end + 1] if path[read.end : read.end + 1] == "/" else None
