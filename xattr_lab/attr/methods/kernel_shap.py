"""Captum KernelShap over the explanation's regions (feature mask = the label map)."""

from __future__ import annotations

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import RegionForward, feature_mask, ones_mask, region_output, seeded


def kernel_shap(ctx: MethodContext, n_samples: int = 200) -> MethodOutput:
    """KernelShap (Captum): Shapley values of the regions from ``n_samples`` random coalitions.

    Args:
        ctx: the method context.
        n_samples: coalitions sampled (seeded by ``ctx.seed``).

    Returns:
        Region scores.
    """
    from captum.attr import KernelShap

    if not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(f"n_samples: expected an int >= 2, got {n_samples!r}")
    with seeded(ctx.seed):
        attr = KernelShap(RegionForward(ctx)).attribute(
            ones_mask(ctx), baselines=0.0, feature_mask=feature_mask(ctx), n_samples=n_samples,
            perturbations_per_eval=n_samples,
        )  # fmt: skip
    return region_output(ctx, attr, {"n_samples": n_samples})


kernel_shap.family = "baseline"  # type: ignore[attr-defined]
kernel_shap.needs = ("scores",)  # type: ignore[attr-defined]
