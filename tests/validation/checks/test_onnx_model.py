"""Reading ONNX safely: real exports from scikit-learn and PyTorch, and hostile files."""

import json
import pickle
import warnings

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import to_onnx
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from handoff.validation.checks import onnx_model

from .conftest import FIXTURES


def _load(path):
    return onnx_model.load(path)


def test_binary_logistic_regression_counts_its_mirrored_weights_once(binary_case):
    model = _load(binary_case.onnx_path)
    count, details = onnx_model.count_parameters(model)
    # skl2onnx stores 2 x 30 coefficients and 2 intercepts; scikit-learn counts 30 + 1.
    assert count == binary_case.expected_parameters == 31
    assert details["mirrored_binary_linear_classifiers"]


def test_mlp_classifier_count_equals_coefs_and_intercepts(multiclass_case):
    count, _ = onnx_model.count_parameters(_load(multiclass_case.onnx_path))
    assert count == multiclass_case.expected_parameters == 64 * 24 + 24 + 24 * 10 + 10


def test_ridge_count_equals_coef_and_intercept(regression_case):
    count, _ = onnx_model.count_parameters(_load(regression_case.onnx_path))
    assert count == regression_case.expected_parameters == 11


def test_multiclass_linear_model_stores_each_weight_once():
    X, y = load_wine(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = LogisticRegression(max_iter=200).fit(X, y)
    count, details = onnx_model.count_parameters(to_onnx(estimator, X[:1].astype(np.float32)))
    assert count == estimator.coef_.size + estimator.intercept_.size == 42
    assert "mirrored_binary_linear_classifiers" not in details


def test_a_pipeline_counts_the_scalers_learned_mean_and_scale():
    """Documented choice: a StandardScaler's mean_ and scale_ are learned too, so they count."""
    X, y = load_wine(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(X, y)
    count, details = onnx_model.count_parameters(to_onnx(pipeline, X[:1].astype(np.float32)))
    scaler, classifier = pipeline[0], pipeline[-1]
    assert (
        count == classifier.coef_.size + classifier.intercept_.size + scaler.mean_.size + scaler.scale_.size
    )
    assert details["breakdown"]["Scaler.offset"] == 13


def test_pytorch_mlp_count_equals_torch_numel():
    record = json.loads((FIXTURES / "torch_mlp.json").read_text())
    model = _load(FIXTURES / "torch_mlp.onnx")
    count, _ = onnx_model.count_parameters(model)
    assert count == record["parameters"] == 531


def test_onnxruntime_reproduces_the_pytorch_outputs():
    record = json.loads((FIXTURES / "torch_mlp.json").read_text())
    session = ort.InferenceSession(str(FIXTURES / "torch_mlp.onnx"), providers=["CPUExecutionProvider"])
    inputs = np.asarray(record["examples"]["inputs"], dtype=np.float32)
    (outputs,) = session.run(None, {record["inputs"][0]["name"]: inputs})
    np.testing.assert_allclose(outputs, np.asarray(record["examples"]["outputs"]), rtol=1e-5, atol=1e-6)


def test_framework_is_named_by_the_producer(binary_case):
    frameworks, evidence = onnx_model.framework(_load(binary_case.onnx_path))
    assert frameworks == {"scikit-learn"} and "skl2onnx" in evidence
    torch_frameworks, _ = onnx_model.framework(_load(FIXTURES / "torch_mlp.onnx"))
    assert torch_frameworks == {"pytorch"}


def _tiny_model(nodes, initializers=(), producer="test", inputs=None, opset=17, extra_opsets=()):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])]
    graph = helper.make_graph(
        nodes,
        "g",
        inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        list(initializers),
    )
    opsets = [helper.make_opsetid("", opset), *extra_opsets]
    model = helper.make_model(graph, opset_imports=opsets, producer_name=producer)
    model.ir_version = 8
    return model


@pytest.mark.parametrize(
    ("producer", "graph_name", "expected"),
    [
        ("tf2onnx", "g", {"tensorflow"}),
        ("keras2onnx", "g", {"tensorflow"}),
        ("OnnxMLTools", "XGBClassifier model", {"xgboost"}),
        ("OnnxMLTools", "lightgbm booster", {"lightgbm"}),
        ("OnnxMLTools", "3f2a9c", {"xgboost", "lightgbm"}),
    ],
    ids=["tf2onnx", "keras2onnx", "onnxmltools-xgb", "onnxmltools-lgbm", "onnxmltools-unnamed"],
)
def test_framework_from_other_exporters(producer, graph_name, expected):
    model = _tiny_model([helper.make_node("Relu", ["x"], ["y"])], producer=producer)
    model.graph.name = graph_name
    frameworks, _ = onnx_model.framework(model)
    assert frameworks == expected


def test_unknown_producer_says_so():
    frameworks, evidence = onnx_model.framework(
        _tiny_model([helper.make_node("Relu", ["x"], ["y"])], producer="paddle2onnx")
    )
    assert frameworks is None and "'paddle2onnx'" in evidence


