"""`beth-course init`: a course folder of its own for a real class, and the worked example
kept apart from it (the demo and the tests read only the fictional students)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from beth_course.cli import main
from beth_course.course import ASSIGNMENT, Course
from beth_course.demo import prepare
from beth_helpers import load_beth

from .helpers import REPO, copy_course

WORKSHOP = f"source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"


def test_init_makes_a_course_with_the_workshop_and_no_students(tmp_path, capsys):
    """The new folder holds the config, the workshop notebook and a .gitignore; no student."""
    target = tmp_path / "courses" / "beth-2026"
    assert main(["init", str(target)]) == 0
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [".gitignore", "nbgrader_config.py", WORKSHOP]
    assert (target / "nbgrader_config.py").read_bytes() == (
        REPO / "nbgrader_config.py"
    ).read_bytes()
    assert (target / WORKSHOP).read_bytes() == (REPO / WORKSHOP).read_bytes()
    course = Course.find(target)
    assert (course.root, course.assignment, course.students()) == (target, ASSIGNMENT, [])
    out = capsys.readouterr().out
    assert f"cd {target}" in out and "beth-course release" in out


def test_init_writes_data_csv_only_when_asked(tmp_path):
    """No data.csv by default; --shipped-rows writes the 6,791 real rows."""
    assert main(["init", str(tmp_path / "plain")]) == 0
    assert not (tmp_path / "plain" / "source" / ASSIGNMENT / "data.csv").exists()
    assert main(["init", str(tmp_path / "rows"), "--shipped-rows"]) == 0
    assert len(load_beth(tmp_path / "rows" / "source" / ASSIGNMENT / "data.csv")) == 6791


@pytest.mark.parametrize("what", ["a folder with a file", "a file"])
def test_init_refuses_anything_but_a_new_or_empty_folder(tmp_path, capsys, what):
    """A non-empty folder or a file is refused, with what to do, and left as it was."""
    target = tmp_path / "course"
    if what == "a file":
        target.write_text("notes")
    else:
        target.mkdir()
        (target / "notes.txt").write_text("notes")
    assert main(["init", str(target)]) == 1
    assert "give a new folder for the course" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["course"] if what == "a file" else ["course", "notes.txt"]
    )


def test_init_accepts_an_empty_folder(tmp_path):
    """An empty folder (made in advance, say) becomes the course."""
    (tmp_path / "course").mkdir()
    assert main(["init", str(tmp_path / "course")]) == 0
    assert (tmp_path / "course" / WORKSHOP).is_file()


def test_gitignore_keeps_the_class_out_of_git_and_the_course_in(tmp_path):
    """Students' work, grades, feedback and nbgrader's state are ignored; the course is not."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    target = tmp_path / "course"
    assert main(["init", str(target)]) == 0
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    made = [
        "submitted/12345/beth_workshop/beth_workshop.ipynb",
        "autograded/12345/beth_workshop/beth_workshop.ipynb",
        "feedback/12345/beth_workshop/beth_workshop.html",
        "grades.csv",
        "report.html",
        "gradebook.db",
        ".nbgrader.log",
        "release/beth_workshop/beth_workshop.ipynb",
    ]
    for name in made:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text("x")
    shown = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(name for name in shown if name != "??") == sorted(
        [".gitignore", "nbgrader_config.py", WORKSHOP, "release/beth_workshop/beth_workshop.ipynb"]
    )


def test_an_initialised_course_releases(tmp_path):
    """The new folder is a working course: release fills in the shipped rows and the wheel."""
    from beth_course.release import release

    assert main(["init", str(tmp_path / "course")]) == 0
    course = Course.find(tmp_path / "course")
    report = release(course, validate=False)
    assert report.wrote_data_csv
    assert report.files == [
        "beth_helpers-0.1.0-py3-none-any.whl",
        f"{ASSIGNMENT}.ipynb",
        "data.csv",
    ]


def _fake_repository(root):
    """A repository whose submitted/ holds a real student (12345) beside the fictional ones."""
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(REPO / "source", root / "source")
    for student in ("ada", "ben", "cleo", "12345"):
        shutil.copytree(REPO / "submitted" / "ada", root / "submitted" / student)
    return Course(root, ASSIGNMENT, ASSIGNMENT)


def test_tests_copy_only_the_fictional_students(tmp_path):
    """A real student filed into the repository's submitted/ never reaches a test's course."""
    (tmp_path / "repo").mkdir()
    _fake_repository(tmp_path / "repo")
    course = copy_course(tmp_path / "copy", repo=tmp_path / "repo")
    assert course.students() == ["ada", "ben", "cleo"]


def test_the_demo_copies_only_the_fictional_students(tmp_path):
    """A real student filed into the repository's submitted/ never reaches the demo."""
    (tmp_path / "repo").mkdir()
    demo = prepare(_fake_repository(tmp_path / "repo"), tmp_path / "demo")
    assert demo.students() == ["ada", "ben", "cleo"]
    assert sorted(p.name for p in (tmp_path / "demo" / "submitted").iterdir()) == [
        "ada",
        "ben",
        "cleo",
    ]


def test_the_suite_notices_a_write_into_the_repositorys_course(tmp_path):
    """The session guard (conftest.py) sees a file added to or changed in submitted/."""
    from conftest import live_course_state

    (tmp_path / "repo").mkdir()
    _fake_repository(tmp_path / "repo")
    before = live_course_state(tmp_path / "repo")
    (tmp_path / "repo" / "submitted" / "23456").mkdir()
    (tmp_path / "repo" / "submitted" / "23456" / "x.ipynb").write_text("{}")
    after = live_course_state(tmp_path / "repo")
    assert set(after) - set(before) == {"submitted/23456/x.ipynb"}


def test_the_readmes_first_instructor_steps_run_in_a_new_course(tmp_path, monkeypatch, capsys):
    """init, cd, due, release and collect as the README has them, in the new folder."""
    import zipfile

    course_dir = tmp_path / "courses" / "beth-2026"
    assert main(["init", str(course_dir)]) == 0
    monkeypatch.chdir(course_dir)
    assert main(["due", "2026-12-10 17:00 Europe/London"]) == 0
    assert main(["release", "--no-validate"]) == 0
    download = tmp_path / "submissions.zip"
    with zipfile.ZipFile(download, "w") as zf:
        info = zipfile.ZipInfo(
            "smithjohn_LATE_12345_67890_beth_workshop.ipynb", (2026, 12, 11, 9, 0, 0)
        )
        zf.writestr(info, (REPO / "submitted/ada/beth_workshop/beth_workshop.ipynb").read_bytes())
    assert main(["collect", str(download)]) == 0
    filed = course_dir / "submitted" / "12345" / ASSIGNMENT
    assert sorted(p.name for p in filed.iterdir()) == [
        f"{ASSIGNMENT}.ipynb",
        "lms.json",
        "timestamp.txt",
    ]
    assert main(["due"]) == 0
    assert "beth_workshop is due 2026-12-10 17:00" in capsys.readouterr().out
