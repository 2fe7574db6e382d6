"""Named GrokTrainer configurations.

``demo`` is the CPU recipe: p=97 addition, 30 % of the data, batch 512, AdamW at 3× the usual learning rate
plus the Grokfast EMA amplifier (λ=2, α=0.98), on one torch thread (the matrices are small, so a second thread
buys little and oversubscribes a shared 2-core box — measured 2.5 vs ~25 steps/s under load). It memorises
(train accuracy ≥ 99 %) by about step 800 while test accuracy is still ~5 %, and reaches 99 % test accuracy
around step 2000, with test loss, excluded loss and the weight norm moving in between. ``baseline`` is the
same without Grokfast at lr 1e-3 (≈ 14k steps, ~9 min), ``power`` is Power et al.'s setting and ``nanda``
the exact Nanda et al. run (about an hour on 2 CPU cores; use a GPU). ``demo`` is what notebook 06 runs by
default (measured: 0.994 test accuracy at step 1900 in 48 s idle, ~160 s with the 2 cores shared).
``tiny`` is a seconds-long smoke run for tests: it does not grok.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "demo": dict(
        p=97, op="add", frac=0.3, model="nanda", d_model=128, n_heads=4, d_mlp=512, lr=3e-3, weight_decay=1.0,
        batch_size=512, steps=4000, eval_every=100, grokfast_lambda=2.0, grokfast_alpha=0.98,
        stop_at_test_acc=0.99, threads=1,
    ),
    "baseline": dict(
        p=97, op="add", frac=0.3, model="nanda", lr=1e-3, weight_decay=1.0, batch_size=512, steps=20000,
        eval_every=250, stop_at_test_acc=0.99, threads=1,
    ),
    "nanda": dict(
        p=113, op="add", frac=0.3, model="nanda", lr=1e-3, weight_decay=1.0, batch_size=None, steps=40000,
        eval_every=100, stop_at_test_acc=None,
    ),
    "power": dict(
        p=97, op="div", frac=0.5, model="power", n_layers=2, lr=1e-3, weight_decay=1.0, batch_size=512,
        steps=100000, eval_every=500, stop_at_test_acc=0.99,
    ),
    "tiny": dict(
        p=23, op="add", frac=0.5, model="nanda", d_model=32, n_heads=2, d_mlp=64, lr=3e-3, weight_decay=1.0,
        batch_size=None, steps=60, eval_every=20, grokfast_lambda=2.0, stop_at_test_acc=None, threads=1,
    ),
}  # fmt: skip


def preset(name: str, **overrides: Any) -> dict[str, Any]:
    """The keyword arguments of a preset, with overrides applied."""
    if name not in PRESETS:
        raise ValueError(f"preset: expected one of {sorted(PRESETS)}, got {name!r}")
    return {**PRESETS[name], **overrides}
