"""Quoting user data in error messages, cut to a readable length.

An error message quotes the offending value so the reader can find it, but the value comes
from the user's file or call and can be any size: a CSV field of 60 MB once made a 60 MB
``ValueError``, which a notebook then printed whole. Everything here keeps the start of the
value and says how long it was.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable

#: Characters of a value quoted in an error message; the rest is replaced by its length.
QUOTE_LIMIT = 80

_REPR = reprlib.Repr()
_REPR.maxstring = QUOTE_LIMIT
_REPR.maxother = QUOTE_LIMIT
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxarray = 6


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Return ``text``, or its first ``limit`` characters and ``"... (N characters)"``.

    Examples
    --------
    >>> shorten("abc")
    'abc'
    >>> shorten("x" * 1000, limit=5)
    'xxxxx... (1,000 characters)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """Return ``repr(value)`` for an error message, cut if long.

    A string longer than ``limit`` characters is quoted as the ``repr`` of its first
    ``limit`` characters followed by ``... (N characters)``. Any other object is shown with
    :mod:`reprlib` (a few items of a long list) and cut to ``limit`` characters.

    Examples
    --------
    >>> quote("n/a")
    "'n/a'"
    >>> quote("1" * 100, limit=4)
    "'1111'... (100 characters)"
    >>> quote(list(range(1000)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    return shorten(_REPR.repr(value), limit)


def quote_all(values: Iterable[object], limit: int = QUOTE_LIMIT, items: int = 10) -> str:
    """Quote the first ``items`` values as a list, each cut with :func:`quote`.

    Examples
    --------
    >>> quote_all(["a", "b"])
    "['a', 'b']"
    >>> quote_all([f"c{i}" for i in range(30)], items=2)
    "['c0', 'c1', ... (30 in all)]"
    """
    values = list(values)
    shown = [quote(v, limit) for v in values[:items]]
    if len(values) > items:
        shown.append(f"... ({len(values):,} in all)")
    return "[" + ", ".join(shown) + "]"
