"""The model checks: ``model.format``, ``model.framework``, ``model.parameters``, and
the runtime checks for an ONNX model.

The format is told by the upload name's extension, and the content must agree:
ONNX and safetensors are parsed (never executed); every other format (pickle,
joblib, ``.pt``, ``.h5`` …) is stored, never loaded, and "cannot be verified".

A contract can require more than a claim can: the formats it accepts
(``Terms.model_formats``) and a parameter budget (``Terms.max_parameter_count``).
A requirement that cannot be verified fails rather than being skipped, so that a
model nobody could measure never meets it.
"""

from dataclasses import dataclass, field
from pathlib import Path

from . import onnx_model, runtime, safetensors_model
from .outcomes import ERROR, FAIL, PASS, Outcome, failed, skipped
from .terms import ArtifactFile, Terms

FORMAT, FRAMEWORK, PARAMETERS = "model.format", "model.framework", "model.parameters"
FORMAT_NAMES = {"onnx": "ONNX", "safetensors": "safetensors"}  # as a sentence names them

NEVER_LOADED = {
    ".pkl": "pickle files are never loaded or executed",
    ".pickle": "pickle files are never loaded or executed",
    ".joblib": "joblib files are pickles, and are never loaded or executed",
    ".pt": "PyTorch .pt files are pickles, and are never loaded or executed",
    ".pth": "PyTorch .pth files are pickles, and are never loaded or executed",
    ".bin": "binary weight files (often PyTorch pickles) are never loaded or executed",
    ".ckpt": "checkpoint files are pickles, and are never loaded or executed",
    ".h5": "Keras .h5 files are never loaded (they can hold code in Lambda layers)",
    ".keras": "Keras files are never loaded (they can hold code in Lambda layers)",
}
CHECKABLE = "export the model to ONNX (or its weights to safetensors) to have it checked"


@dataclass
class Inspection:
    """What reading the model file found, shared by the model and runtime checks."""

    fmt: str  # "onnx" | "safetensors" | "" (not readable or not checkable)
    format_outcome: Outcome
    parameters: int | None = None
    parameter_details: dict = field(default_factory=dict)
    frameworks: set | None = None
    framework_evidence: str = ""
    feeds: list = field(default_factory=list)
    why_not: str = ""  # why the model-dependent checks cannot run
    suffix: str = ""  # the upload name's extension: the format the file says it is


def inspect(artifact: ArtifactFile | None) -> Inspection:
    found = _inspect(artifact)
    if artifact is not None:
        found.suffix = artifact.suffix
    return found


def _inspect(artifact: ArtifactFile | None) -> Inspection:
    if artifact is None:
        outcome = skipped(FORMAT, "cannot be verified: no model file is attached")
        return Inspection("", outcome, why_not="no model file is attached")
    suffix = artifact.suffix
    if suffix == ".onnx":
        return _inspect_onnx(artifact)
    if suffix == ".safetensors":
        return _inspect_safetensors(artifact)
    why = NEVER_LOADED.get(suffix, f"{suffix or 'files without an extension'} files are never loaded")
    outcome = skipped(
        FORMAT,
        f"cannot be verified: {why}; {CHECKABLE}",
        details={"format": suffix.lstrip(".") or "unknown", "name": artifact.name},
    )
    return Inspection("", outcome, why_not=f"the model is a {suffix or 'extensionless'} file, and {why}")


def _inspect_onnx(artifact: ArtifactFile) -> Inspection:
    try:
        model = onnx_model.load(Path(artifact.path))
    except onnx_model.NotOnnx as exc:
        outcome = failed(FORMAT, f"not an ONNX file: {exc}", details={"name": artifact.name})
        return Inspection("", outcome, why_not="the model file is not a valid ONNX file (see model.format)")
    details = onnx_model.describe(model)
    problems, external = onnx_model.external_data_problems(model, Path(artifact.path).parent)
    if external:
        details["external_data"] = external[:50]
    if problems:
        outcome = failed(FORMAT, "external data refused: " + "; ".join(problems[:5]), details=details)
        return Inspection("", outcome, why_not="the model's external data was refused (see model.format)")
    complaint = onnx_model.checker_problem(model)
    if complaint:
        details["checker"] = complaint
        outcome = failed(FORMAT, f"the ONNX checker rejects the model: {complaint}", details=details)
        return Inspection("", outcome, why_not="the ONNX checker rejects the model (see model.format)")
    opset = details["opset"].get("ai.onnx")
    outcome = Outcome(
        FORMAT,
        PASS,
        message=f"a valid ONNX model (IR {details['ir_version']}, opset {opset}) written by"
        f" {details['producer_name'] or 'an unnamed producer'}",
        details=details,
    )
    count, count_details = onnx_model.count_parameters(model)
    frameworks, evidence = onnx_model.framework(model)
    return Inspection(
        "onnx",
        outcome,
        parameters=count,
        parameter_details=count_details,
        frameworks=frameworks,
        framework_evidence=evidence,
        feeds=onnx_model.feeds(model),
    )


def _inspect_safetensors(artifact: ArtifactFile) -> Inspection:
    try:
        tensors, metadata = safetensors_model.read_header(Path(artifact.path))
    except safetensors_model.NotSafetensors as exc:
        outcome = failed(FORMAT, f"not a valid safetensors file: {exc}", details={"name": artifact.name})
        return Inspection(
            "", outcome, why_not="the model file is not a valid safetensors file (see model.format)"
        )
    details = safetensors_model.describe(tensors, metadata)
    outcome = Outcome(
        FORMAT, PASS, message=f"a valid safetensors file with {len(tensors):,} tensors", details=details
    )
    count, count_details = safetensors_model.count_parameters(tensors)
    frameworks, evidence = safetensors_model.framework(metadata)
    return Inspection(
        "safetensors",
        outcome,
        parameters=count,
        parameter_details=count_details,
        frameworks=frameworks,
        framework_evidence=evidence,
        why_not="safetensors holds weights only: there is no graph to run",
    )


