"""Never lose a user's files, never write outside the output, every error one line.

The data-loss tests fill a user folder with files, run a command at it, and compare every byte
afterwards. The path tests compare listings of the parent and of the system temp folder before
and after."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from exporter import atomic, bundle
from exporter.errors import BundleError
from exporter.export.image import export_image_bundle
from exporter.site.build import MARKER, build, find_bundles
from exporter.train import checkpoint


def snapshot(folder):
    """Every file and symlink under `folder` (relative path -> sha256 or link target)."""
    folder = Path(folder)
    if folder.is_file():
        return {"": hashlib.sha256(folder.read_bytes()).hexdigest()}
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = f"-> {os.readlink(p)}" if p.is_symlink() else (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
    return out


def listing(*folders):
    return {str(f): sorted(os.listdir(f)) for f in folders}


def user_folder(path):
    """A folder of the user's: files, a subfolder, a hidden file."""
    (path / "sub").mkdir(parents=True)
    (path / "sub" / "f").write_text("x\n")
    (path / "notes.md").write_text("my notes\n")
    (path / ".hidden").write_text("secret\n")
    return path


def small_bundle(out, name="small", seed=0):
    torch.manual_seed(seed)
    decoder = nn.Sequential(nn.Linear(4, 12), nn.Sigmoid(), nn.Unflatten(1, (3, 4)))
    lat = np.random.default_rng(seed).standard_normal((100, 4)).astype(np.float32)
    export_image_bundle(decoder, lat, out, sliders=2, name=name, n_anchors=5)
    return out


def one_line_error(code, err, *needles):
    assert code != 0
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert str(n) in err, (n, err)


# 1. Data loss: a command replaces only what it made.

def test_export_refuses_a_user_folder(cli, digits_run, tmp_path):
    d = user_folder(tmp_path / "D")
    before = snapshot(d)
    one_line_error(*cli("export", digits_run, "--out", d)[::2], d, "not a latent-explorer bundle")
    assert snapshot(d) == before


def test_export_refuses_a_folder_of_bundles(cli, digits_run, tmp_path):
    """`export --out models` (a typo for models/NAME) must not delete the shipped bundles."""
    models = tmp_path / "models"
    small_bundle(models / "a", "a")
    small_bundle(models / "b", "b")
    before = snapshot(models)
    one_line_error(*cli("export", digits_run, "--out", models)[::2], models)
    assert snapshot(models) == before


def test_export_refuses_a_file_and_leaves_no_hidden_copy(cli, digits_run, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("do not lose me\n")
    one_line_error(*cli("export", digits_run, "--out", notes)[::2], notes, "not a folder")
    assert notes.read_text() == "do not lose me\n"
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_site_refuses_its_own_bundle_folder(cli, tmp_path):
    """`site models --out models` must not delete what is in models/."""
    models = tmp_path / "models"
    small_bundle(models / "a", "a")
    (models / "README.txt").write_text("mine\n")
    before = snapshot(models)
    one_line_error(*cli("site", models, "--out", models)[::2], models, "not a latent-explorer site")
    assert snapshot(models) == before


def test_site_refuses_a_user_folder_and_replaces_its_own(cli, tmp_path):
    b = small_bundle(tmp_path / "b", "b")
    d = user_folder(tmp_path / "D")
    before = snapshot(d)
    one_line_error(*cli("site", b, "--out", d)[::2], d)
    assert snapshot(d) == before
    site = tmp_path / "site"
    assert cli("site", b, "--out", site)[0] == 0 and (site / MARKER).is_file()
    (site / "stale.txt").write_text("from an older build")
    assert cli("site", b, "--out", site)[0] == 0, "a site we built may be rebuilt"
    assert not (site / "stale.txt").exists()


def test_demo_refuses_a_user_work_folder(cli, tmp_path):
    d = user_folder(tmp_path / "D")
    before = snapshot(d)
    one_line_error(*cli("demo", "--work", d, "--epochs", "1", "--no-serve")[::2], d, "not a latent-explorer demo")
    assert snapshot(d) == before


def test_train_refuses_a_user_folder(cli, tmp_path):
    d = user_folder(tmp_path / "D")
    before = snapshot(d)
    one_line_error(*cli("train", "--out", d, "--epochs", "1")[::2], d, "not a training run")
    assert snapshot(d) == before


def test_export_replaces_its_own_bundle_and_fills_an_empty_folder(tmp_path):
    small_bundle(tmp_path / "b", "b")
    small_bundle(tmp_path / "b", "b", seed=1)
    (tmp_path / "e").mkdir()
    small_bundle(tmp_path / "e", "e")
    assert bundle.is_bundle(tmp_path / "b") and bundle.is_bundle(tmp_path / "e")
    assert sorted(os.listdir(tmp_path)) == ["b", "e"], "no hidden leftovers"


# 2. The atomic replace never leaves the path empty.

def test_replace_is_one_exchange_and_fsyncs(tmp_path, monkeypatch):
    out = small_bundle(tmp_path / "b", "b")
    calls, synced = [], []
    real_rename2, real_fsync = atomic._rename2, os.fsync
    monkeypatch.setattr(atomic, "_rename2", lambda s, d, f: calls.append(f) or real_rename2(s, d, f))
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd))
    small_bundle(out, "b", seed=1)
    assert calls == [atomic._RENAME_EXCHANGE]
    names = {Path(p).name for p in synced}
    assert {"manifest.json", "decoder.onnx"} <= names, synced
    assert str(tmp_path) in synced, "the parent folder is fsynced after the swap"


