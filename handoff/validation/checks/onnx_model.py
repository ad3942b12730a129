"""Reading an ONNX file safely: parse, refuse external data that leaves the model's
folder, run the checker, describe it, count its parameters, name its framework.

Only protobuf parsing happens here: nothing in the file is executed, and the
file is never handed to ``pickle`` or any loader that could run code. Running
the model happens in a child process (``probe.py``).

Counting parameters: the learned floating-point values, wherever the exporter
put them:

- float initializers and sparse initializers (their stored values);
- ``Constant`` nodes with a float value (``value``, ``value_float``, ``value_floats``);
- float attributes of ``ai.onnx.ml`` operators (LinearClassifier/LinearRegressor
  coefficients and intercepts, SVM coefficients, support vectors, rho and Platt
  ``prob_a``/``prob_b``, tree ensembles' thresholds ``nodes_values``, leaf weights
  ``target_weights``/``class_weights`` and ``base_values``, Scaler ``offset``/``scale``,
  Imputer's imputed values …), except the hyperparameters in ``NOT_LEARNED``;
- subgraphs (If/Loop/Scan bodies) the same way.

Integer, boolean and string tensors (class labels, shapes, indices) are not
parameters. skl2onnx writes a binary linear classifier's one weight vector twice,
as ``-w`` and ``w`` (intercepts ``-b`` and ``b``); when the two rows mirror each
other exactly they are counted once, as scikit-learn counts ``coef_.size +
intercept_.size``. A scikit-learn Pipeline is counted as a whole: a StandardScaler
in front of the estimator adds its ``mean_`` and ``scale_`` (the Scaler's
``offset`` and ``scale``, 2 × features), because they are learned from data
too. Quantised weights (int8 with float scales) count only their float scales.
"""

import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto

ML_DOMAIN = "ai.onnx.ml"
MAX_ONNX_BYTES = (2 << 30) - 1  # protobuf cannot hold more; larger models use external data

FLOAT_TYPES = frozenset(
    getattr(TensorProto, name)
    for name in (
        "FLOAT",
        "DOUBLE",
        "FLOAT16",
        "BFLOAT16",
        "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ",
        "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ",
        "FLOAT8E8M0",
        "FLOAT4E2M1",
        "FLOAT6E2M3",
        "FLOAT6E3M2",
    )
    if hasattr(TensorProto, name)
)

# Float attributes of ai.onnx.ml operators that are settings, not values learned from data.
NOT_LEARNED = frozenset(
    {
        ("SVMClassifier", "kernel_params"),
        ("SVMRegressor", "kernel_params"),
        ("TreeEnsembleClassifier", "nodes_hitrates"),
        ("TreeEnsembleClassifier", "nodes_hitrates_as_tensor"),
        ("TreeEnsembleRegressor", "nodes_hitrates"),
        ("TreeEnsembleRegressor", "nodes_hitrates_as_tensor"),
        ("TreeEnsemble", "nodes_hitrates"),
        ("TreeEnsemble", "membership_values"),
        ("Binarizer", "threshold"),
        ("Imputer", "replaced_value_float"),
    }
)

# What an exporter's producer_name says about the framework the model came from.
PRODUCERS = {
    "skl2onnx": "scikit-learn",
    "pytorch": "pytorch",
    "tf2onnx": "tensorflow",
    "keras2onnx": "tensorflow",
}
ONNXMLTOOLS = "onnxmltools"  # writes XGBoost, LightGBM, CoreML, Spark ML, LibSVM, H2O, CatBoost models
TREE_OPS = frozenset({"TreeEnsembleClassifier", "TreeEnsembleRegressor", "TreeEnsemble"})
FRAMEWORK_HINTS = {"xgboost": ("xgb", "xgboost"), "lightgbm": ("lgbm", "lightgbm")}


class NotOnnx(Exception):
    """The file is not an ONNX model we can read; the message says why."""


