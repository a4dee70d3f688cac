"""Reading and writing bundle folders.

A bundle is written into a hidden temp sibling and swapped into place only once everything in
it is written and validated (`exporter.atomic.staged`), so a failed or interrupted export leaves
the previous bundle byte-identical. Only a folder holding our manifest counts as a bundle: any
other folder at the output path is refused, never replaced. The manifest is written last, so a
staged folder without one is incomplete.
"""
import json
from contextlib import contextmanager
from pathlib import Path

from .. import atomic
from ..errors import BundleError
from .schema import FORMAT, MANIFEST, Manifest


def is_bundle(folder):
    """True if `folder` holds a manifest of ours (whatever its version)."""
    try:
        m = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(m, dict) and m.get("format") == FORMAT


def check_out(out):
    """Raise BundleError now, before any work, if `out` is not ours to replace."""
    try:
        atomic.check_replaceable(out, is_bundle, "latent-explorer bundle")
    except atomic.PathError as e:
        raise BundleError(str(e)) from None


@contextmanager
def staged(out):
    """Yield a temp folder beside `out`; on success it atomically replaces `out`, on error it is
    removed. Refuses (BundleError) if `out` holds anything but a bundle or an empty folder."""
    try:
        with atomic.staged(out, is_bundle, "latent-explorer bundle") as tmp:
            yield tmp
    except atomic.PathError as e:
        raise BundleError(str(e)) from None


def write_manifest(folder, manifest: Manifest):
    """Check `manifest` as a reader would, then write it (last) into `folder`."""
    path = Path(folder) / MANIFEST
    data = manifest.to_json()
    Manifest.from_json(json.loads(json.dumps(data)), path)
    path.write_text(json.dumps(data, indent=1, allow_nan=False, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(folder):
    """The checked Manifest of the bundle in `folder`, after checking that every file it names is
    a regular file there (not a symlink)."""
    path = Path(folder) / MANIFEST
    if path.is_symlink() or not path.is_file():
        raise BundleError(f"{folder}: not a bundle (no {MANIFEST})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}: not valid JSON ({e})") from None
    m = Manifest.from_json(data, path)
    for f in m.files():
        p = Path(folder) / f
        if p.is_symlink():
            raise BundleError(f"{path}: names {f}, which is a symbolic link; refusing to copy it")
        if not p.is_file():
            raise BundleError(f"{path}: names {f}, which is missing")
    if m.map is not None and (Path(folder) / m.map.file).stat().st_size != 2 * m.map.count * m.latent.size:
        raise BundleError(f"{path}: {m.map.file} must hold map.count x latent.size float16 numbers "
                          f"({2 * m.map.count * m.latent.size} bytes)")
    return m
