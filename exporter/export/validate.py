"""The export gate: prove an exported ONNX file computes what the torch module computes.

`validate` runs right after export: onnx.checker, then names, then shapes, then values, gathering
the failures of a stage before raising. A failure raises, it never warns: the caller aborts the
export, and the bundle already on disk stays as it was.
"""
import logging

import numpy as np
import onnx
import onnxruntime as ort
import torch

from ..bundle.schema import GraphSpec
from ..errors import AtolError, ExportValidationError, OutputNameError, ShapeError
from .graphs import session

log = logging.getLogger("latent_explorer")


def _shape_ok(declared, actual, batch):
    """"batch" is the inputs' batch; "steps" (a loop's output length) is any positive length."""
    return len(declared) == len(actual) and all(
        (d == "batch" and a == batch) or (d == "steps" and a >= 1) or d == a for d, a in zip(declared, actual))


@torch.no_grad()
def validate(path, module, spec: GraphSpec, inputs: dict):
    """Check the file at `path` against `module` on `inputs` (name -> np.ndarray, batch first).

    Returns the max abs difference per output and records it in `spec.validation`."""
    try:
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    except Exception as e:
        raise ExportValidationError(path, [f"onnx.checker: {e}".splitlines()[0]]) from None
    sess = session(path)
    got_in = [i.name for i in sess.get_inputs()]
    got_out = [o.name for o in sess.get_outputs()]
    failures = [f"{kind} names {got} != declared {list(want)}"
                for kind, got, want in (("input", got_in, spec.inputs), ("output", got_out, spec.outputs))
                if got != list(want)]
    if failures:
        raise OutputNameError(path, failures)

    module = module.eval()
    expected = module(*[torch.from_numpy(inputs[n]) for n in spec.inputs])
    expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
    expected = [e.numpy() for e in expected]
    actual = sess.run(got_out, inputs)
    batch = next(iter(inputs.values())).shape[0]

    failures = []
    for name, e, a in zip(got_out, expected, actual):
        if e.shape != a.shape or not _shape_ok(spec.outputs[name]["shape"], a.shape, batch):
            failures.append(f"{name}: onnxruntime shape {list(a.shape)}, torch {list(e.shape)}, "
                            f"declared {spec.outputs[name]['shape']}")
    if failures:
        raise ShapeError(path, failures)

    diffs = {}
    for name, e, a in zip(got_out, expected, actual):
        diffs[name] = float(np.max(np.abs(e.astype(np.float64) - a))) if e.size else 0.0
        if not np.isfinite(a).all():
            failures.append(f"{name}: onnxruntime produced non-finite values")
        elif diffs[name] > spec.atol:
            failures.append(f"{name}: max abs diff {diffs[name]:.3g} > atol {spec.atol:g}")
        log.info("validated %s output %r on %d inputs: max abs diff %.3g (atol %g)",
                 path.name if hasattr(path, "name") else path, name, batch, diffs[name], spec.atol)
    if failures:
        raise AtolError(path, failures)
    spec.validation = {"n_inputs": int(batch), "max_abs_diff": diffs, "runtime": f"onnxruntime {ort.__version__}"}
    return diffs


def compare(path, spec: GraphSpec, inputs: dict, expected: dict, label):
    """Check onnxruntime's outputs for `inputs` against arrays computed another way in torch
    (e.g. the decoder on the raw mu of each anchor, not through the PCA); records the max abs
    difference per output under spec.validation[label] and raises AtolError above spec.atol."""
    actual = dict(zip(expected, session(path).run(list(expected), inputs)))
    diffs = {k: float(np.max(np.abs(expected[k].astype(np.float64) - actual[k]))) for k in expected}
    failures = [f"{label}: {k}: max abs diff {d:.3g} > atol {spec.atol:g}" for k, d in diffs.items() if not d <= spec.atol]
    if failures:
        raise AtolError(path, failures)
    spec.validation[label] = {"n_inputs": int(next(iter(inputs.values())).shape[0]), "max_abs_diff": diffs}
    log.info("validated %s on %s: max abs diff %s", path.name, label, {k: f"{d:.3g}" for k, d in diffs.items()})
    return diffs
