"""Small helpers for what beth-course says: counts with the right noun."""

from __future__ import annotations


def count(n: float, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (whole numbers with thousands commas).

    >>> count(1, "submission"), count(3, "submission"), count(0, "class", "classes")
    ('1 submission', '3 submissions', '0 classes')
    >>> count(2.0, "point"), count(1.5, "point"), count(1.0, "point")
    ('2 points', '1.5 points', '1 point')
    """
    number = f"{int(n):,}" if float(n).is_integer() else f"{n:g}"
    return f"{number} {noun if n == 1 else plural or noun + 's'}"


def late_text(seconds: float) -> str:
    """How late, for people: ``on time``, ``40 s``, ``25 min``, ``3 h 5 min``, ``2 d 4 h``.

    >>> [late_text(s) for s in (0, 40, 1500, 11100, 187200)]
    ['on time', '40 s', '25 min', '3 h 5 min', '2 d 4 h']
    """
    if seconds <= 0:
        return "on time"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