KILL_BETWEEN_RENAMES = """
import os, sys
sys.path.insert(0, {root!r})
from exporter import atomic
atomic._rename2 = lambda src, dst, flags: False          # the two-rename fallback
renames = []
real = os.rename
def rename(src, dst):
    renames.append(dst)
    real(src, dst)
    if len(renames) == 1:
        os._exit(9)                                       # killed between old -> .old and tmp -> out
atomic.os.rename = rename
sys.path.insert(0, {tests!r})
from test_safety import small_bundle
small_bundle({out!r}, "b", seed=1)
"""


def test_a_kill_between_the_two_renames_is_recovered(tmp_path):
    out = small_bundle(tmp_path / "b", "b")
    before = snapshot(out)
    tests = Path(__file__).parent
    script = KILL_BETWEEN_RENAMES.format(root=str(tests.parent), tests=str(tests), out=str(out))
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True)
    assert p.returncode == 9, p.stderr
    assert not out.exists(), "the fallback's window: the bundle is away"
    assert sorted(n.split("-")[0] for n in os.listdir(tmp_path)) == [".b.old", ".b.tmp"]
    atomic.recover(out, bundle.is_bundle)  # what every later run does first
    assert snapshot(out) == before
    assert os.listdir(tmp_path) == ["b"], "stale temp copies of a dead process are removed"


def test_stale_leftovers_are_cleaned_by_the_next_export(tmp_path):
    out = small_bundle(tmp_path / "b", "b")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    for kind in ("tmp", "old"):
        shutil.copytree(out, tmp_path / f".b.{kind}-{pid}-abc123")
    (tmp_path / f".b.tmp-{os.getpid()}-live").mkdir()  # a live process's: left alone
    small_bundle(out, "b", seed=1)
    assert sorted(os.listdir(tmp_path)) == [f".b.tmp-{os.getpid()}-live", "b"]


# 3. Hidden copies never shadow fresh bundles; one name per folder.

def test_site_skips_hidden_folders(tmp_path):
    models = tmp_path / "models"
    small_bundle(models / "fm", "fm", seed=1)
    shutil.copytree(small_bundle(tmp_path / "old" / "fm", "fm", seed=2), models / ".fm.old-1")
    assert find_bundles([models]) == [models / "fm"]
    build(tmp_path / "site", [models])
    assert snapshot(tmp_path / "site" / "models" / "fm") == snapshot(models / "fm")


def test_two_bundles_of_one_name_in_a_folder_are_refused(cli, tmp_path):
    models = tmp_path / "models"
    small_bundle(models / "a", "same")
    small_bundle(models / "b", "same")
    one_line_error(*cli("site", models, "--out", tmp_path / "site")[::2], "two bundles named 'same'")
    assert not (tmp_path / "site").exists()


# 4, 5. Names and files from a manifest never become paths outside the output.

