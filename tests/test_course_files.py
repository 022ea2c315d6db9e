"""The committed course files: clean notebooks, no leaks, one dependency list, honest config."""

from __future__ import annotations

import re
import subprocess
import zipfile

import nbformat
import pytest
import tomllib

import beth_helpers
from beth_course import notebooks
from beth_course.course import Course
from beth_course.release import scan_for_leaks
from beth_course.wheel import REQUIRES, build_wheel, wheel_name

from .helpers import REPO

COURSE = Course(REPO)
TASKS = {
    "load_data": "df",
    "inspect_head": None,
    "raw_histograms": "axes",
    "engineer_features": "df_eng, X, y",
    "correlation_heatmap": "correlations",
    "umap_projection": "X_reduced",
    "isolation_forest": "model",
}


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _requirement_names(specs) -> dict[str, str]:
    out = {}
    for spec in specs:
        name = re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0].lower().replace("_", "-")
        out[name] = spec[len(name) :].strip().replace(" ", "")
    return out


@pytest.mark.parametrize(
    "path", [COURSE.source_notebook, COURSE.release_notebook], ids=["source", "release"]
)
def test_notebook_has_no_outputs_and_normalised_metadata(path):
    """Source and release notebooks carry no outputs, one kernelspec and only kept metadata."""
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata == {
        "kernelspec": notebooks.KERNELSPEC,
        "language_info": {"name": "python"},
    }
    for cell in nb.cells:
        assert set(cell.metadata) <= {"nbgrader", "deletable", "editable", "tags"}, cell.id
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def test_notebook_is_as_normalize_writes_it():
    """Re-normalising the committed notebooks changes nothing (they are in canonical form)."""
    for path in (COURSE.source_notebook, COURSE.release_notebook):
        nb, cleared = notebooks.normalize(notebooks.read(path))
        assert cleared == 0
        assert nbformat.writes(nb) + "\n" == path.read_text(encoding="utf-8")


def test_source_has_the_tasks_the_tooling_relies_on():
    """Each task's solution cell has its grade id and assigns the agreed variable names."""
    nb = notebooks.read(COURSE.source_notebook)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for grade_id, names in TASKS.items():
        assert cells[grade_id].metadata["nbgrader"]["solution"], grade_id
        if names:
            assert f"{names} =" in cells[grade_id].source, grade_id
    answer = cells["false_positive_answer"]
    assert answer.cell_type == "markdown" and answer.metadata["nbgrader"]["grade"]
    assert cells["parameters"].metadata["nbgrader"]["locked"]


def test_every_test_cell_has_a_docstring_visible_asserts_and_hidden_tests():
    """Grade cells open with a docstring, self-check visibly, and hold hidden tests."""
    nb = notebooks.read(COURSE.source_notebook)
    tests = [
        c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert len(tests) == 6
    for cell in tests:
        lines = cell.source.splitlines()
        assert lines[0].startswith('"""') and lines[0].endswith('"""'), cell.id
        visible = cell.source.split(notebooks.HIDDEN_BEGIN)[0]
        assert "assert " in visible, cell.id
        assert notebooks.HIDDEN_BEGIN in cell.source and notebooks.HIDDEN_END in cell.source


def test_release_holds_no_solution_or_hidden_test_line():
    """Nothing in release/ (notebook, data, wheel) contains a line of a solution or hidden test."""
    assert scan_for_leaks(COURSE) == []


def test_leak_scan_finds_a_planted_hidden_line(tmp_path):
    """The scan is able to fail: a hidden-test line copied into a release file is reported."""
    from .helpers import copy_course

    course = copy_course(tmp_path / "course", extra=("release",))
    secrets = notebooks.secret_lines(notebooks.read(course.source_notebook))
    hidden = next(line for line, kind in secrets.items() if kind == "hidden test")
    (course.folder("release") / "notes.txt").write_text("see: " + hidden + "\n")
    found = scan_for_leaks(course)
    assert ("release/beth_workshop/notes.txt", "hidden test", hidden) in found


def test_task_texts_do_not_dictate_solution_lines():
    """No line of a solution appears in the release (task texts, comments, test messages)."""
    source = notebooks.read(COURSE.source_notebook)
    assert notebooks.dictated_lines(source, notebooks.read(COURSE.release_notebook)) == []


def test_dictated_lines_finds_a_solution_line_in_a_task_text():
    """The check can fail: a task text that spells out its solution's line is reported."""
    source = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "### BEGIN SOLUTION\ndf = pandas.read_csv(DATA_FILE)\n### END SOLUTION"
            ),
        ]
    )
    release = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("Load it: `df = pandas.read_csv(DATA_FILE)`."),
            nbformat.v4.new_code_cell("# YOUR CODE HERE\nraise NotImplementedError()"),
        ]
    )
    assert notebooks.dictated_lines(source, release) == ["df = pandas.read_csv(DATA_FILE)"]


