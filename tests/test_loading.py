"""Tests for beth_helpers.loading: reading, checking and writing BETH process-log CSVs."""

from __future__ import annotations

import csv
import gzip
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.api.types import is_object_dtype, is_string_dtype

import beth_helpers
import beth_helpers.loading
from beth_helpers import (
    BETH_COLUMNS,
    KAGGLE_SPLITS,
    build_classroom_csv,
    load_beth,
    load_kaggle_splits,
    load_workshop_data,
    write_classroom_csv,
)

INTEGER_COLUMNS = [
    "processId",
    "threadId",
    "parentProcessId",
    "userId",
    "mountNamespace",
    "eventId",
    "argsNum",
    "returnValue",
    "sus",
    "evil",
]
TEXT_COLUMNS = ["processName", "hostName", "eventName", "stackAddresses", "args"]

# The four source files of the shipped rows, in the order they were concatenated
# (beth_helpers/data/PROVENANCE.md).
SOURCE_FILES = (
    "test_split_rows_host217.csv",
    "testing_head100.csv",
    "training_head100.csv",
    "validation_head100.csv",
)


def _real_data_folder() -> Path | None:
    """Where the original BETH row files are: $BETH_REAL_DATA, else ../shared/data/beth-real."""
    candidates = []
    if os.environ.get("BETH_REAL_DATA"):
        candidates.append(Path(os.environ["BETH_REAL_DATA"]))
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "beth-real")
    for folder in candidates:
        if all((folder / name).is_file() for name in SOURCE_FILES):
            return folder
    return None


REAL_DATA = _real_data_folder()
needs_real_data = pytest.mark.skipif(
    REAL_DATA is None,
    reason="the original BETH row files are not here (set BETH_REAL_DATA to the folder "
    "holding test_split_rows_host217.csv and the *_head100.csv files, or place them in "
    "../shared/data/beth-real)",
)


def _write(rows: pd.DataFrame, path: Path) -> Path:
    rows.to_csv(path, index=False)
    return path


def _with_cell(rows: pd.DataFrame, position: int, column: str, text: str) -> pd.DataFrame:
    """A copy of ``rows`` whose cell (position, column) holds ``text`` as written."""
    table = rows.astype({column: object})
    table.iloc[position, table.columns.get_loc(column)] = text
    return table


def _load_error(path: Path) -> str:
    with pytest.raises(ValueError) as info:
        load_beth(path)
    message = str(info.value)
    assert str(path) in message, f"the message does not name the file: {message}"
    return message


# --- load_beth: good input -------------------------------------------------------------


def test_load_beth_reads_all_real_rows_and_columns(beth_csv):
    """load_beth returns every row of the file with the 16 BETH columns in official order."""
    df = load_beth(beth_csv)
    assert df.shape == (6791, 16)
    assert list(df.columns) == list(BETH_COLUMNS)


def test_load_beth_integer_columns_are_int64(beth_csv):
    """The ten integer fields come back as int64."""
    df = load_beth(beth_csv)
    assert {c: str(df[c].dtype) for c in INTEGER_COLUMNS} == {c: "int64" for c in INTEGER_COLUMNS}


def test_load_beth_timestamp_is_float64(beth_csv):
    """timestamp comes back as float64."""
    assert load_beth(beth_csv)["timestamp"].dtype == np.dtype("float64")


def test_load_beth_text_columns_have_a_string_dtype(beth_csv):
    """The five text fields have a string dtype (object on pandas 2, str on pandas 3)."""
    df = load_beth(beth_csv)
    for column in TEXT_COLUMNS:
        dtype = df[column].dtype
        assert is_string_dtype(dtype) or is_object_dtype(dtype), (column, dtype)
        assert all(isinstance(value, str) for value in df[column]), column


def test_load_beth_values_equal_the_written_rows(beth_csv, real_rows):
    """Reading back what DataFrame.to_csv wrote gives the same values."""
    pd.testing.assert_frame_equal(load_beth(beth_csv), real_rows)


def test_load_beth_reads_gzip_named_csv_gz(tmp_path, beth_csv, real_rows):
    """A gzip-compressed file named .csv.gz is read like the plain file."""
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(beth_csv.read_bytes()))
    pd.testing.assert_frame_equal(load_beth(path), real_rows)


