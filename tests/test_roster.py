"""Rosters: LMS CSV files read as the LMSs write them, rows matched on ids, names stored in
nbgrader's student table; names from the download's lms.json."""

from __future__ import annotations

import json
import warnings

import pytest

from beth_course.cli import main
from beth_course.course import Course, CourseError
from beth_course.lms_csv import read_table, write_table
from beth_course.roster import import_roster, read_roster, record_download

from .helpers import TINY, submit

CANVAS_HEADER = (
    '"Student","ID","SIS User ID","SIS Login ID","Section","tiny (4242)","Current Score"\n'
)


@pytest.fixture
def course(tiny_copy) -> Course:
    """A private copy of the released tiny course (conftest's ``tiny_copy``), no students yet."""
    return tiny_copy


def add_students(course: Course, *students: str) -> None:
    """Put students with a submission of ``tiny`` into the gradebook, as grading does."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes on nbgrader's API
        for student in students:
            gb.update_or_create_student(student)
            gb.update_or_create_submission(TINY, student)


def student(course: Course, student_id: str) -> dict:
    """nbgrader's record of one student, as a dict."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        return gb.find_student(student_id).to_dict()


def write_lms_json(course: Course, student_id: str, **said) -> None:
    """What collect writes beside a filed notebook."""
    folder = course.folder("submitted", student_id)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "name": None,
        "email": None,
        "lms_user_id": None,
        "late_marker": False,
        "time_source": "zip entry",
        **said,
    }
    (folder / "lms.json").write_text(json.dumps(record), encoding="utf-8")


# -- reading LMS files ----------------------------------------------------------------------


def test_read_table_reads_blackboards_utf16_tab_download(tmp_path):
    """Blackboard's .xls download is UTF-16 with tabs: read as columns, not one long cell."""
    path = tmp_path / "gc.xls"
    path.write_bytes(
        '"Last Name"\t"First Name"\t"Username"\n"Núñez"\t"José"\t"jnunez"\n'.encode("utf-16")
    )
    table = read_table(path)
    assert (table.header, table.rows, table.delimiter) == (
        ["Last Name", "First Name", "Username"],
        [["Núñez", "José", "jnunez"]],
        "\t",
    )


