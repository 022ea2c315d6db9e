"""Files someone else may have planted are never followed, blocked on, or read whole."""

from __future__ import annotations

import os

import pytest

from beth_course.files import NotRegular, read_regular, regular_files, write_atomic


def test_links_fifos_and_large_files_are_left_out(tmp_path):
    """Only regular files within the limit are read; a link to a secret is not followed."""
    secret = tmp_path / "secret"
    secret.write_text("root only")
    secret.chmod(0o600)
    folder = tmp_path / "submission"
    (folder / "sub").mkdir(parents=True)
    (folder / "nb.ipynb").write_text("{}")
    (folder / "sub" / "notes.txt").write_text("mine")
    (folder / "link.txt").symlink_to(secret)
    (folder / "linked_dir").symlink_to(tmp_path)
    os.mkfifo(folder / "pipe")
    assert regular_files(folder) == {"nb.ipynb": b"{}", "sub/notes.txt": b"mine"}


def test_read_regular_refuses_what_is_not_a_small_regular_file(tmp_path):
    """A link raises (O_NOFOLLOW), a FIFO is not opened for a blocking read, size is capped."""
    target = tmp_path / "t"
    target.write_text("x" * 100)
    (tmp_path / "l").symlink_to(target)
    os.mkfifo(tmp_path / "f")
    with pytest.raises(OSError):
        read_regular(tmp_path / "l")
    with pytest.raises(NotRegular):
        read_regular(tmp_path / "f")
    with pytest.raises(NotRegular, match="larger than 10"):
        read_regular(target, limit=10)
    assert read_regular(target) == b"x" * 100


def test_write_atomic_replaces_whole_or_leaves_what_was_there(tmp_path):
    """The new content appears at once; a failure leaves the old file and no temporary."""
    path = tmp_path / "grades.csv"
    path.write_text("old")
    write_atomic(path, b"new")
    assert path.read_text() == "new"
    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == [
        "grades.csv"
    ]
