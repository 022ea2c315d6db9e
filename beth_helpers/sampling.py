"""Reproducible samples with a chosen share of evil rows."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._quoting import quote


class SampleSizeError(ValueError):
    """:func:`get_sample` was asked for more rows of a class than the data holds.

    A ``ValueError``, so code that catches that still works; the attributes let a caller
    (``beth-course data``, say) explain the problem in its own terms.

    Attributes
    ----------
    n : int
        Rows asked for.
    pct_evil : float
        Share of evil rows asked for.
    available : dict of str to int
        Rows the data holds, keyed ``"evil"`` and ``"benign"``.
    """

    def __init__(self, message: str, *, n: int, pct_evil: float, available: dict[str, int]):
        super().__init__(message)
        self.n = n
        self.pct_evil = pct_evil
        self.available = available


def get_sample(
    df: pd.DataFrame,
    n: int,
    pct_evil: float,
    random_state=None,
    replace: bool = False,
) -> pd.DataFrame:
    """Draw ``n`` rows of which ``round(n * pct_evil)`` are evil, shuffled.

    Evil rows are drawn from the rows with ``evil == 1`` and the rest from the rows with
    ``evil == 0``; the two draws are then shuffled together. The same ``random_state``
    gives the same rows in the same order. Nothing is read from disk and no global seed
    is touched.

    This function does not mutate ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with an ``evil`` column of 0 and 1 (raw or engineered).
    n : int
        Number of rows to return, at least 1.
    pct_evil : float
        Share of evil rows, from 0 to 1. The number of evil rows is Python's
        ``round(n * pct_evil)`` (so half-way cases round to the even number).
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None
        Seed or generator, resolved with :func:`sklearn.utils.check_random_state`
        (a Generator is used to seed a RandomState). ``None`` gives a different sample on
        every call.
    replace : bool, default False
        Draw with replacement, so a class may be asked for more rows than it has. The
        sample then repeats rows; say so where it is used.

    Returns
    -------
    pandas.DataFrame
        ``n`` rows with ``df``'s columns and a fresh index ``0 .. n-1``.

    Raises
    ------
    ValueError
        If ``n`` or ``pct_evil`` is out of range, or ``df`` has no usable ``evil`` column.
    SampleSizeError
        (a ``ValueError``) If a class has fewer rows than asked for and ``replace`` is
        False, or has none at all.

    Examples
    --------
    >>> from beth_helpers import get_sample, load_workshop_data
    >>> sample = get_sample(load_workshop_data(), n=1000, pct_evil=0.5, random_state=0)
    >>> len(sample), int(sample["evil"].sum())
    (1000, 500)
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"get_sample: expected a pandas DataFrame, got {type(df).__name__}.")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(
            f"get_sample: n must be a whole number of rows, at least 1; got {quote(n)}."
        )
    if (
        isinstance(pct_evil, bool)
        or not isinstance(pct_evil, numbers.Real)
        or not 0.0 <= float(pct_evil) <= 1.0
    ):
        raise ValueError(
            f"get_sample: pct_evil must be a share between 0 and 1 (0.01 for 1%); "
            f"got {quote(pct_evil)}."
        )
    if "evil" not in df.columns:
        raise ValueError("get_sample: df has no 'evil' column to sample by.")
    evil = df["evil"].to_numpy()
    if pd.isna(evil).any() or not np.isin(evil, (0, 1)).all():
        raise ValueError("get_sample: the 'evil' column must hold only 0 and 1.")

    n = int(n)
    n_evil = round(n * float(pct_evil))
    n_benign = n - n_evil
    if isinstance(random_state, np.random.Generator):
        random_state = np.random.RandomState(random_state.integers(2**32, dtype=np.uint64))
    rng = check_random_state(random_state)

    classes = {"evil": np.flatnonzero(evil == 1), "benign": np.flatnonzero(evil == 0)}
    picks = []
    for name, wanted in (("evil", n_evil), ("benign", n_benign)):
        rows = classes[name]
        if wanted > len(rows) and (not replace or len(rows) == 0):
            available = f"has {len(rows):,}" if len(rows) else "has none"
            fix = "lower n or pct_evil" + ("" if not len(rows) else ", or pass replace=True")
            raise SampleSizeError(
                f"get_sample: asked for {wanted:,} {name} rows (n={n:,}, "
                f"pct_evil={pct_evil}) but the data {available}; {fix}.",
                n=n,
                pct_evil=float(pct_evil),
                available={c: len(r) for c, r in classes.items()},
            )
        picks.append(rng.choice(rows, size=wanted, replace=replace))
    positions = rng.permutation(np.concatenate(picks))
    return df.iloc[positions].reset_index(drop=True)
