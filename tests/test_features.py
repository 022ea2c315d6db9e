"""Tests for beth_helpers.features.preprocess: the BETH paper's seven baseline features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from beth_helpers import FEATURE_COLUMNS, preprocess

RAW_FIELDS = FEATURE_COLUMNS + ["evil"]

# Real rows, by position in load_workshop_data(), with their raw values (checked against the
# original files with Python's csv module) and the engineered values worked out by hand from
# the rules: processId/parentProcessId 0 if in {0, 1, 2} else 1; userId 0 if < 1000 else 1;
# mountNamespace 0 if 4026531840 else 1; returnValue its sign; eventId, argsNum unchanged.
HAND_CHECKED = [
    pytest.param(
        6494,
        # systemd (pid 1, parent 0), root, host namespace, openat returning fd 17
        (1, 0, 0, 4026531840, 257, 4, 17, 0),
        (0, 0, 0, 0, 257, 4, 1),
        id="systemd-pid1-root-openat-fd17",
    ),
    pytest.param(
        447,
        # a user's systemd (pid 879, parent 1), user 1000, security_file_open returning 0
        (879, 1, 1000, 4026531840, 1005, 4, 0, 0),
        (1, 0, 1, 0, 1005, 4, 0),
        id="user1000-systemd-parent1-return0",
    ),
    pytest.param(
        6492,
        # systemd-network, user 100, its own mount namespace 4026532231, socket returning 15
        (379, 1, 100, 4026532231, 41, 3, 15, 0),
        (1, 0, 0, 1, 41, 3, 1),
        id="systemd-network-user100-ns4026532231",
    ),
    pytest.param(
        6502,
        # systemd-resolve, user 101, mount namespace 4026532232 (the seed bug's value), close
        (382, 1, 101, 4026532232, 3, 1, 0, 0),
        (1, 0, 0, 1, 3, 1, 0),
        id="systemd-resolve-user101-ns4026532232",
    ),
    pytest.param(
        31,
        # the attack: tsm (pid 7555, parent 7548), user 1001, connect failing with -115
        (7555, 7548, 1001, 4026531840, 42, 3, -115, 1),
        (1, 1, 1, 0, 42, 3, -1),
        id="evil-tsm-user1001-connect-minus115",
    ),
    pytest.param(
        2,
        # the attack: tsm clone returning the new thread id 7615
        (7555, 7548, 1001, 4026531840, 56, 5, 7615, 1),
        (1, 1, 1, 0, 56, 5, 1),
        id="evil-tsm-clone-positive",
    ),
    pytest.param(
        6352,
        # sshd (pid 7307, parent 7102), root, openat failing with -2 (ENOENT), benign
        (7307, 7102, 0, 4026531840, 257, 4, -2, 0),
        (1, 1, 0, 0, 257, 4, -1),
        id="sshd-root-openat-minus2",
    ),
]


@pytest.fixture(scope="module")
def engineered(real_rows):
    """preprocess applied once to all real rows: (df_eng, X, y)."""
    return preprocess(real_rows)


@pytest.mark.parametrize(("position", "raw", "expected"), HAND_CHECKED)
def test_hand_checked_real_rows(real_rows, engineered, position, raw, expected):
    """Engineered values of hand-checked real rows equal the values worked out by hand."""
    assert tuple(real_rows.iloc[position][RAW_FIELDS].tolist()) == raw
    _, X, y = engineered
    assert tuple(X.iloc[position].tolist()) == expected
    assert y[position] == raw[-1]


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        ("processId", [0, 1, 2, 3, 7555], [0, 0, 0, 1, 1]),
        ("parentProcessId", [0, 1, 2, 3, 7548], [0, 0, 0, 1, 1]),
        ("userId", [0, 100, 999, 1000, 1001], [0, 0, 0, 1, 1]),
        ("mountNamespace", [4026531840, 4026531839, 4026531841, 4026532232, 0], [0, 1, 1, 1, 1]),
        ("returnValue", [-115, -1, 0, 1, 7615], [-1, -1, 0, 1, 1]),
        ("eventId", [3, 41, 42, 257, 1005], [3, 41, 42, 257, 1005]),
        ("argsNum", [0, 1, 2, 4, 5], [0, 1, 2, 4, 5]),
    ],
)
def test_rule_boundaries(real_rows, column, raw, expected):
    """Each rule's edge values, set on copies of one real row, map as the paper says."""
    rows = real_rows.iloc[[31] * len(raw)].reset_index(drop=True).assign(**{column: raw})
    _, X, _ = preprocess(rows)
    assert X[column].tolist() == expected


