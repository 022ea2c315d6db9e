"""Tests for beth_helpers.sampling.get_sample: reproducible samples with a share of evil rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from beth_helpers import get_sample
from beth_helpers.sampling import SampleSizeError


def _rows(df: pd.DataFrame) -> set[tuple]:
    return set(df.itertuples(index=False, name=None))


@pytest.mark.parametrize(
    ("n", "pct_evil", "n_evil"),
    [
        (1000, 0.5, 500),
        (500, 0.01, 5),
        (300, 0.0, 0),  # benign only
        (300, 1.0, 300),  # evil only
        (7, 0.1, 1),  # 0.7 rounds up
        (10, 0.25, 2),  # 2.5: Python's round goes to the even 2
        (6, 0.25, 2),  # 1.5: to the even 2
        (2, 0.25, 0),  # 0.5: to the even 0
        (1, 0.5, 0),  # 0.5 again, with the smallest n
    ],
)
def test_sample_size_and_evil_count(real_rows, n, pct_evil, n_evil):
    """The sample has exactly n rows, round(n * pct_evil) of them evil."""
    sample = get_sample(real_rows, n=n, pct_evil=pct_evil, random_state=0)
    assert len(sample) == n
    assert int(sample["evil"].sum()) == n_evil


def test_sample_rows_come_from_the_data(real_rows):
    """Every sampled row is a row of the input, unchanged."""
    sample = get_sample(real_rows, n=400, pct_evil=0.5, random_state=0)
    assert _rows(sample) <= _rows(real_rows)


def test_sample_without_replacement_has_no_repeats(real_rows):
    """Without replace, no row is drawn twice."""
    sample = get_sample(real_rows, n=1000, pct_evil=0.41, random_state=3)
    assert not sample.duplicated().any()


def test_same_int_seed_same_sample(real_rows):
    """The same int random_state gives the same rows in the same order."""
    a = get_sample(real_rows, n=300, pct_evil=0.2, random_state=42)
    b = get_sample(real_rows, n=300, pct_evil=0.2, random_state=42)
    pd.testing.assert_frame_equal(a, b)


def test_same_random_state_object_same_sample(real_rows):
    """Two RandomState objects with the same seed give the same sample."""
    a = get_sample(real_rows, n=300, pct_evil=0.2, random_state=np.random.RandomState(5))
    b = get_sample(real_rows, n=300, pct_evil=0.2, random_state=np.random.RandomState(5))
    pd.testing.assert_frame_equal(a, b)


def test_same_generator_seed_same_sample(real_rows):
    """Two numpy Generators with the same seed give the same sample."""
    a = get_sample(real_rows, n=300, pct_evil=0.2, random_state=np.random.default_rng(5))
    b = get_sample(real_rows, n=300, pct_evil=0.2, random_state=np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b)


def test_different_seeds_different_samples(real_rows):
    """Different seeds give different samples."""
    a = get_sample(real_rows, n=300, pct_evil=0.2, random_state=1)
    b = get_sample(real_rows, n=300, pct_evil=0.2, random_state=2)
    assert not a.equals(b)


def test_sample_is_shuffled(real_rows):
    """Evil and benign rows are mixed, not one class first."""
    sample = get_sample(real_rows, n=1000, pct_evil=0.5, random_state=0)
    first_half = sample["evil"].iloc[:500]
    assert 0 < int(first_half.sum()) < 500


def test_index_is_reset(real_rows):
    """The sample has a fresh index 0 .. n-1."""
    sample = get_sample(real_rows.iloc[::-1], n=250, pct_evil=0.5, random_state=0)
    pd.testing.assert_index_equal(sample.index, pd.RangeIndex(250))


def test_columns_are_kept(real_rows):
    """The sample has the input's columns and dtypes."""
    sample = get_sample(real_rows, n=50, pct_evil=0.5, random_state=0)
    pd.testing.assert_series_equal(sample.dtypes, real_rows.dtypes)


def test_input_is_not_mutated(real_rows):
    """get_sample leaves its input unchanged."""
    rows = real_rows.iloc[6000:6791].copy()
    before = rows.copy(deep=True)
    get_sample(rows, n=300, pct_evil=0.5, random_state=0)
    pd.testing.assert_frame_equal(rows, before)