def test_constants_and_ml_attributes_count_but_integer_tensors_do_not():
    weights = numpy_helper.from_array(np.ones((2, 3), np.float32), "w")
    shape = numpy_helper.from_array(np.array([1, 3], np.int64), "shape")
    constant = helper.make_node(
        "Constant", [], ["c"], value=numpy_helper.from_array(np.zeros(4, np.float32), "c_value")
    )
    scaler = helper.make_node(
        "Scaler", ["x"], ["s"], domain="ai.onnx.ml", offset=[0.1, 0.2], scale=[1.0, 2.0]
    )
    binarizer = helper.make_node("Binarizer", ["s"], ["b"], domain="ai.onnx.ml", threshold=0.5)
    matmul = helper.make_node("MatMul", ["b", "w"], ["y"])
    model = _tiny_model(
        [constant, scaler, binarizer, matmul],
        [weights, shape],
        extra_opsets=[helper.make_opsetid("ai.onnx.ml", 3)],
    )
    count, details = onnx_model.count_parameters(model)
    # 6 weights + 4 constant values + 2 offsets + 2 scales; the int64 shape and the threshold are not learned
    assert count == 14
    assert details["breakdown"] == {"Scaler.offset": 2, "Scaler.scale": 2, "constants": 4, "initializers": 6}


def test_tree_ensemble_counts_thresholds_and_leaf_weights():
    tree = helper.make_node(
        "TreeEnsembleRegressor",
        ["x"],
        ["y"],
        domain="ai.onnx.ml",
        n_targets=1,
        nodes_treeids=[0, 0, 0],
        nodes_nodeids=[0, 1, 2],
        nodes_featureids=[0, 0, 0],
        nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"],
        nodes_values=[0.5, 0.0, 0.0],
        nodes_truenodeids=[1, 0, 0],
        nodes_falsenodeids=[2, 0, 0],
        nodes_hitrates=[1.0, 1.0, 1.0],
        target_ids=[0, 0],
        target_nodeids=[1, 2],
        target_treeids=[0, 0],
        target_weights=[-1.0, 1.0],
        base_values=[0.25],
    )
    model = _tiny_model([tree], extra_opsets=[helper.make_opsetid("ai.onnx.ml", 3)])
    count, details = onnx_model.count_parameters(model)
    assert count == 3 + 2 + 1  # thresholds, leaf weights, base value; hit rates are statistics
    assert "TreeEnsembleRegressor.nodes_hitrates" not in details["breakdown"]


def test_describe_records_opset_inputs_outputs_and_producer(binary_case):
    details = onnx_model.describe(_load(binary_case.onnx_path))
    assert details["producer_name"] == "skl2onnx"
    assert details["opset"]["ai.onnx"] >= 13 and details["opset"]["ai.onnx.ml"] == 1
    assert details["inputs"] == [{"name": "X", "type": "tensor(float)", "shape": [None, 30]}]
    assert [o["name"] for o in details["outputs"]] == ["label", "probabilities"]
    json.dumps(details)  # stored as JSON


def test_a_pickle_named_onnx_is_refused_without_being_unpickled(tmp_path):
    marker = tmp_path / "unpickled"

    class Trap:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "model.onnx"
    path.write_bytes(pickle.dumps(Trap(), protocol=4))
    with pytest.raises(onnx_model.NotOnnx, match="Python pickle"):
        onnx_model.load(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"PK\x03\x04" + b"\0" * 40, "zip archive"),
        (b"this is plain text, not a protobuf at all" * 3, "ONNX"),
    ],
    ids=["empty", "zip", "text"],
)
def test_other_files_named_onnx_are_refused(tmp_path, content, reason):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(onnx_model.NotOnnx, match=reason):
        onnx_model.load(path)


def _with_external(tmp_path, location, write=None):
    tensor = numpy_helper.from_array(np.ones(4, np.float32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    if write:
        (tmp_path / write).write_bytes(np.ones(4, np.float32).tobytes())
    model = _tiny_model([helper.make_node("Add", ["x", "w"], ["y"])], [tensor])
    return model


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("../../etc/passwd", "outside the model's folder"),
        ("/etc/passwd", "absolute path"),
        ("sub/../../secret.bin", "outside the model's folder"),
        ("weights.bin", "not there"),
    ],
    ids=["traversal", "absolute", "nested-traversal", "missing"],
)
def test_external_data_outside_the_folder_is_refused(tmp_path, location, message):
    model = _with_external(tmp_path, location)
    problems, seen = onnx_model.external_data_problems(model, tmp_path)
    assert len(problems) == 1 and message in problems[0]
    assert seen == [{"tensor": "w", "location": location}]


def test_external_data_beside_the_model_is_accepted(tmp_path):
    model = _with_external(tmp_path, "weights.bin", write="weights.bin")
    problems, _ = onnx_model.external_data_problems(model, tmp_path)
    assert problems == []


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(b"\0" * 16)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").symlink_to(outside / "secret.bin")
    problems, _ = onnx_model.external_data_problems(_with_external(folder, "weights.bin"), folder)
    assert problems and "resolves outside" in problems[0]


def test_checker_complaint_is_reported():
    broken = _tiny_model([helper.make_node("Relu", ["x", "x"], ["y"])])  # Relu takes one input
    assert "Relu" in (onnx_model.checker_problem(broken) or "")
