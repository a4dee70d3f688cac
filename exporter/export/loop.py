"""The sentence decoder's greedy loop as one ONNX graph that stops at </s>.

loop.onnx  coords (B, Z) -> tokens (B, steps) int64, steps <= max_len

It is composed from the two graphs the exporter validates against torch one by one, init.onnx
(coords -> z, the first hidden state) and step.onnx (one GRU step: token, hidden, z -> logits,
hidden_out), with an ONNX `Loop` whose body is step.onnx plus ArgMax, and whose condition ends
the loop once every row has emitted </s>. One `session.run` decodes a sentence: measured in
headless Chromium with one wasm thread, 5.1 ms at maximum length against 11.2 ms for a
`session.run` per step (README, Benchmarks). The tokens after a row's </s> (while other rows
go on) are the greedy continuation; readers cut at the first </s>.

`LoopGreedy` is the same loop in torch, the reference the export gate holds the file to.
"""
import onnx
import torch
from onnx import TensorProto, helper
from torch import nn

from ..models.text_vae import BOS, EOS, greedy


class LoopGreedy(nn.Module):
    """coords (B, Z) -> greedy tokens (B, steps): `init` (coords -> z, hidden), then the model's
    step with argmax feedback until every row has emitted </s>, at most max_len steps."""

    def __init__(self, init, max_len):
        super().__init__()
        self.init = init
        self.max_len = max_len

    @torch.no_grad()
    def forward(self, coords):
        z, hidden = self.init(coords)
        return greedy(self.init.model, hidden, z, self.max_len, stop_at_eos=True)[0]


def _const(name, value, dtype):
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, dtype, [], [value]))


def build_loop(init_path, step_path, max_len):
    """loop.onnx as a ModelProto, from init.onnx and step.onnx (as `export_text_bundle` writes
    them: inputs coords; token, hidden, z; outputs z, hidden; logits, hidden_out)."""
    init, step = onnx.load(str(init_path)), onnx.load(str(step_path))
    init = onnx.compose.add_prefix(init, "i_", rename_inputs=False, rename_outputs=True)
    step = onnx.compose.add_prefix(step, "s_", rename_inputs=True, rename_outputs=True)
    weights = {i.name for i in step.graph.initializer}
    # Nodes that only read initializers (the DequantizeLinear / Cast restoring stored weights,
    # constants) run once per session.run, before the loop, not once per step.
    hoisted = [n for n in step.graph.node if all(x in weights for x in n.input)]
    body_nodes = [n for n in step.graph.node if n not in hoisted]
    for n in body_nodes:
        n.input[:] = [{"s_token": "tok", "s_hidden": "h", "s_z": "i_z"}.get(x, x) for x in n.input]
    scalar, row = [], ["batch"]
    body = helper.make_graph(body_nodes + [
        helper.make_node("ArgMax", ["s_logits"], ["next"], axis=1, keepdims=0),  # the first maximum, as torch
        _const("eos", EOS, TensorProto.INT64),
        helper.make_node("Equal", ["next", "eos"], ["is_eos"]),
        helper.make_node("Or", ["done", "is_eos"], ["done_out"]),
        helper.make_node("Cast", ["done_out"], ["done_i"], to=TensorProto.INT32),
        helper.make_node("ReduceMin", ["done_i"], ["all_i"], keepdims=0),
        helper.make_node("Cast", ["all_i"], ["all_done"], to=TensorProto.BOOL),
        helper.make_node("Not", ["all_done"], ["cond_out"]),
        helper.make_node("Identity", ["next"], ["tok_out"]),
        helper.make_node("Identity", ["s_hidden_out"], ["h_out"]),
        helper.make_node("Identity", ["next"], ["scan_tok"]),
    ], "greedy_step",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, scalar),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, scalar),
         helper.make_tensor_value_info("tok", TensorProto.INT64, row),
         helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", "hidden"]),
         helper.make_tensor_value_info("done", TensorProto.BOOL, row)],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, scalar),
         helper.make_tensor_value_info("tok_out", TensorProto.INT64, row),
         helper.make_tensor_value_info("h_out", TensorProto.FLOAT, ["batch", "hidden"]),
         helper.make_tensor_value_info("done_out", TensorProto.BOOL, row),
         helper.make_tensor_value_info("scan_tok", TensorProto.INT64, row)])
    nodes = list(init.graph.node) + hoisted + [
        helper.make_node("Shape", ["coords"], ["batch_size"], start=0, end=1),
        helper.make_node("ConstantOfShape", ["batch_size"], ["tok0"],
                         value=helper.make_tensor("bos", TensorProto.INT64, [1], [BOS])),
        helper.make_node("ConstantOfShape", ["batch_size"], ["done0"],
                         value=helper.make_tensor("no", TensorProto.BOOL, [1], [False])),
        _const("max_len", max_len, TensorProto.INT64), _const("go", True, TensorProto.BOOL),
        helper.make_node("Loop", ["max_len", "go", "tok0", "i_hidden", "done0"],
                         ["tok_last", "h_last", "done_last", "steps"], body=body),
        helper.make_node("Transpose", ["steps"], ["tokens"], perm=[1, 0]),  # (steps, B) -> (B, steps)
    ]
    graph = helper.make_graph(nodes, "greedy_loop", list(init.graph.input),
                              [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", "steps"])],
                              list(init.graph.initializer) + list(step.graph.initializer))
    opset = max(o.version for o in list(init.opset_import) + list(step.opset_import) if o.domain in ("", "ai.onnx"))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=step.ir_version)
    onnx.checker.check_model(model)
    return model
