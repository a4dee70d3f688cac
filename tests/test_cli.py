"""CLI behaviour: one-line errors with a non-zero exit and no traceback; the demo chain."""
import json
import subprocess
import sys

import pytest


def test_errors_name_the_file(cli, tmp_path, digits_run):
    bad_ckpt = tmp_path / "bad"
    bad_ckpt.mkdir()
    (bad_ckpt / "checkpoint.pt").write_bytes(b"not a checkpoint")
    no_site = tmp_path / "empty"
    no_site.mkdir()
    cases = [
        (["export", tmp_path / "nope", "--out", tmp_path / "b"], "nope/checkpoint.pt: no checkpoint here"),
        (["export", bad_ckpt, "--out", tmp_path / "b"], "bad/checkpoint.pt: not a readable checkpoint"),
        (["train", "--out", digits_run, "--epochs", "1"], "already holds a checkpoint"),
        (["train", "--data", tmp_path / "missing.npz", "--out", tmp_path / "r"], "missing.npz: no such file or folder"),
        (["train", "--dataset", "cifar", "--out", tmp_path / "r"], "cifar: unknown dataset"),
        (["site", no_site, "--out", tmp_path / "s"], "no bundles to put in the site"),
        (["site", tmp_path / "nowhere", "--out", tmp_path / "s"], "nowhere: no such bundle"),
        (["serve", no_site], "not a built site"),
    ]
    for args, message in cases:
        code, out, err = cli(*args)
        assert code == 1, args
        assert err.startswith("error: ") and message in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "b").exists() and not (tmp_path / "s").exists() and not (tmp_path / "r").exists()


def test_real_process_prints_no_traceback(tmp_path):
    p = subprocess.run([sys.executable, "-m", "exporter", "export", str(tmp_path / "nope"), "--out", str(tmp_path / "b")],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr and "no checkpoint here" in p.stderr


@pytest.mark.parametrize("command", ["train", "export", "directions", "site", "serve", "demo"])
def test_every_subcommand_has_help(command):
    p = subprocess.run([sys.executable, "-m", "exporter", command, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "usage: latent-explorer " + command in p.stdout


def test_demo_builds_the_whole_chain(cli, tmp_path):
    code, out, err = cli("demo", "--work", tmp_path, "--epochs", "2", "--no-serve")
    assert code == 0, err
    index = json.loads((tmp_path / "site" / "models" / "index.json").read_text())
    assert "digits" in [m["name"] for m in index["models"]]
    site = tmp_path / "site"
    assert (site / "index.html").is_file() and (site / "latent-explorer.js").is_file()
    assert (site / "models" / "digits" / "decoder.onnx").is_file()
    # A second run reuses the finished training run instead of training again.
    mtime = (tmp_path / "runs" / "digits" / "checkpoint.pt").stat().st_mtime_ns
    assert cli("demo", "--work", tmp_path, "--epochs", "2", "--no-serve")[0] == 0
    assert (tmp_path / "runs" / "digits" / "checkpoint.pt").stat().st_mtime_ns == mtime


def test_npz_data_trains_and_exports(cli, tmp_path):
    """Any image array a user has in numpy: train on an .npz, export, the name is the file stem."""
    import numpy as np
    rng = np.random.default_rng(0)
    x = (rng.random((120, 12, 12)) * 255).astype(np.uint8)
    np.savez(tmp_path / "blobs.npz", x=x, y=np.arange(120) % 3, label_names=np.array(["a", "b", "c"]))
    code, out, err = cli("train", "--data", tmp_path / "blobs.npz", "--arch", "conv", "--epochs", "1",
                         "--hidden", "32", "--latent-size", "4", "--out", tmp_path / "run")
    assert code == 0, err
    assert "test per image: -ELBO" in out and "active units" in out
    code, out, err = cli("export", tmp_path / "run", "--out", tmp_path / "bundle", "--sliders", "3")
    assert code == 0, err
    m = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert m["dataset"]["name"] == "blobs" and m["dataset"]["label_names"] == ["a", "b", "c"]
    assert {k: m["image"][k] for k in ("height", "width", "channels", "range")} == {
        "height": 12, "width": 12, "channels": 1, "range": [0.0, 1.0]}
    assert {a["label"] for a in m["anchors"]} == {0, 1, 2}


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"   \n\t\n", "no sentences"),
    (b"abc\x00def\n", "binary"),
    (b"caf\xe9 au lait\n", "UTF-8"),
    (b"".join(b"sentence number %d\n" % i for i in range(8)), "validation split (5%) is empty"),
])
def test_bad_sentence_files(cli, tmp_path, content, message):
    bad = tmp_path / "sentences.txt"
    bad.write_bytes(content)
    code, out, err = cli("train", "--sentences", bad, "--out", tmp_path / "run")
    assert code == 1 and err.startswith("error: ") and "sentences.txt" in err and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sentences.txt"]  # nothing written


