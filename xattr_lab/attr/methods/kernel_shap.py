"""Captum KernelShap over the explanation's regions (feature mask = the label map)."""

from __future__ import annotations

from typing import Any

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import RegionForward, feature_mask, ones_mask, run_sampled


def kernel_shap(ctx: MethodContext, n_samples: int = 200) -> MethodOutput:
    """KernelShap (Captum): Shapley values of the regions from ``n_samples`` random coalitions.

    Args:
        ctx: the method context.
        n_samples: coalitions sampled (seeded by ``ctx.seed``).

    Returns:
        Region scores. After Ctrl-C, Kernel SHAP fitted on the coalitions scored before the interrupt (the
        same as ``n_samples=k`` for the ``k`` scored, recorded as ``n_samples_scored``), found from the
        scorer's cache without a further forward; NaN scores if fewer than two had been scored.
    """
    from captum.attr import KernelShap

    if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 2:
        raise ValueError(f"n_samples: expected an int >= 2, got {n_samples!r}")

    def run(forward: RegionForward, n: int) -> Any:
        return KernelShap(forward).attribute(
            ones_mask(ctx), baselines=0.0, feature_mask=feature_mask(ctx), n_samples=n, perturbations_per_eval=n
        )

    params = {"n_samples": n_samples}
    return run_sampled(ctx, run, n_samples, params)


kernel_shap.family = "baseline"  # type: ignore[attr-defined]
kernel_shap.needs = ("scores",)  # type: ignore[attr-defined]