def accepted_formats(terms: Terms) -> list[str]:
    """The contract's accepted formats, as lower-case names without a dot, in the order given."""
    named = (f.strip().lower().lstrip(".") for f in terms.model_formats)
    return list(dict.fromkeys(f for f in named if f))


def format_outcome(terms: Terms, found: Inspection) -> Outcome:
    """The file's own format check, and then whether its format is one the contract accepts."""
    outcome = found.format_outcome
    accepted = accepted_formats(terms)
    if not accepted or outcome.status == ERROR:
        return outcome
    names = " or ".join(FORMAT_NAMES.get(f, f) for f in accepted)
    details = {**outcome.details, "accepted_formats": accepted}
    if found.fmt in accepted:
        return Outcome(
            FORMAT, PASS, message=f"{outcome.message}, a format the contract accepts", details=details
        )
    if found.fmt:
        return failed(
            FORMAT, f"the model is a {found.suffix} file; the contract accepts {names} only", details=details
        )
    if outcome.status == FAIL:
        if found.suffix.lstrip(".") in accepted:
            return outcome
        return failed(
            FORMAT,
            f"the model is a {found.suffix} file; the contract accepts {names} only"
            f" (and the file fails its own format check: {outcome.message})",
            details=details,
        )
    # Not readable by the engine (pickle, .h5 …) or no model at all: the requirement cannot be
    # verified, and an unverified requirement must not let a model through.
    return failed(
        FORMAT,
        f"{found.why_not}: its format cannot be verified, and the contract accepts {names} only",
        details=details,
    )


def framework_outcome(terms: Terms, found: Inspection) -> Outcome:
    declared = terms.framework
    if not found.fmt:
        return skipped(FRAMEWORK, f"cannot be verified: {found.why_not}")
    details = {"declared": declared, "evidence": found.framework_evidence}
    if found.frameworks is None:
        return skipped(FRAMEWORK, f"cannot be verified: {found.framework_evidence}", details=details)
    details["file_says"] = sorted(found.frameworks)
    if declared == "other":
        return skipped(
            FRAMEWORK,
            f"the declared framework is 'other', so there is nothing to compare: {found.framework_evidence}",
            details=details,
        )
    if declared in found.frameworks:
        return Outcome(
            FRAMEWORK, PASS, message=f"declared {declared}; {found.framework_evidence}", details=details
        )
    return failed(FRAMEWORK, f"declared {declared}, but {found.framework_evidence}", details=details)


def parameters_outcome(terms: Terms, found: Inspection) -> Outcome:
    """The counted parameters against the claimed count (equal) and the budget (not above)."""
    claimed, budget = terms.parameter_count, terms.max_parameter_count
    if not found.fmt or found.parameters is None:
        why = found.why_not if not found.fmt else "the parameters could not be counted"
        if budget is not None:
            return failed(
                PARAMETERS,
                f"the budget of {budget:,} parameters cannot be verified: {why}",
                claimed=claimed,
                limit=budget,
                unit="parameters",
            )
        return skipped(PARAMETERS, f"cannot be verified: {why}", claimed=claimed, unit="parameters")
    counted = found.parameters
    details = dict(found.parameter_details)
    if claimed is None and budget is None:
        return skipped(
            PARAMETERS,
            f"counted {counted:,} parameters: no parameter count was claimed",
            measured=counted,
            unit="parameters",
            details=details,
        )
    wrong_claim = claimed is not None and counted != claimed
    over_budget = budget is not None and counted > budget
    if claimed is None:
        said = f"counted {counted:,} parameters"
    elif wrong_claim:
        said = (
            f"parameters claimed {claimed:,}, counted {counted:,} learned floating-point values in the"
            " file: they must be equal"
        )
    else:
        said = f"parameters claimed {claimed:,}, counted {counted:,}"
    if budget is not None:
        against = f"{'above' if over_budget else 'within'} the budget of {budget:,}"
        if claimed is None or not wrong_claim:
            said = f"{said}, {against}"
        else:
            said = f"{said}; {'and ' if over_budget else ''}the count is {against}"
    return Outcome(
        PARAMETERS,
        FAIL if wrong_claim or over_budget else PASS,
        claimed=claimed,
        measured=counted,
        tolerance=0 if claimed is not None else None,
        limit=budget,
        unit="parameters",
        message=said,
        details=details,
    )


def runtime_outcomes(
    terms: Terms,
    found: Inspection,
    model: ArtifactFile | None,
    sample: ArtifactFile | None,
    *,
    threads: int,
    progress,
    environment: dict,
) -> list[Outcome]:
    keys = (runtime.LATENCY, runtime.MEMORY)
    if found.fmt != "onnx":
        why = found.why_not or "only ONNX models can be run"
        return [skipped(key, f"cannot be measured: {why}") for key in keys]
    try:
        result = runtime.measure(
            Path(model.path),
            found.feeds,
            batch_size=terms.latency_batch_size,
            threads=threads,
            sample=sample,
            progress=progress,
        )
    except runtime.ProbeFailed as exc:
        status = exc.status if exc.status in (FAIL, ERROR) else FAIL
        details = {**exc.details, "cpu_model": environment.get("cpu_model"), "threads": threads}
        return [Outcome(key, status, message=str(exc), details=details) for key in keys]
    return runtime.outcomes(terms, result, environment)
