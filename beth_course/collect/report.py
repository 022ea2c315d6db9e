"""What one collection did with each file of the intake, for programs and for people."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..wording import count


@dataclass(frozen=True)
class FiledSubmission:
    """One submission written into ``submitted/``, and what the download says about it.

    The LMS's fields are None (``late_marker`` False) where the download does not say.
    """

    student: str
    """The student id it was filed under (``submitted/<student>/``)."""
    source: str
    """Its path in the intake."""
    name: str | None
    """The name the LMS shows (Canvas ``smithjohn``, Moodle ``John Smith``, Blackboard's
    user name), or a folder's person's name (``Priya Patel``)."""
    email: str | None
    lms_user_id: str | None
    """The LMS's id of the student (Canvas user id, Moodle participant id, Blackboard
    user name), as the LMS's grade import expects it."""
    late_marker: bool
    """Whether the LMS marked it late in the file name (Canvas ``LATE``)."""
    timestamp: str
    """What ``timestamp.txt`` says (UTC, nbgrader's format)."""
    time_source: str
    """Where the time came from: ``file name``, ``zip entry``, ``file modification time``
    or ``collection time`` (:mod:`beth_course.collect.dates`)."""

    def lms_json(self) -> dict:
        """What ``lms.json`` beside the notebook holds."""
        return {
            "name": self.name,
            "email": self.email,
            "lms_user_id": self.lms_user_id,
            "late_marker": self.late_marker,
            "time_source": self.time_source,
        }


@dataclass
class CollectReport:
    """What :func:`beth_course.collect.collect` did with each file of the intake.

    Every file the intake holds, apart from silently skipped junk, is in exactly one of
    ``filed``, ``replaced``, ``kept``, ``conflicts``, ``id_conflicts``, ``unmapped``,
    ``invalid`` and ``ignored``. Paths are relative to the intake root, with forward slashes.
    """

    intake: str = ""
    filed: dict[str, str] = field(default_factory=dict)
    """student -> source path: new submissions written."""
    replaced: dict[str, str] = field(default_factory=dict)
    """student -> source path: written over an existing submission (``force``)."""
    kept: dict[str, str] = field(default_factory=dict)
    """student -> source path: an existing submission was left as it was."""
    changed: list[str] = field(default_factory=list)
    """Students in ``kept`` whose notebook in the intake differs from the one filed."""
    unmapped: dict[str, str] = field(default_factory=dict)
    """source path -> why no student id could be read from it."""
    invalid: dict[str, str] = field(default_factory=dict)
    """source path -> why it is not a gradable notebook (or a readable zip)."""
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    """student -> the source paths of their several notebooks; none was filed."""
    id_conflicts: dict[str, str] = field(default_factory=dict)
    """source path -> why its student id clashes with another (it differs only by case from
    one in the intake or in submitted/, or several names make it); none was filed."""
    ignored: dict[str, str] = field(default_factory=dict)
    """source path -> why it is not the assignment's notebook."""
    timestamps: dict[str, str] = field(default_factory=dict)
    """student -> the ``timestamp.txt`` written (filed and replaced submissions)."""
    submissions: dict[str, FiledSubmission] = field(default_factory=dict)
    """student -> what the download says about each filed or replaced submission (also
    written as ``lms.json`` beside the notebook)."""
    undated: list[str] = field(default_factory=list)
    """Students stamped with the collection time: their file carried no date."""

    @property
    def needs_attention(self) -> bool:
        """Whether some notebook of the assignment was not filed and may need the instructor."""
        return bool(
            self.unmapped or self.invalid or self.conflicts or self.id_conflicts or self.changed
        )

    def lines(self) -> list[str]:
        """A human summary: what was filed, then every file not filed, why, and what to do."""
        return [*self._written_lines(), *self._not_filed_lines(), *self._note_lines()]

    def _written_lines(self) -> list[str]:
        where = f" from {self.intake}" if self.intake else ""
        out = [
            f"filed {count(len(self.filed), 'new submission')}{where}"
            + (": " + ", ".join(self.filed) if self.filed else "")
        ]
        if self.replaced:
            out.append(
                f"replaced {count(len(self.replaced), 'existing submission')} (--force): "
                + ", ".join(self.replaced)
            )
        for student, source in self.kept.items():
            if student in self.changed:
                out.append(
                    f"kept {student}'s existing submission: {source} differs from it; "
                    "collect again with --force to replace it"
                )
            else:
                out.append(f"kept {student}'s existing submission: {source} is identical")
        return out

    def _not_filed_lines(self) -> list[str]:
        out = [
            f"NOT FILED, {len(sources)} notebooks for {student}: "
            + ", ".join(sources)
            + "; remove all but the one to grade and collect again"
            for student, sources in self.conflicts.items()
        ]
        out += [f"NOT FILED, {source}: {why}" for source, why in self.id_conflicts.items()]
        if self.id_conflicts:
            out.append(
                "  give each student one id: rename the folders or files (or map them with "
                "--pattern) so that no two ids differ only by case or are made from different "
                "names; nothing is guessed"
            )
        out += [f"NOT FILED, no student for {path}: {why}" for path, why in self.unmapped.items()]
        if self.unmapped:
            out.append(
                "  map them with --pattern REGEX (a regular expression on the path shown, "
                "with a group (?P<student>...)), or rename the files or folders"
            )
        out += [
            f"NOT FILED, {source}: {why}; ask the student for a fresh download"
            for source, why in self.invalid.items()
        ]
        return out

    def _note_lines(self) -> list[str]:
        out = [f"ignored {source}: {why}" for source, why in self.ignored.items()]
        sources: dict[str, int] = {}
        for sub in self.submissions.values():
            sources[sub.time_source] = sources.get(sub.time_source, 0) + 1
        if sources:
            out.append(
                "submission times from: "
                + ", ".join(f"{where} ({n})" for where, n in sorted(sources.items()))
            )
        late = [s for s, sub in self.submissions.items() if sub.late_marker]
        if late:
            out.append("marked late by the LMS: " + ", ".join(late))
        if self.undated:
            out.append(
                "no date in the file name, zip entry or file; stamped with the collection "
                "time: " + ", ".join(self.undated)
            )
        return out
