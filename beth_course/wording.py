"""Small helpers for what beth-course says: counts with the right noun."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1.

    >>> count(1, "submission"), count(3, "submission"), count(0, "class", "classes")
    ('1 submission', '3 submissions', '0 classes')
    """
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
