"""TAM (Li et al., ICCV 2025): token activation maps from the logit lens at the image tokens.

For the explained token with class ``c``: the raw map is ``A = ReLU(L[img, c])`` (last-layer logit lens at
every image token). Estimated causal inference (ECI) removes what earlier context tokens already explain:
with ``w_j`` = ReLU of class ``c``'s logit at context text position ``j`` and ``A_j`` the image map of
that token's class, the interference ``I = Σ w_j A_j / Σ w_j`` is scaled by least squares and subtracted,
``A' = ReLU(A − α* I)``. A rank Gaussian filter (3×3) then denoises the grid. ARC (see ``arc.py``) plugs
in as per-context relevance weights. Several target tokens get the mean of their normalised maps.

Two variants (``variant=``):

* ``"default"``: the context is every earlier non-image position (system prompt and chat template
  included) whose token differs from the current one; the map is filtered (edges replicated) and then
  normalised jointly with the context's text scores.
* ``"reference"``: the choices of xmed-lab/TAM's ``TAM()``: the context is the user prompt's tokens and the
  earlier generated tokens only; the map is normalised jointly with the text scores of *all* those tokens
  (repeats of the current token included) and then filtered with reflect padding. Three bugs of that code
  are left out: generated token 0 there gets the map of the class predicted at the first prompt position
  (and the context map of prompt token 0 is that class's map, that of generated token 0 the map of the last
  template token's class), generated context tokens are weighted by the logit one position before their own,
  and a flat 3×3 window gives NaN. Here every context token is read at its own position with its own class
  and a flat window keeps its value. The reference also quantises the map to uint8; this keeps floats.
  Run beside xmed-lab/TAM's ``TAM()`` (commit 7c7df1d) on the same logits, with its bugs neutralised in the
  inputs, the float maps agree to max |Δ| 7e-8 (833 maps from random logits, 826 from ShapesVLM caption
  logits; what remains comes from the reference's numerical minimiser for ECI's scale). The default differs from the
  reference on the ShapesVLM by a median max |Δ| of 0.06 (median correlation 0.92).

The default stays the default. On 50 held-out ShapesVLM caption scenes (``shapes(50, seed=102,
task="caption")``, the localisation stream of ``xattr-lab bench compare``), ``tam`` scores Obj-IoU 0.240,
Func-IoU 0.876, F1-IoU 0.374 by default and 0.192 / 0.906 / 0.313 with ``variant="reference"``. Changing one
thing at a time, the padding alone accounts for the whole gap (reflect: 0.192 / 0.906 / 0.313); the context set
and normalising before filtering move no figure by more than 0.0002. Reflect padding counts a border cell's
inner neighbours twice and the cell's own row or column once (edge padding the reverse), and on a 6×6 token
grid 20 of the 36 cells are border cells.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput

VARIANTS = ("default", "reference")


def check_variant(variant: str) -> str:
    """Return ``variant`` when it names a TAM variant, else raise a ValueError naming the choices."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {VARIANTS}, got {variant!r}")
    return variant


def rank_gaussian_filter(grid: np.ndarray, padding: str = "edge") -> np.ndarray:
    """TAM's rank Gaussian filter over 3×3 windows.

    Each window's 9 values are sorted; with ``σ`` its coefficient of variation, the output is the
    Gaussian-weighted (over rank offsets −4..4) sum. Windows with mean ≤ 0 give 0; a flat window keeps its
    value (the limit σ → 0, where the reference code divides 0 by 0).

    Args:
        grid: [h, w] map.
        padding: ``"edge"`` (border values replicated, the default variant) or ``"reflect"`` (mirrored
            without repeating the border, as the reference code pads).
    """
    if padding not in ("edge", "reflect"):
        raise ValueError(f"padding: expected 'edge' or 'reflect', got {padding!r}")
    g = np.asarray(grid, dtype=np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(g, 1, mode=padding), (3, 3))
    values = np.sort(windows.reshape(*g.shape, 9), axis=-1)
    mean = values.mean(-1)
    sigma = values.std(-1) / np.where(mean > 0, mean, 1.0)
    ranks = np.arange(-4, 5, dtype=np.float64)
    weights = np.exp(-(ranks**2) / (2 * np.maximum(sigma, 1e-6)[..., None] ** 2))
    weights /= weights.sum(-1, keepdims=True)
    return np.where(mean > 0, (weights * values).sum(-1), 0.0)