def test_replace_allows_oversampling(real_rows):
    """replace=True draws more benign rows than exist (590), repeating rows."""
    sample = get_sample(real_rows, n=2000, pct_evil=0.0, random_state=0, replace=True)
    assert len(sample) == 2000 and int(sample["evil"].sum()) == 0
    assert sample.duplicated().any()
    assert _rows(sample) <= _rows(real_rows)


def test_too_few_benign_rows_message(real_rows):
    """Asking for 1,000 benign rows of 590 says so, and suggests what to change."""
    with pytest.raises(ValueError) as info:
        get_sample(real_rows, n=2000, pct_evil=0.5)
    message = str(info.value)
    assert "asked for 1,000 benign rows" in message
    assert "has 590" in message
    assert "lower n or pct_evil" in message and "replace=True" in message


def test_too_few_evil_rows_message(real_rows):
    """Asking for 6,250 evil rows of 6,201 says so, and suggests what to change."""
    with pytest.raises(ValueError) as info:
        get_sample(real_rows, n=12_500, pct_evil=0.5)
    message = str(info.value)
    assert "asked for 6,250 evil rows" in message
    assert "has 6,201" in message
    assert "lower n or pct_evil" in message and "replace=True" in message


def test_too_few_rows_error_carries_the_counts(real_rows):
    """The error is a SampleSizeError (a ValueError) holding n, pct_evil and both class sizes."""
    with pytest.raises(SampleSizeError) as info:
        get_sample(real_rows, n=2000, pct_evil=0.5)
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.n, error.pct_evil, error.available) == (2000, 0.5, {"evil": 6201, "benign": 590})


def test_absent_class_fails_even_with_replace(real_rows):
    """With no evil rows at all, replace=True cannot help, and the message does not offer it."""
    benign = real_rows[real_rows["evil"] == 0]
    with pytest.raises(ValueError) as info:
        get_sample(benign, n=10, pct_evil=0.5, replace=True)
    message = str(info.value)
    assert "asked for 5 evil rows" in message and "has none" in message
    assert "replace=True" not in message


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "10", None])
def test_invalid_n(real_rows, n):
    """n must be a whole number of at least 1 (not a bool, float or string)."""
    with pytest.raises(ValueError, match="n must be a whole number of rows"):
        get_sample(real_rows, n=n, pct_evil=0.5, random_state=0)


@pytest.mark.parametrize("pct_evil", [-0.1, 1.5, "0.5", True, float("nan"), None])
def test_invalid_pct_evil(real_rows, pct_evil):
    """pct_evil must be a number from 0 to 1 (not a bool or string)."""
    with pytest.raises(ValueError, match="pct_evil must be a share between 0 and 1"):
        get_sample(real_rows, n=10, pct_evil=pct_evil, random_state=0)


@pytest.mark.parametrize("argument", ["n", "pct_evil"])
def test_invalid_argument_is_quoted_briefly(real_rows, argument):
    """A huge invalid n or pct_evil (a long string, a long list) is quoted in part."""
    for value in ("7" * 100_000, list(range(100_000))):
        kwargs = {"n": 10, "pct_evil": 0.5, argument: value}
        with pytest.raises(ValueError) as info:
            get_sample(real_rows, **kwargs)
        assert len(str(info.value)) < 300, len(str(info.value))


def test_numpy_integer_n_is_accepted(real_rows):
    """n may be a numpy integer, as len() arithmetic on arrays gives."""
    sample = get_sample(real_rows, n=np.int64(20), pct_evil=0.5, random_state=0)
    assert len(sample) == 20


def test_missing_evil_column(real_rows):
    """Data without an evil column is refused, naming the column."""
    with pytest.raises(ValueError, match="no 'evil' column"):
        get_sample(real_rows.drop(columns="evil"), n=10, pct_evil=0.5, random_state=0)


def test_evil_column_with_other_values(real_rows):
    """An evil column holding anything but 0 and 1 is refused."""
    rows = real_rows.head(20).assign(evil=2)
    with pytest.raises(ValueError, match="only 0 and 1"):
        get_sample(rows, n=10, pct_evil=0.5, random_state=0)


def test_global_numpy_random_state_untouched(real_rows):
    """Sampling with a seed or RandomState neither seeds nor draws from numpy's global RNG."""
    before = np.random.get_state()
    get_sample(real_rows, n=100, pct_evil=0.5, random_state=0)
    get_sample(real_rows, n=100, pct_evil=0.5, random_state=np.random.RandomState(1))
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]
