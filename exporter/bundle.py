"""The bundle: one folder per model, the single contract between Python and the browser.

A bundle is written into a temporary sibling folder and renamed into place only once
everything in it is written and validated, so a failed or interrupted export leaves the
previous bundle byte-identical.
"""
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import BundleError

FORMAT = "latent-explorer-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KINDS = ("image", "text")


@contextmanager
def staged(out):
    """Yield a temp folder beside `out`; on success it replaces `out`, on error it is removed."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    tmp.chmod(0o755)  # mkdtemp makes it private; a bundle is meant to be served
    try:
        yield tmp
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_manifest(folder, manifest):
    assert manifest.get("kind") in KINDS, f"unknown bundle kind {manifest.get('kind')!r}"
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **manifest}
    text = json.dumps(manifest, indent=1, allow_nan=False)
    (Path(folder) / MANIFEST).write_text(text + "\n", encoding="utf-8")
    return manifest


def read_manifest(folder):
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise BundleError(f"{path}: not a bundle (no {MANIFEST})")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise BundleError(f"{path}: not a latent-explorer manifest")
    if m.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path}: format version {m.get('format_version')} (this tool reads {FORMAT_VERSION})")
    for g in m.get("graphs", {}).values():
        if not (Path(folder) / g["file"]).is_file():
            raise BundleError(f"{path}: names {g['file']}, which is missing")
    return m
