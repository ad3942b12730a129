"""safetensors: the header is parsed, and only the header; lies about its length are refused."""

import json
import struct

import numpy as np
import pytest

from handoff.validation.checks import safetensors_model


def write_safetensors(path, tensors: dict, metadata=None, header_length=None):
    """Write a safetensors file by hand: u64 length, JSON header, raw little-endian bytes."""
    header, blobs, offset = {}, [], 0
    dtypes = {np.float32: "F32", np.float16: "F16", np.int64: "I64", np.float64: "F64", np.uint8: "U8"}
    for name, array in tensors.items():
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": dtypes[array.dtype.type],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    encoded = json.dumps(header).encode()
    length = len(encoded) if header_length is None else header_length
    path.write_bytes(struct.pack("<Q", length) + encoded + b"".join(blobs))
    return path


def test_counts_float_elements_and_not_integer_ones(tmp_path):
    path = write_safetensors(
        tmp_path / "weights.safetensors",
        {
            "layer.weight": np.zeros((16, 12), np.float32),
            "layer.bias": np.zeros(16, np.float16),
            "head.weight": np.zeros((3, 16), np.float64),
            "position_ids": np.arange(10, dtype=np.int64),
            "mask": np.zeros(4, np.uint8),
        },
        metadata={"format": "pt"},
    )
    tensors, metadata = safetensors_model.read_header(path)
    count, details = safetensors_model.count_parameters(tensors)
    assert count == 16 * 12 + 16 + 3 * 16
    assert details["elements_by_dtype"]["I64"] == 10
    assert safetensors_model.framework(metadata)[0] == {"pytorch"}
    described = safetensors_model.describe(tensors, metadata)
    assert described["tensors"]["layer.weight"] == {"dtype": "F32", "shape": [16, 12]}


def test_a_header_claiming_more_than_the_file_is_refused(tmp_path):
    path = write_safetensors(tmp_path / "w.safetensors", {"w": np.zeros(2, np.float32)}, header_length=2**62)
    with pytest.raises(safetensors_model.NotSafetensors, match="holds only"):
        safetensors_model.read_header(path)


def test_a_header_larger_than_the_bound_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(safetensors_model, "MAX_HEADER_BYTES", 64)
    path = write_safetensors(tmp_path / "w.safetensors", {"a_long_tensor_name": np.zeros(300, np.float32)})
    with pytest.raises(safetensors_model.NotSafetensors, match="more than the 64"):
        safetensors_model.read_header(path)


def test_only_the_declared_length_is_read(tmp_path):
    """A valid header followed by bytes that are not JSON: nothing past the declared length is parsed."""
    path = write_safetensors(tmp_path / "w.safetensors", {"w": np.ones(4, np.float32)})
    tensors, _ = safetensors_model.read_header(path)
    assert tensors["w"]["shape"] == [4]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"not json", "not valid UTF-8 JSON"),
        (b"[1, 2]", "not an object"),
        (json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 999]}}).encode(), "outside"),
        (json.dumps({"w": {"dtype": "F32", "shape": [5], "data_offsets": [0, 16]}}).encode(), "do not fit"),
        (json.dumps({"w": {"dtype": "X9", "shape": [4], "data_offsets": [0, 16]}}).encode(), "unknown dtype"),
        (b"[" * 100000 + b"]" * 100000, "not valid"),
    ],
    ids=["garbage", "array", "offsets-out", "shape-mismatch", "bad-dtype", "deep-nesting"],
)
def test_malformed_headers_are_refused(tmp_path, header, message):
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    with pytest.raises(safetensors_model.NotSafetensors, match=message):
        safetensors_model.read_header(path)


def test_a_file_shorter_than_the_length_prefix_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\x01\x02")
    with pytest.raises(safetensors_model.NotSafetensors, match="too short"):
        safetensors_model.read_header(path)
