"""The real FashionMNIST files from Debian's dataset-fashion-mnist, through train and export."""
import json
from pathlib import Path

import pytest

from exporter.cli import main
from exporter.data.idx import FASHION_MNIST_DIR, FASHION_MNIST_LABELS

pytestmark = pytest.mark.skipif(not Path(FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz").is_file(),
                                reason=f"FashionMNIST not installed in {FASHION_MNIST_DIR} "
                                       "(apt-get install dataset-fashion-mnist)")


def test_conv_vae_smoke_on_real_fashion_mnist(tmp_path, capsys):
    """One epoch of the conv VAE on 512 real training images, evaluated on the 10k test images."""
    assert main(["train", "--dataset", "fashion-mnist", "--arch", "conv", "--epochs", "1", "--limit", "512",
                 "--channels", "8", "--hidden", "64", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "test per image: -ELBO" in out and "active units" in out
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "fashion")]) == 0
    m = json.loads((tmp_path / "fashion" / "manifest.json").read_text())
    assert m["dataset"]["name"] == "fashion-mnist" and m["dataset"]["label_names"] == FASHION_MNIST_LABELS
    assert m["image"]["height"] == m["image"]["width"] == 28 and m["latent"] == {"size": 16}
    assert m["graphs"]["encoder"]["validation"]["max_abs_diff"]["coords"] <= 1e-5
    assert m["provenance"]["test_metrics"]["n_images"] == 10000
    assert m["provenance"]["config"]["model"]["arch"] == "conv"
    assert {a["label"] for a in m["anchors"]} == set(range(10))
    assert m["graphs"]["decoder"]["validation"]["max_abs_diff"]["pixels"] <= 1e-5
