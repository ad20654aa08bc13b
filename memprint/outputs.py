"""Where a result may be written, checked before the work: an output never replaces one of the command's inputs,
a device, a symlink or a file memprint did not write; its folder must be writable and hold the estimated size;
temporary files are unique to the process that writes them and removed when the write fails."""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import stat
from pathlib import Path

from memprint import MemprintError

PROVENANCE_LINE = b"# provenance: "
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def temporary_sibling(path: str | os.PathLike) -> Path:
    """A hidden name beside ``path``, unique to this process and call: two writers never share a tmp file."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def written_by_memprint(path: Path) -> bool:
    """A CSV that starts with memprint's provenance line, or an HDF5 file memprint wrote (a provenance stamp)."""
    with open(path, "rb") as handle:
        head = handle.read(len(PROVENANCE_LINE))
    if head == PROVENANCE_LINE:
        return True
    if head[: len(HDF5_SIGNATURE)] != HDF5_SIGNATURE:
        return False
    import h5py

    try:
        with h5py.File(path, "r", locking=False) as f:
            return "memprint_version" in f.attrs
    except OSError:
        return False


def check_target(path: str | os.PathLike, option: str = "output") -> None:
    """Refuse a target that is a symlink, a device or folder, or an existing file memprint did not write."""
    path = Path(path)
    if path.is_symlink():
        raise MemprintError(f"{option} {path}: is a symbolic link; memprint will not replace it, give a plain path")
    if not path.exists():
        return
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "a device or special file"
        raise MemprintError(f"{option} {path}: is {what}, not a file; give the path of a new file")
    if not written_by_memprint(path):
        raise MemprintError(
            f"{option} {path}: exists and was not written by memprint; memprint will not overwrite it, give a new "
            "path or delete the file yourself"
        )


def check_outputs(outputs: dict[str, str], inputs: dict[str, str]) -> None:
    """Before any work: each output is a new path or a memprint file, never one of the inputs, in a writable
    folder. ``outputs`` and ``inputs`` map the option (``--out``) to its path."""
    for option, path in outputs.items():
        target = Path(path)
        for other, source in inputs.items():
            if source and Path(source).exists() and target.exists() and os.path.samefile(target, source):
                raise MemprintError(f"{option} {path}: is the input {other} {source}; write the result elsewhere")
            if source and target.resolve() == Path(source).resolve():
                raise MemprintError(f"{option} {path}: is the input {other} {source}; write the result elsewhere")
        folder = target.resolve().parent
        if not folder.is_dir():
            raise MemprintError(f"{option} {path}: folder {target.parent} does not exist; create it first")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise MemprintError(f"{option} {path}: folder {target.parent} is not writable; choose another place")
        check_target(target, option)


def check_free_space(path: str | os.PathLike, needed: int, what: str) -> None:
    """Refuse before the work when ``path``'s folder has less free space than ``needed`` bytes (plus 5%)."""
    free = shutil.disk_usage(Path(path).resolve().parent).free
    if free < needed * 1.05:
        raise MemprintError(
            f"{path}: {what} needs about {needed / 2**20:.1f} MiB, its folder has {free / 2**20:.1f} MiB free; free "
            "space or write elsewhere"
        )


def write_failed(path: str | os.PathLike, err: Exception) -> MemprintError:
    """One line for a failed write (a full disk, a read-only folder, a vanished mount); HDF5 reports the errno
    only inside its message ("errno = 28")."""
    code = getattr(err, "errno", None)
    if code is None and (found := re.search(r"errno = (\d+)", str(err))):
        code = int(found.group(1))
    reason = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only"}.get(code)
    detail = reason or getattr(err, "strerror", None) or str(err).splitlines()[0]
    return MemprintError(f"{path}: could not write it ({detail}); free space or write elsewhere, then rerun")
