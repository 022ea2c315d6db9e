"""``beth-course release``: generate the student version and prove it is safe to hand out."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import notebooks
from .course import Course, CourseError, use_this_environment
from .wheel import build_wheel


@dataclass
class ReleaseReport:
    """What a release did, for printing and for tests."""

    cleared_source_outputs: int = 0
    wrote_data_csv: bool = False
    source_tests_passed: int = 0
    release_tests_failed: int = 0
    files: list[str] = field(default_factory=list)
    dictated: list[str] = field(default_factory=list)

    def lines(self, course: Course) -> list[str]:
        out = []
        if self.cleared_source_outputs:
            out.append(
                f"normalised {course.source_notebook.relative_to(course.root)}: cleared "
                f"{self.cleared_source_outputs} outputs (source notebooks carry none)"
            )
        if self.wrote_data_csv:
            out.append("source had no data.csv: wrote the 6,791 real rows shipped with beth_helpers")
        if self.source_tests_passed:
            out.append(f"source validates: all {self.source_tests_passed} test cells pass")
        if self.release_tests_failed:
            out.append(
                f"release fails validation as it must: all {self.release_tests_failed} test "
                "cells fail without the solutions"
            )
        out.append("no solution or hidden-test line appears anywhere in release/")
        for line in self.dictated:
            out.append(f"WARNING: the release spells out a line of a solution (copying it does "
                       f"the task): {line[:100]}")
        folder = course.folder("release").relative_to(course.root)
        out.append(f"{folder}/: " + ", ".join(self.files))
        return out


def _grade_cell_count(nb) -> int:
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    )


def _validate(course: Course, folder: Path, invert: bool) -> dict:
    """Run nbgrader's validator on a copy of ``folder`` (so nothing is written into it)."""
    from nbgrader.validator import Validator

    with tempfile.TemporaryDirectory(prefix="beth-validate-") as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        config = course.config()
        config.KernelManager.transport = "ipc"  # Unix sockets: no open TCP port, no warning
        validator = Validator(config=config, invert=invert)
        return validator.validate(str(copy / f"{course.notebook}.ipynb"))


def release(course: Course, validate: bool = True) -> ReleaseReport:
    """Generate ``release/<assignment>/`` from ``source/<assignment>/``.

    Steps: normalise the source notebook (clear outputs, one kernelspec); make sure
    ``data.csv`` is beside it; check that every test passes on the source; run nbgrader's
    ``generate_assignment`` (which also records the assignment in the gradebook); normalise
    the release notebook and add a wheel of ``beth_helpers``; check that every test fails
    on the release; and check that no solution or hidden-test line reached ``release/``.
    Raises :class:`CourseError` with what to fix if a check fails.
    """
    from nbgrader.converters import GenerateAssignment
    from beth_helpers import __version__, write_classroom_csv

    use_this_environment()
    report = ReleaseReport()
    source_nb_path = course.source_notebook
    if not source_nb_path.is_file():
        raise CourseError(f"no source notebook at {source_nb_path}")
    try:
        source_nb = notebooks.read(source_nb_path)
    except Exception as exc:  # nbformat raises several types for a broken file
        raise CourseError(f"{source_nb_path} is not a readable notebook: {exc}") from exc
    source_nb, report.cleared_source_outputs = notebooks.normalize(source_nb)
    notebooks.write(source_nb, source_nb_path)

    data_csv = course.folder("source") / "data.csv"
    if not data_csv.exists():
        write_classroom_csv(data_csv)
        report.wrote_data_csv = True

    n_tests = _grade_cell_count(source_nb)
    if validate:
        results = _validate(course, course.folder("source"), invert=False)
        problems = results.get("failed") or results.get("changed") or results.get("type_changed")
        if problems:
            first = problems[0]
            raise CourseError(
                f"the source notebook does not pass its own tests ({len(problems)} cells); "
                f"first:\n{first['source'][:400]}\n{first.get('raw_error', '')[:1500]}"
            )
        report.source_tests_passed = n_tests

    config = course.config()
    converter = GenerateAssignment(coursedir=course.coursedir(config), config=config)
    converter.coursedir.assignment_id = course.assignment
    converter.force = True
    converter.create_assignment = True
    converter.start()

    release_dir = course.folder("release")
    release_nb_path = course.release_notebook
    release_nb, _ = notebooks.normalize(notebooks.read(release_nb_path))
    notebooks.write(release_nb, release_nb_path)
    package_dir = Path(__import__("beth_helpers").__file__).parent
    build_wheel(package_dir, release_dir, __version__)

    if validate:
        results = _validate(course, release_dir, invert=True)
        if results.get("passed"):
            raise CourseError(
                f"{len(results['passed'])} test cells pass on the release without any "
                "solution, so they check nothing a student must do; first:\n"
                + results["passed"][0]["source"][:400]
            )
        report.release_tests_failed = n_tests

    leaks = scan_for_leaks(course)
    if leaks:
        shown = "\n".join(f"  {where}: {kind}: {line[:100]}" for where, kind, line in leaks[:10])
        raise CourseError(
            f"solution or hidden-test text reached release/ ({len(leaks)} places):\n{shown}\n"
            "release/ was left in place for inspection; do not hand it out."
        )
    report.dictated = notebooks.dictated_lines(source_nb, notebooks.read(release_nb_path))
    report.files = sorted(p.name for p in release_dir.iterdir())
    return report


def scan_for_leaks(course: Course) -> list[tuple[str, str, str]]:
    """``(file, kind, line)`` for every solution or hidden-test line found in ``release/``."""
    secrets = notebooks.secret_lines(notebooks.read(course.source_notebook))
    found = []
    release_root = course.root / "release"
    for path in sorted(release_root.rglob("*")):
        if not path.is_file():
            continue
        where = str(path.relative_to(course.root))
        if path.suffix == ".ipynb":
            texts = [notebooks.notebook_text(notebooks.read(path))]
        elif path.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(path) as zf:
                texts = [zf.read(name).decode("utf-8", "replace") for name in zf.namelist()]
        else:
            texts = [path.read_bytes().decode("utf-8", "replace")]
        for text in texts:
            found += [(where, kind, line) for kind, line in notebooks.find_leaks(text, secrets)]
    return found
