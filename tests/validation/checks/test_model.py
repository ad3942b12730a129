"""The contract's model requirements, run end to end: a parameter budget and the accepted formats.

A requirement that cannot be verified fails: a model nobody could measure never meets it."""

import numpy as np
import pytest

from handoff.validation.checks import FAIL, PASS, SKIPPED, Terms, model, run_checks

from .conftest import artifact
from .test_safetensors_model import write_safetensors

SAFETENSORS_PARAMETERS = 40 * 30 + 30


def _model_outcomes(model_file, **terms) -> dict:
    """The model checks' outcomes for a model alone (no data: only the model checks matter here)."""
    files = [model_file] if model_file is not None else []
    outcomes = run_checks(Terms("multiclass_classification", "other", [], **terms), files)
    return {o.key: o for o in outcomes if o.key.startswith("model.")}


def _safetensors(tmp_path, name="weights.safetensors"):
    path = write_safetensors(
        tmp_path / name,
        {"layer.weight": np.zeros((40, 30), np.float32), "layer.bias": np.zeros(30, np.float32)},
        {"format": "pt"},
    )
    return artifact(path, "model")


def _pickle(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04 never loaded")
    return artifact(path, "model")


@pytest.fixture
def onnx_model(multiclass_case):
    """An MLP export with 1,810 parameters: enough digits for the thousands to be written out."""
    assert multiclass_case.expected_parameters == 1810
    return multiclass_case.model()


# --- model.parameters: the budget -----------------------------------------------------------


def test_a_count_above_the_budget_fails_naming_count_and_budget(onnx_model):
    outcome = _model_outcomes(onnx_model, max_parameter_count=1000)["model.parameters"]
    assert outcome.status == FAIL
    assert outcome.message == "counted 1,810 parameters, above the budget of 1,000"
    assert (outcome.measured, outcome.limit, outcome.unit) == (1810, 1000, "parameters")
    assert outcome.claimed is None and outcome.tolerance is None


def test_a_safetensors_count_above_the_budget_fails(tmp_path):
    outcome = _model_outcomes(_safetensors(tmp_path), max_parameter_count=1000)["model.parameters"]
    assert outcome.status == FAIL
    assert outcome.message == f"counted {SAFETENSORS_PARAMETERS:,} parameters, above the budget of 1,000"


@pytest.mark.parametrize("budget", [1810, 10_000], ids=["at-the-budget", "under-the-budget"])
def test_a_count_within_the_budget_passes(onnx_model, budget):
    outcome = _model_outcomes(onnx_model, max_parameter_count=budget)["model.parameters"]
    assert outcome.status == PASS
    assert outcome.message == f"counted 1,810 parameters, within the budget of {budget:,}"
    assert (outcome.measured, outcome.limit) == (1810, budget)


@pytest.mark.parametrize(
    ("claimed", "budget", "status", "message"),
    [
        (1810, 2000, PASS, "parameters claimed 1,810, counted 1,810, within the budget of 2,000"),
        (1810, 1000, FAIL, "parameters claimed 1,810, counted 1,810, above the budget of 1,000"),
        (
            1800,
            2000,
            FAIL,
            "parameters claimed 1,800, counted 1,810 learned floating-point values in the file:"
            " they must be equal; the count is within the budget of 2,000",
        ),
        (
            1800,
            1000,
            FAIL,
            "parameters claimed 1,800, counted 1,810 learned floating-point values in the file:"
            " they must be equal; and the count is above the budget of 1,000",
        ),
    ],
    ids=["both-hold", "over-budget", "wrong-claim", "both-fail"],
)
def test_a_claim_and_a_budget_must_both_hold(onnx_model, claimed, budget, status, message):
    outcome = _model_outcomes(onnx_model, parameter_count=claimed, max_parameter_count=budget)[
        "model.parameters"
    ]
    assert (outcome.status, outcome.message) == (status, message)
    assert (outcome.claimed, outcome.measured, outcome.limit, outcome.tolerance) == (claimed, 1810, budget, 0)


def test_a_claim_without_a_budget_reads_as_before(onnx_model):
    outcome = _model_outcomes(onnx_model, parameter_count=1810)["model.parameters"]
    assert (outcome.status, outcome.message) == (PASS, "parameters claimed 1,810, counted 1,810")
    assert outcome.limit is None


@pytest.mark.parametrize(
    ("make_model", "why"),
    [
        (_pickle, "the model is a .pkl file, and pickle files are never loaded or executed"),
        (lambda tmp_path: None, "no model file is attached"),
    ],
    ids=["pickle", "no-model"],
)
def test_a_budget_on_a_model_that_cannot_be_counted_fails(tmp_path, make_model, why):
    outcome = _model_outcomes(make_model(tmp_path), max_parameter_count=10_000)["model.parameters"]
    assert outcome.status == FAIL
    assert outcome.message == f"the budget of 10,000 parameters cannot be verified: {why}"
    assert (outcome.limit, outcome.measured) == (10_000, None)


def test_a_claim_on_a_model_that_cannot_be_counted_is_still_skipped(tmp_path):
    outcome = _model_outcomes(_pickle(tmp_path), parameter_count=10)["model.parameters"]
    assert outcome.status == SKIPPED and outcome.message.startswith("cannot be verified: the model is a .pkl")


# --- model.format: the accepted formats ------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "accepted", "message"),
    [
        ("safetensors", ("onnx",), "the model is a .safetensors file; the contract accepts ONNX only"),
        ("onnx", ("safetensors",), "the model is a .onnx file; the contract accepts safetensors only"),
    ],
    ids=["safetensors-given-onnx-accepted", "onnx-given-safetensors-accepted"],
)
def test_a_format_the_contract_does_not_accept_fails(tmp_path, onnx_model, which, accepted, message):
    model_file = onnx_model if which == "onnx" else _safetensors(tmp_path)
    outcome = _model_outcomes(model_file, model_formats=accepted)["model.format"]
    assert (outcome.status, outcome.message) == (FAIL, message)
    assert outcome.details["accepted_formats"] == list(accepted)