def sniff(head: bytes) -> str | None:
    """What a file is by its first bytes, when it is something other than ONNX."""
    if not head:
        return "the file is empty"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "it is a Python pickle, and pickles are never loaded"
    if head[:4] == b"PK\x03\x04":
        return "it is a zip archive (a PyTorch .pt, Keras .keras or similar), which is never loaded"
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return "it is an HDF5 file (a Keras .h5), which is never loaded"
    if head[:6] == b"\x93NUMPY":
        return "it is a NumPy array file"
    if head[:2] == b"\x1f\x8b":
        return "it is gzip-compressed (a compressed joblib or pickle?), which is never loaded"
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 1 << 30:
        return "it is a safetensors file: upload it with the .safetensors extension"
    return None


def load(path: Path) -> onnx.ModelProto:
    """Parse the file as an ONNX protobuf, without external data. Raises NotOnnx."""
    size = os.path.getsize(path)
    if size > MAX_ONNX_BYTES:
        raise NotOnnx(
            f"it is {size:,} bytes; an ONNX protobuf holds at most 2 GiB, larger models keep"
            " their weights as external data"
        )
    with open(path, "rb") as stream:
        data = stream.read()
    what = sniff(data[:16])
    if what:
        raise NotOnnx(what)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError, or anything its parser throws at garbage
        raise NotOnnx(f"it cannot be parsed as an ONNX protobuf ({type(exc).__name__})") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise NotOnnx("it parses as protobuf but holds no ONNX graph (no IR version or no nodes)")
    return model


def _tensors(graph: onnx.GraphProto):
    """Every TensorProto in a graph and its subgraphs: initializers and node attributes."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == AttributeProto.TENSOR:
                yield attr.t
            elif attr.type == AttributeProto.TENSORS:
                yield from attr.tensors
            elif attr.type == AttributeProto.SPARSE_TENSOR:
                yield attr.sparse_tensor.values
            elif attr.type == AttributeProto.GRAPH:
                yield from _tensors(attr.g)
            elif attr.type == AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from _tensors(sub)


def external_data_problems(model: onnx.ModelProto, folder: Path) -> tuple[list[str], list[dict]]:
    """Refuse external data that is absolute, climbs out of ``folder``, or is missing.

    Returns (problems, the external references seen). Nothing is read but file sizes.
    """
    problems: list[str] = []
    seen: list[dict] = []
    root = folder.resolve()
    for tensor in _tensors(model.graph):
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        entries = {e.key: e.value for e in tensor.external_data}
        location = entries.get("location", "")
        seen.append({"tensor": tensor.name, "location": location})
        if not location:
            problems.append(f"tensor {tensor.name!r} is stored externally but names no location")
            continue
        pure = Path(location)
        if (
            pure.is_absolute()
            or location.startswith(("/", "\\"))
            or (len(location) > 1 and location[1] == ":")
        ):
            problems.append(
                f"tensor {tensor.name!r} reads external data from the absolute path {location!r};"
                " external data must sit beside the model"
            )
            continue
        if ".." in Path(os.path.normpath(location)).parts or ".." in pure.parts:
            problems.append(
                f"tensor {tensor.name!r} reads external data from {location!r}, outside the"
                " model's folder (path traversal refused)"
            )
            continue
        target = (root / location).resolve()
        if not target.is_relative_to(root):
            problems.append(
                f"tensor {tensor.name!r} reads external data from {location!r}, which resolves"
                " outside the model's folder (a link?)"
            )
            continue
        if not target.is_file():
            problems.append(f"tensor {tensor.name!r} needs external data {location!r}, which is not there")
            continue
        offset = int(entries.get("offset", 0) or 0)
        length = int(entries.get("length", 0) or 0)
        if offset < 0 or length < 0 or offset + length > target.stat().st_size:
            problems.append(f"tensor {tensor.name!r} reads past the end of {location!r}")
    return problems, seen


def checker_problem(model: onnx.ModelProto) -> str | None:
    """The ONNX checker's complaint, shortened, or None when it accepts the model."""
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # ValidationError, or a C++ error surfaced as another type
        text = " ".join(str(exc).split())
        return text[:400] + ("…" if len(text) > 400 else "")
    return None


