"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Each write goes to a temporary file in the destination's own folder (so the final `os.replace` is a
rename within one file system, which POSIX and Windows make atomic), is flushed to disk, and only
then replaces the destination. A destination that is a symlink is written through: the link's
target is replaced, beside it, and the link stays a link. A failed write leaves the destination untouched and no temporary
file behind, whatever failed; a write the system refused (a full disk, a folder in the way) is a
`CostCalcError`, "FILE: cannot write: REASON". Within `together()`, files replace theirs only
once all of the block's are written: the files of one report are the last one's or this one's.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

from .errors import CostCalcError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    For writers that want a file name rather than bytes (matplotlib's `savefig`, `PdfPages`). The
    folder is created if missing. A `path` that is a symlink is written through: its target is
    replaced atomically (the temporary file sits beside the target) and the link stays a link,
    whether the target exists yet or not.
    """
    given = Path(path)  # as messages name it
    target = Path(os.path.realpath(given))
    temp = _temporary_beside(given)
    _PENDING.add(temp)
    deferred = False
    try:
        yield temp
        _fsync(temp)
        # mkstemp creates the file 0600; a report is an ordinary file, readable as the umask allows.
        os.chmod(temp, 0o666 & ~_umask())
        batches = _together()
        if batches:  # replaced when the whole block of `together` has succeeded
            batches[-1].append((temp, target, given))
            deferred = True
        else:
            os.replace(temp, target)
    except BaseException as exc:
        # Whatever failed (the writer, a chart, Ctrl-C), no half-written temporary stays behind.
        with contextlib.suppress(OSError):
            temp.unlink()
        refused = _refused_write(exc)
        if refused is not None:  # disk full, a folder in the way: the user's to fix, not a crash
            raise cannot_write(given, refused) from None
        raise
    finally:
        if not deferred:
            _PENDING.discard(temp)


@contextlib.contextmanager
def together() -> Iterator[None]:
    """The atomic writes in the block replace their files only once all of them are written: a
    write that fails (a full disk) or an interrupt leaves every file as it was, none replaced, no
    temporary file behind. Then the files are renamed into place one after another, microseconds
    apart. For the files of one report, which must not be half the last one and half this one."""
    batch: list[tuple[Path, Path, Path]] = []  # (temporary, target, the path as given)
    batches = _together()
    batches.append(batch)
    try:
        yield
    except BaseException:
        _remove(batch)
        raise
    finally:
        batches.pop()
    for done, (temp, target, given) in enumerate(batch):
        try:
            os.replace(temp, target)
        except OSError as exc:
            _remove(batch[done:])
            raise cannot_write(given, exc) from None
        _PENDING.discard(temp)


def _remove(batch: list[tuple[Path, Path, Path]]) -> None:
    for temp, _, _ in batch:
        with contextlib.suppress(OSError):
            temp.unlink()
        _PENDING.discard(temp)


def _together() -> list[list[tuple[Path, Path, Path]]]:
    """The batches of this thread's `together` blocks under way, innermost last (another
    thread's writes are its own)."""
    if not hasattr(_THREAD, "batches"):
        _THREAD.batches = []
    return _THREAD.batches


_THREAD = threading.local()


# The temporary files of the writes under way in this process.
_PENDING: set[Path] = set()


def remove_pending() -> None:
    """Remove the temporary files of the writes under way: for a process about to end at once
    (`os._exit`, a forked helper told to stop), which runs no `finally` to remove them."""
    for temp in list(_PENDING):
        with contextlib.suppress(OSError):
            temp.unlink()


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise now, as `atomic_path` would later, if a file cannot be written at `path`: for a long
    job, drawing a report, that should fail before it starts rather than after. A temporary file
    is made in its folder and removed, and so are the folders made for it (what the job writes
    makes them again), so that a job that then fails (a missing training file) leaves nothing."""
    given = Path(path)
    folder = Path(os.path.realpath(given)).parent
    missing = list(itertools.takewhile(lambda f: not f.exists(), (folder, *folder.parents)))  # innermost first
    _temporary_beside(given).unlink()
    for made in missing:
        with contextlib.suppress(OSError):  # one that holds something now is someone else's
            made.rmdir()


def _temporary_beside(given: Path) -> Path:
    """A new empty temporary file in the folder of `given`'s target (created if missing)."""
    target = Path(os.path.realpath(given))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise cannot_write(given, exc) from None
    os.close(fd)
    return Path(name)


def _refused_write(exc: BaseException) -> OSError | zlib.error | None:
    """The error that says why the system refused a write, or None if `exc` is not one.

    An OSError is one. So is a zlib.error: matplotlib's PDF writer, cleaning up after a write that
    failed for a full disk, flushes its compressor again and raises "inconsistent stream state",
    hiding the OSError in the exception's context; that OSError is the reason to give.
    """
    if isinstance(exc, OSError):
        return exc
    if isinstance(exc, zlib.error):
        context = exc.__context__
        return context if isinstance(context, OSError) else exc
    return None


def cannot_write(target: Path, exc: OSError | zlib.error) -> CostCalcError:
    """`reports/x.pdf: cannot write: ...`, naming a file that stands where a folder must be."""
    for folder in target.parents:
        if folder.exists() and not folder.is_dir():
            return CostCalcError(f"{target}: cannot write: {folder} is a file, not a folder")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return CostCalcError(f"{target}: cannot write: {reason or type(exc).__name__}")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically; return the path."""
    with atomic_path(path) as temp:
        temp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to `path` atomically as UTF-8 with '\\n' line ends (the same bytes on every OS).

    A lone surrogate, which UTF-8 cannot hold, is written as U+FFFD: it comes from a file name that
    is not UTF-8 (Python reads its bad bytes as surrogates) or a \\ud800 escape in a user's file."""
    from .text import replace_surrogates

    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = replace_surrogates(text).encode("utf-8")
    return write_bytes(path, data)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = ["atomic_path", "together", "write_bytes", "write_text"]
