"""Tests for beth_helpers._schema: the column lists students use to pick columns."""

from __future__ import annotations

import pandas as pd
import pytest

import beth_helpers
from beth_helpers import (
    BETH_COLUMNS,
    FEATURE_COLUMNS,
    load_beth,
    preprocess,
    write_classroom_csv,
)

SEVEN = ["processId", "parentProcessId", "userId", "mountNamespace", "eventId", "argsNum",
         "returnValue"]  # fmt: skip


def test_df_of_feature_columns_selects_the_seven_features(real_rows):
    """A student's natural df[FEATURE_COLUMNS] selects the seven columns, in order."""
    picked = real_rows[FEATURE_COLUMNS]
    assert list(picked.columns) == SEVEN
    pd.testing.assert_frame_equal(picked, real_rows[SEVEN])


def test_feature_columns_combine_and_index_like_a_list(real_rows):
    """FEATURE_COLUMNS + ["evil"] and df.loc[:, FEATURE_COLUMNS] work as with a list."""
    assert list(real_rows[FEATURE_COLUMNS + ["evil"]].columns) == SEVEN + ["evil"]
    assert list(real_rows.loc[:, FEATURE_COLUMNS].columns) == SEVEN


def test_df_of_beth_columns_selects_all_sixteen_in_file_order(real_rows):
    """df[BETH_COLUMNS] gives the 16 columns in the official order (dropping any others)."""
    extended = real_rows.assign(origin="x")[["origin"] + BETH_COLUMNS[::-1]]
    pd.testing.assert_frame_equal(extended[BETH_COLUMNS], real_rows)


@pytest.fixture
def scrambled_lists():
    """Change the public lists in place, as a student's `cols = FEATURE_COLUMNS; cols += [...]`
    would, and put them back afterwards."""
    saved = {
        name: list(getattr(beth_helpers, name)) for name in ("BETH_COLUMNS", "FEATURE_COLUMNS")
    }
    for name in saved:
        columns = getattr(beth_helpers, name)
        columns.reverse()
        columns += ["evil"]
    yield
    for name, columns in saved.items():
        getattr(beth_helpers, name)[:] = columns


def test_changing_the_public_lists_changes_nothing_inside(scrambled_lists, real_rows, tmp_path):
    """preprocess, load_beth and write_classroom_csv use their own copies of the columns."""
    _, X, _ = preprocess(real_rows.head(20))
    assert list(X.columns) == SEVEN
    path = write_classroom_csv(tmp_path / "data.csv", real_rows.head(20))
    header = path.read_text().splitlines()[0].split(",")
    assert header[:2] == ["timestamp", "processId"] and len(header) == 16
    assert list(load_beth(path).columns) == list(real_rows.columns)