def test_load_beth_reads_gzip_content_under_a_csv_name(tmp_path, beth_csv, real_rows):
    """Gzip content is recognised by its bytes, even under a plain .csv name."""
    path = tmp_path / "compressed_but_named.csv"
    path.write_bytes(gzip.compress(beth_csv.read_bytes()))
    pd.testing.assert_frame_equal(load_beth(path), real_rows)


def test_load_beth_restores_column_order(tmp_path, real_rows):
    """A file whose columns are in another order comes back in the official order."""
    rows = real_rows.head(40)
    path = _write(rows[list(reversed(BETH_COLUMNS))], tmp_path / "reversed.csv")
    df = load_beth(path)
    assert list(df.columns) == list(BETH_COLUMNS)
    pd.testing.assert_frame_equal(df, rows)


def test_load_beth_does_not_modify_the_file(beth_csv):
    """load_beth leaves the file's bytes and modification time as they were."""
    os.utime(beth_csv, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before_bytes = beth_csv.read_bytes()
    before = beth_csv.stat()
    load_beth(beth_csv)
    after = beth_csv.stat()
    assert beth_csv.read_bytes() == before_bytes
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


def test_load_beth_accepts_a_string_path(beth_csv):
    """A path given as str works like a pathlib.Path."""
    assert len(load_beth(str(beth_csv))) == 6791


# --- load_beth: bad input --------------------------------------------------------------


def test_load_beth_missing_file_raises_file_not_found(tmp_path):
    """A path that does not exist raises FileNotFoundError naming it."""
    path = tmp_path / "no_such_data.csv"
    with pytest.raises(FileNotFoundError, match="no_such_data.csv"):
        load_beth(path)


def test_load_beth_folder_raises_value_error(tmp_path):
    """A folder is refused with a ValueError that says it is a folder."""
    message = _load_error(tmp_path)
    assert "folder" in message


def test_load_beth_lists_missing_columns(tmp_path, real_rows):
    """Missing columns are listed by name."""
    path = _write(real_rows.head(5).drop(columns=["eventName", "args"]), tmp_path / "d.csv")
    message = _load_error(path)
    assert "missing columns" in message
    assert "'eventName'" in message and "'args'" in message


def test_load_beth_lists_extra_columns(tmp_path, real_rows):
    """Columns that are not BETH's (say a model score left in) are listed by name."""
    rows = real_rows.head(5).assign(anomaly_score=0.5, model_label=1)
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "unexpected columns" in message
    assert "'anomaly_score'" in message and "'model_label'" in message


def test_load_beth_per_host_file_gets_a_hint(tmp_path, real_rows):
    """A per-host file (no threadId, mountNamespace, stackAddresses) is recognised as one."""
    rows = real_rows.head(5).drop(columns=["threadId", "mountNamespace", "stackAddresses"])
    message = _load_error(_write(rows, tmp_path / "labelled_2021may-ip-10-100-1-4.csv"))
    for column in ("threadId", "mountNamespace", "stackAddresses"):
        assert f"'{column}'" in message
    assert "per-host" in message
    assert "labelled_*_data.csv" in message


def test_load_beth_duplicated_columns(tmp_path, real_rows):
    """A column named twice is reported as duplicated, by name."""
    rows = real_rows.head(5)
    doubled = pd.concat([rows, rows[["processId"]]], axis=1)
    message = _load_error(_write(doubled, tmp_path / "d.csv"))
    assert "duplicated" in message
    assert "'processId'" in message


@pytest.mark.parametrize("column", ["timestamp", "userId", "returnValue"])
def test_load_beth_non_numeric_value_names_column_and_line(tmp_path, real_rows, column):
    """A non-numeric value in a numeric column is reported with its column and file line."""
    position = 12  # data rows start on line 2, after the header line
    rows = _with_cell(real_rows.head(20), position, column, "n/a")
    path = _write(rows, tmp_path / "d.csv")
    lines = path.read_text().splitlines()
    assert len(lines) == 21 and "n/a" in lines[position + 1]  # the file is as intended
    message = _load_error(path)
    assert f"{column!r}" in message
    assert f"line {position + 2} " in message
    assert "'n/a'" in message


def test_load_beth_reports_the_first_bad_line(tmp_path, real_rows):
    """With two bad values in a column, the earlier line is the one reported."""
    rows = _with_cell(real_rows.head(20), 15, "eventId", "x")
    rows = _with_cell(rows, 4, "eventId", "y")
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "line 6 " in message and "'y'" in message


def test_load_beth_empty_cell_in_integer_column(tmp_path, real_rows):
    """An empty cell in an integer column is reported as empty, with its line."""
    rows = _with_cell(real_rows.head(10), 3, "argsNum", "")
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "'argsNum'" in message
    assert "is empty" in message
    assert "line 5 " in message


def test_load_beth_fraction_in_integer_column(tmp_path, real_rows):
    """A value like 1.5 in an integer column is refused, naming column, value and line."""
    rows = _with_cell(real_rows.head(10), 0, "mountNamespace", "1.5")
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "'mountNamespace'" in message
    assert "an integer" in message
    assert "'1.5'" in message
    assert "line 2 " in message


@pytest.mark.parametrize("length, cut", [(80, False), (81, True), (1_000_000, True)])
def test_load_beth_quotes_at_most_80_characters_of_a_bad_value(tmp_path, real_rows, length, cut):
    """A bad value is quoted whole up to 80 characters; a longer one is cut, with its length."""
    value = "7x" + "y" * (length - 2)
    rows = _with_cell(real_rows.head(10), 5, "userId", value)
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "'userId'" in message and "line 7 " in message
    if cut:
        assert f"{value[:80]!r}... ({length:,} characters)" in message
        assert value[:81] not in message
    else:
        assert f"{value!r}" in message and "characters)" not in message
    assert len(message) < len(str(tmp_path)) + 400, len(message)


@pytest.mark.parametrize(
    "value",
    [
        "9223372036854775808",  # 2**63: pandas reads it as uint64, then refuses the cast
        "99999999999999999999",  # beyond uint64: pandas raises OverflowError("Overflow")
        "-9223372036854775809",  # -2**63 - 1
        "1e20",  # written as a float, whole but too large
        "9223372036854775807.0",  # 2**63 - 1, but read through a float it becomes 2**63
    ],
)
def test_load_beth_integer_too_large_names_column_and_line(tmp_path, real_rows, value):
    """A value beyond int64 in an integer column is named with its column, line and range."""
    rows = _with_cell(real_rows.head(10), 6, "processId", value)
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "'processId'" in message
    assert "line 8 " in message
    assert repr(value) in message
    assert "64-bit integer" in message and "9,223,372,036,854,775,807" in message
    assert "Fix or remove that row" in message


def test_load_beth_infinity_in_integer_column(tmp_path, real_rows):
    """'inf' in an integer column is refused as not an integer, naming column and line."""
    rows = _with_cell(real_rows.head(10), 2, "eventId", "inf")
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "'eventId'" in message and "line 4 " in message and "holds 'inf'" in message


@pytest.mark.filterwarnings("error")
def test_load_beth_refuses_infinity_without_a_warning_from_pandas(tmp_path, real_rows):
    """pandas's "invalid value encountered in cast" is not shown before load_beth's own error."""
    rows = _with_cell(real_rows.head(10), 2, "eventId", "inf")
    assert "holds 'inf'" in _load_error(_write(rows, tmp_path / "d.csv"))


def test_load_beth_accepts_the_int64_extremes(tmp_path, real_rows):
    """The largest and smallest int64 values are read exactly, not refused as too large."""
    rows = _with_cell(real_rows.head(10), 1, "returnValue", "9223372036854775807")
    rows = _with_cell(rows, 2, "returnValue", "-9223372036854775808")
    df = load_beth(_write(rows, tmp_path / "d.csv"))
    assert df["returnValue"].iloc[1:3].tolist() == [2**63 - 1, -(2**63)]


def test_load_beth_int64_maximum_is_not_blamed_for_a_later_bad_value(tmp_path, real_rows):
    """With 2**63 - 1 on one line and text on a later one, the text's line is reported."""
    rows = _with_cell(real_rows.head(10), 1, "returnValue", "9223372036854775807")
    rows = _with_cell(rows, 7, "returnValue", "oops")
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "line 9 " in message and "'oops'" in message


def test_load_beth_quotes_little_of_a_huge_first_line(tmp_path):
    """A file whose first line is one huge field (say minified JSON) is refused in few words."""
    path = tmp_path / "data.csv"
    path.write_text('{"rows": "' + "x" * 1_000_000 + '"}\n')
    message = _load_error(path)
    assert "does not look like a BETH process-log CSV" in message
    assert "(1,000,012 characters)" in message  # the whole line is one field
    assert len(message) < len(str(path)) + 1000, len(message)


@pytest.mark.parametrize("kind", ["extra", "duplicated"])
def test_load_beth_lists_at_most_ten_bad_column_names(tmp_path, real_rows, kind):
    """Hundreds of long extra or duplicated column names are listed as ten, each cut short."""
    rows = real_rows.head(3)
    others = pd.DataFrame({f"score_{i}_" + "z" * 500: [0.5] * 3 for i in range(200)})
    if kind == "duplicated":  # each of them twice: to_csv writes each name twice
        others = pd.concat([others, others], axis=1)
    message = _load_error(_write(pd.concat([rows, others], axis=1), tmp_path / "d.csv"))
    assert ("unexpected columns" if kind == "extra" else "duplicated") in message
    assert len(message) < len(str(tmp_path)) + 2500, len(message)


@pytest.mark.parametrize("function", ["load_beth", "load_kaggle_splits", "write_classroom_csv"])
def test_file_contents_passed_as_a_path_are_refused_briefly(beth_csv, function):
    """The text of data.csv passed where its path belongs is refused, quoting its start only."""
    text = beth_csv.read_text()  # about 2 MB
    with pytest.raises(ValueError) as info:
        getattr(beth_helpers, function)(text)
    message = str(info.value)
    assert message.startswith(f"{function}: expected the path of ")
    assert f"({len(text):,} characters)" in message
    assert len(message) < 400, len(message)


def test_load_kaggle_splits_quotes_unknown_split_names_briefly(kaggle_folder):
    """A huge unknown split name is quoted in part."""
    with pytest.raises(ValueError) as info:
        load_kaggle_splits(kaggle_folder, splits=["t" * 100_000])
    assert "(100,000 characters)" in str(info.value) and len(str(info.value)) < 400


def test_load_beth_label_other_than_0_or_1(tmp_path, real_rows):
    """An evil label of 2 is refused, naming the column, the value and the line."""
    rows = real_rows.head(10).copy()
    rows.iloc[7, rows.columns.get_loc("evil")] = 2
    message = _load_error(_write(rows, tmp_path / "d.csv"))
    assert "'evil'" in message
    assert "0 or 1" in message
    assert "holds 2" in message
    assert "(line 9)" in message


def test_load_beth_empty_file(tmp_path):
    """An empty file is refused as empty."""
    path = tmp_path / "data.csv"
    path.write_bytes(b"")
    assert "empty" in _load_error(path)


def test_load_beth_header_only_file(tmp_path):
    """A file with the header line and no rows is refused, saying it has no rows."""
    path = tmp_path / "data.csv"
    path.write_text(",".join(BETH_COLUMNS) + "\n")
    assert "no rows" in _load_error(path)


def test_load_beth_binary_file(tmp_path):
    """A binary file that is not UTF-8 text is refused as not a text CSV."""
    path = tmp_path / "picture.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    message = _load_error(path)
    assert "not a text CSV" in message and "UTF-8" in message


def test_load_beth_zip_file(tmp_path, beth_csv):
    """The zipped Kaggle download is refused with advice to unzip it."""
    path = tmp_path / "beth-dataset.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(beth_csv, KAGGLE_SPLITS["testing"])
    message = _load_error(path)
    assert "zip" in message and "Unzip" in message


@pytest.mark.parametrize("kind", ["notebook", "json_records"])
def test_load_beth_json_file(tmp_path, real_rows, kind):
    """A JSON file (a notebook, or rows exported as JSON) is refused as not a BETH CSV."""
    path = tmp_path / "data.csv"
    if kind == "notebook":
        notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        path.write_text(json.dumps(notebook, indent=1))
    else:
        path.write_text(real_rows.head(3).to_json(orient="records"))
    message = _load_error(path)
    assert "does not look like a BETH process-log CSV" in message


@pytest.mark.parametrize("change", ["extra_field", "cut_short"])
def test_load_beth_ragged_row(tmp_path, real_rows, change):
    """A row with too many or too few fields is refused, naming its line."""
    path = _write(real_rows.head(6), tmp_path / "d.csv")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    # Data row 3, line 4 of the file, gets one field more or loses its last six.
    rows[3] = rows[3] + ["1"] if change == "extra_field" else rows[3][:10]
    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    message = _load_error(path)
    assert "line 4" in message


# --- load_workshop_data ----------------------------------------------------------------


def test_workshop_data_has_6791_rows_6201_evil(real_rows):
    """The shipped data holds 6,791 rows, 6,201 of them evil (PROVENANCE.md)."""
    assert real_rows.shape == (6791, 16)
    assert int(real_rows["evil"].sum()) == 6201
    assert int((real_rows["evil"] == 0).sum()) == 590


def test_workshop_data_blocks_match_provenance():
    """Each origin block has the row, evil and sus counts PROVENANCE.md states, in file order."""
    df = load_workshop_data(with_origin=True)
    assert list(df.columns) == list(BETH_COLUMNS) + ["origin"]
    block = (df["origin"] != df["origin"].shift()).cumsum()
    counts = df.groupby(block, sort=True).agg(
        rows=("evil", "size"), evil=("evil", "sum"), sus=("sus", "sum")
    )
    # rows 1-6,491 / 6,492-6,591 / 6,592-6,691 / 6,692-6,791 of PROVENANCE.md's table
    assert counts.to_numpy().tolist() == [
        [6491, 6197, 6489],
        [100, 4, 13],
        [100, 0, 100],
        [100, 0, 4],
    ]


def test_workshop_data_hosts_match_sources(real_rows_by_origin):
    """Hosts per block are those SOURCES.md lists (host 217; three training hosts; host 129)."""
    hosts = {name: set(rows["hostName"]) for name, rows in real_rows_by_origin.items()}
    assert hosts == {
        "host217": {"ip-10-100-1-217"},
        "testing_head": {"ip-10-100-1-217"},
        "training_head": {"ip-10-100-1-120", "ip-10-100-1-173", "ip-10-100-1-28"},
        "validation_head": {"ip-10-100-1-129"},
    }


def test_workshop_data_origin_is_optional(real_rows):
    """Without with_origin the frame has exactly the 16 BETH columns."""
    assert "origin" not in real_rows.columns


def test_workshop_data_checksum_failure_raises(monkeypatch):
    """A packaged file whose SHA-256 differs from the pinned one raises RuntimeError."""
    monkeypatch.setattr(beth_helpers.loading, "_WORKSHOP_SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="damaged.*reinstall"):
        load_workshop_data()


@needs_real_data
def test_workshop_data_equals_the_original_files(real_rows):
    """The shipped rows equal the four original files, read by plain pandas, in order."""
    originals = pd.concat(
        [pd.read_csv(REAL_DATA / name) for name in SOURCE_FILES], ignore_index=True
    )
    pd.testing.assert_frame_equal(real_rows, originals)


@needs_real_data
def test_workshop_file_is_the_original_bytes():
    """The packaged file is the original files' lines, header once, line endings made \\n."""
    expected = b""
    for i, name in enumerate(SOURCE_FILES):
        lines = (REAL_DATA / name).read_bytes().splitlines()
        expected += b"".join(line + b"\n" for line in (lines if i == 0 else lines[1:]))
    packaged = beth_helpers.loading._workshop_resource().read_bytes()
    assert gzip.decompress(packaged) == expected


# --- write_classroom_csv ---------------------------------------------------------------


def test_write_classroom_csv_round_trip(tmp_path, real_rows):
    """By default it writes the shipped rows, and load_beth reads them back unchanged."""
    path = write_classroom_csv(tmp_path / "data.csv")
    assert path == tmp_path / "data.csv"
    pd.testing.assert_frame_equal(load_beth(path), real_rows)


def test_write_classroom_csv_writes_given_data(tmp_path, real_rows):
    """Given rows are written in the official column order, extra columns left out."""
    rows = real_rows.iloc[100:130].assign(origin="x")[["origin"] + list(BETH_COLUMNS[::-1])]
    path = write_classroom_csv(tmp_path / "data.csv", rows)
    assert path.read_text().splitlines()[0] == ",".join(BETH_COLUMNS)
    expected = real_rows.iloc[100:130].reset_index(drop=True)
    pd.testing.assert_frame_equal(load_beth(path), expected)


def test_write_classroom_csv_refuses_to_overwrite(tmp_path):
    """An existing file is refused with FileExistsError and its bytes are left unchanged."""
    path = tmp_path / "data.csv"
    path.write_bytes(b"a student's own file\n")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_classroom_csv(path)
    assert path.read_bytes() == b"a student's own file\n"


def test_write_classroom_csv_overwrite_replaces(tmp_path, real_rows):
    """overwrite=True replaces an existing file."""
    path = tmp_path / "data.csv"
    path.write_bytes(b"old\n")
    write_classroom_csv(path, real_rows.head(3), overwrite=True)
    pd.testing.assert_frame_equal(load_beth(path), real_rows.head(3))


def test_write_classroom_csv_missing_folder(tmp_path):
    """A path in a folder that does not exist raises FileNotFoundError naming the folder."""
    folder = tmp_path / "no_such_folder"
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        write_classroom_csv(folder / "data.csv")
    assert not folder.exists()


def test_write_classroom_csv_data_lacking_columns(tmp_path, real_rows):
    """Data without all 16 columns (say after preprocess) is refused, listing what is missing."""
    rows = real_rows.head(3).drop(columns=["threadId", "args"])
    with pytest.raises(ValueError, match=r"\['threadId', 'args'\]"):
        write_classroom_csv(tmp_path / "data.csv", rows)
    assert list(tmp_path.iterdir()) == []


def test_write_classroom_csv_leaves_no_temp_files(tmp_path, real_rows):
    """After a write the folder holds the written file and nothing else."""
    write_classroom_csv(tmp_path / "data.csv", real_rows.head(5))
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


def test_write_classroom_csv_file_mode_is_that_of_open(tmp_path, real_rows):
    """The file gets the permissions a plain open() gives, not a temp file's private 0600."""
    reference = tmp_path / "reference.txt"
    reference.write_text("")
    path = write_classroom_csv(tmp_path / "data.csv", real_rows.head(3))
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


def test_write_classroom_csv_failed_write_leaves_nothing(tmp_path, real_rows, monkeypatch):
    """A write that fails half-way leaves neither the target nor a temporary file."""

    def broken_to_csv(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken_to_csv)
    with pytest.raises(OSError, match="disk full"):
        write_classroom_csv(tmp_path / "data.csv", real_rows.head(5))
    assert list(tmp_path.iterdir()) == []


# --- load_kaggle_splits ----------------------------------------------------------------


def test_load_kaggle_splits_reads_the_three_files(kaggle_folder, real_rows_by_origin):
    """The three splits are read by their official names, each with its own rows."""
    splits = load_kaggle_splits(kaggle_folder)
    blocks = real_rows_by_origin
    expected = {
        "training": blocks["training_head"],
        "validation": blocks["validation_head"],
        "testing": pd.concat([blocks["host217"], blocks["testing_head"]]),
    }
    assert sorted(splits) == ["testing", "training", "validation"]
    for name, rows in expected.items():
        pd.testing.assert_frame_equal(splits[name], rows.reset_index(drop=True), obj=name)


def test_load_kaggle_splits_reads_only_the_asked_splits(kaggle_folder):
    """splits=["validation"] reads that file alone."""
    splits = load_kaggle_splits(kaggle_folder, splits=["validation"])
    assert list(splits) == ["validation"]
    assert len(splits["validation"]) == 100


def test_load_kaggle_splits_accepts_csv_gz(kaggle_folder, real_rows_by_origin):
    """A .csv.gz copy is read in place of the .csv file."""
    plain = kaggle_folder / KAGGLE_SPLITS["validation"]
    packed = kaggle_folder / (KAGGLE_SPLITS["validation"] + ".gz")
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    splits = load_kaggle_splits(kaggle_folder)
    expected = real_rows_by_origin["validation_head"].reset_index(drop=True)
    pd.testing.assert_frame_equal(splits["validation"], expected)


def test_load_kaggle_splits_missing_file_lists_what_is_there(kaggle_folder):
    """A missing split file is named, and the message lists the files that are there."""
    (kaggle_folder / KAGGLE_SPLITS["training"]).unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_kaggle_splits(kaggle_folder)
    message = str(info.value)
    assert "lacks ['labelled_training_data.csv']" in message
    assert "'labelled_testing_data.csv'" in message
    assert "'labelled_validation_data.csv'" in message


def test_load_kaggle_splits_unknown_split_name(kaggle_folder):
    """An unknown split name is refused, listing the valid ones."""
    with pytest.raises(ValueError, match=r"unknown splits \['test'\].*'testing'"):
        load_kaggle_splits(kaggle_folder, splits=["test"])


def test_load_kaggle_splits_not_a_folder(kaggle_folder):
    """A file, or a path that does not exist, is refused as not a folder."""
    for path in (kaggle_folder / KAGGLE_SPLITS["testing"], kaggle_folder / "nothing_here"):
        with pytest.raises(FileNotFoundError, match="is not a folder"):
            load_kaggle_splits(path)


# --- build_classroom_csv ---------------------------------------------------------------


def test_build_classroom_csv_rows_and_evil_share(kaggle_folder, tmp_path):
    """The file has n rows, round(n * pct_evil) of them evil."""
    path = build_classroom_csv(
        kaggle_folder, tmp_path / "data.csv", n=250, pct_evil=0.3, random_state=0
    )
    df = load_beth(path)
    assert len(df) == 250
    assert int(df["evil"].sum()) == 75  # 250 * 0.3


def test_build_classroom_csv_evil_rows_only_from_testing(tmp_path, real_rows_by_origin):
    """Evil rows come from the testing split even when another split holds evil rows too."""
    blocks = real_rows_by_origin
    attack = blocks["host217"]
    folder = tmp_path / "kaggle"
    folder.mkdir()
    # Half of the real attack rows are filed under training, so the code must choose.
    testing = pd.concat([attack.iloc[::2], blocks["testing_head"]])
    training = pd.concat([blocks["training_head"], attack.iloc[1::2]])
    testing.to_csv(folder / KAGGLE_SPLITS["testing"], index=False)
    training.to_csv(folder / KAGGLE_SPLITS["training"], index=False)
    blocks["validation_head"].to_csv(folder / KAGGLE_SPLITS["validation"], index=False)

    out = build_classroom_csv(folder, tmp_path / "data.csv", n=2000, pct_evil=0.9, random_state=1)
    df = load_beth(out)
    evil_rows = set(df[df["evil"] == 1].itertuples(index=False, name=None))
    testing_rows = set(testing.itertuples(index=False, name=None))
    assert len(evil_rows) > 0
    assert evil_rows <= testing_rows


def test_build_classroom_csv_is_reproducible(kaggle_folder, tmp_path):
    """The same random_state gives a byte-identical file."""
    a = build_classroom_csv(kaggle_folder, tmp_path / "a.csv", n=200, pct_evil=0.5, random_state=7)
    b = build_classroom_csv(kaggle_folder, tmp_path / "b.csv", n=200, pct_evil=0.5, random_state=7)
    assert a.read_bytes() == b.read_bytes()


def test_build_classroom_csv_differs_with_another_seed(kaggle_folder, tmp_path):
    """Another random_state gives a different file."""
    a = build_classroom_csv(kaggle_folder, tmp_path / "a.csv", n=200, pct_evil=0.5, random_state=7)
    b = build_classroom_csv(kaggle_folder, tmp_path / "b.csv", n=200, pct_evil=0.5, random_state=8)
    assert a.read_bytes() != b.read_bytes()


def test_build_classroom_csv_refuses_existing_path_before_reading(
    kaggle_folder, tmp_path, monkeypatch
):
    """An existing target is refused before any split is read, and is left unchanged."""

    def must_not_read(*args, **kwargs):
        raise AssertionError("build_classroom_csv read the splits before checking the path")

    monkeypatch.setattr(beth_helpers.loading, "load_kaggle_splits", must_not_read)
    monkeypatch.setattr(beth_helpers.loading, "load_beth", must_not_read)
    path = tmp_path / "data.csv"
    path.write_bytes(b"keep\n")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        build_classroom_csv(kaggle_folder, path, n=10, pct_evil=0.5, random_state=0)
    assert path.read_bytes() == b"keep\n"


def test_build_classroom_csv_names_a_missing_folder_before_an_existing_target(tmp_path):
    """A wrong folder is reported as such, not as "pass overwrite=True" for the target."""
    path = tmp_path / "data.csv"
    path.write_bytes(b"keep\n")
    with pytest.raises(FileNotFoundError, match="beth-dataset is not a folder .nothing exists"):
        build_classroom_csv(tmp_path / "beth-dataset", path, n=10, pct_evil=0.5)
    assert path.read_bytes() == b"keep\n"


def test_load_beth_truncated_gzip_is_a_clear_error(real_rows, tmp_path):
    """A .csv.gz cut short in transfer gets a ValueError naming the file, not a bare EOFError."""
    whole = gzip.compress(real_rows.to_csv(index=False).encode())
    path = tmp_path / "data.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"data\.csv\.gz.*damaged or cut short"):
        load_beth(path)
