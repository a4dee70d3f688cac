"""Write a folder we own in one atomic step, and never touch one we do not own.

Every command that writes a folder (a bundle, a site, the demo's work folder) goes through
`staged`: it checks that whatever is already at the path is ours (the caller says how to
recognize it), fills a hidden temp sibling, fsyncs it, and swaps it into place. On Linux the
swap is one `renameat2(RENAME_EXCHANGE)`, so at every instant the path holds either the old
folder or the new one. Elsewhere it is two renames, old -> `.NAME.old-PID-*` then temp -> path;
a kill between them is repaired by the next run (`recover`), which renames the old copy back.
Leftover temp and old copies of processes that are gone are removed on the next run.
"""
import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import LatentExplorerError

# A bundle's name is a path segment in every site and URL it appears in: keep it boring.
NAME_PATTERN = r"[a-z0-9][a-z0-9._-]{0,63}"
NAME = re.compile(NAME_PATTERN)
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2
_AT_FDCWD = -100


class PathError(LatentExplorerError):
    """A path a command would write is not ours to write (or lies outside its output)."""


def check_name(name, where):
    """Raise PathError unless `name` is a safe bundle name; returns it."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PathError(f"{where}: bundle name {name!r} is not allowed (use 1-64 characters of a-z, 0-9, "
                        "'.', '_', '-', starting with a letter or digit)")
    return name


def slug(text, fallback="model"):
    """A safe name derived from free text (a folder or file name): lowercase, other characters -> '-'."""
    s = re.sub(r"[^a-z0-9._-]+", "-", str(text).lower()).strip("-._")[:64].rstrip("-._")
    return s if NAME.fullmatch(s or "") else fallback


def inside(root, path):
    """`path`, after checking that it resolves inside `root` (raises PathError otherwise)."""
    root, resolved = Path(root).resolve(), Path(path).resolve()
    if resolved != root and root not in resolved.parents:
        raise PathError(f"{path}: resolves outside {root}; refusing to write it")
    return path


def _libc_renameat2():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


_renameat2 = _libc_renameat2()


def _rename2(src, dst, flags):
    """renameat2(2); returns False where the OS or file system does not offer it."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


def fsync_tree(folder):
    """fsync every file and folder under `folder`, then `folder` itself."""
    for dirpath, _, files in os.walk(folder):
        for f in files:
            fd = os.open(os.path.join(dirpath, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(dirpath)


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(out):
    """Our hidden siblings of `out` left by processes that are gone: (kind, path) pairs."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(tmp|old)-(\d+)-[a-z0-9_]+")
    if not out.parent.is_dir():
        return []
    found = []
    for p in out.parent.iterdir():
        m = pattern.fullmatch(p.name)
        if m and p.is_dir() and not p.is_symlink() and not _alive(int(m.group(2))):
            found.append((m.group(1), p))
    return sorted(found, key=lambda kp: kp[1].stat().st_mtime, reverse=True)


def recover(out, owned):
    """Repair what a killed run left beside `out`: put a complete old copy back if `out` is
    missing, then remove the stale temp and old copies."""
    out = Path(out)
    for kind, p in _leftovers(out):
        if kind == "old" and not os.path.lexists(out) and owned(p):
            os.rename(p, out)
        else:
            shutil.rmtree(p)


def check_replaceable(out, owned, what):
    """Raise PathError unless `out` is missing, an empty folder, or a folder `owned` says is ours."""
    out = Path(out)
    if os.path.islink(out):
        raise PathError(f"{out}: is a symbolic link; refusing to replace it (choose another path)")
    if not out.exists():
        return
    if not out.is_dir():
        raise PathError(f"{out}: exists and is not a folder; refusing to replace it with a {what} "
                        "(move it away or choose another path)")
    if any(out.iterdir()) and not owned(out):
        raise PathError(f"{out}: exists and is not a {what}; refusing to replace it "
                        "(move it away or choose another path)")


@contextmanager
def staged(out, owned, what):
    """Yield a temp folder beside `out`; on success it atomically replaces `out`.

    `owned(folder) -> bool` recognizes a folder this kind of command made (a bundle's manifest, a
    site's marker). Anything else already at `out` is refused before any work starts, and left
    untouched. On error the temp folder is removed and `out` is as it was."""
    out = Path(out).absolute()
    if out.name in ("", ".", ".."):
        raise PathError(f"{out}: not a usable output folder name")
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out, owned)
    check_replaceable(out, owned, what)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-{os.getpid()}-"))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; bundles and sites are meant to be served
        yield tmp
        if not owned(tmp):
            raise PathError(f"{out}: internal error: the staged {what} is incomplete")
        fsync_tree(tmp)
        check_replaceable(out, owned, what)  # again: something may have appeared meanwhile
        _swap(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _swap(tmp, out):
    """Put `tmp` at `out`; afterwards `tmp` no longer exists (the old folder is removed)."""
    if os.path.lexists(out):
        if _rename2(tmp, out, _RENAME_EXCHANGE):
            shutil.rmtree(tmp)  # tmp now holds the old folder
        else:
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-{os.getpid()}-"))
            os.rename(out, old)  # onto the empty folder mkdtemp made
            os.rename(tmp, out)
            shutil.rmtree(old)
    elif not _rename2(tmp, out, _RENAME_NOREPLACE):
        os.rename(tmp, out)
    fsync_dir(out.parent)
