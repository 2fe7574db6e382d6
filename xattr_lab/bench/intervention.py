"""The planted mechanism, checked by intervention: ``python -m xattr_lab.bench.intervention``.

On held-out shortcut scenes (:func:`xattr_lab.datasets.shortcut`, stream ``--seed`` >= 1; the model trains
on stream 0) the model answers three times: on the scene, with the cue (the marker) removed and with the
named object removed. A model whose answer comes from the cue changes its answer when the cue goes and
keeps it when the object goes. Removal fills the pixels with

* ``black``: the attribution baseline (EAGLE's and the subset scorer's default), and
* ``background``: the scene's background colour (median of the pixels on no object, no marker and no
  black rectangle), i.e. the object or marker painted out;
* on request (``--fills``) also ``gray`` (127.5), ``white`` or ``mean`` (the image's mean colour), other
  baselines attribution methods use.

Prints the table as strict JSON on stdout and as readable text on stderr. Shares come with 95% Wilson
intervals.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xattr_lab.bench._common import check_out, emit, load, set_threads
from xattr_lab.datasets.shortcut import NO_CUE, ShortcutSample

FILLS: tuple[str, ...] = ("black", "background", "gray", "white", "mean")
DEFAULT_FILLS: tuple[str, ...] = ("black", "background")


@dataclass(frozen=True)
class SceneIntervention:
    """The model's answers on one scene, as is and with the cue or the named object removed.

    Attributes:
        seed: the scene's seed.
        expected: the world's answer (the cue's colour, ``"none"`` without a cue).
        object_colour: the named object's own colour.
        has_cue: whether the scene has a marker.
        answer: the model's answer on the unchanged scene.
        cue_removed: answer per fill with the marker removed (empty without a marker).
        object_removed: answer per fill with the named object removed.
    """

    seed: int
    expected: str
    object_colour: str
    has_cue: bool
    answer: str
    cue_removed: dict[str, str]
    object_removed: dict[str, str]


def fill_colour(sample: ShortcutSample, fill: str) -> np.ndarray:
    """The RGB value (float, 0..255) that removed pixels become.

    Args:
        sample: the scene.
        fill: one of ``FILLS``: ``"black"``, ``"background"`` (median colour of the free, non-black
            pixels), ``"gray"`` (127.5), ``"white"`` or ``"mean"`` (the image's mean colour).
    """
    if fill in ("black", "gray", "white"):
        from xattr_lab.models.masking import NAMED_BASELINES  # lazy: masking imports torch

        return np.array(NAMED_BASELINES[fill])  # the attribution baselines' own colours
    if fill == "mean":
        # as baseline_image's "mean", kept in float64 (baseline_image rounds it through float32)
        return sample.image.reshape(-1, 3).mean(axis=0)
    if fill == "background":
        free = ~(sample.masks.any(axis=0) | sample.cue_mask) & (sample.image.max(axis=2) > 0)
        return np.median(sample.image[free], axis=0)
    raise ValueError(f"fill: expected one of {FILLS}, got {fill!r}")


def remove(sample: ShortcutSample, mask: np.ndarray, fill: str) -> np.ndarray:
    """A copy of the scene with the pixels of ``mask`` (bool [H, W]) replaced by ``fill``."""
    image = sample.image.copy()
    image[mask] = np.clip(fill_colour(sample, fill), 0, 255).round().astype(np.uint8)
    return image


def intervene(
    model: Any, samples: Sequence[ShortcutSample], fills: Sequence[str] = DEFAULT_FILLS, max_new_tokens: int = 3
) -> list[SceneIntervention]:
    """Greedy answers of ``model`` on each scene, with the cue and with the named object removed.

    Args:
        model: a ScoringModel (``load_model("toy-shortcut")``).
        samples: shortcut scenes.
        fills: what removed pixels become (see ``fill_colour``).
        max_new_tokens: generation length (answers are one word).

    Returns:
        One record per scene, in order.
    """
    for fill in fills:
        if fill not in FILLS:
            raise ValueError(f"fills: expected names from {FILLS}, got {fill!r}")

    def ask(image: np.ndarray, prompt: str) -> str:
        return model.generate(image, prompt, max_new_tokens=max_new_tokens).text.strip()

    out = []
    for s in samples:
        if not isinstance(s, ShortcutSample):
            raise TypeError(f"samples: expected ShortcutSample objects, got {type(s).__name__}")
        has_cue = bool(s.cue_mask.any())
        cue = {f: ask(remove(s, s.cue_mask, f), s.prompt) for f in fills} if has_cue else {}
        obj = {f: ask(remove(s, s.masks[s.target], f), s.prompt) for f in fills}
        out.append(SceneIntervention(s.seed, s.answer, s.object_colour, has_cue, ask(s.image, s.prompt), cue, obj))
    return out


def share(hits: Sequence[bool]) -> dict[str, Any]:
    """``{"share", "ci95", "k", "n"}`` with the 95% Wilson interval (NaN share for no trials)."""
    n, k = len(hits), int(sum(hits))
    if n == 0:
        return {"share": math.nan, "ci95": [math.nan, math.nan], "k": 0, "n": 0}
    z, p = 1.959964, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"share": round(p, 4), "ci95": [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)],
            "k": k, "n": n}  # fmt: skip


def table(rows: Sequence[SceneIntervention], fills: Sequence[str] = DEFAULT_FILLS) -> dict[str, Any]:
    """The intervention table: accuracy and, per fill, how often each removal changes the answer.

    Removal of the cue is counted on scenes with a marker; removal of the object on those too (the
    planted claim) and on every scene.
    """
    cue_rows = [r for r in rows if r.has_cue]
    out: dict[str, Any] = {
        "accuracy": share([r.answer == r.expected for r in rows]),
        "accuracy_with_cue": share([r.answer == r.expected for r in cue_rows]),
        "accuracy_without_cue": share([r.answer == r.expected for r in rows if not r.has_cue]),
        # how often the model says the named object's own colour where the marker's differs (0 if it reads
        # the marker only; 1 if it reads the object)
        "says_object_colour": share([r.answer == r.object_colour for r in cue_rows if r.expected != r.object_colour]),
    }
    for fill in fills:
        out[f"fill={fill}"] = {
            "cue_removed_changed": share([r.cue_removed[fill] != r.answer for r in cue_rows]),
            "cue_removed_says_none": share([r.cue_removed[fill] == NO_CUE for r in cue_rows]),
            "object_removed_changed": share([r.object_removed[fill] != r.answer for r in cue_rows]),
            "object_removed_changed_all_scenes": share([r.object_removed[fill] != r.answer for r in rows]),
        }
    return out


def render(result: dict[str, Any]) -> str:
    """The table as text, one line per figure."""

    def fmt(cell: dict[str, Any]) -> str:
        lo, hi = cell["ci95"]
        return f"{cell['share']:.3f}  [{lo:.3f}, {hi:.3f}]  ({cell['k']}/{cell['n']})"

    t = result["table"]
    lines = [f"intervention on {result['model']}: {result['n']} held-out scenes, stream {result['seed']}", ""]
    for key in ("accuracy", "accuracy_with_cue", "accuracy_without_cue", "says_object_colour"):
        lines.append(f"  {key:<36}{fmt(t[key])}")
    for fill in result["fills"]:
        lines.append(f"  fill = {fill}")
        for key, cell in t[f"fill={fill}"].items():
            lines.append(f"    {key:<34}{fmt(cell)}")
    lines.append(f"\n  targets: cue_removed_changed >= 0.9, object_removed_changed <= 0.1; {result['seconds']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    import sys

    from xattr_lab.datasets.shortcut import shortcut

    p = argparse.ArgumentParser(prog="python -m xattr_lab.bench.intervention", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="toy-shortcut")
    p.add_argument("--n", type=int, default=200, help="scenes")
    p.add_argument("--seed", type=int, default=1, help="scene stream (>= 1 is held out from training)")
    p.add_argument("--fills", default=",".join(DEFAULT_FILLS), help=f"comma-separated, from {', '.join(FILLS)}")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.n < 1:
        p.error("--n: expected a positive number of scenes")
    if args.seed < 1:
        p.error("--seed: stream 0 is the training stream; use >= 1")
    fills = [f.strip() for f in args.fills.split(",") if f.strip()]
    if not fills or any(f not in FILLS for f in fills):
        p.error(f"--fills: expected names from {', '.join(FILLS)}, got {args.fills!r}")
    check_out(args.out)
    set_threads(args.threads)
    model = load(args.model)
    start = time.time()
    rows = intervene(model, list(shortcut(args.n, seed=args.seed)), fills)
    command = f"python -m xattr_lab.bench.intervention --model {args.model} --n {args.n} --seed {args.seed}"
    result = {"model": args.model, "n": args.n, "seed": args.seed, "fills": fills, "table": table(rows, fills),
              "seconds": round(time.time() - start, 1), "command": command}  # fmt: skip
    emit(result, args.out)
    print(render(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