def test_x_has_feature_columns_in_order(engineered):
    """X has exactly the seven FEATURE_COLUMNS, in that order."""
    _, X, _ = engineered
    assert list(X.columns) == [
        "processId",
        "parentProcessId",
        "userId",
        "mountNamespace",
        "eventId",
        "argsNum",
        "returnValue",
    ]


def test_x_columns_are_int64(engineered):
    """Every column of X is int64."""
    _, X, _ = engineered
    assert X.dtypes.tolist() == [np.dtype("int64")] * 7


def test_y_is_1d_int64_array_of_evil(real_rows, engineered):
    """y is a 1-D int64 numpy array equal to the evil column."""
    _, _, y = engineered
    assert type(y) is np.ndarray
    assert y.ndim == 1 and y.dtype == np.dtype("int64")
    np.testing.assert_array_equal(y, real_rows["evil"].to_numpy())


def test_df_eng_is_x_plus_evil(real_rows, engineered):
    """df_eng holds X's columns then evil, with X's values."""
    df_eng, X, y = engineered
    assert list(df_eng.columns) == list(FEATURE_COLUMNS) + ["evil"]
    pd.testing.assert_frame_equal(df_eng[list(FEATURE_COLUMNS)], X)
    np.testing.assert_array_equal(df_eng["evil"].to_numpy(), real_rows["evil"].to_numpy())


def test_other_columns_are_dropped(engineered):
    """timestamp, threadId, the text columns and sus are not in df_eng."""
    df_eng, _, _ = engineered
    dropped = {"timestamp", "threadId", "processName", "hostName", "eventName",
               "stackAddresses", "args", "sus"}  # fmt: skip
    assert dropped.isdisjoint(df_eng.columns)


def test_index_is_preserved(real_rows):
    """X and df_eng keep the input's index, even a non-default one."""
    rows = real_rows.iloc[::97].set_axis([f"row{i}" for i in range(len(real_rows.iloc[::97]))])
    df_eng, X, _ = preprocess(rows)
    pd.testing.assert_index_equal(X.index, rows.index)
    pd.testing.assert_index_equal(df_eng.index, rows.index)


def test_mount_namespace_is_only_0_or_1(real_rows, engineered):
    """mountNamespace is 0 or 1 on every real row: no raw value like 4026532232 survives."""
    _, X, _ = engineered
    assert set(X["mountNamespace"].unique().tolist()) == {0, 1}
    assert not X["mountNamespace"].isin([4026532232, 4026532231, 4026531840]).any()
    other_namespace = (real_rows["mountNamespace"] != 4026531840).to_numpy()
    np.testing.assert_array_equal(X["mountNamespace"].to_numpy() == 1, other_namespace)


def test_input_is_not_mutated(real_rows):
    """preprocess leaves its input's values, dtypes, columns and index unchanged."""
    rows = real_rows.iloc[6400:6600].copy()
    before = rows.copy(deep=True)
    preprocess(rows)
    pd.testing.assert_frame_equal(rows, before)


def test_outputs_do_not_share_memory_with_input(real_rows):
    """Changing X, df_eng or y afterwards leaves the input unchanged."""
    rows = real_rows.head(50).copy()
    before = rows.copy(deep=True)
    df_eng, X, y = preprocess(rows)
    X.loc[:, "eventId"] = -7
    df_eng.loc[:, "argsNum"] = -7
    y[:] = 5
    pd.testing.assert_frame_equal(rows, before)