@pytest.mark.parametrize(
    "accepted", [("onnx", "safetensors"), (" ONNX", ".safetensors ")], ids=["as-agreed", "loosely-written"]
)
def test_a_format_the_contract_accepts_passes(tmp_path, onnx_model, accepted):
    for model_file in (onnx_model, _safetensors(tmp_path)):
        outcome = _model_outcomes(model_file, model_formats=accepted)["model.format"]
        assert outcome.status == PASS
        assert outcome.message.endswith(", a format the contract accepts")
        assert outcome.details["accepted_formats"] == ["onnx", "safetensors"]


@pytest.mark.parametrize(
    ("make_model", "why"),
    [
        (_pickle, "the model is a .pkl file, and pickle files are never loaded or executed"),
        (lambda tmp_path: None, "no model file is attached"),
    ],
    ids=["pickle", "no-model"],
)
def test_a_model_whose_format_cannot_be_verified_fails_when_formats_are_agreed(tmp_path, make_model, why):
    outcome = _model_outcomes(make_model(tmp_path), model_formats=("onnx", "safetensors"))["model.format"]
    assert outcome.status == FAIL
    assert outcome.message == (
        f"{why}: its format cannot be verified, and the contract accepts ONNX or safetensors only"
    )


def test_a_broken_file_in_a_refused_format_names_both_problems(tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(b"\x01\x02")
    outcome = _model_outcomes(artifact(path, "model"), model_formats=("onnx",))["model.format"]
    assert outcome.status == FAIL
    assert outcome.message.startswith(
        "the model is a .safetensors file; the contract accepts ONNX only (and the file fails its own"
        " format check: not a valid safetensors file: "
    )


def test_a_broken_file_in_an_accepted_format_fails_as_before(tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(b"\x01\x02")
    model_file = artifact(path, "model")
    outcome = _model_outcomes(model_file, model_formats=("safetensors",))["model.format"]
    assert outcome == model.inspect(model_file).format_outcome
    assert outcome.status == FAIL and outcome.message.startswith("not a valid safetensors file")


@pytest.mark.parametrize("which", ["onnx", "safetensors", "pickle", "no-model"])
def test_without_agreed_formats_the_format_check_is_unchanged(tmp_path, onnx_model, which):
    model_file = {
        "onnx": lambda: onnx_model,
        "safetensors": lambda: _safetensors(tmp_path),
        "pickle": lambda: _pickle(tmp_path),
        "no-model": lambda: None,
    }[which]()
    outcome = _model_outcomes(model_file)["model.format"]
    assert outcome == model.inspect(model_file).format_outcome
    assert "accepted_formats" not in outcome.details
    assert outcome.status == (SKIPPED if which in ("pickle", "no-model") else PASS)
