"""Captum Lime over the explanation's regions (feature mask = the label map)."""

from __future__ import annotations

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import RegionForward, feature_mask, ones_mask, region_output, seeded


def lime(ctx: MethodContext, n_samples: int = 200, alpha: float = 0.01) -> MethodOutput:
    """Lime (Captum): a sparse linear surrogate (Lasso) fitted on ``n_samples`` random region subsets.

    Args:
        ctx: the method context.
        n_samples: perturbed samples (seeded by ``ctx.seed``).
        alpha: the Lasso penalty of the surrogate.

    Returns:
        Region scores.
    """
    from captum._utils.models.linear_model import SkLearnLasso
    from captum.attr import Lime

    if not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(f"n_samples: expected an int >= 2, got {n_samples!r}")
    with seeded(ctx.seed):
        attr = Lime(RegionForward(ctx), interpretable_model=SkLearnLasso(alpha=float(alpha))).attribute(
            ones_mask(ctx), baselines=0.0, feature_mask=feature_mask(ctx), n_samples=n_samples,
            perturbations_per_eval=n_samples,
        )  # fmt: skip
    return region_output(ctx, attr, {"n_samples": n_samples, "alpha": float(alpha)})


lime.family = "baseline"  # type: ignore[attr-defined]
lime.needs = ("scores",)  # type: ignore[attr-defined]
