"""The spectrum view: eigenvalue scatter, logits, per-head statistics, head ablation and Toeplitz profiles.

Built from ``SpectrumReport.to_view_data()`` (or a dict shaped like it). The logits of every head are
sent when they fit in ``logits_budget`` bytes; otherwise only the representative head's matrix is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from xattr_lab.viz._clean import clean
from xattr_lab.viz.payload import encode_array, make_payload

LOGITS_BUDGET = 1 << 18  # bytes of float32 logits sent for all heads (256 KiB)


def spectrum_payload(
    data: Mapping[str, Any],
    all_logits: Any = None,
    title: str | None = None,
    logits_budget: int = LOGITS_BUDGET,
) -> dict[str, Any]:
    """The payload of the composite ``spectrum`` view.

    Args:
        data: ``eig_real``/``eig_imag`` [L, H, T], ``toeplitz_profile`` [L, H, 2T-1], ``toeplitz_offsets``,
            ``stats`` name → [L, H], ``stat_names``, ``matrix`` [T, T] with ``matrix_layer``/``matrix_head``,
            optional ``deposit_drop`` [L, H], ``scheme``.
        all_logits: optional [L, H, T, T] mean logits of every head (sent when within the budget).
        title: optional title line.
        logits_budget: most bytes of float32 logits to send for all heads.
    """
    eig_real = np.asarray(data["eig_real"], dtype=np.float64)
    if eig_real.ndim != 3:
        raise ValueError(f"eig_real: expected [L, H, T], got shape {eig_real.shape}")
    n_layers, n_heads, _ = eig_real.shape
    out: dict[str, Any] = {
        "scheme": str(data.get("scheme", "")),
        "n_layers": int(n_layers),
        "n_heads": int(n_heads),
        "eig_real": encode_array(eig_real),
        "eig_imag": encode_array(np.asarray(data.get("eig_imag", np.zeros_like(eig_real)), dtype=np.float64)),
        "layer": int(data.get("matrix_layer", 0) or 0),
        "head": int(data.get("matrix_head", 0) or 0),
    }
    if all_logits is not None and np.asarray(all_logits).size * 4 <= logits_budget:
        out["logits"] = encode_array(np.asarray(all_logits, dtype=np.float64))
    elif data.get("matrix") is not None:
        out["logits"] = encode_array(np.asarray(data["matrix"], dtype=np.float64))
        out["logits_note"] = (
            f"Only layer {out['layer']}, head {out['head']} (the largest spread) is shown: the logits "
            "of every head are larger than the display budget."
        )
    stats = data.get("stats") or {}
    names = [n for n in (data.get("stat_names") or sorted(stats)) if n in stats]
    if names:
        out["stats"] = encode_array(np.stack([np.asarray(stats[n], dtype=np.float64) for n in names]))
        out["stat_names"] = [str(n) for n in names]
    if data.get("deposit_drop") is not None:
        out["deposit_drop"] = encode_array(np.asarray(data["deposit_drop"], dtype=np.float64))
    if data.get("toeplitz_profile") is not None:
        prof = np.asarray(data["toeplitz_profile"], dtype=np.float64)
        out["toeplitz"] = encode_array(prof.reshape(n_layers * n_heads, prof.shape[-1]))
        offsets = data.get("toeplitz_offsets")
        if offsets is None:
            t = (prof.shape[-1] + 1) // 2
            offsets = np.arange(-(t - 1), t)
        out["toeplitz_offsets"] = [int(v) for v in np.asarray(offsets)]
    if isinstance(data.get("deposit"), Mapping) and data["deposit"]:
        out["summary"] = clean(dict(data["deposit"]))
    if title is None and out["scheme"]:
        title = f"attention spectrum: {out['scheme']}"
    return make_payload("spectrum", out, title)
