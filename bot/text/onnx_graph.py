"""all-MiniLM-L6-v2 as one ONNX graph, built in memory from the verified weights.

The forward pass is the same as ``SentenceEncoder._forward`` (the readable
NumPy one), written with standard ONNX operators (opset 17) and run by ONNX
Runtime, the fastest of the runtimes measured for one short message on two
cores (``bench/ENCODER.md``). Mean pooling and L2 normalising are in the
graph too, so one call gives the sentence vectors.

Nothing is downloaded and no converted file is trusted: the graph is made
from the weights in ``model.safetensors`` after their SHA-256 was checked,
each time a process loads the encoder (about half a second).

Inputs: ``input_ids`` int64 (batch, length), ``attention_mask`` float32
(batch, length). Output: ``sentence`` float32 (batch, hidden).
"""
from __future__ import annotations

from typing import Dict

import numpy as np

OPSET = 17


def build(weights: Dict[str, np.ndarray], config: Dict) -> bytes:
    """Serialised ONNX model for the BERT weights ``weights`` (HF names)."""
    from onnx import TensorProto, helper, numpy_helper

    layers = int(config["num_hidden_layers"])
    heads = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    eps = float(config["layer_norm_eps"])
    size = hidden // heads
    w = {k[5:] if k.startswith("bert.") else k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}

    nodes = []
    inits = []
    counter = [0]

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs, **attrs) -> str:
        counter[0] += 1
        out = f"{op.lower()}_{counter[0]}"
        nodes.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        weight = const(prefix + ".weight.T", w[prefix + ".weight"].T.copy())
        bias = const(prefix + ".bias", w[prefix + ".bias"])
        return node("Add", [node("MatMul", [x, weight]), bias])

    def layer_norm(x: str, prefix: str) -> str:
        return node(
            "LayerNormalization",
            [x, const(prefix + ".weight", w[prefix + ".weight"]), const(prefix + ".bias", w[prefix + ".bias"])],
            axis=-1, epsilon=eps,
        )

    ids, mask = "input_ids", "attention_mask"
    # Embeddings: word + position (first `length` rows) + token type 0.
    zero = const("zero", np.array([0], np.int64))
    one = const("one", np.array([1], np.int64))
    length = node("Slice", [node("Shape", [ids]), one, const("two", np.array([2], np.int64))])
    positions = node("Slice", [const("embeddings.position", w["embeddings.position_embeddings.weight"]), zero, length])
    x = node("Gather", [const("embeddings.word", w["embeddings.word_embeddings.weight"]), ids])
    x = node("Add", [node("Add", [x, positions]),
                     const("embeddings.token_type", w["embeddings.token_type_embeddings.weight"][0])])
    x = layer_norm(x, "embeddings.LayerNorm")

    # (batch, 1, 1, length): 0 where a token is real, -1e9 where it is padding.
    bias = node("Mul", [node("Sub", [const("f_one", np.float32(1.0)), mask]), const("minus_big", np.float32(-1e9))])
    bias = node("Unsqueeze", [bias, const("axes_1_2", np.array([1, 2], np.int64))])
    split_heads = const("split_heads", np.array([0, 0, heads, size], np.int64))
    merge_heads = const("merge_heads", np.array([0, 0, hidden], np.int64))
    scale = const("scale", np.float32(1.0 / np.sqrt(size)))
    root2 = const("root2", np.float32(np.sqrt(2.0)))
    half = const("half", np.float32(0.5))

    for i in range(layers):
        p = f"encoder.layer.{i}."
        q = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.query"), split_heads])], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.key"), split_heads])], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.value"), split_heads])], perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), bias])
        context = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        context = node("Reshape", [node("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        x = layer_norm(node("Add", [linear(context, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        inner = linear(x, p + "intermediate.dense")
        gelu = node("Mul", [node("Mul", [inner, half]),
                            node("Add", [node("Erf", [node("Div", [inner, root2])]), const(f"one_{i}", np.float32(1.0))])])
        x = layer_norm(node("Add", [linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm")

    # Mean pooling over real tokens, then L2 normalising (as sentence-transformers does).
    mask3 = node("Unsqueeze", [mask, const("axis_2", np.array([2], np.int64))])
    summed = node("ReduceSum", [node("Mul", [x, mask3]), one], keepdims=0)
    count = node("Max", [node("ReduceSum", [mask, one], keepdims=1), const("tiny", np.float32(1e-9))])
    pooled = node("Div", [summed, count])
    norm = node("Max", [node("ReduceL2", [pooled], axes=[1], keepdims=1), const("tinier", np.float32(1e-12))])
    nodes.append(helper.make_node("Div", [pooled, norm], ["sentence"]))

    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info(mask, TensorProto.FLOAT, ["batch", "length"])],
        [helper.make_tensor_value_info("sentence", TensorProto.FLOAT, ["batch", hidden])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="msp-assistant")
    model.ir_version = 8  # readable by ONNX Runtime 1.16
    return model.SerializeToString()
