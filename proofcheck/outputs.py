"""Output files: checked before a run starts, written atomically.

Every command that writes a file (``check --output``, ``report -o``, ``explore
--save-witness``, ``figure -o``, ``docs -o``) checks the destination first with
:func:`check_output_file` or :func:`check_output_dir` (a usage error, exit 2, before any
checking), and writes with :func:`write_atomic`: a temporary file in the same folder, then
``os.replace``, so a reader never sees half a report and an interrupted run leaves the old file.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_atomic(d / "r.txt", "done\\n").read_text()
'done\\n'
>>> sorted(p.name for p in d.iterdir())
['r.txt']
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["OutputError", "check_output_dir", "check_output_file", "write_atomic"]


class OutputError(ValueError):
    """An output path that cannot be written (the message says why, on one line)."""


def _named_path(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a Path, refused when it is empty or contains a NUL byte (``what``: "path"
    or "folder", for the message)."""
    text = os.fspath(path)
    if not str(text).strip():
        raise OutputError(f"the output {what} is empty")
    if "\x00" in str(text):
        raise OutputError(f"{text!r} contains a NUL byte")
    return Path(text)


def check_output_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`~pathlib.Path` if a file can be written there: not empty, not a
    folder, its folder exists and is writable. Raises :class:`OutputError` otherwise.

    >>> check_output_file("")
    Traceback (most recent call last):
    ...
    proofcheck.outputs.OutputError: the output path is empty
    """
    p = _named_path(path, "path")
    if p.is_dir():
        raise OutputError(f"{p} is a folder, not a file")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.exists():
        raise OutputError(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"{folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"the folder {folder} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise OutputError(f"{p} exists and is not writable")
    return p


def check_output_dir(path: str | os.PathLike[str], *, create: bool = True) -> Path:
    """``path`` as a folder that files can be written into. With ``create`` a missing folder
    is fine if its nearest existing ancestor is a writable folder (it is created when the
    first file is written). Raises :class:`OutputError` otherwise."""
    p = _named_path(path, "folder")
    if p.exists():
        if not p.is_dir():
            raise OutputError(f"{p} exists and is not a folder")
        if not os.access(p, os.W_OK | os.X_OK):
            raise OutputError(f"the folder {p} is not writable")
        return p
    if not create:
        raise OutputError(f"the folder {p} does not exist")
    ancestor = p.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{ancestor} is not a folder, so {p} cannot be created")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"{p} cannot be created: {ancestor} is not writable")
    return p


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *,
                 encoding: str = "utf-8", sync: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and
    ``os.replace`` (atomic on POSIX and Windows); returns the path. ``sync=False`` skips the
    ``fsync`` (for cache entries: one lost in a crash is computed again)."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    raw = data.encode(encoding) if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
