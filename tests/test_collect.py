"""beth-course collect: downloaded submissions, as instructors get them, filed into submitted/.

Every intake is built here, under ``tmp_path``, from the committed submissions of the
fictional students (ada, ben, cleo); new students get copies of their notebooks.
"""

from __future__ import annotations

import doctest
import io
import json
import os
import stat
import struct
import time
import warnings
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

import beth_course.collect as collect_module
from beth_course.collect import (
    PRESETS,
    BethCollect,
    CollectError,
    CollectReport,
    FiledSubmission,
    collect,
    filing,
    ids,
    mapping,
)
from beth_course.course import Course
from tests.helpers import REPO, copy_course

NB = {
    s: (REPO / "submitted" / s / "beth_workshop" / "beth_workshop.ipynb").read_bytes()
    for s in ("ada", "ben", "cleo")
}
ADA, BEN, CLEO = NB["ada"], NB["ben"], NB["cleo"]
NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc)
# a date for files in folders and zips, when a test does not care which
MTIME = datetime(2026, 11, 20, 9, 12, 44, tzinfo=timezone.utc)
MTIME_TEXT = "2026-11-20 09:12:44.000000 UTC"


# --- building intakes ---------------------------------------------------------------------


@pytest.fixture
def course(tmp_path) -> Course:
    """A private copy of the course: config, source and the three committed submissions."""
    return copy_course(tmp_path / "course")


