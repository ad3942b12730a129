"""Reading a safetensors file's header, and nothing else.

The format: 8 bytes, a little-endian unsigned 64-bit length N, then N bytes of
JSON naming each tensor's dtype, shape and byte range in the data that follows.
Only the header is read: a declared length larger than the file, or than
``MAX_HEADER_BYTES``, is refused before anything is allocated, and no more
than the declared length is ever read.
"""

import json
import math
import os
from pathlib import Path

MAX_HEADER_BYTES = 100 * 1024 * 1024

ITEM_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
    "C64": 8,
}
FLOAT_DTYPES = frozenset({"F8_E4M3", "F8_E5M2", "F8_E8M0", "F16", "BF16", "F32", "F64"})
# The writer's own word on where the tensors came from (``__metadata__["format"]``).
FORMATS = {"pt": "pytorch", "tf": "tensorflow"}


class NotSafetensors(Exception):
    """The file is not a readable safetensors file; the message says why."""


def read_header(path: Path) -> tuple[dict, dict]:
    """(tensors by name, the ``__metadata__`` dict). Raises NotSafetensors."""
    size = os.path.getsize(path)
    with open(path, "rb") as stream:
        prefix = stream.read(8)
        if len(prefix) < 8:
            raise NotSafetensors(f"it is {size} bytes, too short for a safetensors header")
        length = int.from_bytes(prefix, "little")
        if length > size - 8:
            raise NotSafetensors(
                f"its header claims {length:,} bytes, but the file holds only {size - 8:,} after the length"
            )
        if length > MAX_HEADER_BYTES:
            raise NotSafetensors(
                f"its header claims {length:,} bytes, more than the {MAX_HEADER_BYTES:,} this check reads"
            )
        raw = stream.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NotSafetensors("its header is not valid UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise NotSafetensors("its header is JSON but not an object of tensors")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise NotSafetensors("its __metadata__ is not an object")
    data_bytes = size - 8 - length
    for name, tensor in header.items():
        _check_tensor(name, tensor, data_bytes)
    return header, {str(k): str(v) for k, v in metadata.items()}


def _check_tensor(name: str, tensor, data_bytes: int) -> None:
    if not isinstance(tensor, dict):
        raise NotSafetensors(f"tensor {name!r} is not described by an object")
    dtype, shape, offsets = tensor.get("dtype"), tensor.get("shape"), tensor.get("data_offsets")
    if dtype not in ITEM_BYTES:
        raise NotSafetensors(f"tensor {name!r} has an unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise NotSafetensors(f"tensor {name!r} has an invalid shape {shape!r}")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1] <= data_bytes
    ):
        raise NotSafetensors(f"tensor {name!r} has byte offsets {offsets!r} outside the file's data")
    if offsets[1] - offsets[0] != math.prod(shape) * ITEM_BYTES[dtype]:
        raise NotSafetensors(f"tensor {name!r}: its shape and dtype do not fit its byte range")


def describe(tensors: dict, metadata: dict) -> dict:
    return {
        "format": "safetensors",
        "tensors": {
            name: {"dtype": t["dtype"], "shape": t["shape"]} for name, t in sorted(tensors.items())[:1000]
        },
        "tensor_count": len(tensors),
        "metadata": dict(list(metadata.items())[:50]),
    }


def count_parameters(tensors: dict) -> tuple[int, dict]:
    """(the number of float elements, per dtype)."""
    per_dtype: dict[str, int] = {}
    for tensor in tensors.values():
        per_dtype[tensor["dtype"]] = per_dtype.get(tensor["dtype"], 0) + math.prod(tensor["shape"])
    floats = sum(n for dtype, n in per_dtype.items() if dtype in FLOAT_DTYPES)
    return floats, {"elements_by_dtype": per_dtype, "counted_dtypes": sorted(FLOAT_DTYPES & set(per_dtype))}


def framework(metadata: dict) -> tuple[set[str] | None, str]:
    fmt = metadata.get("format", "")
    if fmt in FORMATS:
        return {FORMATS[fmt]}, f"the file's metadata says format {fmt!r} ({FORMATS[fmt]})"
    if fmt:
        return (
            None,
            f"the file's metadata says format {fmt!r}, which does not name a framework this check knows",
        )
    return None, "safetensors files do not record the framework that wrote them"
