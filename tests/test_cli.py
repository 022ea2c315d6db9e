"""The beth-course command line: quick commands, run as an instructor would."""

from __future__ import annotations

import pytest

from beth_course.cli import main
from beth_helpers import load_beth

from .helpers import copy_course


def test_data_builds_source_data_csv_from_kaggle_files(tmp_path, kaggle_folder, capsys):
    """`beth-course data --kaggle` writes source/.../data.csv with the asked-for mix."""
    course = copy_course(tmp_path / "course")
    target = course.folder("source") / "data.csv"
    target.unlink()
    code = main(["--course", str(course.root), "data", "--kaggle", str(kaggle_folder),
                 "--rows", "400", "--pct-evil", "0.25", "--seed", "3"])
    assert code == 0
    written = load_beth(target)
    assert len(written) == 400 and int(written["evil"].sum()) == 100
    assert "next: set the sample sizes" in capsys.readouterr().out


def test_data_refuses_to_replace_data_csv_without_force(tmp_path, kaggle_folder, capsys):
    """An existing data.csv is kept, with a message saying how to replace it."""
    course = copy_course(tmp_path / "course")
    before = (course.folder("source") / "data.csv").read_bytes()
    code = main(["--course", str(course.root), "data", "--kaggle", str(kaggle_folder), "--rows", "50"])
    assert code == 1
    assert "pass --force to replace it" in capsys.readouterr().err
    assert (course.folder("source") / "data.csv").read_bytes() == before


def test_data_with_too_few_rows_for_the_mix_explains(tmp_path, kaggle_folder, capsys):
    """Asking for more benign rows than the files have is an error saying what to change."""
    course = copy_course(tmp_path / "course")
    code = main(["--course", str(course.root), "data", "--kaggle", str(kaggle_folder),
                 "--rows", "10000", "--pct-evil", "0.1", "--force"])
    assert code == 1
    assert "lower n or pct_evil" in capsys.readouterr().err


def test_commands_outside_a_course_say_where_to_run(tmp_path, capsys, monkeypatch):
    """Run outside a course directory, beth-course says what a course directory is."""
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 1
    assert "nbgrader_config.py" in capsys.readouterr().err


def test_autograde_before_release_says_to_release(tmp_path, capsys):
    """Grading a course that was never released stops with the command to run first."""
    course = copy_course(tmp_path / "course")
    assert main(["--course", str(course.root), "autograde", "--no-sandbox"]) == 1
    assert "beth-course release" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["release", "collect", "autograde", "feedback", "report", "demo", "data"])
def test_every_command_has_help(command, capsys):
    """Each subcommand explains itself with --help."""
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: beth-course" in capsys.readouterr().out


def test_autograde_refuses_loudly_without_a_sandbox(tmp_path, capsys, monkeypatch):
    """Where bubblewrap cannot run, autograde refuses and names --no-sandbox."""
    import beth_course.grading.runner as runner

    monkeypatch.setattr(runner, "bwrap_status", lambda: (False, "bubblewrap is not installed"))
    course = copy_course(tmp_path / "course")
    assert main(["--course", str(course.root), "autograde"]) == 1
    err = capsys.readouterr().err
    assert "REFUSING TO GRADE" in err and "bubblewrap is not installed" in err
    assert "--no-sandbox" in err


def test_report_before_anything_was_graded_says_what_to_run(tmp_path, capsys):
    """No gradebook yet: the report command names the commands to run first."""
    course = copy_course(tmp_path / "course")
    assert main(["--course", str(course.root), "report"]) == 1
    assert "run beth-course release, then autograde" in capsys.readouterr().err