def edit_manifest(folder, **changes):
    m = json.loads((folder / "manifest.json").read_text())
    for dotted, value in changes.items():
        node, *path, last = [m, *dotted.split("__")]
        for key in path:
            node = node[key]
        node[last] = value
    (folder / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("changes, message", [
    ({"name": "../../x"}, "bundle name '../../x' is not allowed"),
    ({"name": "/abs/path"}, "bundle name '/abs/path' is not allowed"),
    ({"name": "Big Model"}, "is not allowed"),
    ({"name": ""}, "is not allowed"),
    ({"graphs__decoder__file": "../../etc/passwd"}, "not a plain file name"),
    ({"graphs__decoder__file": "/etc/passwd"}, "not a plain file name"),
    ({"graphs__decoder__file": "sub/decoder.onnx"}, "not a plain file name"),
    ({"graphs__decoder__file": "manifest.json"}, "not a plain file name"),
    ({"kind": "audio"}, "kind 'audio' is not one of image, text"),
    ({"graphs": {}}, "graphs must be a non-empty object"),
    ({"graphs": []}, "graphs must be an object"),
    ({"graphs__decoder__file": 3}, "graphs.decoder.file must be a string"),
    ({"format_version": 99}, "format version 99"),
    ({"title": ["x"]}, "title must be a string"),
])
def test_bad_manifests_are_one_line_errors_and_write_nothing(cli, tmp_path, changes, message):
    work = tmp_path / "work"
    b = small_bundle(work / "b", "b")
    edit_manifest(b, **changes)
    before = listing(tmp_path, work, tempfile.gettempdir())
    one_line_error(*cli("site", b, "--out", work / "site")[::2], "manifest.json", message)
    assert listing(tmp_path, work, tempfile.gettempdir()) == before


def test_manifest_that_is_not_json(cli, tmp_path):
    b = small_bundle(tmp_path / "b", "b")
    (b / "manifest.json").write_text('{"format": "latent-explorer-bundle", ')
    one_line_error(*cli("site", b, "--out", tmp_path / "site")[::2], "manifest.json: not valid JSON")


def test_export_refuses_unsafe_names(cli, digits_run, tmp_path):
    for name in ("../x", "/tmp/x", "A", "a/b"):
        one_line_error(*cli("export", digits_run, "--out", tmp_path / "b", "--name", name)[::2], "is not allowed")
    assert os.listdir(tmp_path) == []
    with pytest.raises(atomic.PathError):
        small_bundle(tmp_path / "b", "../b")


def test_default_names_are_made_safe(cli, digits_run, tmp_path):
    assert cli("export", digits_run, "--out", tmp_path / "My Model")[0] == 0
    assert json.loads((tmp_path / "My Model" / "manifest.json").read_text())["name"] == "my-model"


def test_site_copies_only_named_files_and_no_symlinks(tmp_path):
    secret = tmp_path / "ssh"
    secret.mkdir()
    (secret / "id_rsa").write_text("PRIVATE KEY\n")
    b = small_bundle(tmp_path / "b", "b")
    (b / "home").symlink_to(secret)
    (b / "notes.txt").write_text("not named by the manifest\n")
    site = tmp_path / "site"
    build(site, [b])
    assert sorted(os.listdir(site / "models" / "b")) == ["decoder.onnx", "manifest.json"]
    assert not any("PRIVATE KEY" in p.read_text(errors="ignore") for p in site.rglob("*") if p.is_file()
                   and p.stat().st_size < 1e6)
    (b / "decoder.onnx").rename(tmp_path / "real.onnx")
    (b / "decoder.onnx").symlink_to(tmp_path / "real.onnx")
    with pytest.raises(BundleError, match="decoder.onnx, which is a symbolic link"):
        build(tmp_path / "site2", [b])


def test_inside_refuses_escapes(tmp_path):
    atomic.inside(tmp_path, tmp_path / "a" / "b")
    for bad in (tmp_path / ".." / "x", Path("/etc/passwd")):
        with pytest.raises(atomic.PathError):
            atomic.inside(tmp_path, bad)


# 10, 11. The command line: values checked up front, one-line errors.

@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "argument --epochs: 0 must be a positive integer"),
    (["--epochs", "-1"], "argument --epochs: -1 must be a positive integer"),
    (["--epochs", "two"], "argument --epochs: 'two' is not an integer"),
    (["--latent-size", "0"], "argument --latent-size"),
    (["--hidden", "0"], "argument --hidden"),
    (["--batch-size", "0"], "argument --batch-size"),
    (["--limit", "0"], "argument --limit"),
    (["--channels", "0"], "argument --channels"),
    (["--lr", "nan"], "argument --lr: nan must be a finite number > 0"),
    (["--lr", "-1"], "argument --lr"),
    (["--lr", "inf"], "argument --lr"),
    (["--beta", "nan"], "argument --beta: nan must be a finite number >= 0"),
    (["--kl-warmup", "-1"], "argument --kl-warmup"),
    (["--seed", "-3"], "argument --seed"),
    (["--sentences", "x.txt", "--kl-warmup", "2"], "--kl-warmup: applies to image models only"),
    (["--dataset", "digits", "--free-bits", "1"], "--free-bits: applies to sentence models only"),
])
def test_train_values_are_checked(tmp_path, args, message):
    p = subprocess.run([sys.executable, "-m", "exporter", "train", "--out", str(tmp_path / "r"), *args],
                       capture_output=True, text=True)
    one_line_error(p.returncode, p.stderr, message)
    assert not (tmp_path / "r").exists()


