"""The one place that writes files: atomically, so a failed run never leaves a half-written file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from fhir_case.errors import UsageError


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


def write_all_atomic(files: Mapping[Path, bytes]) -> None:
    """Write several files, each replaced atomically; the caller renders all of them first."""
    for path, data in files.items():
        write_atomic(path, data)


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
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise UsageError(f"{target}: exists and is not a folder; choose another --out")
        if any(target.iterdir()) and not replaceable(target):
            raise UsageError(
                f"{target}: the folder is not empty and does not hold an earlier export, so it "
                "is left as it is; choose a new or empty folder for --out"
            )

    def populate(folder: Path) -> None:
        for relative, data in sorted(files.items()):
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    replace_dir_atomic(target, populate)