def test_secret_lines_leave_out_what_the_instructions_quote():
    """A solution line quoted in the task text is public; one found nowhere else is secret."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("Call `df = pandas.read_csv(DATA_FILE)` first."),
            nbformat.v4.new_code_cell(
                "### BEGIN SOLUTION\ndf = pandas.read_csv(DATA_FILE)\ncounts = df.value_counts()\n"
                "### END SOLUTION"
            ),
            nbformat.v4.new_code_cell(
                "assert len(df) > 0\n### BEGIN HIDDEN TESTS\nassert counts.sum() == len(df)\n"
                "### END HIDDEN TESTS"
            ),
        ]
    )
    assert notebooks.secret_lines(nb) == {
        "counts = df.value_counts()": "solution",
        "assert counts.sum() == len(df)": "hidden test",
    }


def test_release_wheel_is_reproducible_and_holds_only_beth_helpers(tmp_path):
    """The committed wheel equals a fresh build, byte for byte, and carries beth_helpers alone."""
    committed = COURSE.folder("release") / wheel_name(beth_helpers.__version__)
    fresh = build_wheel(REPO / "beth_helpers", tmp_path, beth_helpers.__version__)
    assert fresh.read_bytes() == committed.read_bytes()
    with zipfile.ZipFile(committed) as zf:
        names = zf.namelist()
        metadata = zf.read(f"beth_helpers-{beth_helpers.__version__}.dist-info/METADATA").decode()
    assert {n.split("/")[0] for n in names} == {
        "beth_helpers",
        f"beth_helpers-{beth_helpers.__version__}.dist-info",
    }
    assert "beth_helpers/data/workshop_rows.csv.gz" in names
    assert not any(
        "nbgrader" in line for line in metadata.splitlines() if line.startswith("Requires-Dist")
    )


def test_wheel_requires_what_pyproject_says_beth_helpers_needs():
    """The student wheel's dependencies are pyproject's [project] dependencies."""
    assert _requirement_names(REQUIRES) == _requirement_names(
        _pyproject()["project"]["dependencies"]
    )


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    """environment.yml (conda) and pyproject.toml name the same packages with the same bounds."""
    project = _pyproject()["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    conda = []
    text = (REPO / "environment.yml").read_text()
    for line in text.split("\ndependencies:\n", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z][^#\s:]*)\s*(?:#.*)?$", line)
        if match and match.group(1) != "pip" and not match.group(1).startswith("python"):
            conda.append(match.group(1))
    assert _requirement_names(conda) == _requirement_names(wanted)


def test_every_package_folder_is_declared_in_pyproject():
    """Each folder of beth_helpers and beth_course with files to ship is a declared package.

    An undeclared one (beth_helpers/data was) makes setuptools print about 50 lines of
    warnings on every install, and may be left out of the wheel in a later setuptools.
    """
    folders = set()
    for top in ("beth_helpers", "beth_course"):
        for folder in [REPO / top, *(REPO / top).rglob("*")]:
            if folder.is_dir() and "__pycache__" not in folder.parts:
                if any(f.is_file() for f in folder.iterdir()):
                    folders.add(".".join(folder.relative_to(REPO).parts))
    assert folders == set(_pyproject()["tool"]["setuptools"]["packages"])


def test_versions_agree():
    """pyproject's version is beth_helpers.__version__ (the wheel is named after it)."""
    assert _pyproject()["project"]["version"] == beth_helpers.__version__


def test_nbgrader_config_sets_only_commented_keys():
    """Every setting in nbgrader_config.py has a comment just above it, saying why."""
    lines = (REPO / "nbgrader_config.py").read_text().splitlines()
    settings = [i for i, line in enumerate(lines) if re.match(r"^c\.\w+\.\w+\s*=", line)]
    assert len(settings) >= 5
    for i in settings:
        j = i - 1
        while j >= 0 and re.match(r"^c\.\w+\.\w+\s*=", lines[j]):
            j -= 1  # consecutive settings share one comment
        assert lines[j].startswith("#"), lines[i]


def test_nbgrader_config_timeouts_fit_the_notebook():
    """Both timeout keys are set (nbgrader#1463) and leave room for the UMAP cell."""
    config = COURSE.config()
    assert config.Execute.timeout == config.ExecutePreprocessor.timeout >= 60
    assert config.OverwriteCells.add_missing_cells is True


def test_no_grader_state_is_tracked():
    """gradebook.db, .nbgrader.log and checkpoints are never committed."""
    try:
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    assert not [
        p
        for p in tracked
        if p.endswith(("gradebook.db", ".nbgrader.log")) or ".ipynb_checkpoints" in p
    ]


def test_normalize_clears_outputs_and_foreign_metadata():
    """normalize drops outputs, Colab's metadata and execution counts, and keeps nbgrader's."""
    cell = nbformat.v4.new_code_cell("x = 1", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", text="hi")]
    cell.metadata = {"colab": {"base_uri": "x"}, "id": "abc", "nbgrader": {"grade": False}}
    nb = nbformat.v4.new_notebook(
        cells=[cell],
        metadata={
            "colab": {},
            "kernelspec": {"name": "evil", "display_name": "Evil", "language": "python"},
        },
    )
    nb, cleared = notebooks.normalize(nb)
    assert cleared == 1
    assert nb.metadata["kernelspec"] == notebooks.KERNELSPEC and "colab" not in nb.metadata
    assert nb.cells[0].metadata == {"nbgrader": {"grade": False}}
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
