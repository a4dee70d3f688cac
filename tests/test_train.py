"""Training: checkpoints carry their config, and resuming is exact."""
import pytest
import torch

from exporter.configs import VAEConfig
from exporter.train import checkpoint
from exporter.train.image import TrainConfig, load_model, train


def test_checkpoint_reloads_without_flags(tmp_path):
    train(TrainConfig(epochs=2, seed=3), VAEConfig(latent_size=4, hidden=32), tmp_path, progress=False)
    model, state = load_model(tmp_path)
    assert state["model_config"]["latent_size"] == 4 and state["train_config"]["seed"] == 3
    assert model.decode(torch.zeros(1, 4)).shape == (1, 8, 8)
    m = state["test_metrics"]
    assert m["n_images"] == 359 and m["neg_elbo"] == pytest.approx(m["reconstruction"] + m["kl"])
    assert m["kl"] > 0 and 0 <= m["active_units"] <= 4


def test_resume_matches_uninterrupted_run(tmp_path):
    cfg = dict(epochs=4, seed=1, kl_warmup=3)
    whole = train(TrainConfig(**cfg), VAEConfig(hidden=32), tmp_path / "a", progress=False)
    train(TrainConfig(**{**cfg, "epochs": 2}), VAEConfig(hidden=32), tmp_path / "b", progress=False)
    resumed = train(TrainConfig(), VAEConfig(), tmp_path / "b", resume=True, epochs=4, progress=False)
    assert resumed["epoch"] == whole["epoch"] == 3
    for name, w in whole["model"].items():
        assert torch.equal(w, resumed["model"][name]), name
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in whole["history"]]


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    checkpoint.save(tmp_path, {"model_config": {}, "kind": "x"})
    before = (tmp_path / checkpoint.FILENAME).read_bytes()

    def boom(obj, f):
        open(f, "wb").write(b"half")
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, "save", boom)
    try:
        checkpoint.save(tmp_path, {"model_config": {"new": 1}})
    except KeyboardInterrupt:
        pass
    assert (tmp_path / checkpoint.FILENAME).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint.FILENAME]
