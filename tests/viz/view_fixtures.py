"""Fixture results shaped like the real ones (plain data, no model needed)."""

from __future__ import annotations

from typing import Any

import numpy as np

XSS_TOKENS = ["<img src=x onerror=window.__xss=1>", "</script><script>window.__xss=2</script>", "&amp; \"q\" 'a'"]


def explanation_data(n_regions: int = 64, n_tokens: int = 20, size: int = 224, seed: int = 0) -> dict[str, Any]:
    """An ``Explanation.to_view_data()``-shaped dict: grid regions, per-token curves with one step per region."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n_regions))
    yy, xx = np.mgrid[0:size, 0:size]
    labels = ((yy * side // size) * side + (xx * side // size)).astype(np.int32)
    image = np.stack([(xx * 255 // size), (yy * 255 // size), np.full_like(xx, 140)], -1).astype(np.uint8)
    image = np.clip(image.astype(int) + rng.integers(-20, 20, image.shape), 0, 255).astype(np.uint8)
    region_scores = rng.random(n_regions).astype(np.float32)
    order = np.argsort(-region_scores).astype(np.int32)
    area = np.linspace(0, 1, n_regions + 1).astype(np.float32)
    gains = rng.random((n_tokens, n_regions)) ** 3
    ins = np.concatenate([np.zeros((n_tokens, 1)), np.cumsum(gains, 1)], 1)
    ins = (0.05 + 0.9 * ins / ins[:, -1:]).astype(np.float32)
    dele = (ins[:, ::-1] * rng.uniform(0.8, 1.0, (n_tokens, 1))).astype(np.float32)
    prompt = ["<image>", "Describe", "the", "image", "."]
    words = [f"w{i}" for i in range(n_tokens)]
    words[1:1 + len(XSS_TOKENS)] = XSS_TOKENS[: max(0, n_tokens - 1)]
    words = words[:n_tokens]
    reliance = np.concatenate([np.full(len(prompt), np.nan), rng.random(n_tokens)]).astype(np.float32)
    return {
        "image": image,
        "labels": labels,
        "pixel_map": region_scores[labels],
        "region_scores": region_scores,
        "order": order,
        "area": area,
        "insertion": ins,
        "deletion": dele,
        "tokens": prompt + words,
        "token_kind": ["prompt"] * len(prompt) + ["generated"] * n_tokens,
        "targets": [len(prompt) + i for i in range(n_tokens)],
        "reliance": reliance,
        "metrics": {"insertion_auc": 0.71, "deletion_auc": 0.22, "ahs": float("nan")},
        "method": "eagle",
        "partial": False,
    }


def spectrum_data(L: int = 2, H: int = 4, T: int = 16, seed: int = 0) -> dict[str, Any]:
    """A ``SpectrumReport.to_view_data()``-shaped dict."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(L, H, T, T)).astype(np.float32)
    eig = np.linalg.eigvals(logits.astype(np.float64))
    names = ["spread", "condition"]
    return {
        "scheme": "rope",
        "n_layers": L,
        "n_heads": H,
        "seq_len": T,
        "eig_real": eig.real.copy(),
        "eig_imag": eig.imag.copy(),
        "toeplitz_offsets": np.arange(-(T - 1), T),
        "toeplitz_profile": rng.normal(size=(L, H, 2 * T - 1)),
        "matrix": logits[0, 1],
        "matrix_layer": 0,
        "matrix_head": 1,
        "stats": {n: rng.random((L, H)) for n in names},
        "stat_names": names,
        "deposit_drop": rng.random((L, H)),
        "deposit": {"max_drop": 0.4},
        "_logits": logits,
    }


def training_data(n: int = 200) -> dict[str, Any]:
    """A ``TrainingRun.to_view_data()``-shaped dict."""
    steps = np.arange(1, n + 1) * 10
    return {
        "steps": steps,
        "series": {
            "train_loss": 3 * np.exp(-steps / 300) + 1e-3,
            "test_loss": 3 * np.exp(-steps / 1500) + 1e-2,
            "train_acc": 1 - np.exp(-steps / 200),
            "test_acc": 1 / (1 + np.exp(-(steps - 1200) / 80)),
        },
        "names": ["test_acc", "test_loss", "train_acc", "train_loss"],
        "labels": {"train_loss": "train loss", "test_acc": "<b>test</b> acc"},
        "events": {"grokked": 1200, "never": None},
    }


def comparison_data(n_methods: int = 4) -> dict[str, Any]:
    """A Comparison-shaped dict: methods × region maps with metric rows."""
    e = explanation_data(n_regions=16, n_tokens=3, size=96)
    rng = np.random.default_rng(1)
    methods = ["eagle", "lima", "<script>ig</script>", "random"][:n_methods]
    return {
        "methods": methods,
        "image": e["image"],
        "labels": e["labels"],
        "region_scores": rng.random((n_methods, 16)),
        "metrics": {m: {"insertion_auc": rng.random(), "deletion_auc": rng.random()} for m in methods},
    }
