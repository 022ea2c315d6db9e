"""What one collection did with each file of the intake, for programs and for people."""

from __future__ import annotations

from dataclasses import dataclass, field


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


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
    one in the intake or in submitted/); none of the clashing ones was filed."""
    ignored: dict[str, str] = field(default_factory=dict)
    """source path -> why it is not the assignment's notebook."""
    timestamps: dict[str, str] = field(default_factory=dict)
    """student -> the ``timestamp.txt`` written (filed and replaced submissions)."""
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
            f"filed {_plural(len(self.filed), 'new submission')}{where}"
            + (": " + ", ".join(self.filed) if self.filed else "")
        ]
        if self.replaced:
            out.append(
                f"replaced {_plural(len(self.replaced), 'existing submission')} (--force): "
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
            f"NOT FILED, {len(sources)} notebooks for {student}: " + ", ".join(sources)
            + "; remove all but the one to grade and collect again"
            for student, sources in self.conflicts.items()
        ]
        out += [f"NOT FILED, {source}: {why}" for source, why in self.id_conflicts.items()]
        if self.id_conflicts:
            out.append(
                "  give each student one id: rename the folders or files (or map them with "
                "--pattern) so that no two ids differ only by case; nothing is guessed"
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
        if self.undated:
            out.append(
                "no date in the file name, zip entry or file; stamped with the collection "
                "time: " + ", ".join(self.undated)
            )
        return out
