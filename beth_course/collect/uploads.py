"""Where each student's upload lies in an intake, so that nothing inside it can name a
student or date a submission.

The intake is the class's, and so is every zip at its top that no pattern names for a
student (an LMS download the instructor put in a folder): these are *class containers*.
A zip whose entries all sit in one folder holding several folders (what zipping a class
folder makes) is read from inside that folder, unless an LMS names that folder for a
student (a Moodle export of one student). The first item of a path inside a class
container is a student's *upload*: an LMS-named file, folder or zip, or a student's own
folder. The presets read the student and the LMS's marks from the upload's own name, and
the time is the one the class container records for it. Names and dates inside an upload
are the student's to choose, so none of them is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .dates import ZIP_ENTRY
from .reading import Entry


@dataclass(frozen=True)
class Upload:
    """Where a file's upload is: its name is ``path[start:end]``."""

    hop: int
    """Index in ``entry.hops`` of the class container's record of the upload."""
    start: int
    end: int


LmsNames = Callable[[str, Upload], bool]
"""Whether a pattern (other than the folder preset) reads a student from the upload's own
name in this path: an LMS-named upload."""


class Layout:
    """The class containers and uploads of one intake."""

    def __init__(self, entries: Iterable[Entry], lms_names: LmsNames):
        self.wrappers = _wrappers(entries)
        self.lms_names = lms_names

    def upload(self, entry: Entry) -> Upload:
        """The upload ``entry`` belongs to (a top-level zip named for no student is a class
        container: the upload is looked for inside it)."""
        index = 0
        upload = self._top(entry, index)
        while self._is_zip(entry, upload) and not self.lms_names(entry.path, upload):
            index += 1
            upload = self._top(entry, index)
        return upload

    def _top(self, entry: Entry, index: int) -> Upload:
        """The first item inside the container of ``entry.hops[index]``, below its wrapper
        folder unless an LMS names that folder for a student."""
        hop = entry.hops[index]
        start = len(hop.container)
        top = Upload(index, start, start + len(hop.item.split("/", 1)[0]))
        if hop.container not in self.wrappers or self.lms_names(entry.path, top):
            return top
        start = top.end + 1
        return Upload(index, start, start + len(hop.item[start - top.start :].split("/", 1)[0]))

    @staticmethod
    def _is_zip(entry: Entry, upload: Upload) -> bool:
        """Whether the item is a zip on the way to the file (not the file, not a folder)."""
        next_container = upload.hop + 1 < len(entry.hops)
        return next_container and entry.hops[upload.hop + 1].container == (
            entry.path[: upload.end] + "/"
        )


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
