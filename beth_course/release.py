"""``beth-course release``: generate the student version and prove it is safe to hand out.

For every notebook of the assignment: normalise the source (clear outputs, one
kernelspec); check that every test passes on the source; run nbgrader's
``generate_assignment`` (which also records the assignment in the gradebook); normalise
the release; check that every test fails on the release; and check that no solution or
hidden-test line reached ``release/``. Assignments that use ``beth_helpers`` also get
``data.csv`` (the shipped real rows, if the source has none) and a wheel of
``beth_helpers`` beside the student notebook.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import notebooks
from .course import Course, CourseError, use_this_environment
from .grading.bwrap import _package_dir as bwrap_package
from .grading.checker import changed_student_names
from .wheel import build_wheel
from .wording import count

_USES_HELPERS = re.compile(r"^\s*(import beth_helpers|from beth_helpers\b)", re.MULTILINE)


@dataclass
class ReleaseReport:
    """What a release did, for printing and for tests."""

    cleared_source_outputs: int = 0
    wrote_data_csv: bool = False
    source_tests_passed: int = 0
    release_tests_failed: int = 0
    files: list[str] = field(default_factory=list)
    dictated: list[str] = field(default_factory=list)
    kernel_tests: list[str] = field(default_factory=list)

    def lines(self, course: Course) -> list[str]:
        out = []
        if self.cleared_source_outputs:
            out.append(
                f"normalised source/{course.assignment}/: cleared "
                f"{self.cleared_source_outputs} outputs (source notebooks carry none)"
            )
        if self.wrote_data_csv:
            out.append(
                "source had no data.csv: wrote the 6,791 real rows shipped with beth_helpers"
            )
        if self.source_tests_passed:
            out.append(f"source validates: all {self.source_tests_passed} test cells pass")
        if self.release_tests_failed:
            out.append(
                f"release fails validation as it must: all {self.release_tests_failed} "
                "test cells fail without the solutions"
            )
        out.append("no solution or hidden-test line appears anywhere in release/")
        out += [
            f"WARNING: the release spells out a line of a solution (copying it does the "
            f"task): {line[:100]}"
            for line in self.dictated
        ]
        out += [
            f"WARNING: {name} changes the student's own variables, so it runs in the "
            "student's kernel as in plain nbgrader: its hidden tests reach the student and "
            "its points can be forged (README, Security model)"
            for name in self.kernel_tests
        ]
        folder = course.folder("release").relative_to(course.root)
        out.append(f"{folder}/: " + ", ".join(self.files))
        return out


def _test_cells(nb) -> list:
    return [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata["nbgrader"].get("solution")
    ]


def uses_beth_helpers(course: Course) -> bool:
    """Whether the assignment's notebooks import beth_helpers (and so need its wheel)."""
    return any(
        _USES_HELPERS.search(cell.source)
        for name in course.notebooks
        for cell in notebooks.read(course.folder("source") / f"{name}.ipynb").cells
        if cell.cell_type == "code"
    )


def _validate(course: Course, folder: Path, name: str, invert: bool) -> tuple[dict, Any]:
    """Run nbgrader's validator on a copy of ``folder`` (so nothing is written into it);
    its results, and the notebook as it ran (None if it did not run)."""
    from nbgrader.validator import Validator

    class KeepingValidator(Validator):
        executed = None

        def _preprocess(self, nb):
            self.executed = super()._preprocess(nb)
            return self.executed

    with tempfile.TemporaryDirectory(prefix="beth-validate-") as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        config = course.config()
        config.KernelManager.transport = "ipc"  # Unix sockets: no open TCP port, no warning
        validator = KeepingValidator(config=config, invert=invert)
        results = validator.validate(str(copy / f"{name}.ipynb"))
        return results, validator.executed


def first_error(nb) -> tuple[str, str] | None:
    """``(cell source, "Error: message")`` of the first code cell that raised, if any: the
    cause, where later test cells fail only with a NameError downstream of it."""
    for cell in nb.cells if nb is not None else []:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return cell.source, f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
    return None


def _read_source(path: Path):
    try:
        return notebooks.read(path)
    except Exception as exc:  # nbformat raises several types for a broken file
        raise CourseError(f"{path} is not a readable notebook: {exc}") from exc


def _normalise_sources(course: Course, report: ReleaseReport) -> dict:
    """Normalise every source notebook in place; ``{name: notebook}``."""
    sources = {}
    for name in course.notebooks:
        path = course.folder("source") / f"{name}.ipynb"
        if not path.is_file():
            raise CourseError(f"no source notebook at {path}")
        nb, cleared = notebooks.normalize(_read_source(path))
        notebooks.write(nb, path)
        report.cleared_source_outputs += cleared
        report.kernel_tests += [
            f"{name}.ipynb: {c.metadata['nbgrader']['grade_id']}"
            for c in _test_cells(nb)
            if changed_student_names(c.source)
        ]
        sources[name] = nb
    return sources


