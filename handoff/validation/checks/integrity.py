"""``integrity``: every required artifact is there, unchanged since upload.

Size and sha256 are recomputed by streaming each file in chunks, never holding a
whole file in memory, and compared with what was recorded at upload.
"""

import hashlib

from .outcomes import FAIL, PASS, Outcome
from .terms import REQUIRED_KINDS, ArtifactFile

KEY = "integrity"
CHUNK = 1 << 20

_WHAT_TO_ATTACH = {
    "model": "attach the model file (ONNX or safetensors can be checked)",
    "predictions": "attach the predictions on the validation set (CSV or Parquet with id and prediction)",
    "labels": "attach the validation set's labels (CSV or Parquet with id and label)",
}


def file_digest(path, progress=None, done_before: int = 0, total: int | None = None) -> tuple[int, str]:
    """(size, sha256 hex) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if progress is not None and size % (64 * CHUNK) < CHUNK:
                progress(KEY, done_before + size, total)
    return size, digest.hexdigest()


def check(artifacts: list[ArtifactFile], progress=None) -> Outcome:
    problems = []
    files = []
    total = sum(max(a.size, 0) for a in artifacts)
    done = 0
    for kind in REQUIRED_KINDS:
        attached = [a for a in artifacts if a.kind == kind]
        if not attached:
            problems.append(f"no {kind} file is attached: {_WHAT_TO_ATTACH[kind]}")
        elif len(attached) > 1:
            names = ", ".join(a.name for a in attached)
            problems.append(f"{len(attached)} {kind} files are attached ({names}): keep one")
    for artifact in artifacts:
        entry = {"kind": artifact.kind, "name": artifact.name, "recorded_size": artifact.size}
        try:
            size, sha256 = file_digest(artifact.path, progress, done, total)
        except OSError as exc:
            entry["error"] = exc.strerror or type(exc).__name__
            problems.append(f"{artifact.name} cannot be read from storage ({entry['error']})")
            files.append(entry)
            continue
        done += artifact.size
        entry.update(size=size, sha256=sha256, recorded_sha256=artifact.sha256)
        if size != artifact.size:
            problems.append(
                f"{artifact.name} is {size:,} bytes, but {artifact.size:,} were recorded at upload:"
                " the stored file changed"
            )
        elif sha256.lower() != (artifact.sha256 or "").lower():
            problems.append(
                f"{artifact.name} has sha256 {sha256[:12]}…, but {(artifact.sha256 or '')[:12]}… was"
                " recorded at upload: the stored file changed"
            )
        entry["matches"] = size == artifact.size and sha256.lower() == (artifact.sha256 or "").lower()
        files.append(entry)
    if progress is not None:
        progress(KEY, total, total)
    details = {"files": files}
    if problems:
        return Outcome(KEY, FAIL, message="; ".join(problems), details=details)
    return Outcome(
        KEY,
        PASS,
        message=f"{len(files)} files present; size and sha256 match what was recorded at upload",
        details=details,
    )
