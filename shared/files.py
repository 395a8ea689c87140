"""Files only their owner reads: databases, credentials, logs, state, backups.

Every file the project writes that may hold personal data or a secret is created 0600
and every directory for them 0700, whatever the process's umask, through these helpers:

* :func:`private_dir`: a directory (and each missing parent) created 0700; one that
  existed already is tightened to 0700 only when ``tighten`` (directories the project
  owns: a node's workdir, its logs, a backup), never a directory given to it (``/tmp``);
* :func:`write_private`: a whole file written atomically, 0600;
* :func:`private_file`: a file that exists and is 0600 (e.g. a SQLite database before
  SQLite opens it: SQLite gives its -wal and -shm files the database file's mode);
* :func:`open_private`: a file opened for appending (a log) or writing (an export), 0600.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | os.PathLike[str], *, tighten: bool = True) -> Path:
    """``path`` as a directory; those created here are 0700, an existing one is made 0700
    only with ``tighten``."""
    path = Path(path)
    missing = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        directory.chmod(DIR_MODE)  # mkdir's mode is filtered by the umask
    if tighten and not missing:
        path.chmod(DIR_MODE)
    return path


def write_private(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` (0600) atomically: a reader sees the old file or the
    new one, never a part; the parent directory is created 0700 if missing."""
    path = Path(path)
    private_dir(path.parent, tighten=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


def private_file(path: str | os.PathLike[str]) -> Path:
    """``path`` exists (created empty if it did not) and is 0600."""
    path = Path(path)
    private_dir(path.parent, tighten=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def open_private(path: str | os.PathLike[str], mode: str = "ab", **kwargs: Any) -> IO[Any]:
    """``path`` opened for appending (``"a"``, ``"ab"``: a log) or written from the start
    (``"w"``, ``"wb"``: e.g. an export streamed to a file), created 0600 if missing and
    made 0600 if it was not."""
    flags = {"a": os.O_APPEND, "ab": os.O_APPEND, "w": os.O_TRUNC, "wb": os.O_TRUNC}
    if mode not in flags:
        raise ValueError(f"open_private: mode 'a', 'ab', 'w' or 'wb', not {mode!r}")
    path = Path(path)
    private_dir(path.parent, tighten=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags[mode], FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, mode, **kwargs)


__all__ = ["DIR_MODE", "FILE_MODE", "open_private", "private_dir", "private_file", "write_private"]