def eci(raw: np.ndarray, context_maps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Estimated causal inference: subtract the least-squares-scaled interference of the context.

    Args:
        raw: [N] the token's image map.
        context_maps: [J, N] image maps of the context tokens.
        weights: [J] non-negative weights of the context tokens.

    Returns:
        ``ReLU(raw − α* · I)`` with ``I`` the weighted mean of the context maps.
    """
    total = float(weights.sum())
    if len(weights) == 0 or total <= 0:
        return raw
    interference = (weights[:, None] * context_maps).sum(0) / total
    denom = float(interference @ interference)
    alpha = float(raw @ interference) / denom if denom > 0 else 0.0
    return np.maximum(raw - alpha * interference, 0.0)


def token_map(
    lens: Any,
    p: int,
    use_eci: bool = True,
    use_filter: bool = True,
    relevance: Any = None,
    normalise: bool = True,
    variant: str = "default",
    prompt: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One generated token's TAM: (image grid [h, w], context positions [J], context scores [J]).

    Args:
        lens: a :class:`~xattr_lab.models.whitebox.LensReadout`.
        p: the token's index in the generated tokens.
        use_eci: subtract the context interference.
        use_filter: apply the rank Gaussian filter.
        relevance: optional callable ``(positions, p) -> [J]`` relevance in [0, 1] of each context position;
            interference weights become ``(1 − r_j) w_j`` (ARC).
        normalise: min-max normalise image and text scores jointly (False keeps logit units).
        variant: ``"default"`` or ``"reference"`` (see the module docstring).
        prompt: positions of the user prompt's tokens in the input (needed by ``"reference"``).

    Returns:
        The image map on the token grid and the context's text scores, jointly min-max normalised. For a
        tiled model (``lens.layout`` set) the map is a tuple of per-view grids (base / global view first),
        each filtered on its own and all normalised together.
    """
    check_variant(variant)
    ids = lens.ids.numpy()
    at = lens.n_input + p
    cls = int(ids[at])
    if variant == "reference":
        if prompt is None:
            raise ValueError("prompt: variant='reference' needs the positions of the user prompt's tokens")
        text_pos = np.concatenate([np.asarray(prompt, dtype=np.int64), lens.n_input + np.arange(p, dtype=np.int64)])
        keep = ids[text_pos] != cls  # a repeat of the current token explains nothing about it
    else:
        image = set(lens.image_positions.tolist())
        text_pos = np.array([j for j in range(at) if j not in image and ids[j] != cls], dtype=np.int64)
        keep = np.ones(len(text_pos), dtype=bool)
    context = text_pos[keep]
    raw = np.maximum(lens.logits(lens.image_positions, [cls])[:, 0].numpy().astype(np.float64), 0.0)
    all_text = (
        np.maximum(lens.logits(text_pos, [cls])[:, 0].numpy().astype(np.float64), 0.0)
        if len(text_pos)
        else np.zeros(0)
    )
    text = all_text[keep]
    out = raw
    if use_eci and len(context):
        maps = np.maximum(lens.logits(lens.image_positions, ids[context]).numpy().T.astype(np.float64), 0.0)
        weights = text if relevance is None else (1.0 - np.asarray(relevance(context, p))) * text
        out = eci(raw, maps, weights)
    if getattr(lens, "layout", None) is not None:
        grids, text = _tiled_maps(lens.layout.grids(out), all_text, keep, use_filter, normalise, variant)
        return grids, context, text
    grid = out.reshape(lens.grid)
    if variant == "reference":
        # the reference normalises with every earlier text token's score, then filters (reflect padding)
        if normalise:
            grid, all_text = _joint_minmax(grid, all_text)
            text = all_text[keep]
        return (rank_gaussian_filter(grid, "reflect") if use_filter else grid), context, text
    if use_filter:
        grid = rank_gaussian_filter(grid)
    if not normalise:
        return grid, context, text
    grid, text = _joint_minmax(grid, text)
    return grid, context, text


def _tiled_maps(
    grids: tuple[np.ndarray, ...],
    all_text: np.ndarray,
    keep: np.ndarray,
    use_filter: bool,
    normalise: bool,
    variant: str,
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """A tiled model's per-view grids, filtered per view and normalised jointly (with the text scores).

    The same steps as one grid, in each variant's order: every view is a spatial grid of its own (the rank
    filter never mixes cells of two views), and one min-max spans all views and the text scores.
    """
    text = all_text[keep]
    if variant == "reference":
        if normalise:
            flat, all_text = _joint_minmax(np.concatenate([g.ravel() for g in grids]), all_text)
            grids, text = _unflatten(flat, grids), all_text[keep]
        return tuple(rank_gaussian_filter(g, "reflect") if use_filter else g for g in grids), text
    if use_filter:
        grids = tuple(rank_gaussian_filter(g) for g in grids)
    if not normalise:
        return tuple(grids), text
    flat, text = _joint_minmax(np.concatenate([g.ravel() for g in grids]), text)
    return _unflatten(flat, grids), text


def _unflatten(flat: np.ndarray, like: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    out, start = [], 0
    for g in like:
        out.append(flat[start : start + g.size].reshape(g.shape))
        start += g.size
    return tuple(out)


def _joint_minmax(grid: np.ndarray, text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min-max normalise the image grid and the text scores together (a flat input maps to 0)."""
    lo = min(grid.min(), text.min(initial=np.inf))
    hi = max(grid.max(), text.max(initial=-np.inf))
    span = hi - lo if hi > lo else 1.0
    return (grid - lo) / span, (text - lo) / span


def prompt_positions(model: Any, gen: Any) -> np.ndarray:
    """Positions [P] of the user prompt's tokens in ``gen.input_ids`` (chat template and image excluded).

    The prompt is tokenised alone (with and without a leading space) and its last occurrence taken; when the
    template changes how it tokenises, the shortest run of text tokens that decodes to it. When neither
    finds it, every non-image input position is returned, with a warning.
    """
    ids = [int(i) for i in gen.input_ids.tolist()]
    start, end = gen.image_token_span
    image_token = getattr(model, "image_token_id", None)
    is_text = [not (start <= j < end) and ids[j] != image_token for j in range(len(ids))]
    tok = getattr(model, "tokenizer", None)
    target = gen.prompt.strip()
    if tok is not None and target:
        for text in (gen.prompt, " " + gen.prompt, target):
            want = list(tok(text, add_special_tokens=False)["input_ids"])
            n = len(want)
            hits = [s for s in range(len(ids) - n + 1) if n and ids[s : s + n] == want and all(is_text[s : s + n])]
            if hits:
                return np.arange(hits[-1], hits[-1] + n, dtype=np.int64)
        best: tuple[int, int] | None = None
        for s in range(len(ids)):
            for e in range(s + 1, len(ids) + 1):
                if not is_text[e - 1]:
                    break
                decoded = tok.decode(ids[s:e]).strip()
                if decoded == target and (best is None or e - s <= best[1] - best[0]):
                    best = (s, e)
                if not target.startswith(decoded):
                    break
        if best is not None:
            return np.arange(*best, dtype=np.int64)
    warnings.warn(
        "TAM variant='reference': the prompt's tokens were not found in the input ids; every non-image input "
        "token is used as context",
        stacklevel=2,
    )
    return np.array([j for j in range(len(ids)) if is_text[j]], dtype=np.int64)


def tam_maps(
    model: Any,
    gen: Any,
    positions: Sequence[int],
    use_eci: bool = True,
    use_filter: bool = True,
    arc_k: int | None = None,
    arc_p: float = 0.9,
    normalise: bool = True,
    arc_rbo: str = "truncated",
    variant: str = "default",
    views: str = "all",
) -> np.ndarray:
    """Per-token TAM (optionally with ARC) maps at the image's resolution: float32 [K, H, W].

    ``views`` picks a tiled model's token views (see :mod:`~xattr_lab.models.token_grid`); one-grid models
    have a single view and ignore it.
    """
    from xattr_lab.models.token_grid import VIEWS
    from xattr_lab.models.whitebox import lens_readout, to_image_map

    check_variant(variant)
    if views not in VIEWS:
        raise ValueError(f"views: expected one of {VIEWS}, got {views!r}")
    lens = lens_readout(model, gen)
    if lens.layout is not None and views != "all":
        lens = dataclasses.replace(lens, layout=lens.layout.select(views))
    prompt = prompt_positions(model, gen) if variant == "reference" else None
    relevance = None
    if arc_k is not None:
        from xattr_lab.attr.methods.arc import context_relevance

        def relevance(context: np.ndarray, p: int) -> np.ndarray:
            return context_relevance(lens, context, lens.n_input + p, arc_k, arc_p, arc_rbo)

    def place(grid: Any) -> np.ndarray:
        # a tiled model's views are placed tile by tile (see xattr_lab.models.token_grid)
        return to_image_map(model, gen, grid) if lens.layout is None else lens.layout.to_image(grid)

    maps = [place(token_map(lens, p, use_eci, use_filter, relevance, normalise, variant, prompt)[0]) for p in positions]
    return np.stack(maps).astype(np.float32)


def mean_map(maps: np.ndarray, normalise: bool = True) -> np.ndarray:
    """Mean of per-token maps, each min-max normalised first (unless ``normalise`` is False)."""
    if not normalise:
        return maps.mean(0)
    lo = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - lo
    return ((maps - lo) / np.where(span > 0, span, 1.0)).mean(0)


def tam(
    ctx: MethodContext,
    eci: bool = True,
    rank_filter: bool = True,
    normalise: bool = True,
    variant: str = "default",
    views: str = "all",
) -> MethodOutput:
    """TAM: last-layer logit-lens maps at the image tokens, with ECI and the rank Gaussian filter.

    Args:
        ctx: the method context.
        eci: subtract the interference of earlier context tokens.
        rank_filter: apply the 3×3 rank Gaussian filter.
        normalise: min-max normalise each token's map (False keeps logit units, for MSEA's tiles).
        variant: ``"default"`` or ``"reference"`` (xmed-lab/TAM's context, normalisation and padding; see
            the module docstring).
        views: a tiled model's (LLaVA-NeXT, Idefics3 with splitting) tokens read: ``"all"`` (every tile at
            its place and the base image, averaged), ``"base"`` (the base / global image only) or ``"tiles"``.

    Returns:
        A pixel map (one forward with hidden states).
    """
    check_variant(variant)
    gen, positions = ctx.generation, ctx.positions
    maps = tam_maps(
        ctx.model, gen, positions, bool(eci), bool(rank_filter), normalise=bool(normalise), variant=variant, views=views
    )
    params = {"eci": bool(eci), "rank_filter": bool(rank_filter), "normalise": bool(normalise), "variant": variant}
    params["views"] = views
    return MethodOutput(pixel_map=mean_map(maps, bool(normalise)), params=params, stats={"n_forward_method": 1})


tam.family = "map"  # type: ignore[attr-defined]
tam.needs = ("hidden_states",)  # type: ignore[attr-defined]