def _type_text(type_proto: onnx.TypeProto) -> str:
    which = type_proto.WhichOneof("value")
    if which == "tensor_type":
        return f"tensor({_elem_name(type_proto.tensor_type.elem_type)})"
    if which == "sequence_type":
        return f"seq({_type_text(type_proto.sequence_type.elem_type)})"
    if which == "map_type":
        key = _elem_name(type_proto.map_type.key_type)
        return f"map({key},{_type_text(type_proto.map_type.value_type)})"
    if which == "optional_type":
        return f"optional({_type_text(type_proto.optional_type.elem_type)})"
    return which or "unknown"


def _elem_name(elem_type: int) -> str:
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"type{elem_type}"


def _shape(type_proto: onnx.TypeProto) -> list | None:
    if type_proto.WhichOneof("value") != "tensor_type" or not type_proto.tensor_type.HasField("shape"):
        return None
    dims = []
    for dim in type_proto.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        else:
            dims.append(dim.dim_param or None)
    return dims


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The inputs a caller feeds: graph inputs that are not initializers (old IRs list both)."""
    initialized = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initialized]


def describe(model: onnx.ModelProto) -> dict:
    """Opset, inputs, outputs, producer and size of the graph, JSON-serialisable."""

    def value(info):
        return {"name": info.name, "type": _type_text(info.type), "shape": _shape(info.type)}

    ops = Counter((n.domain or "ai.onnx", n.op_type) for n in model.graph.node)
    return {
        "format": "onnx",
        "ir_version": int(model.ir_version),
        "opset": {(o.domain or "ai.onnx"): int(o.version) for o in model.opset_import},
        "producer_name": model.producer_name,
        "producer_version": model.producer_version,
        "domain": model.domain,
        "model_version": int(model.model_version),
        "graph_name": model.graph.name,
        "inputs": [value(i) for i in graph_inputs(model)],
        "outputs": [value(o) for o in model.graph.output],
        "nodes": len(model.graph.node),
        "initializers": len(model.graph.initializer),
        "operators": {f"{domain}:{op}": count for (domain, op), count in sorted(ops.items())},
    }


def feeds(model: onnx.ModelProto) -> list[dict]:
    """What the probe needs to synthesise inputs: name, element type and dims (None when symbolic)."""
    result = []
    for info in graph_inputs(model):
        which = info.type.WhichOneof("value")
        entry = {"name": info.name, "kind": which}
        if which == "tensor_type":
            entry["elem_type"] = int(info.type.tensor_type.elem_type)
            shape = _shape(info.type)
            entry["shape"] = (
                None if shape is None else [d if isinstance(d, int) and d > 0 else None for d in shape]
            )
        result.append(entry)
    return result


def _numel(tensor: TensorProto) -> int:
    return math.prod(int(d) for d in tensor.dims)


def _attr_float_count(attr: AttributeProto) -> int:
    if attr.type == AttributeProto.FLOAT:
        return 1
    if attr.type == AttributeProto.FLOATS:
        return len(attr.floats)
    if attr.type == AttributeProto.TENSOR and attr.t.data_type in FLOAT_TYPES:
        return _numel(attr.t)
    return 0


def _mirrored_binary_linear(node: onnx.NodeProto) -> bool:
    """skl2onnx's binary LinearClassifier: rows (-w, w) and intercepts (-b, b)."""
    attrs = {a.name: a for a in node.attribute}
    labels = attrs.get("classlabels_ints") or attrs.get("classlabels_strings")
    n_labels = len(labels.ints) + len(labels.strings) if labels is not None else 0
    if n_labels != 2 or "coefficients" not in attrs or "intercepts" not in attrs:
        return False
    coefficients = np.asarray(attrs["coefficients"].floats, dtype=np.float32)
    intercepts = np.asarray(attrs["intercepts"].floats, dtype=np.float32)
    if len(intercepts) != 2 or coefficients.size == 0 or coefficients.size % 2:
        return False
    rows = coefficients.reshape(2, -1)
    return bool(np.array_equal(rows[0], -rows[1]) and intercepts[0] == -intercepts[1])