def run_cli(*args):
    p = subprocess.run([sys.executable, "-m", "exporter", *map(str, args)], capture_output=True, text=True)
    return p.returncode, p.stderr


@pytest.mark.parametrize("sliders", ["0", "-1", "x"])
def test_export_sliders_are_checked(digits_run, tmp_path, sliders):
    one_line_error(*run_cli("export", digits_run, "--out", tmp_path / "b", "--sliders", sliders), "argument --sliders")
    assert not (tmp_path / "b").exists()


def test_defaults_come_from_the_dataclasses():
    from exporter.cli import parser
    from exporter.configs import TextTrainConfig, TrainConfig
    a = parser().parse_args(["train", "--out", "r"])
    assert a.epochs is None and a.lr is None and a.hidden is None, "None means: the dataclass default"
    p = subprocess.run([sys.executable, "-m", "exporter", "train", "--help"], capture_output=True, text=True)
    assert f"images {TrainConfig.epochs}, sentences {TextTrainConfig.epochs}" in " ".join(p.stdout.split())


def test_a_non_finite_loss_stops_training_naming_the_epoch(cli, tmp_path, monkeypatch):
    import exporter.train.image
    real = exporter.train.image.loss_terms
    monkeypatch.setattr(exporter.train.image, "loss_terms", lambda *a: tuple(t * float("nan") for t in real(*a)))
    code, _, err = cli("train", "--out", tmp_path / "r", "--epochs", "3")
    progress, _, message = err.rstrip("\n").rpartition("\n")  # the tqdm bar, then the error
    assert "Traceback" not in progress
    one_line_error(code, message, "loss became nan in epoch 1")


def test_an_unwritable_out_fails_before_training(cli, tmp_path):
    (tmp_path / "file").write_text("x")
    code, out, err = cli("train", "--out", tmp_path / "file" / "run", "--epochs", "50")
    one_line_error(code, err, "file/run: cannot write here")
    assert "trained" not in out


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["model_config"].update(wings=2), "model_config has unknown keys wings"),
    (lambda s: s.update(train_config="oops"), "has no train_config"),
    (lambda s: s["train_config"].update(epochs="many", lr=None, beta=[]), None),
    (lambda s: s["model_config"].update(latent_size=3), "model does not fit the model"),
    (lambda s: s.update(kind="text-lm"), "holds a 'text-lm' model, expected 'image-vae'"),
])
def test_damaged_checkpoints_are_one_line_errors(cli, digits_run, tmp_path, edit, message):
    run = tmp_path / "run"
    shutil.copytree(digits_run, run)
    state = torch.load(run / checkpoint.FILENAME, weights_only=True)
    edit(state)
    torch.save(state, run / checkpoint.FILENAME)
    code, _, err = cli("export", run, "--out", tmp_path / "b")
    if message is None:  # values of the wrong type in a config do not matter to export
        assert code == 0, err
        return
    one_line_error(code, err, message)
    assert not (tmp_path / "b").exists()


def test_no_assert_on_user_input():
    """`assert` vanishes under python -O and gives a traceback: the package uses typed errors."""
    root = Path(__file__).resolve().parent.parent / "exporter"
    offenders = [f"{p.relative_to(root)}:{i}" for p in root.rglob("*.py")
                 for i, line in enumerate(p.read_text().splitlines(), 1) if line.strip().startswith("assert ")]
    assert offenders == []
