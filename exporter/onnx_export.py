"""Export a torch module to one self-contained ONNX file and prove it matches torch.

`GraphSpec` is the declarative contract for one graph (names, symbolic shapes, atol); it is
written into the manifest, read by the tests and by the browser. `validate` runs right after
export: onnx.checker, then names, then shapes, then values, gathering the failures of a stage
before raising. A failure raises, it never warns: the caller aborts the export.
"""
import logging
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import onnx
import onnxruntime as ort
import torch

from .errors import AtolError, ExportValidationError, OutputNameError, ShapeError

log = logging.getLogger("latent_explorer")


@dataclass
class GraphSpec:
    file: str                                  # file name inside the bundle
    inputs: dict                               # name -> {"dtype": "float32", "shape": ["batch", 5]}
    outputs: dict                              # name -> {"dtype": "float32", "shape": ["batch", 8, 8]}
    atol: float = 1e-5                         # max |torch - onnxruntime| allowed by validation
    validation: dict = field(default_factory=dict)  # filled in by validate(): n, max_abs_diff

    def to_json(self):
        return asdict(self)


def export(module, example_inputs, path, spec: GraphSpec):
    """Write `module` as a single ONNX file (no external .onnx.data: browsers cannot load it)."""
    module = module.eval()
    batch = torch.export.Dim("batch", min=1, max=4096)
    dynamic = {name: {0: batch} for name, s in spec.inputs.items() if s["shape"][0] == "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's chatter is not for our users
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(module, tuple(example_inputs), str(path), dynamo=True, external_data=False,
                          input_names=list(spec.inputs), output_names=list(spec.outputs),
                          dynamic_shapes=dynamic, optimize=True, verbose=False)


def session(path):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _shape_ok(declared, actual, batch):
    return len(declared) == len(actual) and all(
        (d == "batch" and a == batch) or d == a for d, a in zip(declared, actual))


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