def count_parameters(model: onnx.ModelProto) -> tuple[int, dict]:
    """(the number of learned float values, where they were found)."""
    found: Counter = Counter()
    mirrored: list[str] = []

    def walk(graph: onnx.GraphProto):
        for tensor in graph.initializer:
            if tensor.data_type in FLOAT_TYPES:
                found["initializers"] += _numel(tensor)
        for sparse in graph.sparse_initializer:
            if sparse.values.data_type in FLOAT_TYPES:
                found["sparse_initializers"] += _numel(sparse.values)
        for node in graph.node:
            for attr in node.attribute:
                if attr.type == AttributeProto.GRAPH:
                    walk(attr.g)
                elif attr.type == AttributeProto.GRAPHS:
                    for sub in attr.graphs:
                        walk(sub)
            if node.domain in ("", "ai.onnx") and node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name in ("value", "value_float", "value_floats"):
                        found["constants"] += _attr_float_count(attr)
                    elif attr.name == "sparse_value" and attr.sparse_tensor.values.data_type in FLOAT_TYPES:
                        found["constants"] += _numel(attr.sparse_tensor.values)
            elif node.domain == ML_DOMAIN:
                halve = node.op_type == "LinearClassifier" and _mirrored_binary_linear(node)
                if halve:
                    mirrored.append(node.name or node.op_type)
                for attr in node.attribute:
                    if (node.op_type, attr.name) in NOT_LEARNED:
                        continue
                    count = _attr_float_count(attr)
                    if halve and attr.name in ("coefficients", "intercepts"):
                        count //= 2
                    if count:
                        found[f"{node.op_type}.{attr.name}"] += count

    walk(model.graph)
    details = {"breakdown": dict(sorted(found.items()))}
    if mirrored:
        details["mirrored_binary_linear_classifiers"] = mirrored
    return sum(found.values()), details


def framework(model: onnx.ModelProto) -> tuple[set[str] | None, str]:
    """(the frameworks this file can have come from, the evidence), or (None, why not)."""
    producer = (model.producer_name or "").strip()
    key = producer.lower()
    ops = {n.op_type for n in model.graph.node}
    if key in PRODUCERS:
        frameworks = {PRODUCERS[key]}
        evidence = f"the file was written by {producer} ({PRODUCERS[key]})"
        if key == "skl2onnx" and ops & TREE_OPS:
            # A scikit-learn pipeline may hold an XGBoost or LightGBM model through
            # skl2onnx's registered converters.
            frameworks |= {"xgboost", "lightgbm"}
            evidence += ", with a tree ensemble that may be XGBoost or LightGBM in a pipeline"
        return frameworks, evidence
    if key == ONNXMLTOOLS:
        text = " ".join(
            [model.graph.name, model.doc_string, model.graph.doc_string]
            + [p.key + " " + p.value for p in model.metadata_props]
            + [n.name for n in model.graph.node]
        ).lower()
        hinted = {fw for fw, words in FRAMEWORK_HINTS.items() if any(w in text for w in words)}
        if len(hinted) == 1:
            (fw,) = hinted
            return hinted, f"the file was written by {producer}, and its names say {fw}"
        return (
            {"xgboost", "lightgbm"},
            f"the file was written by {producer}, which converts XGBoost and LightGBM models"
            " (it does not record which)",
        )
    if not producer:
        return None, "the file records no producer, so it does not say which framework made it"
    return (
        None,
        f"the file's producer {producer!r} is not one this check knows, so it does not say the framework",
    )