def test_works_on_plain_read_csv_frames(beth_csv, engineered):
    """Rows read with plain pandas.read_csv give the same features as the loaded rows."""
    df_eng, X, y = preprocess(pd.read_csv(beth_csv))
    expected_eng, expected_X, expected_y = engineered
    pd.testing.assert_frame_equal(X, expected_X)
    pd.testing.assert_frame_equal(df_eng, expected_eng)
    np.testing.assert_array_equal(y, expected_y)


def test_whole_floats_are_accepted(real_rows, engineered):
    """Feature columns stored as whole floats (as after a NaN was dropped) give the same X."""
    rows = real_rows.astype({c: "float64" for c in ("processId", "userId", "returnValue")})
    _, X, _ = preprocess(rows)
    pd.testing.assert_frame_equal(X, engineered[1])


@pytest.mark.parametrize("value", ["array", "series", "list"])
def test_rejects_non_dataframe(real_rows, value):
    """Anything but a DataFrame is refused with a ValueError naming what was given."""
    given = {
        "array": real_rows.head(3).to_numpy(),
        "series": real_rows["evil"],
        "list": [1, 2, 3],
    }[value]
    expected = f"expected a pandas DataFrame, got {type(given).__name__}"
    with pytest.raises(ValueError, match=expected):
        preprocess(given)


def test_missing_columns_are_listed(real_rows):
    """Missing required columns are listed by name."""
    rows = real_rows.head(5).drop(columns=["userId", "evil"])
    with pytest.raises(ValueError, match=r"lacks the columns \['userId', 'evil'\]"):
        preprocess(rows)


def test_missing_value_in_a_feature(real_rows):
    """A NaN in a feature column is refused, naming the column and where it is."""
    rows = real_rows.head(10).astype({"userId": "float64"})
    rows.iloc[4, rows.columns.get_loc("userId")] = np.nan
    with pytest.raises(ValueError, match=r"'userId' has a missing value \(at position 4"):
        preprocess(rows)


def test_missing_value_quotes_a_huge_index_label_briefly(real_rows):
    """A missing value whose index label is a huge string is reported with the label cut."""
    rows = real_rows.head(3).astype({"userId": "float64"})
    rows.index = ["a", "b" * 1_000_000, "c"]
    rows.iloc[1, rows.columns.get_loc("userId")] = np.nan
    with pytest.raises(ValueError) as info:
        preprocess(rows)
    assert "(1,000,000 characters)" in str(info.value) and len(str(info.value)) < 400


def test_non_integer_float_in_a_feature(real_rows):
    """A fractional value like 1.5 in a feature column is refused, naming column and value."""
    rows = real_rows.head(10).astype({"returnValue": "float64"})
    rows.iloc[2, rows.columns.get_loc("returnValue")] = 1.5
    with pytest.raises(ValueError, match=r"'returnValue' must hold whole numbers.*1\.5"):
        preprocess(rows)


def test_string_column_is_refused(real_rows):
    """A feature column holding text (say read with dtype=str) is refused as not numeric."""
    rows = real_rows.head(10).astype({"mountNamespace": str})
    with pytest.raises(ValueError, match="'mountNamespace' must be numeric"):
        preprocess(rows)


def test_preprocess_is_vectorised(real_rows, monkeypatch):
    """preprocess calls no row-wise pandas method (apply, map, iterrows, itertuples): with
    them all made to fail, it still gives the same result."""
    expected = preprocess(real_rows)[1]

    def refuse(*args, **kwargs):
        raise AssertionError("a row-wise pandas method was called")

    for cls, names in (
        (pd.Series, ("apply", "map")),
        (pd.DataFrame, ("apply", "map", "iterrows", "itertuples")),
    ):
        for name in names:
            monkeypatch.setattr(cls, name, refuse)
    pd.testing.assert_frame_equal(preprocess(real_rows)[1], expected)