def test_a_table_written_back_unchanged_is_byte_identical(tmp_path):
    """BOM, semicolons, CRLF and quoting where needed (as Canvas writes, with Ruby's CSV)
    survive a read and a write: Canvas reads back the file as it made it."""
    original = (
        '\ufeffStudent;ID;tiny (4242)\r\nSmith, Ann;12345;3,5\r\n"O;Neil, Kim";2;\r\n'.encode()
    )
    (tmp_path / "in.csv").write_bytes(original)
    write_table(read_table(tmp_path / "in.csv"), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == original


def test_write_table_keeps_an_existing_file_without_force(tmp_path):
    """An existing output is never overwritten unless asked."""
    (tmp_path / "in.csv").write_text("a,b\n1,2\n")
    (tmp_path / "out.csv").write_text("mine")
    with pytest.raises(CourseError, match="pass --force"):
        write_table(read_table(tmp_path / "in.csv"), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "mine"


def test_read_table_refuses_text_in_another_encoding(tmp_path):
    """A file a spreadsheet re-saved as Windows-1252 is refused with what to do, not misread."""
    (tmp_path / "r.csv").write_bytes("Student,ID\nNúñez,1\n".encode("cp1252"))
    with pytest.raises(CourseError, match='"CSV UTF-8"'):
        read_table(tmp_path / "r.csv")


# -- roster layouts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, layout, key, first, last",
    [
        (
            CANVAS_HEADER + '"Smith, Ann","12345","S1","asmith","A","",""\n',
            "Canvas gradebook export",
            "12345",
            "Ann",
            "Smith",
        ),
        (
            '"LastName","FirstName","ID","SIS Login ID","Section"\n"Smith","Ann","12345","a","A"\n',
            "Canvas gradebook export",
            "12345",
            "Ann",
            "Smith",
        ),
        (
            '"Identifier","Full name","Email address","Status","Grade"\n'
            '"Participant 777","Ann Smith","ann@uni.example","Submitted",""\n',
            "Moodle grading worksheet",
            "777",
            "",
            "Ann Smith",
        ),
        (
            '"First name","Surname","ID number","Email address"\n"Ann","Smith","S1","Ann@Uni.example"\n',
            "Moodle participants list",
            "ann@uni.example",
            "Ann",
            "Smith",
        ),
        (
            '"Last Name","First Name","Username","Student ID","Last Access","Availability"\n'
            '"Smith","Ann","asmith","S1","",""\n',
            "Blackboard Grade Centre download",
            "asmith",
            "Ann",
            "Smith",
        ),
    ],
)
def test_each_lms_roster_layout_gives_its_key_and_the_name(
    tmp_path, text, layout, key, first, last
):
    """Each layout is told by its header; the key is the id collect files under (Moodle's
    participant id from "Participant 777"; the email for Moodle's participants list)."""
    (tmp_path / "r.csv").write_text(text, encoding="utf-8")
    found, (row,) = read_roster(tmp_path / "r.csv")
    assert (found.name, row.key, row.person.first_name, row.person.last_name) == (
        layout,
        key,
        first,
        last,
    )


def test_canvas_points_possible_and_manual_posting_rows_are_not_people(tmp_path):
    """Canvas's own extra rows (as its importer skips them) are neither matched nor listed."""
    (tmp_path / "r.csv").write_text(
        CANVAS_HEADER + '"","","","","","Manual Posting",""\n'
        '"    Points Possible","","","","","2","(read only)"\n"Smith, Ann","12345","","","A","",""\n'
    )
    _, rows = read_roster(tmp_path / "r.csv")
    assert [r.key for r in rows] == ["12345"]


def test_a_canvas_name_quoted_against_formulas_is_read_as_the_name(tmp_path):
    """Canvas writes a name starting with "=" as ="...": the name is what is inside."""
    (tmp_path / "r.csv").write_text(CANVAS_HEADER + '"=""=cmd, Ann""","12345","","","A","",""\n')
    _, (row,) = read_roster(tmp_path / "r.csv")
    assert (row.person.first_name, row.person.last_name) == ("Ann", "=cmd")


def test_an_unknown_roster_is_refused_naming_the_layouts_read(tmp_path):
    """A CSV of no known layout says which headers each LMS roster has."""
    (tmp_path / "r.csv").write_text("name,score\nAnn,3\n")
    with pytest.raises(CourseError, match="Canvas gradebook export: Student, ID"):
        read_roster(tmp_path / "r.csv")


# -- importing into the gradebook -------------------------------------------------------------


def test_a_canvas_roster_names_students_filed_under_their_canvas_id(course, tmp_path):
    """Names go into nbgrader's student table, split as Canvas writes them; the LMS id too."""
    add_students(course, "12345")
    (tmp_path / "r.csv").write_text(
        CANVAS_HEADER + '"Smith, Ann","12345","S1","asmith","A","",""\n'
    )
    report = import_roster(course, tmp_path / "r.csv")
    assert report.named == {"12345": "Smith, Ann"} and not report.needs_attention
    record = student(course, "12345")
    assert (record["first_name"], record["last_name"], record["lms_user_id"]) == (
        "Ann",
        "Smith",
        "12345",
    )


def test_rows_without_a_student_and_students_without_a_row_are_listed(course, tmp_path):
    """Both sides of a mismatch are reported; the unmatched student keeps no name."""
    add_students(course, "12345", "23456")
    (tmp_path / "r.csv").write_text(
        CANVAS_HEADER + '"Smith, Ann","12345","","","A","",""\n'
        '"Lee, Emma","345678","","","A","",""\n'
    )
    report = import_roster(course, tmp_path / "r.csv")
    assert report.unmatched == ["Lee, Emma (ID 345678)"] and report.missing == ["23456"]
    assert report.needs_attention and student(course, "23456")["last_name"] is None


def test_a_name_is_never_used_as_a_key(course, tmp_path):
    """A student filed under a folder made from "Ann Smith" is not matched to Canvas's
    "Smith, Ann": ids differ, so both are listed and nothing is written."""
    add_students(course, "ann_smith")
    write_lms_json(course, "ann_smith", name="Ann Smith")
    (tmp_path / "r.csv").write_text(CANVAS_HEADER + '"Smith, Ann","12345","","","A","",""\n')
    report = import_roster(course, tmp_path / "r.csv")
    assert report.named == {} and report.missing == ["ann_smith"]
    assert report.unmatched == ["Smith, Ann (ID 12345)"]


def test_an_id_given_by_two_rows_names_nobody(course, tmp_path):
    """Two rows for one id: neither is used, and the clash is said."""
    add_students(course, "12345")
    (tmp_path / "r.csv").write_text(
        CANVAS_HEADER + '"Smith, Ann","12345","","","A","",""\n'
        '"Smith, Anne","12345","","","B","",""\n'
    )
    report = import_roster(course, tmp_path / "r.csv")
    assert report.named == {} and "2 rows give ID '12345'" in report.clashes[0]


def test_the_moodle_worksheet_names_participants_and_keeps_their_email(course, tmp_path):
    """Participant 777 is the student collect filed as 777; the email is stored for export."""
    add_students(course, "777")
    (tmp_path / "w.csv").write_text(
        '"Identifier","Full name","Email address","Status"\n'
        '"Participant 777","Ann Smith","ann@uni.example","Submitted"\n'
    )
    import_roster(course, tmp_path / "w.csv")
    record = student(course, "777")
    assert (record["last_name"], record["email"], record["lms_user_id"]) == (
        "Ann Smith",
        "ann@uni.example",
        "777",
    )


def test_moodles_participants_list_matches_only_an_email_already_known(course, tmp_path):
    """Without a participant id, a row matches by an email from the download; a student
    without one is listed, and the message points at the grading worksheet."""
    add_students(course, "777", "778")
    write_lms_json(course, "777", email="ann@uni.example")
    (tmp_path / "p.csv").write_text(
        '"First name","Last name","Email address"\n'
        '"Ann","Smith","ANN@uni.example"\n"Bob","Jones","bob@uni.example"\n'
    )
    report = import_roster(course, tmp_path / "p.csv")
    assert report.named == {"777": "Smith, Ann"} and report.missing == ["778"]
    assert "grading worksheet" in report.lines()[-1]


def test_a_blackboard_download_names_students_by_user_name(course, tmp_path):
    """Blackboard's UTF-16 tab download matches students filed under their user name."""
    add_students(course, "jnunez")
    (tmp_path / "gc.xls").write_bytes(
        '"Last Name"\t"First Name"\t"Username"\t"Student ID"\n"Núñez"\t"José"\t"jnunez"\t"S1"\n'.encode(
            "utf-16"
        )
    )
    assert import_roster(course, tmp_path / "gc.xls").named == {"jnunez": "Núñez, José"}


def test_a_roster_before_release_says_to_release(tmp_path):
    """No gradebook yet: the error says which command makes it."""
    (tmp_path / "source" / TINY).mkdir(parents=True)
    with pytest.raises(CourseError, match="run beth-course release first"):
        import_roster(Course(tmp_path, TINY, TINY), tmp_path / "r.csv")


# -- names from the download ------------------------------------------------------------------


def test_the_download_fills_a_name_and_email_the_table_lacks(course):
    """lms.json's name (whole, as the last name) and email reach nbgrader's student table."""
    add_students(course, "777")
    write_lms_json(course, "777", name="Ann Smith", email="ann@uni.example", lms_user_id="777")
    record_download(course, "777")
    record = student(course, "777")
    assert (record["first_name"], record["last_name"], record["email"]) == (
        "",
        "Ann Smith",
        "ann@uni.example",
    )


def test_the_download_never_adds_to_a_rosters_name(course, tmp_path):
    """A roster's name, even a single one (first name "Ann", no last name), is kept whole:
    Canvas's download "smithann" does not fill the empty half."""
    add_students(course, "12345")
    (tmp_path / "r.csv").write_text(
        '"LastName","FirstName","ID","SIS Login ID","Section"\n"","Ann","12345","a","A"\n'
    )
    import_roster(course, tmp_path / "r.csv")
    write_lms_json(course, "12345", name="smithann", lms_user_id="12345")
    record_download(course, "12345")
    assert (student(course, "12345")["first_name"], student(course, "12345")["last_name"]) == (
        "Ann",
        "",
    )


def test_a_blackboard_user_name_is_not_taken_for_a_name(course):
    """Blackboard's download "name" is the user name, an id: no name is written."""
    add_students(course, "jnunez")
    write_lms_json(course, "jnunez", name="jnunez", lms_user_id="jnunez")
    record_download(course, "jnunez")
    assert student(course, "jnunez")["last_name"] is None


def test_grading_a_submission_stores_its_downloads_name(course, monkeypatch):
    """autograde writes lms.json's name into the student table when it merges the result
    (the grading itself is replaced by an instant result: no kernel runs)."""
    from beth_course.grading import runner
    from beth_course.grading.worker import GradingResult

    def instant(tasks, workers, finish):
        for task in tasks:
            finish(GradingResult(student=task.student, status="error", reason="not run"))
        return "no process"

    monkeypatch.setattr(runner, "_run_local", instant)
    submit(course, "777", {})
    write_lms_json(course, "777", name="Ann Smith", email="ann@uni.example", lms_user_id="777")
    runner.autograde(course, sandbox=False, progress=False)
    assert (student(course, "777")["last_name"], student(course, "777")["email"]) == (
        "Ann Smith",
        "ann@uni.example",
    )


# -- the command --------------------------------------------------------------------------------


def test_roster_command_prints_who_was_named_and_fails_when_someone_is_not(
    course, tmp_path, capsys
):
    """`beth-course roster FILE` prints both columns and exits 1 while a student is unnamed."""
    add_students(course, "12345", "23456")
    (tmp_path / "r.csv").write_text(CANVAS_HEADER + '"Smith, Ann","12345","","","A","",""\n')
    code = main(
        ["--course", str(course.root), "--assignment", TINY, "roster", str(tmp_path / "r.csv")]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "12345 (Smith, Ann)" in out and "NOT NAMED" in out and "23456" in out
