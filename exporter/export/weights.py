"""Smaller graphs: store the big weight matrices as float16 or int8 inside the ONNX file.

Only storage changes. Each compressed initializer W becomes a smaller initializer plus one node
that restores a float32 W at load time (`Cast` from float16; `DequantizeLinear` from int8 with
one scale per output channel, symmetric, so it covers Gemm, Conv and ConvTranspose alike).
Everything after runs in float32, as before, so onnxruntime-web runs it on every backend.
Small initializers (biases, the PCA) stay float32: they cost nothing and carry the offsets.

`compress` rounds the file only (image encoders: the gate then allows ENCODER_ATOL in
export/image.py). The decoders round the torch model first and store exactly its weights
(`round_module` / `store_rounded` for sentence models, `round_image_module` for image decoders), so
their gate holds the file to the rounded model at the graph's own atol.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..errors import ArgumentError

MODES = ("float32", "float16", "int8")
MIN_SIZE = 1024  # initializers with fewer values stay float32
INT8_MIN_INPUTS = 64  # round_image_module: Linear layers with fewer inputs are float16, not int8


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


# --- exact int8 / float16 for sentence models -----------------------------------------------
# A greedy decoder turns tiny differences into other words, so "close to torch" is not enough
# there: the exported file must compute what a torch model computes, token for token. So the
# torch model itself is rounded first (`round_module`: each chosen weight replaced by its int8
# values times the per-row scale, or by its float16 value, in float32), and the file stores
# exactly those int8 values and scales, or float16 values (`store_rounded`): DequantizeLinear or
# Cast gives back bit for bit the weights torch runs with. The export gate then holds the file
# to the rounded model's tokens on every point.

def int8_rows(w):
    """Symmetric int8 with one scale per row (axis 0): (q int8, scale float32 (rows,))."""
    w = np.asarray(w, np.float32)
    absmax = np.abs(w.reshape(len(w), -1)).max(1)
    scale = np.where(absmax > 0, absmax / np.float32(127), np.float32(1)).astype(np.float32)
    q = np.clip(np.round(w / scale.reshape(-1, *[1] * (w.ndim - 1))), -127, 127).astype(np.int8)
    return q, scale


def round_module(module, spec):
    """A deep copy of `module` whose parameters named in `spec` ({name: "int8" | "float16"},
    matrices) hold what the file will store: int8 values times their row scale, or float16
    values, in float32. Returns (copy, {name: (mode, stored array, scale or None, float32 weights)})."""
    import copy

    import torch
    module = copy.deepcopy(module)
    stored = {}
    for name, mode in spec.items():
        p = module.get_parameter(name)
        if p.dim() != 2:
            raise ArgumentError(f"{mode} weights: {name} has shape {tuple(p.shape)}, expected a matrix")
        w = p.detach().cpu().numpy()
        if mode == "int8":
            q, scale = int8_rows(w)
            back = (q.astype(np.float32) * scale[:, None]).astype(np.float32)
        elif mode == "float16":
            q, scale = w.astype(np.float16), None
            back = q.astype(np.float32)
        else:
            raise ArgumentError(f"{name}: weights must be int8 or float16, got {mode!r}")
        with torch.no_grad():
            p.copy_(torch.from_numpy(back))
        stored[name] = (mode, q, scale, back)
    return module, stored


def quantize_module(module, names):
    """round_module with int8 for every name in `names`."""
    return round_module(module, {n: "int8" for n in names})


def store_rounded(path, stored):
    """Rewrite the ONNX file at `path` so that every initializer (in any subgraph) equal to one
    of the `stored` weights, or to its transpose, is kept as its int8 values and scales (or its
    float16 values) and restored by a DequantizeLinear (or Cast) node at the top of the main
    graph. Returns the names found. Weights the file does not hold are skipped (an encoder has no
    decoder GRU); a name found in no graph is the caller's to notice."""
    model = onnx.load(str(path))
    found, restore, added = [], [], []

    def visit(graph):
        kept = []
        for init in graph.initializer:
            a = numpy_helper.to_array(init)
            hit = next(((n, t) for n, (_, _, _, w) in stored.items() for t in (False, True)
                        if a.dtype == np.float32 and a.shape == (w.T if t else w).shape
                        and np.array_equal(a, w.T if t else w)), None)
            if hit is None:
                kept.append(init)
                continue
            name, transposed = hit
            mode, q, scale, _ = stored[name]
            q = q.T.copy() if transposed else q
            if mode == "int8":
                added.extend([numpy_helper.from_array(q, f"{init.name}.q"), numpy_helper.from_array(scale, f"{init.name}.scale")])
                restore.append(helper.make_node("DequantizeLinear", [f"{init.name}.q", f"{init.name}.scale"], [init.name],
                                                axis=1 if transposed else 0))
            else:
                added.append(numpy_helper.from_array(q, f"{init.name}.f16"))
                restore.append(helper.make_node("Cast", [f"{init.name}.f16"], [init.name], to=TensorProto.FLOAT))
            found.append(name)
        del graph.initializer[:]
        graph.initializer.extend(kept)
        for node in graph.node:
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)

    visit(model.graph)
    model.graph.initializer.extend(added)
    nodes = restore + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(path))
    return found


