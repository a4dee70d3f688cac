"""Smaller graphs: store the big weight matrices as float16 or int8 inside the ONNX file.

Only storage changes. Each compressed initializer W becomes a smaller initializer plus one node
that restores a float32 W at load time (`Cast` from float16; `DequantizeLinear` from int8 with
one scale per output channel, symmetric, so it covers Gemm, Conv and ConvTranspose alike).
Everything after runs in float32, as before, so onnxruntime-web runs it on every backend.
Small initializers (biases, the PCA) stay float32: they cost nothing and carry the offsets.

The export gate then checks the compressed file against torch with the tolerance of its mode.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..errors import ArgumentError

MODES = ("float32", "float16", "int8")
# The gate's tolerance for pixels against torch float32 (None: the graph's own atol). int8 weights
# move pixels by up to ~0.07 at +-5 sigma on the FashionMNIST conv decoder (about 0.01 at typical
# points); its gate only catches a broken file, and the measured difference is recorded.
ATOL = {"float32": None, "float16": 5e-3, "int8": 0.15}
MIN_SIZE = 1024  # initializers with fewer values stay float32


def compress(path, mode):
    """Rewrite the ONNX file at `path` in place with its large float32 weights stored as `mode`."""
    if mode not in MODES:
        raise ArgumentError(f"--weights {mode}: choose one of {', '.join(MODES)}")
    if mode == "float32":
        return
    model = onnx.load(str(path))
    graph = model.graph
    kept, added, restore = [], [], []
    for init in graph.initializer:
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.size < MIN_SIZE or init.name.startswith("pca."):
            kept.append(init)
            continue
        if mode == "float16":
            added.append(numpy_helper.from_array(w.astype(np.float16), f"{init.name}.f16"))
            restore.append(helper.make_node("Cast", [f"{init.name}.f16"], [init.name], to=TensorProto.FLOAT))
        else:
            absmax = np.abs(w.reshape(len(w), -1)).max(1)                  # per output channel (axis 0)
            scale = np.where(absmax > 0, absmax / 127.0, 1.0).astype(np.float32)
            q = np.clip(np.round(w / scale.reshape(-1, *[1] * (w.ndim - 1))), -127, 127).astype(np.int8)
            added += [numpy_helper.from_array(q, f"{init.name}.q"), numpy_helper.from_array(scale, f"{init.name}.scale")]
            restore.append(helper.make_node("DequantizeLinear", [f"{init.name}.q", f"{init.name}.scale"],
                                            [init.name], axis=0))
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    nodes = restore + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(path))
