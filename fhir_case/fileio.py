"""The one place that writes files: atomically, so a failed run never leaves a half-written file.

:func:`write_outputs` writes a command's output files all or nothing, after checking their paths
(:class:`~fhir_case.errors.OutputPathError` says what is in the way); :func:`write_atomic` is the
low-level step (OSError on failure) that caches use too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from fhir_case.errors import OutputPathError


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output_folder(folder: Path, option: str) -> None:
    """``folder`` can hold output files: it is a folder or can be made one."""
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(
            f"{option} {folder}: is a file, not a folder; {option} names the folder to write into"
        )
    _check_parents(folder, folder)


def check_output_file(path: Path) -> None:
    """``path`` can be written as a file: it is not a folder, and nothing on its way is a file."""
    if path.is_dir():
        raise OutputPathError(
            f"{path}: is a folder, where a file is to be written; give the name of a file "
            "(or move the folder out of the way)"
        )
    _check_parents(path, path.parent)


def _check_parents(path: Path, folder: Path) -> None:
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(
                    f"{path}: cannot be written: {parent} is a file, not a folder; choose "
                    "another output path"
                )
            return


def write_outputs(files: Mapping[Path, bytes]) -> None:
    """Write several output files all or nothing: every path is checked, every file written to a
    temporary file beside it, and only then are they moved into place; if a move fails, the
    files already moved are put back as they were. Each file is replaced atomically."""
    for path in files:
        check_output_file(path)
    temps: dict[Path, Path] = {}
    backups: dict[Path, Path | None] = {}
    current = next(iter(files), Path())
    try:
        for current, data in files.items():
            current.parent.mkdir(parents=True, exist_ok=True)
            temps[current] = _temporary(current, data)
        for current, temp in temps.items():
            backups[current] = _backup(current)
            os.replace(temp, current)
    except OSError as error:
        for path, backup in reversed(backups.items()):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, path)
                elif not temps[path].exists():  # the new file was moved in: take it out
                    path.unlink()
        reason = (error.strerror or "input/output error").lower()
        raise OutputPathError(
            f"{current}: cannot be written ({reason}); nothing was written"
        ) from None
    finally:
        for leftover in [*temps.values(), *(b for b in backups.values() if b is not None)]:
            leftover.unlink(missing_ok=True)


def _temporary(path: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _backup(path: Path) -> Path | None:
    """A second name for the file now at ``path`` (a hard link, else a copy), to put it back."""
    if not path.exists():
        return None
    backup = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.old")
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def replace_dir_atomic(target: Path, populate: Callable[[Path], None]) -> None:
    """Fill a temporary sibling folder with ``populate``, then move it to ``target`` in one rename.

    Readers see the old folder or the complete new one, never a half-written one. When another
    process put ``target`` in place first, its folder is kept.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        populate(tmp)
        os.chmod(tmp, 0o755)
        if target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.replace(target, old / target.name)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            try:
                os.rename(tmp, target)
            except OSError:
                if not target.is_dir():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_folder_atomic(
    target: Path, files: Mapping[str, bytes], replaceable: Callable[[Path], bool]
) -> None:
    """Make ``target`` a folder holding exactly ``files`` (relative path -> bytes), all at once.

    An existing ``target`` is replaced only when it is empty or ``replaceable(target)`` says it
    holds an earlier output of the same kind; anything else is refused, so that no folder of
    the user's is lost.
    """
    check_output_folder(target, "--out")
    if target.is_dir() and any(target.iterdir()) and not replaceable(target):
        raise OutputPathError(
            f"--out {target}: the folder is not empty and does not hold an earlier export, so it "
            "is left as it is; choose a new or empty folder"
        )

    def populate(folder: Path) -> None:
        for relative, data in sorted(files.items()):
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    try:
        replace_dir_atomic(target, populate)
    except OSError as error:
        reason = (error.strerror or "input/output error").lower()
        raise OutputPathError(
            f"--out {target}: cannot be written ({reason}); nothing was written"
        ) from None
