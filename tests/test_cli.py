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
    code = main(
        [
            "--course",
            str(course.root),
            "data",
            "--kaggle",
            str(kaggle_folder),
            "--rows",
            "400",
            "--pct-evil",
            "0.25",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    written = load_beth(target)
    assert len(written) == 400 and int(written["evil"].sum()) == 100
    assert "next: set the sample sizes" in capsys.readouterr().out


def test_data_refuses_to_replace_data_csv_without_force(tmp_path, kaggle_folder, capsys):
    """An existing data.csv is kept, with a message saying how to replace it."""
    course = copy_course(tmp_path / "course")
    before = (course.folder("source") / "data.csv").read_bytes()
    code = main(
        ["--course", str(course.root), "data", "--kaggle", str(kaggle_folder), "--rows", "50"]
    )
    assert code == 1
    assert "pass --force to replace it" in capsys.readouterr().err
    assert (course.folder("source") / "data.csv").read_bytes() == before


def test_data_with_a_missing_kaggle_folder_says_it_is_missing(tmp_path, capsys):
    """A --kaggle folder that does not exist is reported as such, not as "pass --force"."""
    course = copy_course(tmp_path / "course")
    before = (course.folder("source") / "data.csv").read_bytes()
    missing = tmp_path / "beth-dataset-not-unzipped"
    code = main(["--course", str(course.root), "data", "--kaggle", str(missing)])
    err = capsys.readouterr().err
    assert code == 1
    assert str(missing) in err and "nothing exists" in err and "unzip" in err
    assert "--force" not in err
    assert (course.folder("source") / "data.csv").read_bytes() == before


def test_data_with_a_folder_lacking_the_splits_says_so_before_force(
    tmp_path, kaggle_folder, capsys
):
    """A --kaggle folder without the official files names them before any --force question."""
    course = copy_course(tmp_path / "course")
    (kaggle_folder / "labelled_testing_data.csv").unlink()
    code = main(["--course", str(course.root), "data", "--kaggle", str(kaggle_folder)])
    err = capsys.readouterr().err
    assert code == 1
    assert "lacks ['labelled_testing_data.csv']" in err
    assert "--force" not in err


@pytest.mark.parametrize(
    "rows, pct_evil, advice",
    [
        # 9,000 benign asked, 590 there: 656 rows at 10% evil is the most (round(65.6) = 66
        # evil, 590 benign); at 10,000 rows no share fits (6,791 rows in all).
        ("10000", "0.1", "lower --rows to 656 or fewer (at --pct-evil 0.1)."),
        # 900 benign asked: 656 rows, or 1,000 rows with at least 410 evil.
        (
            "1000",
            "0.1",
            "lower --rows to 656 or fewer (at --pct-evil 0.1), or raise --pct-evil "
            "to 0.41 or more (at --rows 1000).",
        ),
        # 6,370 evil asked, 6,201 there: 6,328 rows, or 6,500 rows with at most 6,201 evil.
        (
            "6500",
            "0.98",
            "lower --rows to 6,328 or fewer (at --pct-evil 0.98), or lower "
            "--pct-evil to 0.954 or less (at --rows 6500).",
        ),
    ],
)
def test_data_with_too_few_rows_for_the_mix_says_what_to_change(
    tmp_path, kaggle_folder, capsys, rows, pct_evil, advice
):
    """Too few rows for the mix: the error counts what is there and names --rows / --pct-evil."""
    course = copy_course(tmp_path / "course")
    code = main(
        [
            "--course",
            str(course.root),
            "data",
            "--kaggle",
            str(kaggle_folder),
            "--rows",
            rows,
            "--pct-evil",
            pct_evil,
            "--force",
        ]
    )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "6,201 evil rows (testing split) and 590 benign (all three splits)" in err
    assert advice in err
    assert "replace=True" not in err and "lower n or pct_evil" not in err


@pytest.mark.parametrize(
    "option, value, expected",
    [("--rows", "0", "--rows must be at least 1; got 0"),
     ("--pct-evil", "1.5", "--pct-evil is a share between 0 and 1 (0.25 for a quarter); got 1.5"),
     ("--pct-evil", "nan", "--pct-evil is a share between 0 and 1 (0.25 for a quarter); got nan")],
)  # fmt: skip
def test_data_refuses_impossible_options_before_reading(
    tmp_path, kaggle_folder, capsys, monkeypatch, option, value, expected
):
    """--rows below 1 or --pct-evil outside 0..1 is refused in CLI terms, before any file is read."""
    import beth_helpers.loading

    def must_not_read(*args, **kwargs):
        raise AssertionError("beth-course data read the Kaggle files before checking its options")

    monkeypatch.setattr(beth_helpers.loading, "load_kaggle_splits", must_not_read)
    course = copy_course(tmp_path / "course")
    code = main(
        [
            "--course",
            str(course.root),
            "data",
            "--kaggle",
            str(kaggle_folder),
            "--force",
            option,
            value,
        ]
    )
    assert code == 1
    assert expected in capsys.readouterr().err


def test_data_suggestions_fit(tmp_path, kaggle_folder, capsys):
    """The largest --rows the error suggests really builds data.csv at that --pct-evil."""
    course = copy_course(tmp_path / "course")
    args = ["--course", str(course.root), "data", "--kaggle", str(kaggle_folder), "--force"]
    assert main(args + ["--rows", "657", "--pct-evil", "0.1"]) == 1
    assert "lower --rows to 656 or fewer" in capsys.readouterr().err
    assert main(args + ["--rows", "656", "--pct-evil", "0.1"]) == 0
    assert len(load_beth(course.folder("source") / "data.csv")) == 656


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


@pytest.mark.parametrize(
    "command",
    [
        "init",
        "release",
        "collect",
        "autograde",
        "feedback",
        "report",
        "demo",
        "data",
        "roster",
        "export",
    ],
)
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
