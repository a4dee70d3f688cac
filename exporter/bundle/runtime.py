"""A bundle's graphs run in Python with onnxruntime: the same files, the same coordinates the
browser uses. Needs no torch, so it works for any bundle, whoever trained the model."""
import os
from pathlib import Path

import numpy as np

from ..errors import BundleError
from .io import read_manifest


class Runtime:
    """`decode(coords (N, Z)) -> pixels` and `encode(pixels) -> coords (N, Z)` of an image bundle."""

    def __init__(self, folder):
        import onnxruntime as ort
        self.folder = Path(folder)
        self.manifest = m = read_manifest(folder)
        if m.kind != "image":
            raise BundleError(f"{folder}: a {m.kind} bundle; only image bundles are supported here")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        threads = os.environ.get("OMP_NUM_THREADS", "")
        opts.intra_op_num_threads = int(threads) if threads.isdigit() else 0  # 0: onnxruntime's choice
        self._sessions = {role: ort.InferenceSession(str(self.folder / g.file), opts,
                                                     providers=["CPUExecutionProvider"])
                          for role, g in m.graphs.items()}
        self.image_shape = (m.image.height, m.image.width) + ((3,) if m.image.channels == 3 else ())

    @property
    def has_encoder(self):
        return "encoder" in self._sessions

    def _run(self, role, name, x, batch):
        sess = self._sessions[role]
        out = [sess.run(None, {name: np.ascontiguousarray(x[i:i + batch], np.float32)})[0]
               for i in range(0, len(x), batch)]
        return np.concatenate(out) if out else np.zeros((0,), np.float32)

    def decode(self, coords, batch=512):
        """coords (N, Z) -> pixels (N, H, W[, 3]) in [0, 1]."""
        # decoder.onnx: coords float32 [batch, Z] -> pixels float32 [batch, H, W(, 3)]
        return self._run("decoder", "coords", np.atleast_2d(coords), batch)

    def encode(self, pixels, batch=1000):
        """pixels (N, H, W[, 3]) -> coords (N, Z); one image (H, W[, 3]) gives (1, Z)."""
        if not self.has_encoder:
            raise BundleError(f"{self.folder}: has no encoder.onnx, so it cannot encode images "
                              "(export it with an encoder)")
        pixels = np.asarray(pixels, np.float32)
        if pixels.shape == self.image_shape:
            pixels = pixels[None]
        if pixels.shape[1:] != self.image_shape:
            raise BundleError(f"{self.folder}: takes images of shape {self.image_shape}, got {pixels.shape[1:]}")
        # encoder.onnx: pixels float32 [batch, H, W(, 3)] -> coords float32 [batch, Z]
        return self._run("encoder", "pixels", pixels, batch)
