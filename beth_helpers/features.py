"""Feature engineering as the BETH authors recommend it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ._quoting import quote
from ._schema import _FEATURE_COLUMNS, FIRST_LOGIN_USER_ID, HOST_MOUNT_NAMESPACE, OS_PROCESS_IDS


def preprocess(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Engineer the seven baseline features of the BETH paper.

    Applies the recommendations of Highnam et al. (2021), section 4:

    - ``processId``, ``parentProcessId``: 0 if the value is 0, 1 or 2 (the operating
      system's own processes), else 1;
    - ``userId``: 0 if below 1000 (system accounts), else 1 (login users);
    - ``mountNamespace``: 0 if it is 4026531840 (the host's initial mount namespace),
      else 1;
    - ``returnValue``: -1 if negative (an error), 0 if zero, 1 if positive;
    - ``eventId`` and ``argsNum`` are kept as they are.

    Every other column is dropped: ``timestamp``, ``threadId``, ``processName``,
    ``hostName``, ``eventName``, ``stackAddresses``, ``args`` and the ``sus`` label, as the
    paper's baselines do (the seed workshop's text said ``threadId`` was kept, but its code
    dropped it; it is dropped here, on purpose).

    This fixes a bug of the seed workshop, whose two ``mountNamespace`` lines selected
    values without assigning them, so its engineered data still held raw namespaces such as
    4026532232. Here ``mountNamespace`` is always 0 or 1.

    This function does not mutate ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
        BETH rows, as :func:`load_beth` returns them. It needs the seven feature columns
        and ``evil``, all integer-valued without missing values; other columns are ignored.

    Returns
    -------
    df_eng : pandas.DataFrame
        ``X`` plus the ``evil`` column, with ``df``'s index.
    X : pandas.DataFrame
        The columns of :data:`FEATURE_COLUMNS`, in that order, dtype ``int64``.
    y : numpy.ndarray
        ``evil`` as a 1-D ``int64`` array of 0 and 1.

    Raises
    ------
    ValueError
        If ``df`` is not a DataFrame, lacks a required column, or holds a missing or
        non-integer value in one.

    Examples
    --------
    >>> import pandas as pd
    >>> from beth_helpers import preprocess
    >>> raw = pd.DataFrame({"processId": [1, 7555], "parentProcessId": [0, 7548],
    ...                     "userId": [0, 1001], "mountNamespace": [4026531840, 4026532232],
    ...                     "eventId": [157, 1005], "argsNum": [5, 2],
    ...                     "returnValue": [0, -2], "evil": [0, 1]})
    >>> df_eng, X, y = preprocess(raw)
    >>> X.to_numpy().tolist()
    [[0, 0, 0, 0, 157, 5, 0], [1, 1, 1, 1, 1005, 2, -1]]
    >>> y.tolist()
    [0, 1]
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"preprocess: expected a pandas DataFrame, got {type(df).__name__}.")
    required = list(_FEATURE_COLUMNS) + ["evil"]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(
            f"preprocess: df lacks the columns {missing}. Pass the rows as load_beth or "
            "pandas.read_csv returns them, before any column is dropped."
        )
    raw = {c: _integer_column(df, c) for c in required}

    features = {
        "processId": ~np.isin(raw["processId"], OS_PROCESS_IDS),
        "parentProcessId": ~np.isin(raw["parentProcessId"], OS_PROCESS_IDS),
        "userId": raw["userId"] >= FIRST_LOGIN_USER_ID,
        "mountNamespace": raw["mountNamespace"] != HOST_MOUNT_NAMESPACE,
        "eventId": raw["eventId"],
        "argsNum": raw["argsNum"],
        "returnValue": np.sign(raw["returnValue"]),
    }
    X = pd.DataFrame(
        {c: features[c].astype(np.int64, copy=False) for c in _FEATURE_COLUMNS},
        index=df.index,
    )
    y = raw["evil"].astype(np.int64, copy=True)
    df_eng = X.assign(evil=y)
    return df_eng, X, y


def _integer_column(df: pd.DataFrame, column: str) -> np.ndarray:
    """Return a column as an int64 array, or say clearly why it cannot be one."""
    series = df[column]
    if isinstance(series, pd.DataFrame):
        raise ValueError(f"preprocess: df has more than one column named {column!r}.")
    if ptypes.is_bool_dtype(series.dtype) or not ptypes.is_numeric_dtype(series.dtype):
        raise ValueError(
            f"preprocess: column {column!r} must be numeric, but its dtype is "
            f"{series.dtype}. Read the file with load_beth, or convert the column first."
        )
    if series.isna().any():
        position = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise ValueError(
            f"preprocess: column {column!r} has a missing value (at position {position}, "
            f"index label {quote(series.index[position])}); drop or fill such rows first."
        )
    values = series.to_numpy()
    if ptypes.is_float_dtype(values.dtype):
        whole = np.floor(values) == values
        if not whole.all():
            position = int(np.flatnonzero(~whole)[0])
            raise ValueError(
                f"preprocess: column {column!r} must hold whole numbers, but position "
                f"{position} holds {values[position]}."
            )
    return values.astype(np.int64, copy=False)