# --- exact compressed image decoders ----------------------------------------------------------
# The same for an image decoder: the torch model is rounded first and the file stores exactly
# its weights, so the gate holds the file to the rounded model at the graph's own atol, and what
# the compression costs is measured against float32 separately (metrics["quantization"]).

def round_image_module(module, mode, calib=None):
    """A deep copy of `module` with the weights of its layers that have >= MIN_SIZE values
    rounded for `mode` ("float16" or "int8"), and the `stored` dict `store_rounded` takes.

    float16: every such weight as float16. int8: the weight matrices of nn.Linear layers with >=
    INT8_MIN_INPUTS inputs as int8 with one scale per row, the codes picked by GPTQ (export/gptq.py)
    on the inputs each layer gets when the copy, rounded so far, runs `calib` (a tuple of module
    inputs); round-to-nearest without `calib`. The rest as float16: with few inputs GPTQ has
    little to spread a column's error over (the FashionMNIST decoder's 16 -> 256 layer in int8
    took its max pixel difference from 3.4/255 to 11/255, for 8 KB), and convolution kernels are
    small next to the matrices. Layers are rounded in the order the forward calls them, so a later
    layer's GPTQ sees the earlier ones' rounding."""
    import copy

    import torch
    from torch import nn

    from .gptq import gptq_int8_rows, layer_inputs
    if mode not in ("float16", "int8"):
        raise ArgumentError(f"weights must be float16 or int8, got {mode!r}")
    module = copy.deepcopy(module).eval()
    names = {m: n for n, m in module.named_modules() if isinstance(getattr(m, "weight", None), nn.Parameter)}
    called = []                                    # the layers in the order the forward calls them
    hooks = [m.register_forward_pre_hook(lambda m, _: called.append(m)) for m in names]
    try:
        if calib is not None:
            with torch.no_grad():
                module(*[a[:2] for a in calib])
    finally:
        for h in hooks:
            h.remove()
    layers = list(dict.fromkeys(called + list(names)))
    stored = {}
    for layer in layers:
        p = layer.weight
        if p.dtype != torch.float32 or p.numel() < MIN_SIZE:
            continue
        w = p.detach().cpu().numpy()
        if mode == "int8" and isinstance(layer, nn.Linear) and layer.in_features >= INT8_MIN_INPUTS:
            if calib is not None:
                q, scale = gptq_int8_rows(w, layer_inputs(module, layer, *calib))
            else:
                q, scale = int8_rows(w)
            back = (q.astype(np.float32) * scale[:, None]).astype(np.float32)
            entry = ("int8", q, scale, back)
        else:
            q = w.astype(np.float16)
            back = q.astype(np.float32)
            entry = ("float16", q, None, back)
        with torch.no_grad():
            p.copy_(torch.from_numpy(back))
        stored[f"{names[layer]}.weight".lstrip(".")] = entry
    return module, stored
