"""Export a torch module to one self-contained ONNX file, and open such a file with onnxruntime.

The graph's contract (names, symbolic shapes, atol) is a `GraphSpec` from the manifest schema:
the exporter, the tests and the browser all read the same declaration.
"""
import logging
import warnings

import onnxruntime as ort
import torch

from ..bundle.schema import GraphSpec


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
