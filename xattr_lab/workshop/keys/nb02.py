"""Answer key for notebooks/02_compare_methods.ipynb."""

from __future__ import annotations

from typing import Any

from xattr_lab.workshop.answers import Computed
from xattr_lab.workshop.exercise import Exercise

METHODS = ("eagle", "tam_msea_arc", "integrated_gradients", "feature_ablation", "kernel_shap", "random")
CHANGE = ("up", "about the same", "down")


def _rows(cmp: Any) -> dict[str, dict[str, Any]]:
    return {row["method"]: row for row in cmp.table()}


def lowest_deletion(cmp: Any) -> str:
    """The method (random excluded) with the lowest deletion AUC."""
    rows = _rows(cmp)
    return min((m for m in rows if m != "random"), key=lambda m: rows[m]["deletion_auc"])


def below_random(cmp: Any) -> frozenset[str]:
    """The methods whose insertion AUC is below random's."""
    rows = _rows(cmp)
    floor = rows["random"]["insertion_auc"]
    return frozenset(m for m in rows if m != "random" and rows[m]["insertion_auc"] < floor)


def change(before: Any, after: Any, tie: float = 0.05) -> str:
    """``"up"``, ``"about the same"`` (within ``tie``) or ``"down"``: insertion AUC from before to after."""
    d = float(after.insertion_auc) - float(before.insertion_auc)
    return "about the same" if abs(d) <= tie else ("up" if d > 0 else "down")


def pointing(fine: Any, sample: Any) -> str:
    """``"hit"`` or ``"miss"``: the pointing game of ``fine`` on the named object's mask."""
    from xattr_lab.metrics.localisation import pointing_game

    return "hit" if pointing_game(fine.pixel_map, mask=sample.masks[sample.target]) else "miss"


EXERCISES = (
    Exercise(
        id="02.1",
        question="Which method (random aside) has the lowest deletion AUC on this scene?",
        answer=Computed(("cmp",), lowest_deletion, options=METHODS),
        hint="Deletion removes the top-ranked regions first: which methods look at the whole image jointly or "
        "read the model's own internals, rather than one region at a time?",
        explanation="TAM + MSEA + ARC (about 0.16), ahead of EAGLE (about 0.22): its pixel-level logit-lens "
        "map concentrates on the circle inside the coarse grid cells, while EAGLE can only rank whole cells. "
        "No method wins every metric on every scene; that is why the benchmarks report many scenes with "
        "confidence intervals.",
    ),
    Exercise(
        id="02.2",
        question="Which methods score an insertion AUC *below* random's?",
        answer=Computed(("cmp",), below_random, options=METHODS),
        hint="Look for methods that score one region at a time, or that follow gradients along a path of "
        "images the model never saw.",
        explanation="Integrated Gradients and Feature Ablation. Feature Ablation removes one cell at a time: the "
        "circle spans four cells, and removing any one leaves enough of it, so the object's cells score about "
        "zero (redundancy). Integrated Gradients with 8 steps integrates poorly along a path of dimmed images "
        "the model never saw; its largest scores land on empty cells.",
    ),
    Exercise(
        id="02.3",
        question="Integrated Gradients with n_steps=32 instead of 8: does its insertion AUC go up, stay about "
        "the same, or go down?",
        answer=Computed(("ig8", "ig32"), change, options=CHANGE),
        hint="IG approximates an integral with a Riemann sum: what do more steps buy?",
        explanation="Up (from about 0.22 to about 0.72): a finer Riemann sum follows the model more closely. "
        "It is still below random here; the straight path from black runs through images unlike any the "
        "model was trained on. Check a gradient method's step count before blaming the method.",
    ),
    Exercise(
        id="02.4",
        question="EAGLE on 64 SLICO superpixels instead of a 4x4 grid: does its map's peak land on the circle?",
        answer=Computed(("fine", "sample"), pointing, options=("hit", "miss")),
        hint="On the grid the peak is a whole 24x24 cell; the game counts a hit only when most of the peak's "
        "pixels lie on the object. What do superpixels follow?",
        explanation="Hit. The grid's pointing game of 0 measured the grid, not EAGLE: the circle covers at most "
        "41% of any cell, so a region-level peak there can never be mostly circle. Superpixels follow the "
        "object's edges. Read a pointing game with the regions it was played on.",
    ),
)
