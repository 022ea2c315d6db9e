"""Where each student's upload lies in an intake, so that nothing inside it can name a
student or date a submission.

The intake is the class's, and so is every zip at its top that no pattern names for a
student (an LMS download the instructor put in a folder): these are *class containers*.
A zip whose entries all sit in one folder holding several folders (what zipping a class
folder makes) is read from inside that folder. The first item of a path inside a class
container is a student's *upload*: an LMS-named file, folder or zip, or a student's own
folder. The presets read the student and the LMS's marks from the upload's own name, and
the time is the one the class container records for it. Names and dates inside an upload
are the student's to choose, so none of them is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from .dates import ZIP_ENTRY
from .reading import Entry, Hop


@dataclass(frozen=True)
class Upload:
    """Where a file's upload is: its name is ``path[start:end]``."""

    hop: int
    """Index in ``entry.hops`` of the class container's record of the upload."""
    start: int
    end: int


NamesStudent = Callable[[str, Upload], bool]
"""Whether some pattern reads a student from the upload's own name in this path."""


class Layout:
    """The class containers and uploads of one intake."""

    def __init__(self, entries: Iterable[Entry], names_student: NamesStudent):
        self.wrappers = _wrappers(entries)
        self.names_student = names_student

    def upload(self, entry: Entry) -> Upload:
        """The upload ``entry`` belongs to (a top-level zip named for no student is a class
        container: the upload is looked for inside it)."""
        for index, hop in enumerate(entry.hops):
            skip = self._wrapper_length(hop)
            start = len(hop.container) + skip
            top = entry.path[start:].split("/", 1)[0]
            upload = Upload(index, start, start + len(top))
            is_zip = hop.item[skip:] == top and index + 1 < len(entry.hops)
            if not is_zip or self.names_student(entry.path, upload):
                return upload
        raise AssertionError(f"{entry.path}: its last hop is a file, not a zip")

    def _wrapper_length(self, hop: Hop) -> int:
        wrapper = self.wrappers.get(hop.container)
        return len(wrapper) + 1 if wrapper and hop.item.startswith(wrapper + "/") else 0


def _wrappers(entries: Iterable[Entry]) -> dict[str, str]:
    """zip container -> the one folder all its entries sit in, when that folder holds
    several folders or zips (a zipped class folder: ``Submissions/jsmith/...``)."""
    items: dict[str, set[tuple[str, bool]]] = {}
    for entry in entries:
        for index, hop in enumerate(entry.hops):
            if hop.source == ZIP_ENTRY:
                is_zip = index + 1 < len(entry.hops)
                items.setdefault(hop.container, set()).add((hop.item, is_zip))
    wrappers = {}
    for container, found in items.items():
        wrapper = _wrapper(found)
        if wrapper:
            wrappers[container] = wrapper
    return wrappers


def _wrapper(items: set[tuple[str, bool]]) -> str | None:
    tops = {item.split("/", 1)[0] for item, _ in items}
    if len(tops) != 1:
        return None
    (top,) = tops
    parts = [(item.split("/"), is_zip) for item, is_zip in items]
    if any(len(p) == 1 for p, _ in parts):  # the one top item is a file or a zip
        return None
    below = {p[1] for p, is_zip in parts if len(p) > 2 or is_zip}
    return top if len(below) >= 2 else None
