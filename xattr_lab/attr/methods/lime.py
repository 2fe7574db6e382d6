"""Captum Lime over the explanation's regions (feature mask = the label map)."""

from __future__ import annotations

from typing import Any

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import RegionForward, feature_mask, ones_mask, run_sampled


def lime(ctx: MethodContext, n_samples: int = 200, alpha: float = 0.01) -> MethodOutput:
    """Lime (Captum): a sparse linear surrogate (Lasso) fitted on ``n_samples`` random region subsets.

    Args:
        ctx: the method context.
        n_samples: perturbed samples (seeded by ``ctx.seed``).
        alpha: the Lasso penalty of the surrogate.

    Returns:
        Region scores. After Ctrl-C, the surrogate fitted on the samples scored before the interrupt (the
        same as ``n_samples=k`` for the ``k`` scored, recorded as ``n_samples_scored``), found from the
        scorer's cache without a further forward; NaN scores if fewer than two had been scored.
    """
    from captum._utils.models.linear_model import SkLearnLasso
    from captum.attr import Lime

    if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 2:
        raise ValueError(f"n_samples: expected an int >= 2, got {n_samples!r}")

    def run(forward: RegionForward, n: int) -> Any:
        return Lime(forward, interpretable_model=SkLearnLasso(alpha=float(alpha))).attribute(
            ones_mask(ctx), baselines=0.0, feature_mask=feature_mask(ctx), n_samples=n, perturbations_per_eval=n
        )

    params = {"n_samples": n_samples, "alpha": float(alpha)}
    return run_sampled(ctx, run, n_samples, params)


lime.family = "baseline"  # type: ignore[attr-defined]
lime.needs = ("scores",)  # type: ignore[attr-defined]