def test_sentences_train_and_export(cli, tmp_path):
    lines = [f"the {a} {v} the {b} ." for a in ("cat", "dog", "bird", "man") for v in ("saw", "liked", "found")
             for b in ("tree", "house", "river", "book")]
    (tmp_path / "s.txt").write_text("\n".join(lines) + "\n")
    code, out, err = cli("train", "--sentences", tmp_path / "s.txt", "--epochs", "1", "--hidden", "32", "--emb", "16",
                         "--encoder-hidden", "16", "--latent-size", "4", "--vocab-size", "300", "--free-bits", "0.5",
                         "--kl-anneal", "linear", "--iw-samples", "5", "--prior-samples", "50", "--out", tmp_path / "run")
    assert code == 0, err
    assert "VAE ELBO NLL" in out and "importance-weighted (k=5)" in out and "x the LM" in out and "50 prior samples" in out
    assert (tmp_path / "run" / "lm" / "checkpoint.pt").is_file()
    code, out, err = cli("export", tmp_path / "run", "--out", tmp_path / "b", "--sliders", "3")
    assert code == 0, err
    m = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert m["kind"] == "text" and m["text"]["variant"] == "loop" and list(m["graphs"]) == ["loop", "encoder"]
    assert m["metrics"]["test"]["lm"]["nll"] > 0 and m["provenance"]["config"]["train"]["free_bits"] == 0.5
    code, out, err = cli("export", tmp_path / "run", "--out", tmp_path / "q", "--variant", "unrolled", "--weights", "int8")
    assert code == 0, err
    assert json.loads((tmp_path / "q" / "manifest.json").read_text())["metrics"]["quantization"]["n"] == 1000
    code, out, err = cli("export", tmp_path / "run", "--out", tmp_path / "h", "--weights", "float16")
    assert code == 1 and "float16" in err and not (tmp_path / "h").exists()
    code, out, err = cli("train", "--dataset", "digits", "--free-bits", "1", "--out", tmp_path / "img")
    assert code == 1 and "--free-bits" in err and "sentence models only" in err


def test_colour_shapes_train_and_export(cli, tmp_path):
    """RGB end to end: the generated shapes, a conv VAE on (H, W, 3), graphs on [batch, H, W, 3]."""
    code, out, err = cli("train", "--dataset", "shapes", "--arch", "conv", "--epochs", "1", "--limit", "256",
                         "--hidden", "32", "--channels", "8", "--latent-size", "6", "--out", tmp_path / "run")
    assert code == 0, err
    code, out, err = cli("export", tmp_path / "run", "--out", tmp_path / "b")
    assert code == 0, err
    m = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert m["image"]["channels"] == 3 and m["dataset"]["label_names"] == ["circle", "square", "triangle"]
    assert m["graphs"]["decoder"]["outputs"]["pixels"]["shape"] == ["batch", 32, 32, 3]
    assert m["graphs"]["encoder"]["inputs"]["pixels"]["shape"] == ["batch", 32, 32, 3]