def _check_source(course: Course, sources: dict, report: ReleaseReport) -> None:
    for name, nb in sources.items():
        results, executed = _validate(course, course.folder("source"), name, invert=False)
        problems = results.get("failed") or results.get("changed") or results.get("type_changed")
        if problems:
            cause = first_error(executed)
            source, error = cause or (problems[0]["source"], problems[0].get("raw_error", ""))
            raise CourseError(
                f"{name}.ipynb does not pass its own tests ({count(len(problems), 'cell')}); "
                f"the first error, in this cell:\n{source.strip()[:400]}\n{error[:1500]}"
            )
        report.source_tests_passed += len(_test_cells(nb))


def _check_release(course: Course, sources: dict, report: ReleaseReport) -> None:
    for name, nb in sources.items():
        results, _ = _validate(course, course.folder("release"), name, invert=True)
        if results.get("passed"):
            raise CourseError(
                f"{len(results['passed'])} test cells of {name}.ipynb pass on the release without "
                "any solution, so they check nothing a student must do; first:\n"
                + results["passed"][0]["source"][:400]
            )
        report.release_tests_failed += len(_test_cells(nb))


def _generate(course: Course) -> None:
    """nbgrader's generate_assignment into a fresh release folder (ours to replace)."""
    from nbgrader.converters import GenerateAssignment

    release_dir = course.folder("release")
    if release_dir.is_dir() and not release_dir.is_symlink():
        shutil.rmtree(release_dir)  # quietly: nbgrader's own --force warns alarmingly
    config = course.config()
    converter = GenerateAssignment(coursedir=course.coursedir(config), config=config)
    converter.coursedir.assignment_id = course.assignment
    converter.create_assignment = True
    converter.start()
    for name in course.notebooks:
        path = release_dir / f"{name}.ipynb"
        notebooks.write(notebooks.normalize(notebooks.read(path))[0], path)


def release(course: Course, validate: bool = True) -> ReleaseReport:
    """Generate ``release/<assignment>/`` from ``source/<assignment>/`` (module docstring).

    Raises :class:`CourseError` with what to fix if a check fails.
    """
    use_this_environment()
    report = ReleaseReport()
    if not any(course.folder("source").glob("*.ipynb")):
        raise CourseError(f"no source notebook in {course.folder('source')}")
    sources = _normalise_sources(course, report)
    helpers = uses_beth_helpers(course)
    if helpers and not (course.folder("source") / "data.csv").exists():
        from beth_helpers import write_classroom_csv

        write_classroom_csv(course.folder("source") / "data.csv")
        report.wrote_data_csv = True
    if validate:
        _check_source(course, sources, report)
    _generate(course)
    if helpers:
        from beth_helpers import __version__

        build_wheel(Path(bwrap_package("beth_helpers")), course.folder("release"), __version__)
    if validate:
        _check_release(course, sources, report)
    _refuse_leaks(course)
    for name, nb in sources.items():
        report.dictated += notebooks.dictated_lines(
            nb, notebooks.read(course.folder("release") / f"{name}.ipynb")
        )
    report.files = sorted(p.name for p in course.folder("release").iterdir())
    return report


def _refuse_leaks(course: Course) -> None:
    leaks = scan_for_leaks(course)
    if leaks:
        shown = "\n".join(f"  {where}: {kind}: {line[:100]}" for where, kind, line in leaks[:10])
        raise CourseError(
            f"solution or hidden-test text reached release/ ({len(leaks)} places):\n{shown}\n"
            "release/ was left in place for inspection; do not hand it out."
        )


def scan_for_leaks(course: Course) -> list[tuple[str, str, str]]:
    """``(file, kind, line)`` for every solution or hidden-test line found in the release."""
    secrets: dict[str, str] = {}
    for name in course.notebooks:
        secrets.update(
            notebooks.secret_lines(notebooks.read(course.folder("source") / f"{name}.ipynb"))
        )
    found = []
    for path in sorted(course.folder("release").rglob("*")):
        if not path.is_file():
            continue
        where = str(path.relative_to(course.root))
        for text in _texts(path):
            found += [(where, kind, line) for kind, line in notebooks.find_leaks(text, secrets)]
    return found


def _texts(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        return [notebooks.notebook_text(notebooks.read(path))]
    if path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(path) as zf:
            return [zf.read(name).decode("utf-8", "replace") for name in zf.namelist()]
    return [path.read_bytes().decode("utf-8", "replace")]
