"""Files deuteron writes: atomically (readers never see half a file), in directories
only this user can write to (the cache holds code that is imported), logs never
opened through a planted symbolic link."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, text: str, *, durable: bool = False, mode: int | None = None) -> None:
    """Writes ``text`` to ``path`` through a temporary file in the same folder and a rename.

    Other processes (autotuning workers, a second Python process sharing the
    cache) see either the old file or the whole new one.  ``durable`` also
    syncs the data to disk before the rename (the autotune cache, which
    outlives a crash); ``mode`` sets the file's permissions (the temporary
    file is created 0600).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class UnsafeDirectoryError(PermissionError):
    """A cache directory another user could write to: deuteron refuses to use it.

    Generated modules in the cache directory are imported, so whoever can write
    there can run code in every process that uses it.
    """


def _private_group(st: os.stat_result) -> bool:
    # A group-writable directory is still private when its group is the user's own
    # (the "user private group" of most Linux distributions, where the default umask is 002).
    try:
        import grp
        import pwd
    except ImportError:  # pragma: no cover - not POSIX
        return False
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(st.st_gid)
    except KeyError:
        return False
    return group.gr_name == user and set(group.gr_mem) <= {user}


def _check_private(path: Path) -> None:
    st = os.stat(path)  # following a link: a link to a directory of one's own is fine
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDirectoryError(f"deuteron: cache path {path} is not a directory; remove it or set "
                                   f"DEUTERON_CACHE_DIR (or the cache_dir setting) to a directory of your own")
    uid = os.getuid()
    if st.st_uid != uid:
        raise UnsafeDirectoryError(
            f"deuteron: refusing to use cache directory {path}: it belongs to uid {st.st_uid}, not to you "
            f"(uid {uid}), and deuteron imports the code it finds there; set DEUTERON_CACHE_DIR (or the "
            f"cache_dir setting) to a directory of your own, or remove {path} so that it is created anew")
    if st.st_mode & 0o002 or (st.st_mode & 0o020 and not _private_group(st)):
        who = "everyone" if st.st_mode & 0o002 else "its group"
        raise UnsafeDirectoryError(
            f"deuteron: refusing to use cache directory {path}: {who} can write to it (mode "
            f"{stat.S_IMODE(st.st_mode):04o}), and deuteron imports the code it finds there; run "
            f"`chmod 700 {path}`, or set DEUTERON_CACHE_DIR (or the cache_dir setting) to a directory of your own")


def private_directory(path: Path, *, parents: int = 0) -> Path:
    """Makes sure ``path`` and its ``parents`` nearest ancestors (the cache directory
    above a subfolder) exist, belong to this user and no one else can write to them.

    Missing ones are created 0700.  Raises UnsafeDirectoryError naming the
    directory and what to do.  The ancestors matter: whoever can write to the
    cache directory can rename a subfolder away and put their own in its place.
    """
    if not hasattr(os, "getuid"):  # pragma: no cover - Windows: no owners or modes to check
        path.mkdir(parents=True, exist_ok=True)
        return path
    chain = [path, *list(path.parents)[:parents]][::-1]
    for directory in chain:
        if not directory.exists():
            directory.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # another process made it meanwhile: checked below
                directory.mkdir(mode=0o700)
        _check_private(directory)
    return path


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def open_log(path: Path) -> BinaryIO:
    """``path`` opened for appending, created 0600; never through a symbolic link
    (raises OSError if ``path`` is one), so a planted link cannot redirect the writes."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600)
    return os.fdopen(fd, "ab")


def read_tail(path: Path, n: int) -> str:
    """The last ``n`` bytes of ``path`` as text ("" if it cannot be read); never through a link."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - n))
        return f.read().decode("utf-8", "replace")
