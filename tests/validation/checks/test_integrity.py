"""integrity: required artifacts present, size and sha256 recomputed by streaming."""

import hashlib

from handoff.validation.checks import FAIL, PASS, integrity
from handoff.validation.checks.terms import ArtifactFile

from .conftest import artifact


def _files(tmp_path):
    result = []
    for kind in ("model", "predictions", "labels"):
        path = tmp_path / f"{kind}.bin"
        path.write_bytes(kind.encode() * 1000)
        result.append(artifact(path, kind))
    return result


def test_all_present_and_unchanged(tmp_path):
    outcome = integrity.check(_files(tmp_path))
    assert outcome.status == PASS
    assert all(f["matches"] for f in outcome.details["files"])


def test_a_changed_file_fails_with_both_digests(tmp_path):
    files = _files(tmp_path)
    files[1].path.write_bytes(b"x" * files[1].size)  # same size, other bytes
    outcome = integrity.check(files)
    assert outcome.status == FAIL
    assert "predictions.bin has sha256" in outcome.message and "the stored file changed" in outcome.message


def test_a_size_mismatch_fails(tmp_path):
    files = _files(tmp_path)
    files[2].path.write_bytes(b"short")
    outcome = integrity.check(files)
    assert outcome.status == FAIL
    assert f"labels.bin is 5 bytes, but {files[2].size:,} were recorded at upload" in outcome.message


def test_a_missing_required_kind_says_what_to_attach(tmp_path):
    outcome = integrity.check(_files(tmp_path)[:2])
    assert outcome.status == FAIL
    assert "no labels file is attached: attach the validation set's labels" in outcome.message


def test_a_file_gone_from_storage_fails(tmp_path):
    files = _files(tmp_path)
    files[0].path.unlink()
    outcome = integrity.check(files)
    assert outcome.status == FAIL and "model.bin cannot be read from storage" in outcome.message


def test_two_files_of_one_kind_fail(tmp_path):
    files = _files(tmp_path)
    extra = ArtifactFile("labels", files[2].path, "labels-2.csv", files[2].size, files[2].sha256)
    outcome = integrity.check([*files, extra])
    assert outcome.status == FAIL and "2 labels files are attached" in outcome.message


def test_hashing_streams_in_chunks(tmp_path, monkeypatch):
    """A file larger than the chunk is read chunk by chunk, never whole."""
    monkeypatch.setattr(integrity, "CHUNK", 1024)
    path = tmp_path / "big.bin"
    content = bytes(range(256)) * 100
    path.write_bytes(content)
    reads = []
    real_open = open

    def spying_open(*args, **kwargs):
        stream = real_open(*args, **kwargs)
        original = stream.read

        def read(size=-1):
            reads.append(size)
            return original(size)

        stream.read = read
        return stream

    monkeypatch.setattr("builtins.open", spying_open)
    size, digest = integrity.file_digest(path)
    assert (size, digest) == (len(content), hashlib.sha256(content).hexdigest())
    assert reads and set(reads) == {1024}