def make_folder(root: Path, files: dict[str, bytes], mtime: datetime = MTIME) -> Path:
    """Write ``files`` (relative path -> bytes) under ``root``, all modified at ``mtime``."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return root


def zip_bytes(files: dict[str, bytes | tuple], date_time=(2026, 11, 20, 9, 12, 44)) -> bytes:
    """A zip of ``files``: name -> bytes, or name -> (bytes, ZipInfo keyword overrides)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names, on purpose
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, value in files.items():
                data, extra = value if isinstance(value, tuple) else (value, {})
                info = zipfile.ZipInfo(extra.pop("name", name), date_time=date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                for key, val in extra.items():
                    setattr(info, key, val)
                zf.writestr(info, data)
    return buffer.getvalue()


def make_zip(path: Path, files: dict, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes(files, **kwargs))
    return path


def submitted_tree(course: Course) -> dict[str, bytes]:
    """Every file under submitted/, by relative path."""
    base = course.folder("submitted")
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def filed(course: Course, student: str) -> bytes:
    return course.submitted_notebook(student).read_bytes()


def stamp(course: Course, student: str) -> str:
    return (course.submitted_notebook(student).parent / "timestamp.txt").read_text()


def set_config(course: Course, text: str) -> None:
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write("\n" + text + "\n")


# --- realistic layouts --------------------------------------------------------------------


def test_colab_downloads_in_student_folders_are_filed(course, tmp_path):
    """Colab's 'Copy of' prefix and the browser's ' (N)' suffix do not stop a notebook."""
    intake = make_folder(
        tmp_path / "in",
        {
            "jsmith/Copy of beth_workshop.ipynb": ADA,
            "mlee/beth_workshop (1).ipynb": BEN,
            "pkhan/Copy of beth_workshop (2).ipynb": CLEO,
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {
        "jsmith": "jsmith/Copy of beth_workshop.ipynb",
        "mlee": "mlee/beth_workshop (1).ipynb",
        "pkhan": "pkhan/Copy of beth_workshop (2).ipynb",
    }
    assert [filed(course, s) for s in ("jsmith", "mlee", "pkhan")] == [ADA, BEN, CLEO]
    assert not (report.unmapped or report.invalid or report.ignored or report.conflicts)


def test_plain_and_nbgrader_folder_layouts_map_to_the_folder(course, tmp_path):
    """``jsmith/beth_workshop.ipynb`` and nbgrader's ``mlee/beth_workshop/beth_workshop.ipynb``
    file under the name of the student's folder at the top of the intake."""
    intake = make_folder(
        tmp_path / "in",
        {
            "jsmith/beth_workshop.ipynb": ADA,
            "mlee/beth_workshop/beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert set(report.filed) == {"jsmith", "mlee"}
    assert filed(course, "jsmith") == ADA and filed(course, "mlee") == BEN


def test_canvas_file_names_map_to_the_canvas_user_id(course, tmp_path):
    """Canvas's ``name_userid_fileid_`` prefix, ``LATE_`` and ``-1`` resubmission suffix."""
    intake = make_folder(
        tmp_path / "in",
        {
            "smithjohn_12345_67890_beth_workshop.ipynb": ADA,
            "leemary_LATE_23456_78901_beth_workshop-1.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {
        "12345": "smithjohn_12345_67890_beth_workshop.ipynb",
        "23456": "leemary_LATE_23456_78901_beth_workshop-1.ipynb",
    }
    assert filed(course, "12345") == ADA and filed(course, "23456") == BEN


def test_moodle_folders_and_flat_files_map_to_the_participant_id(course, tmp_path):
    """Moodle's ``Name_id_assignsubmission_file_`` folder (and flat file name) gives the id."""
    intake = make_folder(
        tmp_path / "in",
        {
            "John Smith_12345_assignsubmission_file_/beth_workshop.ipynb": ADA,
            "Mary Lee_23456_assignsubmission_file_Copy of beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert set(report.filed) == {"12345", "23456"}
    assert filed(course, "12345") == ADA and filed(course, "23456") == BEN


def test_blackboard_file_name_gives_user_and_date(course, tmp_path):
    """Blackboard's ``<title>_<user>_attempt_<date>_<file>``: the user, and the date as the
    timestamp (read in BethCollect.timezone), not the file's own date."""
    set_config(course, "c.BethCollect.timezone = 'UTC'")
    intake = make_folder(
        tmp_path / "in",
        {
            "beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb": ADA,
            "beth_workshop_mlee_attempt_2026-11-21-23-59-01_Copy of beth_workshop (1).ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert set(report.filed) == {"jsmith", "mlee"}
    assert stamp(course, "jsmith") == "2026-11-20 10:00:00.000000 UTC\n"
    assert stamp(course, "mlee") == "2026-11-21 23:59:01.000000 UTC\n"


def test_blackboard_date_is_converted_from_the_configured_zone(course, tmp_path):
    """A Blackboard date in New York time is written in UTC (EST is UTC-5 in November)."""
    set_config(course, "c.BethCollect.timezone = 'America/New_York'")
    intake = make_folder(
        tmp_path / "in",
        {
            "beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb": ADA,
        },
    )
    collect(course, intake, now=NOW)
    assert stamp(course, "jsmith") == "2026-11-20 15:00:00.000000 UTC\n"


def test_zip_with_a_top_folder_and_mac_junk_files_everything_silently(course, tmp_path):
    """A zip holding one top folder, ``__MACOSX/``, ``.DS_Store`` and checkpoints: the
    notebooks are filed, the junk is neither filed nor reported."""
    intake = make_zip(
        tmp_path / "Submissions.zip",
        {
            "Submissions/": b"",
            "Submissions/jsmith/beth_workshop.ipynb": ADA,
            "Submissions/mlee/Copy of beth_workshop.ipynb": BEN,
            "Submissions/.DS_Store": b"\0\0\0\1Bud1",
            "Submissions/mlee/.ipynb_checkpoints/beth_workshop-checkpoint.ipynb": CLEO,
            "__MACOSX/Submissions/jsmith/._beth_workshop.ipynb": b"\0\5\26\7",
            "Submissions/jsmith/._beth_workshop.ipynb": b"\0\5\26\7",
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {
        "jsmith": "Submissions/jsmith/beth_workshop.ipynb",
        "mlee": "Submissions/mlee/Copy of beth_workshop.ipynb",
    }
    assert filed(course, "jsmith") == ADA and filed(course, "mlee") == BEN
    assert not (report.unmapped or report.invalid or report.ignored or report.conflicts)


def test_zips_at_the_top_of_the_intake_are_read_as_part_of_the_class(course, tmp_path):
    """A zip at the top of the intake folder (an LMS download put there), and a zip at the
    top of that one, named for no student, hold the class's uploads: their layouts are
    mapped like any other, and the report shows the path through the zips."""
    root = make_folder(tmp_path / "in", {"pkhan/beth_workshop.ipynb": CLEO})
    make_zip(
        root / "canvas.zip",
        {
            "smithjohn_12345_67890_beth_workshop.ipynb": ADA,
            "inner.zip": zip_bytes({"mlee/beth_workshop.ipynb": BEN}),
        },
    )
    report = collect(course, root, now=NOW)
    assert report.filed == {
        "12345": "canvas.zip/smithjohn_12345_67890_beth_workshop.ipynb",
        "mlee": "canvas.zip/inner.zip/mlee/beth_workshop.ipynb",
        "pkhan": "pkhan/beth_workshop.ipynb",
    }
    assert [filed(course, s) for s in ("12345", "mlee", "pkhan")] == [ADA, BEN, CLEO]


def test_a_students_zip_in_a_canvas_export_is_opened(course, tmp_path):
    """A student who uploaded a zip: Canvas names the zip, the notebook inside is filed."""
    intake = make_zip(
        tmp_path / "export.zip",
        {
            "smithjohn_12345_67890_beth_workshop.zip": zip_bytes({"beth_workshop.ipynb": ADA}),
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {"12345": "smithjohn_12345_67890_beth_workshop.zip/beth_workshop.ipynb"}
    assert filed(course, "12345") == ADA


def test_windows_zip_with_backslashes_maps_like_slashes(course, tmp_path):
    """Zips written with ``\\`` separators (some Windows tools) map like ``/``."""
    intake = make_zip(tmp_path / "win.zip", {"jsmith\\beth_workshop.ipynb": ADA})
    report = collect(course, intake, now=NOW)
    assert report.filed == {"jsmith": "jsmith/beth_workshop.ipynb"}


def test_docstring_examples_of_the_presets_hold():
    """The examples of the presets and of making ids from names are right."""
    modules = (collect_module, mapping, ids)
    results = [doctest.testmod(m, optionflags=doctest.ELLIPSIS) for m in modules]
    assert sum(r.attempted for r in results) >= 10 and not any(r.failed for r in results)


# --- the mapping rule ---------------------------------------------------------------------


def test_patterns_argument_replaces_the_presets(course, tmp_path):
    """A layout no preset knows is not filed (an unknown prefix: ignored, with a hint);
    the instructor's pattern files it."""
    intake = make_folder(tmp_path / "in", {"hw/jsmith-beth_workshop.ipynb": ADA})
    assert "--pattern" in collect(course, intake, now=NOW).ignored["hw/jsmith-beth_workshop.ipynb"]
    pattern = r"(?P<student>[a-z]+)-beth_workshop\.ipynb$"
    report = collect(course, intake, now=NOW, patterns=[pattern])
    assert report.filed == {"jsmith": "hw/jsmith-beth_workshop.ipynb"}
    assert filed(course, "jsmith") == ADA


def test_a_preset_name_in_patterns_selects_that_preset(course, tmp_path):
    """``patterns=["canvas"]`` files Canvas names only: a student folder is then unmapped."""
    intake = make_folder(
        tmp_path / "in",
        {
            "smithjohn_12345_67890_beth_workshop.ipynb": ADA,
            "mlee/beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW, patterns=["canvas"])
    assert report.filed == {"12345": "smithjohn_12345_67890_beth_workshop.ipynb"}
    assert list(report.unmapped) == ["mlee/beth_workshop.ipynb"]


def test_patterns_are_read_from_nbgrader_config(course, tmp_path):
    """``c.BethCollect.patterns`` in nbgrader_config.py replaces the presets."""
    set_config(course, r"c.BethCollect.patterns = [r'^(?P<student>[a-z]+)__beth_workshop\.ipynb$']")
    assert BethCollect(config=course.config()).patterns != list(PRESETS.values())
    intake = make_folder(tmp_path / "in", {"jsmith__beth_workshop.ipynb": ADA})
    assert collect(course, intake, now=NOW).filed == {"jsmith": "jsmith__beth_workshop.ipynb"}


def test_first_matching_pattern_wins(course, tmp_path):
    """Patterns are tried in order: the first that matches gives the student."""
    intake = make_folder(tmp_path / "in", {"jsmith/beth_workshop.ipynb": ADA})
    report = collect(
        course,
        intake,
        now=NOW,
        patterns=[
            r"^(?P<student>j)smith/",
            r"^(?P<student>[a-z]+)/",
        ],
    )
    assert report.filed == {"j": "jsmith/beth_workshop.ipynb"}


def test_a_pattern_without_a_student_group_is_an_error(course, tmp_path):
    """A pattern that cannot name a student, or is not a regex, is refused up front."""
    intake = make_folder(tmp_path / "in", {"jsmith/beth_workshop.ipynb": ADA})
    with pytest.raises(CollectError, match=r"\(\?P<student>"):
        collect(course, intake, patterns=[r"^([a-z]+)/"])
    with pytest.raises(CollectError, match="not a regular expression"):
        collect(course, intake, patterns=[r"(?P<student>"])
    assert not course.submitted_notebook("jsmith").exists()


def test_files_no_pattern_maps_are_listed_never_guessed(course, tmp_path):
    """A notebook with no student in its path is unmapped with the reason, not filed."""
    before = submitted_tree(course)
    intake = make_folder(tmp_path / "in", {"Copy of beth_workshop.ipynb": ADA})
    report = collect(course, intake, now=NOW)
    assert list(report.unmapped) == ["Copy of beth_workshop.ipynb"]
    assert "no pattern matches" in report.unmapped["Copy of beth_workshop.ipynb"]
    assert not report.filed and submitted_tree(course) == before


@pytest.mark.parametrize(
    "path, why",
    [
        ("jsmith (1)/beth_workshop.ipynb", "not a safe student id"),
        ("李雷/beth_workshop.ipynb", "no letter or digit an id can hold"),
        ("_hidden/beth_workshop.ipynb", "not a safe student id"),
        ("beth_workshop/beth_workshop.ipynb", "the assignment's name"),
    ],
)
def test_unsafe_student_ids_are_unmapped(course, tmp_path, path, why):
    """An id that is no safe nbgrader folder name (or is the assignment) is not filed."""
    before = submitted_tree(course)
    report = collect(course, make_folder(tmp_path / "in", {path: ADA}), now=NOW)
    assert why in report.unmapped[path]
    assert not report.filed and submitted_tree(course) == before


@pytest.mark.parametrize("container", ["folder", "zip"])
def test_a_student_id_with_a_trailing_newline_is_unmapped(course, tmp_path, container):
    """A folder named ``eve\\n`` passes a check anchored with ``$`` (which also matches
    before a final newline); the whole id must be safe, so it is unmapped, not filed."""
    files = {"eve\n/beth_workshop.ipynb": ADA, "mlee/beth_workshop.ipynb": BEN}
    if container == "zip":
        intake = make_zip(tmp_path / "in.zip", files)
    else:
        intake = make_folder(tmp_path / "in", files)
    report = collect(course, intake, now=NOW)
    assert "not a safe student id" in report.unmapped["eve\n/beth_workshop.ipynb"]
    assert report.filed == {"mlee": "mlee/beth_workshop.ipynb"}
    assert not [p for p in course.folder("submitted").iterdir() if "\n" in p.name]


@pytest.mark.parametrize(
    "folder, student",
    [
        ("Priya Patel", "priya_patel"),
        ("José Núñez", "jose_nunez"),
        ("Mary-Jane O'Neil", "mary_jane_o_neil"),
    ],
)
def test_a_folder_named_after_a_person_files_under_a_safe_id(course, tmp_path, folder, student):
    """A folder per student named with people's names files under an id made from the name
    (lower case, ASCII, ``_`` between words), and the name is kept."""
    intake = make_folder(tmp_path / "in", {f"{folder}/beth_workshop.ipynb": ADA})
    report = collect(course, intake, now=NOW)
    assert report.filed == {student: f"{folder}/beth_workshop.ipynb"}
    assert report.submissions[student].name == folder
    assert lms_json(course, student)["name"] == folder


def test_a_folder_named_by_an_email_files_under_its_local_part(course, tmp_path):
    """``jsmith@uni.example/`` files as jsmith, with the address kept as the email."""
    intake = make_folder(tmp_path / "in", {"jsmith@uni.example/beth_workshop.ipynb": ADA})
    report = collect(course, intake, now=NOW)
    assert report.filed == {"jsmith": "jsmith@uni.example/beth_workshop.ipynb"}
    assert report.submissions["jsmith"].email == "jsmith@uni.example"


def test_two_names_that_make_one_id_are_a_conflict(course, tmp_path):
    """'Priya Patel' and 'priya_patel' would both be priya_patel: nothing is guessed, both
    are reported with the names, the others are filed."""
    intake = make_folder(
        tmp_path / "in",
        {
            "Priya Patel/beth_workshop.ipynb": ADA,
            "priya_patel/beth_workshop.ipynb": BEN,
            "mlee/beth_workshop.ipynb": CLEO,
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {"mlee": "mlee/beth_workshop.ipynb"}
    assert sorted(report.id_conflicts) == [
        "Priya Patel/beth_workshop.ipynb",
        "priya_patel/beth_workshop.ipynb",
    ]
    why = report.id_conflicts["Priya Patel/beth_workshop.ipynb"]
    assert "'Priya Patel' and 'priya_patel' both make the id 'priya_patel'" in why
    assert not (course.folder("submitted") / "priya_patel").exists()


def test_unsafe_id_from_a_custom_pattern_is_unmapped(course, tmp_path):
    """A pattern that reaches across folders yields ``a/b``: refused, not filed there."""
    intake = make_folder(tmp_path / "in", {"x/y/beth_workshop.ipynb": ADA})
    report = collect(course, intake, now=NOW, patterns=[r"^(?P<student>.+)/beth_workshop"])
    assert "'x/y' is not a safe student id" in report.unmapped["x/y/beth_workshop.ipynb"]
    assert not (course.folder("submitted") / "x").exists()


def test_other_notebooks_and_files_are_ignored_with_the_reason(course, tmp_path):
    """Only the assignment's notebook is filed; other files are listed as ignored."""
    intake = make_folder(
        tmp_path / "in",
        {
            "jsmith/beth_workshop.ipynb": ADA,
            "jsmith/scratch.ipynb": BEN,
            "jsmith/my_beth_workshop.ipynb": CLEO,
            "jsmith/data.csv": b"a,b\n1,2\n",
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {"jsmith": "jsmith/beth_workshop.ipynb"}
    assert "not the assignment's notebook" in report.ignored["jsmith/scratch.ipynb"]
    assert "'my'" in report.ignored["jsmith/my_beth_workshop.ipynb"]
    assert report.ignored["jsmith/data.csv"] == "not a notebook"
    assert filed(course, "jsmith") == ADA


def test_two_notebooks_for_one_student_are_a_conflict(course, tmp_path):
    """Both are listed, neither is filed, and no folder is made for the student."""
    intake = make_folder(
        tmp_path / "in",
        {
            "jsmith/beth_workshop.ipynb": ADA,
            "jsmith/beth_workshop (1).ipynb": BEN,
            "mlee/beth_workshop.ipynb": CLEO,
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.conflicts == {
        "jsmith": ["jsmith/beth_workshop (1).ipynb", "jsmith/beth_workshop.ipynb"]
    }
    assert report.filed == {"mlee": "mlee/beth_workshop.ipynb"}
    assert not (course.folder("submitted") / "jsmith").exists()


def test_ids_that_differ_only_by_case_are_a_conflict(course, tmp_path):
    """ADA, Ada and ada would be three students to nbgrader and one folder on macOS or
    Windows: none of them is filed, each is reported, the others in the intake go in."""
    before = submitted_tree(course)
    intake = make_folder(
        tmp_path / "in",
        {
            "JSMITH/beth_workshop.ipynb": ADA,
            "Jsmith/beth_workshop.ipynb": BEN,
            "jsmith/beth_workshop.ipynb": CLEO,
            "mlee/beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {"mlee": "mlee/beth_workshop.ipynb"}
    assert sorted(report.id_conflicts) == [
        "JSMITH/beth_workshop.ipynb",
        "Jsmith/beth_workshop.ipynb",
        "jsmith/beth_workshop.ipynb",
    ]
    assert (
        "differs only by case from 'Jsmith', 'jsmith'"
        in report.id_conflicts["JSMITH/beth_workshop.ipynb"]
    )
    assert {k: v for k, v in submitted_tree(course).items() if not k.startswith("mlee/")} == before


def test_an_id_differing_only_by_case_from_a_filed_student_is_a_conflict(course, tmp_path):
    """``Ada`` is not filed beside the ``ada`` already in submitted/, even with force."""
    before = submitted_tree(course)
    intake = make_folder(tmp_path / "in", {"Ada/beth_workshop.ipynb": BEN})
    report = collect(course, intake, force=True, now=NOW)
    assert not report.filed and not report.replaced
    assert "already in submitted/" in report.id_conflicts["Ada/beth_workshop.ipynb"]
    assert submitted_tree(course) == before
    assert report.needs_attention


def test_the_same_student_in_two_layouts_is_a_conflict(course, tmp_path):
    """Two Blackboard attempts of one student: never pick one."""
    intake = make_folder(
        tmp_path / "in",
        {
            "beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb": ADA,
            "beth_workshop_jsmith_attempt_2026-11-21-10-00-00_beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert len(report.conflicts["jsmith"]) == 2 and not report.filed


# --- existing submissions -----------------------------------------------------------------


def test_existing_submission_is_kept_without_force(course, tmp_path):
    """ada is already submitted: her folder is untouched; a changed notebook is flagged."""
    before = submitted_tree(course)
    intake = make_folder(
        tmp_path / "in",
        {
            "ada/beth_workshop.ipynb": BEN,
            "ben/beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.kept == {"ada": "ada/beth_workshop.ipynb", "ben": "ben/beth_workshop.ipynb"}
    assert report.changed == ["ada"] and not report.filed and not report.replaced
    assert submitted_tree(course) == before
    assert any("--force" in line and "ada" in line for line in report.lines())


def test_force_replaces_an_existing_submission_atomically(course, tmp_path):
    """With force the notebook and timestamp are replaced, and no temporary file is left."""
    intake = make_folder(tmp_path / "in", {"ada/beth_workshop.ipynb": BEN})
    report = collect(course, intake, force=True, now=NOW)
    assert report.replaced == {"ada": "ada/beth_workshop.ipynb"} and not report.filed
    assert filed(course, "ada") == BEN
    assert stamp(course, "ada") == MTIME_TEXT + "\n"
    folder = course.submitted_notebook("ada").parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "beth_workshop.ipynb",
        "lms.json",
        "timestamp.txt",
    ]


def test_students_not_in_the_intake_are_untouched(course, tmp_path):
    """Even with force, only the intake's students' folders change."""
    before = submitted_tree(course)
    intake = make_folder(tmp_path / "in", {"jsmith/beth_workshop.ipynb": ADA})
    collect(course, intake, force=True, now=NOW)
    after = submitted_tree(course)
    assert {k: v for k, v in after.items() if not k.startswith("jsmith/")} == before
    assert sorted(after.keys() - before.keys()) == [
        "jsmith/beth_workshop/beth_workshop.ipynb",
        "jsmith/beth_workshop/lms.json",
        "jsmith/beth_workshop/timestamp.txt",
    ]


def test_a_failed_write_leaves_no_half_written_notebook(course, tmp_path, monkeypatch):
    """A write that fails for one student stops with a clear error; that student has no
    notebook and no temporary file, and those filed before are complete."""
    intake = make_folder(
        tmp_path / "in",
        {
            "jsmith/beth_workshop.ipynb": ADA,
            "mlee/beth_workshop.ipynb": BEN,
        },
    )
    real_replace = os.replace

    def failing_replace(src, dst):
        if "mlee" in str(dst):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(filing.os, "replace", failing_replace)
    with pytest.raises(CollectError, match="No space left on device.*filed before this: jsmith"):
        collect(course, intake, now=NOW)
    assert filed(course, "jsmith") == ADA and stamp(course, "jsmith") == MTIME_TEXT + "\n"
    assert not (course.folder("submitted") / "mlee").exists()
    monkeypatch.undo()
    report = collect(course, intake, now=NOW)
    assert report.kept == {"jsmith": "jsmith/beth_workshop.ipynb"}
    assert list(report.filed) == ["mlee"]


def test_a_failed_replacement_keeps_the_existing_submission_whole(course, tmp_path, monkeypatch):
    """With --force, a write that fails before everything is staged (here lms.json) leaves
    ada's notebook and timestamp as they were, and no temporary file behind."""
    before = submitted_tree(course)
    real_stage = filing._stage

    def failing_stage(target, data):
        if target.name == "lms.json":
            raise OSError(28, "No space left on device")
        return real_stage(target, data)

    monkeypatch.setattr(filing, "_stage", failing_stage)
    intake = make_folder(tmp_path / "in", {"ada/beth_workshop.ipynb": BEN})
    with pytest.raises(CollectError, match="No space left on device"):
        collect(course, intake, force=True, now=NOW)
    assert submitted_tree(course) == before
    assert not list(course.folder("submitted").rglob("*.part"))


def test_an_intake_holding_the_course_submitted_folder_is_refused(course):
    """``collect .`` in the course root would file source/ and release/ as students."""
    with pytest.raises(CollectError, match="submitted/ folder"):
        collect(course, course.root)


# --- invalid notebooks --------------------------------------------------------------------


def _notebook_v3() -> bytes:
    return json.dumps(
        {
            "nbformat": 3,
            "nbformat_minor": 0,
            "metadata": {},
            "worksheets": [{"cells": []}],
            "cells": [],
        }
    ).encode()


@pytest.mark.parametrize(
    "content, why",
    [
        (b"<html>Sign in to Google Drive</html>", "not valid JSON"),
        (ADA[: len(ADA) // 2], "not valid JSON"),
        (b"[1, 2, 3]", "JSON but not a notebook"),
        (b'{"name": "beth_workshop"}', "JSON but not a notebook"),
        (_notebook_v3(), "format version 3"),
        (b"\x89PNG\r\n\x1a\n\0\0", "not valid JSON"),
    ],
    ids=["html", "truncated", "json-list", "json-object", "nbformat3", "binary"],
)
def test_an_invalid_notebook_is_reported_and_the_others_go_in(course, tmp_path, content, why):
    """The broken file is listed with the reason; the good one beside it is filed."""
    intake = make_folder(
        tmp_path / "in",
        {
            "jsmith/beth_workshop.ipynb": content,
            "mlee/beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert why in report.invalid["jsmith/beth_workshop.ipynb"]
    assert report.filed == {"mlee": "mlee/beth_workshop.ipynb"}
    assert not (course.folder("submitted") / "jsmith").exists()


def test_a_repairable_notebook_is_filed_byte_for_byte(course, tmp_path, monkeypatch):
    """When check_notebook can repair a notebook, collect files the original bytes (the
    grader repairs its own copy)."""
    seen = []

    def repairs(data):
        seen.append(data)
        return None, b'{"repaired": true}'

    monkeypatch.setattr(filing, "check_notebook", repairs)
    intake = make_folder(tmp_path / "in", {"jsmith/beth_workshop.ipynb": ADA})
    report = collect(course, intake, now=NOW)
    assert seen == [ADA]
    assert report.filed == {"jsmith": "jsmith/beth_workshop.ipynb"}
    assert filed(course, "jsmith") == ADA


def test_a_notebook_nbformat_can_repair_is_filed(course, tmp_path):
    """A code cell whose ``collapsed`` metadata is a string fails the schema, but nbformat
    can repair it: it is filed as it is, not reported invalid."""
    nb = json.loads(ADA)
    next(c for c in nb["cells"] if c["cell_type"] == "code")["metadata"]["collapsed"] = "yes"
    content = json.dumps(nb, indent=1).encode()
    intake = make_folder(tmp_path / "in", {"jsmith/beth_workshop.ipynb": content})
    report = collect(course, intake, now=NOW)
    assert report.invalid == {}
    assert filed(course, "jsmith") == content


def test_an_unreadable_zip_inside_the_intake_is_invalid_not_fatal(course, tmp_path):
    """A corrupt zip in the folder is listed as invalid; the rest is filed."""
    root = make_folder(
        tmp_path / "in",
        {
            "mlee/beth_workshop.ipynb": BEN,
            "jsmith.zip": b"PK\3\4junk",
        },
    )
    report = collect(course, root, now=NOW)
    assert "not a readable zip" in report.invalid["jsmith.zip"]
    assert list(report.filed) == ["mlee"]


def test_an_encrypted_zip_entry_is_invalid_and_the_others_go_in(course, tmp_path):
    """A password-protected entry cannot be read: it is listed, the rest is filed."""
    data = zip_bytes({"jsmith/beth_workshop.ipynb": ADA, "mlee/beth_workshop.ipynb": BEN})
    central = data.index(b"PK\1\2")  # jsmith's central directory record comes first
    flags = struct.unpack_from("<H", data, central + 8)[0]
    data = data[: central + 8] + struct.pack("<H", flags | 0x1) + data[central + 10 :]
    intake = tmp_path / "in.zip"
    intake.write_bytes(data)
    report = collect(course, intake, now=NOW)
    assert "encrypted" in report.invalid["jsmith/beth_workshop.ipynb"]
    assert list(report.filed) == ["mlee"]


def test_an_intake_that_is_neither_folder_nor_zip_is_an_error(course, tmp_path):
    """A stray file or a missing path says what to give instead."""
    stray = tmp_path / "beth_workshop.ipynb"
    stray.write_bytes(ADA)
    with pytest.raises(CollectError, match="neither a folder nor a readable .zip"):
        collect(course, stray)
    with pytest.raises(CollectError, match="does not exist"):
        collect(course, tmp_path / "missing.zip")


# --- timestamps ---------------------------------------------------------------------------


def test_timestamp_comes_from_the_files_mtime_in_utc(course, tmp_path):
    """In a folder, the file's modification time, in nbgrader's format, as nbgrader reads it."""
    from nbgrader.utils import parse_utc

    when = datetime(2026, 11, 21, 8, 30, 0, tzinfo=timezone.utc)
    intake = make_folder(tmp_path / "in", {"jsmith/beth_workshop.ipynb": ADA}, mtime=when)
    report = collect(course, intake, now=NOW)
    assert stamp(course, "jsmith") == "2026-11-21 08:30:00.000000 UTC\n"
    assert report.timestamps == {"jsmith": "2026-11-21 08:30:00.000000 UTC"}
    assert parse_utc(stamp(course, "jsmith").strip()) == when.replace(tzinfo=None)
    assert "jsmith" in course.students()


def test_timestamp_comes_from_the_zip_entry_date_in_the_configured_zone(course, tmp_path):
    """A zip entry's date (local time where it was zipped) is read in BethCollect.timezone."""
    set_config(course, "c.BethCollect.timezone = 'Europe/Berlin'")
    intake = make_zip(
        tmp_path / "in.zip",
        {"jsmith/beth_workshop.ipynb": ADA},
        date_time=(2026, 11, 20, 9, 12, 44),
    )
    collect(course, intake, now=NOW)
    assert stamp(course, "jsmith") == "2026-11-20 08:12:44.000000 UTC\n"


def test_zip_entry_date_defaults_to_this_computers_time_zone(course, tmp_path, monkeypatch):
    """With no timezone configured, a zip entry's date is read as local time."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        intake = make_zip(
            tmp_path / "in.zip",
            {"jsmith/beth_workshop.ipynb": ADA},
            date_time=(2026, 11, 20, 9, 12, 44),
        )
        collect(course, intake, now=NOW)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert stamp(course, "jsmith") == "2026-11-20 14:12:44.000000 UTC\n"


def test_an_info_zip_utc_time_beats_the_entry_date(course, tmp_path):
    """An entry's extended timestamp (0x5455, exact UTC seconds) is preferred."""
    when = datetime(2026, 11, 22, 17, 45, 1, tzinfo=timezone.utc)
    extra = struct.pack("<HHBi", 0x5455, 5, 1, int(when.timestamp()))
    intake = make_zip(tmp_path / "in.zip", {"jsmith/beth_workshop.ipynb": (ADA, {"extra": extra})})
    collect(course, intake, now=NOW)
    assert stamp(course, "jsmith") == "2026-11-22 17:45:01.000000 UTC\n"


def test_an_undated_zip_entry_is_stamped_now_and_reported(course, tmp_path):
    """An entry dated 1980-01-01 00:00 (zip's 'no date') gets the collection time, said so."""
    intake = make_zip(
        tmp_path / "in.zip", {"jsmith/beth_workshop.ipynb": ADA}, date_time=(1980, 1, 1, 0, 0, 0)
    )
    report = collect(course, intake, now=NOW)
    assert stamp(course, "jsmith") == "2026-11-29 12:00:00.000000 UTC\n"
    assert report.undated == ["jsmith"]
    assert report.submissions["jsmith"].time_source == "collection time"
    assert any("collection time" in line and "jsmith" in line for line in report.lines())


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../beth_workshop.ipynb",
        "jsmith/../../beth_workshop.ipynb",
        "/tmp/jsmith/beth_workshop.ipynb",
        "C:/Users/jsmith/beth_workshop.ipynb",
        "..\\..\\jsmith\\beth_workshop.ipynb",
    ],
    ids=["dotdot", "inner-dotdot", "absolute", "drive", "backslash-dotdot"],
)
def test_a_zip_entry_pointing_outside_refuses_the_intake(course, tmp_path, name):
    """Zip-slip: the whole intake is refused before anything is written."""
    before = submitted_tree(course)
    intake = make_zip(
        tmp_path / "deep" / "er" / "in.zip",
        {
            "mlee/beth_workshop.ipynb": BEN,
            name: ADA,
        },
    )
    with pytest.raises(CollectError, match="points outside"):
        collect(course, intake, now=NOW)
    assert submitted_tree(course) == before
    assert sorted(p.name for p in (tmp_path / "deep").rglob("*")) == ["er", "in.zip"]


def test_a_zip_slip_in_a_nested_zip_refuses_the_intake(course, tmp_path):
    """The check applies to zips inside zips and folders too."""
    before = submitted_tree(course)
    root = make_folder(tmp_path / "in", {"mlee/beth_workshop.ipynb": BEN})
    make_zip(root / "a.zip", {"b.zip": zip_bytes({"../../jsmith/beth_workshop.ipynb": ADA})})
    with pytest.raises(CollectError, match=r"a\.zip/b\.zip holds an entry that points outside"):
        collect(course, root, now=NOW)
    assert submitted_tree(course) == before


def test_a_symlink_entry_in_a_zip_refuses_the_intake(course, tmp_path):
    """A zip entry with symlink mode bits is refused, not followed or filed."""
    link = (b"/etc/passwd", {"external_attr": (stat.S_IFLNK | 0o777) << 16, "create_system": 3})
    intake = make_zip(tmp_path / "in.zip", {"jsmith/beth_workshop.ipynb": link})
    with pytest.raises(CollectError, match="symbolic link"):
        collect(course, intake, now=NOW)
    assert not (course.folder("submitted") / "jsmith").exists()


def test_a_symlink_in_the_intake_folder_refuses_the_intake(course, tmp_path):
    """A link named like a submission could file any file of the instructor's: refused."""
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(CLEO)
    root = make_folder(tmp_path / "in", {"mlee/beth_workshop.ipynb": BEN})
    (root / "jsmith").mkdir()
    (root / "jsmith" / "beth_workshop.ipynb").symlink_to(secret)
    before = submitted_tree(course)
    with pytest.raises(CollectError, match="jsmith/beth_workshop.ipynb is a symbolic link"):
        collect(course, root, now=NOW)
    assert submitted_tree(course) == before


def test_a_notebook_over_the_size_cap_is_invalid_others_go_in(course, tmp_path):
    """A notebook larger than c.BethCollect.max_notebook_bytes is listed as invalid without
    being read (cap set here between the sizes of cleo's and ada's notebooks)."""
    set_config(course, f"c.BethCollect.max_notebook_bytes = {len(CLEO) + 10}")
    intake = make_zip(
        tmp_path / "in.zip",
        {
            "jsmith/beth_workshop.ipynb": ADA,
            "pkhan/beth_workshop.ipynb": CLEO,
        },
    )
    report = collect(course, intake, now=NOW)
    assert "larger than" in report.invalid["jsmith/beth_workshop.ipynb"]
    assert report.filed == {"pkhan": "pkhan/beth_workshop.ipynb"}


def test_a_real_zip_bomb_notebook_is_not_read(course, tmp_path):
    """60 MB of zeros deflate to a few kB; the declared size alone rules it out."""
    intake = make_zip(
        tmp_path / "in.zip",
        {
            "jsmith/beth_workshop.ipynb": b"\0" * (60 * 2**20),
            "pkhan/beth_workshop.ipynb": CLEO,
        },
    )
    assert intake.stat().st_size < 2**20
    report = collect(course, intake, now=NOW)
    assert "larger than 50 MB" in report.invalid["jsmith/beth_workshop.ipynb"]
    assert list(report.filed) == ["pkhan"]


def test_a_zip_over_the_intake_budget_is_refused(course, tmp_path):
    """More than c.BethCollect.max_intake_bytes to decompress refuses the intake, with
    nothing written, and the message states that limit (set here below two notebooks)."""
    limit = len(ADA) + len(BEN) - 1
    set_config(course, f"c.BethCollect.max_intake_bytes = {limit}")
    before = submitted_tree(course)
    intake = make_zip(
        tmp_path / "in.zip",
        {
            "jsmith/beth_workshop.ipynb": ADA,
            "mlee/beth_workshop.ipynb": BEN,
        },
    )
    with pytest.raises(CollectError, match=f"more than {limit:,} bytes of notebooks"):
        collect(course, intake, now=NOW)
    assert submitted_tree(course) == before


def test_zips_nested_too_deep_are_refused(course, tmp_path):
    """A zip in a zip in a zip ... (a zip quine or bomb) stops at the default depth."""
    inner = zip_bytes({"jsmith/beth_workshop.ipynb": ADA})
    for level in range(BethCollect().max_zip_depth + 1):
        inner = zip_bytes({f"level{level}.zip": inner})
    intake = tmp_path / "in.zip"
    intake.write_bytes(inner)
    with pytest.raises(CollectError, match="nested more than"):
        collect(course, intake, now=NOW)
    assert not (course.folder("submitted") / "jsmith").exists()


def test_the_zip_depth_limit_is_read_from_the_config(course, tmp_path):
    """With c.BethCollect.max_zip_depth = 1, a zip in a zip in the intake zip is refused,
    and the message gives that limit."""
    set_config(course, "c.BethCollect.max_zip_depth = 1")
    nested = zip_bytes({"b.zip": zip_bytes({"jsmith/beth_workshop.ipynb": ADA})})
    intake = make_zip(tmp_path / "in.zip", {"a.zip": nested})
    with pytest.raises(CollectError, match=r"a\.zip/b\.zip is a zip nested more than 1 deep"):
        collect(course, intake, now=NOW)
    assert not (course.folder("submitted") / "jsmith").exists()


def test_a_zip_with_too_many_entries_is_refused(course, tmp_path):
    """A zip of more entries than c.BethCollect.max_zip_entries refuses the intake."""
    set_config(course, "c.BethCollect.max_zip_entries = 2")
    intake = make_zip(
        tmp_path / "in.zip",
        {
            "jsmith/beth_workshop.ipynb": ADA,
            "mlee/beth_workshop.ipynb": BEN,
            "x.txt": b"x",
        },
    )
    with pytest.raises(CollectError, match="has 3 entries \\(at most 2\\)"):
        collect(course, intake, now=NOW)
    assert not (course.folder("submitted") / "jsmith").exists()


def test_a_zip_with_two_entries_of_one_name_is_refused(course, tmp_path):
    """Duplicate entry names (different tools see different files) refuse the intake."""
    intake = make_zip(
        tmp_path / "in.zip",
        {
            "a": (ADA, {"name": "jsmith/beth_workshop.ipynb"}),
            "b": (BEN, {"name": "jsmith/beth_workshop.ipynb"}),
        },
    )
    with pytest.raises(CollectError, match="two entries named"):
        collect(course, intake, now=NOW)


# --- what the LMS says about each submission ----------------------------------------------


def lms_json(course: Course, student: str) -> dict:
    return json.loads((course.submitted_notebook(student).parent / "lms.json").read_text())


def test_canvas_name_id_and_late_marker_are_returned_and_written(course, tmp_path):
    """A late Canvas submission: the report's record and ``lms.json`` carry Canvas's name,
    its user id, the LATE marker, and that the time is Canvas's zip entry."""
    set_config(course, "c.BethCollect.timezone = 'UTC'")
    name = "leemary_LATE_23456_78901_beth_workshop-1.ipynb"
    intake = make_zip(tmp_path / "export.zip", {name: ADA}, date_time=LMS_TIME)
    report = collect(course, intake, now=NOW)
    assert report.submissions["23456"] == FiledSubmission(
        student="23456",
        source=name,
        name="leemary",
        email=None,
        lms_user_id="23456",
        late_marker=True,
        timestamp="2026-11-22 10:00:00.000000 UTC",
        time_source="zip entry",
    )
    assert lms_json(course, "23456") == {
        "name": "leemary",
        "email": None,
        "lms_user_id": "23456",
        "late_marker": True,
        "time_source": "zip entry",
    }


def test_moodle_full_name_is_kept_with_the_participant_id(course, tmp_path):
    """Moodle's folder gives the person's name with spaces; the id stays the number."""
    intake = make_folder(
        tmp_path / "in",
        {
            "John Smith_12345_assignsubmission_file_/beth_workshop.ipynb": ADA,
        },
    )
    record = collect(course, intake, now=NOW).submissions["12345"]
    assert (record.name, record.lms_user_id, record.late_marker) == ("John Smith", "12345", False)
    assert record.time_source == "file modification time"


def test_blackboard_user_and_its_file_name_date_are_recorded(course, tmp_path):
    """Blackboard's user name is its name and LMS id; the time is the attempt date in the
    file name, and lms.json says so."""
    intake = make_folder(
        tmp_path / "in",
        {
            "beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb": ADA,
        },
    )
    collect(course, intake, now=NOW)
    assert lms_json(course, "jsmith") == {
        "name": "jsmith",
        "email": None,
        "lms_user_id": "jsmith",
        "late_marker": False,
        "time_source": "file name",
    }


def test_a_student_folder_says_nothing_but_its_time_source(course, tmp_path):
    """A plain student folder carries no LMS data: lms.json holds nulls and the source."""
    intake = make_folder(tmp_path / "in", {"jsmith/beth_workshop.ipynb": ADA})
    collect(course, intake, now=NOW)
    assert lms_json(course, "jsmith") == {
        "name": None,
        "email": None,
        "lms_user_id": None,
        "late_marker": False,
        "time_source": "file modification time",
    }


def test_a_pattern_can_read_name_email_id_and_late_marker(course, tmp_path):
    """An instructor's pattern with groups name, email, lms_user_id and late fills them
    from the upload's name."""
    path = "jsmith@uni.example__Jo Smith__s042__late/beth_workshop.ipynb"
    pattern = (
        r"^(?P<email>(?P<student>[a-z]+)@[^/_]+)__(?P<name>[^/_]+)__"
        r"(?P<lms_user_id>s\d+)__(?P<late>late)?/beth_workshop\.ipynb\Z"
    )
    intake = make_folder(tmp_path / "in", {path: ADA})
    collect(course, intake, now=NOW, patterns=[pattern])
    assert lms_json(course, "jsmith") == {
        "name": "Jo Smith",
        "email": "jsmith@uni.example",
        "lms_user_id": "s042",
        "late_marker": True,
        "time_source": "file modification time",
    }


def test_the_summary_says_where_times_came_from_and_who_is_late(course, tmp_path):
    """Each time source is counted, and the students the LMS marked late are named."""
    intake = make_zip(
        tmp_path / "export.zip",
        {
            "smithjohn_12345_67890_beth_workshop.ipynb": ADA,
            "leemary_LATE_23456_78901_beth_workshop.ipynb": BEN,
            "beth_workshop_pkhan_attempt_2026-11-20-10-00-00_beth_workshop.ipynb": CLEO,
        },
    )
    text = "\n".join(collect(course, intake, now=NOW).lines())
    assert "submission times from: file name (1), zip entry (2)" in text
    assert "marked late by the LMS: 23456" in text


# --- a student's own upload ---------------------------------------------------------------
# Whatever a student uploads (a zip, the files in their folder) is theirs to name and date.
# Nothing inside it may choose the student or the submission time.

CANVAS_UPLOAD = "smithjohn_12345_67890_beth_workshop.zip"
LMS_TIME = (2026, 11, 22, 10, 0, 0)  # what Canvas recorded for the upload
STUDENT_TIME = (2001, 1, 1, 0, 0, 0)  # what the student wrote into their own zip


def test_a_date_inside_a_students_zip_does_not_date_the_submission(course, tmp_path):
    """A Canvas student who uploads a zip dated 2001 is dated by Canvas's entry for that
    zip, not by the notebook's entry inside it (which escaped a late penalty)."""
    set_config(course, "c.BethCollect.timezone = 'UTC'")
    upload = zip_bytes({"beth_workshop.ipynb": ADA}, date_time=STUDENT_TIME)
    intake = make_zip(tmp_path / "export.zip", {CANVAS_UPLOAD: (upload, {"date_time": LMS_TIME})})
    report = collect(course, intake, now=NOW)
    assert list(report.filed) == ["12345"]
    assert stamp(course, "12345") == "2026-11-22 10:00:00.000000 UTC\n"


def test_an_lms_name_inside_a_students_zip_does_not_name_another_student(course, tmp_path):
    """Inside their Canvas upload a student names the notebook like a Blackboard attempt of
    mlee's, dated 2001: nothing is filed as mlee's (the file is the uploader's, 12345, and
    not the assignment's notebook by its name)."""
    forged = "beth_workshop_mlee_attempt_2001-01-01-00-00-00_beth_workshop.ipynb"
    upload = zip_bytes({forged: ADA}, date_time=STUDENT_TIME)
    intake = make_zip(tmp_path / "export.zip", {CANVAS_UPLOAD: (upload, {"date_time": LMS_TIME})})
    report = collect(course, intake, now=NOW)
    assert not report.filed
    assert "not the assignment's notebook" in report.ignored[f"{CANVAS_UPLOAD}/{forged}"]
    assert not (course.folder("submitted") / "mlee").exists()


def test_an_lms_name_in_a_students_folder_does_not_name_another_student(course, tmp_path):
    """In a folder per student, jsmith names a file like mlee's Blackboard attempt dated
    2001: it is not filed as mlee's; it is jsmith's, and by its name not the assignment's
    notebook, so it is ignored with the reason."""
    forged = "beth_workshop_mlee_attempt_2001-01-01-00-00-00_beth_workshop.ipynb"
    intake = make_folder(
        tmp_path / "in",
        {
            f"jsmith/{forged}": ADA,
            "pkhan/beth_workshop.ipynb": CLEO,
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {"pkhan": "pkhan/beth_workshop.ipynb"}
    assert "not the assignment's notebook" in report.ignored[f"jsmith/{forged}"]
    assert not (course.folder("submitted") / "mlee").exists()


def test_a_zip_in_a_students_folder_is_dated_by_the_folder_not_by_the_zip(course, tmp_path):
    """jsmith/upload.zip holds a notebook dated 2001: the time is upload.zip's own
    modification time in the intake folder."""
    root = make_folder(tmp_path / "in", {"pkhan/beth_workshop.ipynb": CLEO})
    make_zip(root / "jsmith" / "upload.zip", {"beth_workshop.ipynb": ADA}, date_time=STUDENT_TIME)
    os.utime(root / "jsmith" / "upload.zip", (MTIME.timestamp(), MTIME.timestamp()))
    report = collect(course, root, now=NOW)
    assert report.filed["jsmith"] == "jsmith/upload.zip/beth_workshop.ipynb"
    assert stamp(course, "jsmith") == MTIME_TEXT + "\n"


def test_a_date_a_pattern_reads_inside_an_upload_is_not_used(course, tmp_path):
    """An instructor's pattern may read a date, but one read from inside a student's folder
    (here a sub-folder the student named 2001-...) is the student's: the file's own time
    in the intake is used instead."""
    intake = make_folder(
        tmp_path / "in",
        {
            "jsmith/2001-01-01-00-00-00/beth_workshop.ipynb": ADA,
        },
    )
    pattern = r"^(?P<student>[a-z]+)/(?P<timestamp>[\d-]+)/beth_workshop\.ipynb\Z"
    report = collect(course, intake, now=NOW, patterns=[pattern])
    assert report.filed == {"jsmith": "jsmith/2001-01-01-00-00-00/beth_workshop.ipynb"}
    assert stamp(course, "jsmith") == MTIME_TEXT + "\n"


def test_a_single_lms_named_folder_is_an_upload_not_a_wrapper(course, tmp_path):
    """A Moodle export of one student whose upload holds two folders: the one top folder is
    that student's (Moodle names it), not a class folder to read student folders from."""
    top = "John Smith_12345_assignsubmission_file_"
    intake = make_zip(
        tmp_path / "moodle.zip",
        {
            f"{top}/a/beth_workshop.ipynb": ADA,
            f"{top}/b/beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert sorted(report.conflicts["12345"]) == [
        f"{top}/a/beth_workshop.ipynb",
        f"{top}/b/beth_workshop.ipynb",
    ]
    assert not report.filed


def test_folders_inside_a_students_folder_do_not_name_students(course, tmp_path):
    """The student is the top-level folder of the intake, not the notebook's nearest folder:
    ``carol/week3/upload/`` is carol's, and ``jsmith/mlee/`` cannot file work as mlee's."""
    intake = make_folder(
        tmp_path / "in",
        {
            "carol/week3/upload/beth_workshop.ipynb": ADA,
            "jsmith/mlee/beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert report.filed == {
        "carol": "carol/week3/upload/beth_workshop.ipynb",
        "jsmith": "jsmith/mlee/beth_workshop.ipynb",
    }
    assert not {"upload", "mlee"} & set(os.listdir(course.folder("submitted")))


# --- the report ---------------------------------------------------------------------------


@pytest.fixture
def mixed(course, tmp_path) -> tuple[Course, CollectReport, set[str]]:
    """One intake of every kind of file, collected; and the set of its non-junk files."""
    files = {
        "class/jsmith/beth_workshop.ipynb": ADA,  # filed
        "class/ada/beth_workshop.ipynb": BEN,  # kept, changed
        "class/mlee/beth_workshop.ipynb": ADA,  # conflict
        "class/mlee/Copy of beth_workshop.ipynb": BEN,  # conflict
        "class/Copy of beth_workshop.ipynb": CLEO,  # unmapped
        "class/jsmith (1)/beth_workshop.ipynb": CLEO,  # unmapped (unsafe)
        "class/pkhan/beth_workshop.ipynb": b"not json",  # invalid
        "class/LEE/beth_workshop.ipynb": ADA,  # id conflict (case)
        "class/lee/beth_workshop.ipynb": BEN,  # id conflict (case)
        "class/pkhan2/notes.ipynb": CLEO,  # ignored
        "class/pkhan2/data.csv": b"x\n",  # ignored
        "class/__MACOSX/class/._x": b"\0",  # junk: silent
    }
    intake = make_zip(tmp_path / "mixed.zip", files, date_time=(1980, 1, 1, 0, 0, 0))
    report = collect(course, intake, now=NOW)
    return course, report, {name for name in files if "__MACOSX" not in name}


def test_every_file_lands_in_exactly_one_place_in_the_report(mixed):
    """Nothing in the intake is silently dropped (junk aside) or counted twice."""
    _, report, files = mixed
    places = [
        *report.filed.values(),
        *report.replaced.values(),
        *report.kept.values(),
        *(p for paths in report.conflicts.values() for p in paths),
        *report.id_conflicts,
        *report.unmapped,
        *report.invalid,
        *report.ignored,
    ]
    assert sorted(places) == sorted(files)


def test_report_lines_name_every_file_not_filed_and_what_to_do(mixed):
    """Each file not filed appears in the summary with its reason; --force and --pattern
    are suggested where they help."""
    _, report, files = mixed
    text = "\n".join(report.lines())
    for path in files - {"class/jsmith/beth_workshop.ipynb"}:
        assert path in text, path
    for why in [
        *report.unmapped.values(),
        *report.invalid.values(),
        *report.ignored.values(),
        *report.id_conflicts.values(),
    ]:
        assert why in text
    assert "--force" in text and "--pattern" in text and "differ only by case" in text
    assert text.startswith("filed 1 new submission from ")
    assert report.needs_attention


def test_a_clean_intake_needs_no_attention(course, tmp_path):
    """When everything is filed the summary says what was filed and where its time came
    from, and needs_attention is False."""
    intake = make_folder(tmp_path / "in", {"jsmith/beth_workshop.ipynb": ADA})
    report = collect(course, intake, now=NOW)
    assert not report.needs_attention
    assert report.lines() == [
        f"filed 1 new submission from {tmp_path / 'in'}: jsmith",
        "submission times from: file modification time (1)",
    ]


def test_a_stray_notebook_in_a_zipped_class_folder_is_unmapped(course, tmp_path):
    """A zip whose one folder holds student folders is read from inside that folder: the
    notebook loose in it is in no student's upload, so it is unmapped, not given to 'class'."""
    intake = make_zip(
        tmp_path / "in.zip",
        {
            "class/Copy of beth_workshop.ipynb": CLEO,
            "class/jsmith/beth_workshop.ipynb": ADA,
            "class/mlee/beth_workshop.ipynb": BEN,
        },
    )
    report = collect(course, intake, now=NOW)
    assert "no pattern matches" in report.unmapped["class/Copy of beth_workshop.ipynb"]
    assert report.filed == {
        "jsmith": "class/jsmith/beth_workshop.ipynb",
        "mlee": "class/mlee/beth_workshop.ipynb",
    }
    assert not (course.folder("submitted") / "class").exists()


def test_a_pattern_never_gives_a_folder_of_other_students_to_one(course, tmp_path):
    """With a pattern that reads the nearest folder, ``class/Copy of beth_workshop.ipynb``
    beside ``class/jsmith/...`` would be 'class''s: that folder holds another student, so
    the notebook is unmapped while jsmith's is filed."""
    intake = make_folder(
        tmp_path / "in",
        {
            "class/Copy of beth_workshop.ipynb": CLEO,
            "class/jsmith/beth_workshop.ipynb": ADA,
        },
    )
    nearest = r"(?:^|/)(?P<student>[^/]+)/[^/]+\.ipynb\Z"
    report = collect(course, intake, now=NOW, patterns=[nearest])
    why = report.unmapped["class/Copy of beth_workshop.ipynb"]
    assert "also holds other students' submissions (jsmith)" in why
    assert report.filed == {"jsmith": "class/jsmith/beth_workshop.ipynb"}
    assert not (course.folder("submitted") / "class").exists()
