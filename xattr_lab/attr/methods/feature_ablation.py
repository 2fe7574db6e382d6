"""Captum FeatureAblation over the explanation's regions (feature mask = the label map)."""

from __future__ import annotations

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import RegionForward, feature_mask, ones_mask, region_output


def feature_ablation(ctx: MethodContext) -> MethodOutput:
    """FeatureAblation (Captum): each region's drop in the target tokens' log-probability when removed.

    Args:
        ctx: the method context.

    Returns:
        Region scores (N + 1 images, memoised with the curves).
    """
    from captum.attr import FeatureAblation

    attr = FeatureAblation(RegionForward(ctx)).attribute(
        ones_mask(ctx), baselines=0.0, feature_mask=feature_mask(ctx), perturbations_per_eval=ctx.regions.n
    )
    return region_output(ctx, attr, {})


feature_ablation.family = "baseline"  # type: ignore[attr-defined]
feature_ablation.needs = ("scores",)  # type: ignore[attr-defined]
