"""Captum FeatureAblation over the explanation's regions (feature mask = the label map)."""

from __future__ import annotations

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import (
    RegionForward,
    feature_mask,
    ones_mask,
    region_output,
    scored_or_nan_output,
)


def feature_ablation(ctx: MethodContext) -> MethodOutput:
    """FeatureAblation (Captum): each region's drop in the target tokens' log-probability when removed.

    Args:
        ctx: the method context.

    Returns:
        Region scores (N + 1 images, memoised with the curves). After Ctrl-C, the drops of the regions whose
        ablation had been scored (from the scorer's cache) and NaN for the rest, which rank last.
    """
    from captum.attr import FeatureAblation

    forward = RegionForward(ctx)
    try:
        attr = FeatureAblation(forward).attribute(
            ones_mask(ctx), baselines=0.0, feature_mask=feature_mask(ctx), perturbations_per_eval=ctx.regions.n
        )
    except KeyboardInterrupt:
        full = ctx.scorer.full
        logp = forward.log_probs([full] + [full ^ (1 << k) for k in range(ctx.regions.n)], cached_only=True)
        scores = logp[0] - logp[1:]  # NaN where the ablation (or the full image) was not scored
        stats = {"n_regions_scored": int(np.isfinite(scores).sum())}
        return scored_or_nan_output(ctx, scores, {}, stats)
    return region_output(ctx, attr, {})


feature_ablation.family = "baseline"  # type: ignore[attr-defined]
feature_ablation.needs = ("scores",)  # type: ignore[attr-defined]
