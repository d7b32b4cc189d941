"""Atomic file writes: every output goes to a temporary file in the target's folder,
is flushed to disk, and then replaces the target with :func:`os.replace`.

A reader polling the target (a serving process reloading a calibrator, a
dashboard re-reading a ratings file) therefore sees either the old complete
file or the new complete file, never an empty or half-written one; a write that
fails part-way leaves the old file as it was and no temporary file behind.
The temporary file is a hidden sibling (``.<name>.<random>.tmp``), on the same
file system, so the rename is atomic on POSIX and on Windows.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_UMASK: int | None = None


def _default_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give (0o666 less the umask)."""
    global _UMASK
    if _UMASK is None:
        # os.umask can only be read by setting it; done once, at the first write.
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return 0o666 & ~_UMASK


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, private: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on a clean exit it replaces ``path``.

    For writers that want a path of their own (``DataFrame.to_parquet``,
    ``to_csv``, pyarrow). The folder is created when missing. On an exception
    the temporary file is removed and ``path`` is left untouched.

    private : give the file owner-only permissions (0o600), e.g. for the key
        of a blinded annotation sheet; otherwise an existing target keeps its
        permissions and a new one gets the usual ``0o666 & ~umask``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if private:
            mode = 0o600
        else:
            try:
                mode = path.stat().st_mode & 0o7777
            except FileNotFoundError:
                mode = _default_mode()
        os.chmod(tmp, mode)
        with open(tmp, "rb") as fh:  # the data must be on disk before the name points at it
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_path(path, private=private) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8",
                      newline: str | None = None, private: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically; returns the path.

    newline : as for :func:`open` (None writes ``"\\n"`` as the platform's line end).
    """
    with atomic_path(path, private=private) as tmp, open(tmp, "w", encoding=encoding, newline=newline) as fh:
        fh.write(text)
    return Path(path)
