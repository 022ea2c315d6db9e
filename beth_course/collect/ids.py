"""Student ids: which are safe, how people's names and email addresses become ids, and
which ids clash with each other."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from ..course import Course
from .report import CollectReport

if TYPE_CHECKING:  # mapping imports this module
    from .mapping import Claim

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A safe student id, matched against the whole id (:meth:`re.Pattern.fullmatch`)."""
_PERSON = re.compile(r"[^\W\d_]+(?:[ '’.-]+[^\W\d_]+)*\.?")
_EMAIL = re.compile(r"(?P<local>[A-Za-z0-9._%+-]+)@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def to_id(text: str) -> tuple[str, dict[str, str]]:
    """The id to file ``text`` under, and what ``text`` says about the student.

    A safe id stays as it is; a person's name becomes lower-case ASCII words joined by
    ``_`` (its ``name`` kept); an email address becomes its local part (its ``email``
    kept). Anything else is returned as it is, for :func:`unsafe` to refuse.

    Examples
    --------
    >>> to_id("jsmith")
    ('jsmith', {})
    >>> to_id("José Núñez")
    ('jose_nunez', {'name': 'José Núñez'})
    >>> to_id("j.smith@uni.example")
    ('j.smith', {'email': 'j.smith@uni.example'})
    >>> to_id("jsmith (1)")
    ('jsmith (1)', {})
    """
    if SAFE_ID.fullmatch(text):
        return text, {}
    email = _EMAIL.fullmatch(text)
    if email:
        local = email["local"]
        return (local if SAFE_ID.fullmatch(local) else _slug(local)), {"email": text}
    if _PERSON.fullmatch(text):
        return _slug(text), {"name": text}
    return text, {}


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def unsafe(student: str, course: Course) -> str | None:
    """Why ``student`` cannot be a student id here, or None if it can."""
    if not student:
        return (
            "has no letter or digit an id can hold (A-Z, 0-9); rename the folder or file, "
            "or give a --pattern"
        )
    if not SAFE_ID.fullmatch(student):
        return (
            "is not a safe student id: ids start with a letter or digit and hold only "
            "letters, digits, '_', '.' and '-' (a person's name or an email address is "
            "made into one)"
        )
    if student.lower() in (course.assignment.lower(), course.notebook.lower()):
        return "is the assignment's name, not a student's"
    return None


def refuse_id_clashes(
    claims: dict[str, list[Claim]], existing: set[str], report: CollectReport
) -> None:
    """Move the students whose id clashes out of ``claims`` into ``report.id_conflicts``:
    one id made from several names, or ids that differ only by case (from each other in
    this intake, or from a student already in ``submitted/``)."""
    clashing = {**_case_clashes(claims, existing), **_name_clashes(claims)}
    for student, why in clashing.items():
        for claim in claims.pop(student):
            report.id_conflicts[claim.entry.path] = why


def _name_clashes(claims: dict[str, list[Claim]]) -> dict[str, str]:
    clashing = {}
    for student, found in claims.items():
        names = sorted({claim.raw for claim in found})
        if len(names) > 1:
            listed = ", ".join(map(repr, names[:-1])) + f" and {names[-1]!r}"
            clashing[student] = (
                f"{listed} {'both' if len(names) == 2 else 'all'} make the id {student!r}"
            )
    return clashing


def _case_clashes(claims: dict[str, list[Claim]], existing: set[str]) -> dict[str, str]:
    clashing = {}
    for student in sorted(claims):
        fold = student.casefold()
        twins = [s for s in claims if s != student and s.casefold() == fold]
        where = "in this intake"
        if not twins and student not in existing:
            twins = [e for e in existing if e.casefold() == fold]
            where = "already in submitted/"
        if twins:
            others = ", ".join(repr(t) for t in sorted(twins))
            clashing[student] = (
                f"its student id {student!r} differs only by case from {others}, {where}"
            )
    return clashing
