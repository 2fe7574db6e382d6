"""View payloads: ``{version, view, title, data}`` with arrays as binary buffers.

The same payload feeds the three delivery paths. For the live widget, arrays stay ``bytes`` and travel as
comm buffers; in MIME bundles and HTML they are base64 text inside JSON. Never JSON number lists.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np

PAYLOAD_VERSION = 1
_DTYPES = {"float32", "float64", "int32", "uint8"}


def encode_array(array: Any, dtype: str = "float32") -> dict[str, Any]:
    """Encode an array as ``{dtype, shape, data: bytes}`` (little-endian, C order).

    Args:
        array: anything ``numpy.asarray`` accepts (a torch tensor is converted on the CPU).
        dtype: one of float32, float64, int32, uint8.
    """
    if dtype not in _DTYPES:
        raise ValueError(f"dtype: expected one of {sorted(_DTYPES)}, got {dtype!r}")
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    arr = np.ascontiguousarray(np.asarray(array), dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "shape": list(arr.shape), "data": arr.tobytes()}


def make_payload(view: str, data: Mapping[str, Any], title: str | None = None) -> dict[str, Any]:
    """Build a payload for the view registered in JS under ``view``."""
    payload: dict[str, Any] = {"version": PAYLOAD_VERSION, "view": view, "data": dict(data)}
    if title:
        payload["title"] = title
    return payload


def to_json_ready(value: Any) -> Any:
    """Replace every ``bytes`` buffer in a payload by base64 text, for JSON transports."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {k: to_json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
