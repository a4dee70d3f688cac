"""The bundle: one folder per model, the single contract between Python and the browser.

A bundle is written into a hidden temp sibling and swapped into place only once everything in
it is written and validated (`exporter.atomic.staged`), so a failed or interrupted export leaves
the previous bundle byte-identical. Only a folder holding our manifest counts as a bundle: any
other folder at the output path is refused, never replaced. The manifest is written last, so a
staged folder without one is incomplete.
"""
import json
import re
from contextlib import contextmanager
from pathlib import Path

from . import atomic
from .errors import BundleError

FORMAT = "latent-explorer-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KINDS = ("image", "text")
# Files a manifest names are plain names inside the bundle folder: no folders, no "..".
FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def is_bundle(folder):
    """True if `folder` holds a manifest of ours (whatever its version)."""
    path = Path(folder) / MANIFEST
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(m, dict) and m.get("format") == FORMAT


@contextmanager
def staged(out):
    """Yield a temp folder beside `out`; on success it atomically replaces `out`, on error it is
    removed. Refuses (BundleError) if `out` holds anything but a bundle or an empty folder."""
    try:
        with atomic.staged(out, is_bundle, "latent-explorer bundle") as tmp:
            yield tmp
    except atomic.PathError as e:
        raise BundleError(str(e)) from None


def check_out(out):
    """Raise BundleError now, before any work, if `out` is not ours to replace."""
    try:
        atomic.check_replaceable(out, is_bundle, "latent-explorer bundle")
    except atomic.PathError as e:
        raise BundleError(str(e)) from None


def write_manifest(folder, manifest):
    if manifest.get("kind") not in KINDS:
        raise BundleError(f"{folder}: unknown bundle kind {manifest.get('kind')!r} (one of {', '.join(KINDS)})")
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **manifest}
    check(manifest, Path(folder) / MANIFEST)
    text = json.dumps(manifest, indent=1, allow_nan=False)
    (Path(folder) / MANIFEST).write_text(text + "\n", encoding="utf-8")
    return manifest


def files(manifest):
    """Every file the manifest names, besides itself: what a site copies."""
    named = [g["file"] for g in manifest["graphs"].values()]
    if manifest["kind"] == "text":
        named.append(manifest["text"]["vocab"])
    return named


def check(m, path):
    """Raise BundleError unless `m` has the keys every command relies on, with safe values."""
    def need(ok, problem):
        if not ok:
            raise BundleError(f"{path}: {problem}")
    need(isinstance(m, dict) and m.get("format") == FORMAT, "not a latent-explorer manifest")
    need(m.get("format_version") == FORMAT_VERSION,
         f"format version {m.get('format_version')!r} (this tool reads {FORMAT_VERSION}; re-export the bundle)")
    try:
        atomic.check_name(m.get("name"), path)
    except atomic.PathError as e:
        raise BundleError(str(e)) from None
    need(m.get("kind") in KINDS, f"kind {m.get('kind')!r} is not one of {', '.join(KINDS)}")
    need(isinstance(m.get("title", ""), str), "title must be a string")
    graphs = m.get("graphs")
    need(isinstance(graphs, dict) and graphs, "graphs must be a non-empty object")
    for key, g in graphs.items():
        need(isinstance(g, dict) and isinstance(g.get("file"), str), f"graphs.{key}.file must be a string")
    if m["kind"] == "text":
        need(isinstance(m.get("text"), dict) and isinstance(m["text"].get("vocab"), str), "text.vocab must be a string")
    for f in files(m):
        need(FILE.fullmatch(f) and f != MANIFEST, f"names the file {f!r}, which is not a plain file name in the bundle")


def read_manifest(folder):
    """The checked manifest of the bundle in `folder`, after checking that every file it names is
    a regular file there (not a symlink)."""
    path = Path(folder) / MANIFEST
    if path.is_symlink() or not path.is_file():
        raise BundleError(f"{path}: not a bundle (no {MANIFEST})")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}: not valid JSON ({e})") from None
    check(m, path)
    for f in files(m):
        p = Path(folder) / f
        if p.is_symlink():
            raise BundleError(f"{path}: names {f}, which is a symbolic link; refusing to copy it")
        if not p.is_file():
            raise BundleError(f"{path}: names {f}, which is missing")
    return m
