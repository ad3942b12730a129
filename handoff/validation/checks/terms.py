"""What the engine is given: the contract's terms and the artifact files."""

from dataclasses import dataclass, field
from pathlib import Path

TASK_TYPES = ("binary_classification", "multiclass_classification", "regression")
FRAMEWORKS = ("scikit-learn", "pytorch", "tensorflow", "xgboost", "lightgbm", "other")
ARTIFACT_KINDS = ("model", "predictions", "labels", "sample_input", "other")
MODEL_FORMATS = ("onnx", "safetensors")  # the formats the engine can read, and a contract can require
REQUIRED_KINDS = ("model", "predictions", "labels")


@dataclass
class Claim:
    """One metric requirement: the value claimed, and optionally the worst acceptable.

    ``claimed`` is None for a requirement that is only a bound (an agreed minimum or
    maximum, with no value claimed): it is then judged by its bound alone."""

    metric: str
    claimed: float | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass
class Terms:
    """The contract terms of one revision, as far as measuring them goes."""

    task_type: str  # one of TASK_TYPES
    framework: str  # one of FRAMEWORKS
    claims: list[Claim] = field(default_factory=list)
    tolerance: float = 0.005
    positive_label: str = "1"
    latency_p95_ms: float | None = None
    latency_batch_size: int = 1
    peak_memory_mb: float | None = None
    parameter_count: int | None = None  # an exact claim: the count must equal it
    max_parameter_count: int | None = None  # a budget: the count must not exceed it
    model_formats: tuple[str, ...] = ()  # the accepted formats, each one of MODEL_FORMATS; () is any
    row_count: int | None = None  # the validation set's claimed row count
    fairness_slice_column: str = ""
    fairness_max_gap: float | None = None
    fairness_metric: str = ""  # default: accuracy (classification) / mae (regression)

    @property
    def is_classification(self) -> bool:
        return self.task_type != "regression"


@dataclass
class ArtifactFile:
    """One uploaded file: where it is now, and what was recorded at upload."""

    kind: str  # one of ARTIFACT_KINDS
    path: Path  # a local file path
    name: str  # the original upload name; its extension tells the format
    size: int  # bytes, as recorded at upload
    sha256: str  # hex digest, as recorded at upload

    @property
    def suffix(self) -> str:
        """The format extension of the upload name, lower case, with ``.gz`` kept: ``.csv.gz``."""
        name = self.name.lower()
        for double in (".csv.gz", ".tsv.gz"):
            if name.endswith(double):
                return double
        return Path(name).suffix
