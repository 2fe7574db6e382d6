"""Shared bits of the benchmark runners: model loading, thread settings, JSON output, the suites (world +
default model) and the leaderboard with bootstrap intervals, paired differences and the saturation guard."""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def method_parser(prog: str, doc: str | None, regions: str) -> argparse.ArgumentParser:
    """The command line of a one-method bench: ``--method`` (eagle), ``--regions`` and ``--search``.

    Args:
        prog: the ``python -m ...`` name shown in the usage line.
        doc: the bench module's docstring; its first line is the description.
        regions: the default regions spec.
    """
    p = argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n")[0])
    p.add_argument("--method", default="eagle")
    p.add_argument("--regions", default=regions)
    p.add_argument("--search", default=None, help="search engine (search methods only)")
    return p


def load(name: str) -> Any:
    """``"synthetic"`` (the known-answer model) or anything ``xattr_lab.load_model`` takes."""
    if name == "synthetic":
        from xattr_lab.attr.synthetic import SyntheticModel

        return SyntheticModel(size=96, boxes=((8, 8, 40, 40), (56, 12, 88, 44), (20, 56, 52, 88)))
    from xattr_lab import load_model

    try:
        return load_model(name)
    except ValueError as err:
        raise ValueError(f"--model: {err}") from None


def set_threads(threads: int | None) -> int:
    import torch

    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def emit(result: dict[str, Any], out: str | None) -> None:
    from xattr_lab.cli_common import dumps

    text = dumps(result, indent=1)  # strict JSON: NaN (e.g. no ground truth) prints as null
    print(text)
    if out:
        # Atomic write: a crash never leaves a half-written result file behind.
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, target)
    sys.stdout.flush()


def check_out(out: str | None) -> None:
    """Refuse an unwritable ``--out`` before the benchmark runs, not after."""
    if out is not None:
        from xattr_lab.cli_common import check_writable

        check_writable(out, "--out", directory=False)


def grid_for(n: int) -> str:
    """A grid spec with exactly ``n`` cells, as square as possible."""
    rows = max(r for r in range(1, int(n**0.5) + 1) if n % r == 0)
    return f"grid:{rows}x{n // rows}"


@dataclass(frozen=True)
class Suite:
    """A benchmark world: its dataset, its default model and the tasks each runner draws by default.

    Attributes:
        name: ``shapes``, ``clutter``, ``clutter_balanced`` or ``shortcut``.
        model: the ``load_model`` spec trained on this world (stream 0; streams >= 1 are held out).
        tasks: default faithfulness tasks (those with a short answer).
        caption: whether the world has caption scenes (TAM's localisation metrics).
        cue: whether samples carry ``cue_mask`` (the planted mechanism: cue pointing is scored).
        regions: ``bench compare``'s default regions. The pointing game of a region-level map is won only
            when most of its top region lies inside the ground truth, so regions must be about as small as
            the evidence: 16 SLIC regions on a 96-px shortcut scene are ~576 px and never mostly inside the
            144-px marker (0 of 30 held-out scenes), 32 are (30 of 30).
        dataset: the ``xattr_lab.datasets`` generator when it is not ``name``.
        balanced: draw with ``balanced=True`` (clutter: colour and shape questions whose answer is not the
            scene's only commonest colour or shape, so frequency alone does not answer them).
    """

    name: str
    model: str
    tasks: tuple[str, ...]
    caption: bool
    cue: bool = False
    regions: str = "slico:16"
    dataset: str = ""
    balanced: bool = False


SUITES: dict[str, Suite] = {
    "shapes": Suite("shapes", "toy-shapes", ("colour", "shape"), caption=True),
    # count has no target object (insertion and deletion only); caption is the localisation stream
    "clutter": Suite(
        "clutter", "toy-clutter", ("colour", "shape", "presence", "position", "count", "relation"), True,
        regions="slico:64",
    ),  # fmt: skip
    # the clutter world with its commonest-colour (-shape) shortcut closed: a held-out test of binding
    "clutter_balanced": Suite(
        "clutter_balanced", "toy-clutter", ("colour", "shape"), False, regions="slico:64", dataset="clutter",
        balanced=True,
    ),  # fmt: skip
    "shortcut": Suite("shortcut", "toy-shortcut", ("colour",), caption=False, cue=True, regions="slico:32"),
}


def ground_truth_pointing(pixel_map: Any, sample: Any, cue: bool, mask_hit: float | None = None) -> dict[str, float]:
    """One scene's pointing games: the named object's mask and box, and in a cue world the cue's mask.

    NaN where the scene has no such ground truth (counts, absent objects, no cue). ``mask_hit`` is the mask
    game's result when it was already played (``xattr_lab.compare``'s ``pointing_game``).
    """
    from xattr_lab.metrics.localisation import pointing_game

    nan = float("nan")
    if sample.target is None:
        row = {"pointing_mask": nan, "pointing_box": nan}
    else:
        if mask_hit is None:
            mask_hit = pointing_game(pixel_map, mask=sample.masks[sample.target])
        row = {
            "pointing_mask": float(mask_hit),
            "pointing_box": float(pointing_game(pixel_map, box=sample.boxes[sample.target])),
        }
    if cue:
        row["pointing_cue"] = float(pointing_game(pixel_map, mask=sample.cue_mask)) if sample.cue_mask.any() else nan
    return row


def pointing_ceiling(regions: Any, sample: Any, cue: bool) -> dict[str, float]:
    """Whether a region-level map *could* win each pointing game on this scene (1.0) or not (0.0).

    A flat maximum wins when most of its pixels are inside the ground truth (see
    :func:`xattr_lab.metrics.localisation.pointing_game`), so a region-level method wins at best on scenes
    where some region of the partition is mostly inside the mask. Pixel-level maps are not bound by this.
    NaN where the scene has no such ground truth. ``regions``: a spec, or the scene's prebuilt ``Regions``.
    """
    from xattr_lab.inputs.regions import make_regions

    labels = np.asarray(make_regions(regions, sample.image, seed=sample.seed).labels)
    ids, inverse = np.unique(labels, return_inverse=True)

    def reachable(mask: np.ndarray) -> float:
        inside = np.bincount(inverse.ravel(), weights=mask.ravel().astype(float), minlength=ids.size)
        return float((inside / np.bincount(inverse.ravel(), minlength=ids.size) > 0.5).any())

    nan = float("nan")
    out = {"mask": reachable(sample.masks[sample.target]) if sample.target is not None else nan}
    if cue:
        out["cue"] = reachable(sample.cue_mask) if sample.cue_mask.any() else nan
    return out


def _world(name: str) -> Any:
    """The scene generator of a suite (or of a dataset by name), with the suite's options bound."""
    from xattr_lab import datasets

    suite = SUITES.get(name)
    make = getattr(datasets, (suite.dataset or suite.name) if suite else name)
    return functools.partial(make, balanced=True) if suite and suite.balanced else make


def held_out_questions(n: int, seed: int, tasks: list[str], world: str = "shapes") -> list[Any]:
    """``n`` questions **per task** of ``world``, one held-out stream per task (its own scenes).

    Task ``i`` draws stream ``seed * 100 + i`` (every model trains on stream 0, so ``seed >= 1`` is held out).
    In the shortcut world only scenes with a marker are kept: a scene without one has no cue to point at,
    and its answer (``"none"``) is an absence, not evidence.
    """
    make = _world(world)
    out: list[Any] = []
    for i, t in enumerate(tasks):
        if world == "shortcut":  # the stream is lazy: it stops once n scenes with a marker are found
            stream = make(10 * n + 50, seed=seed * 100 + i, task=t)
            out.extend(itertools.islice((s for s in stream if s.cue_mask.any()), n))
        else:
            out.extend(make(n, seed=seed * 100 + i, task=t))
    return out


def check_tasks(spec: str, world: Suite) -> list[str]:
    """Comma-separated task names of ``world``, checked up front (``--tasks``)."""
    known = _world_tasks(world.name)
    tasks = [t for t in spec.split(",") if t]
    bad = [t for t in tasks if t not in known]
    if not tasks or bad:
        raise ValueError(f"--tasks: expected names from {', '.join(known)} for suite {world.name}, got {spec!r}")
    return tasks


def _world_tasks(name: str) -> tuple[str, ...]:
    import importlib

    suite = SUITES.get(name)
    return importlib.import_module(f"xattr_lab.datasets.{(suite.dataset or suite.name) if suite else name}").TASKS


def method_names(spec: str) -> list[str]:
    """Comma-separated registry names, checked up front so a typo fails before any model work."""
    from xattr_lab.attr.registry import get_method

    names = [m for m in spec.split(",") if m]
    for name in names:
        get_method(name)
    return names


# Per-scene metrics the leaderboard compares against the reference, and which direction wins.
HIGHER_IS_BETTER: dict[str, bool] = {
    "insertion_auc": True,
    "deletion_auc": False,
    "ahs": True,
    "pointing_mask": True,
    "pointing_box": True,
    "pointing_cue": True,
    "pointing_game": True,
    "obj_iou": True,  # TAM's localisation scores (bench compare, caption scenes)
    "func_iou": True,
    "f1_iou": True,
}


def leaderboard(
    runs: dict[str, list[dict[str, float]]], *, reference: str = "eagle", n_boot: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Mean ± bootstrap CI per method and metric, paired differences against ``reference``, saturation.

    Args:
        runs: method -> one row of metrics per scene, the same scenes in the same order for every method
            (a scene a method failed on holds NaN, left out of its figures and of its pairs).
        reference: the method every other is paired with (EAGLE); no pairs when it was not run.
        n_boot: bootstrap resamples.
        seed: bootstrap seed (the same for every figure, so a table reprints identically).

    Returns:
        ``{"ci": {method: {metric: {mean, low, high, n}}}, "vs_<reference>": {method: {metric: {diff, low,
        high, win_rate, n}}}, "saturation": {...}}``.
    """
    from xattr_lab.metrics.uncertainty import bootstrap_ci, paired_difference, saturation

    def column(rows: list[dict[str, float]], key: str) -> list[float]:
        return [float(r.get(key, float("nan"))) for r in rows]

    ci: dict[str, dict[str, dict[str, float]]] = {}
    for m, rows in runs.items():
        keys = sorted({k for r in rows for k in r})
        ci[m] = {}
        for k in keys:
            est = bootstrap_ci(column(rows, k), n_boot=n_boot, seed=seed)
            ci[m][k] = {"mean": est.mean, "low": est.low, "high": est.high, "n": est.n}
    pairs: dict[str, dict[str, dict[str, float]]] = {}
    if reference in runs:
        ref = runs[reference]
        for m, rows in runs.items():
            if m == reference:
                continue
            pairs[m] = {}
            for k, higher in HIGHER_IS_BETTER.items():
                if k in ci[m] and k in ci[reference]:
                    d = paired_difference(
                        column(rows, k), column(ref, k), higher_is_better=higher, n_boot=n_boot, seed=seed
                    )
                    pairs[m][k] = {"diff": d.mean, "low": d.low, "high": d.high, "win_rate": d.win_rate, "n": d.n}
    sat = saturation({m: c["insertion_auc"]["mean"] for m, c in ci.items() if "insertion_auc" in c})
    return {
        "ci": ci,
        f"vs_{reference}": pairs,
        "saturation": {
            "random_insertion_auc": sat.random_insertion,
            "best": list(sat.best) if sat.best else None,
            "worst": list(sat.worst) if sat.worst else None,
            "spread": sat.spread,
            "warnings": list(sat.warnings),
        },
    }


def render_leaderboard(board: dict[str, Any], title: str, reference: str = "eagle") -> str:
    """The leaderboard as readable text: mean [95% CI] per metric, the pairs, the saturation figures."""

    def num(v: float, signed: bool = False) -> str:
        spec = ("+" if signed else "") + (".3f" if abs(v) < 10 else ".1f")
        return format(v, spec)

    def table(rows: dict[str, dict[str, str]], cols: list[str]) -> list[str]:
        width = {k: max([len(k)] + [len(r.get(k, "-")) for r in rows.values()]) + 2 for k in cols}
        first = max([len(m) for m in rows] + [6]) + 2
        out = [f"{'method':<{first}}" + "".join(f"{k:<{width[k]}}" for k in cols)]
        out += [f"{m:<{first}}" + "".join(f"{r.get(k, '-'):<{width[k]}}" for k in cols) for m, r in rows.items()]
        return out

    ci = board["ci"]
    metrics = [k for k in HIGHER_IS_BETTER if any(k in c for c in ci.values())]
    metrics += [k for k in ("forwards", "seconds") if any(k in c for c in ci.values())]
    cells = {
        m: {k: f"{num(v['mean'])} [{num(v['low'])}, {num(v['high'])}]" for k, v in c.items() if v["n"]}
        for m, c in ci.items()
    }
    lines = [title, "", *table(cells, metrics)]
    pairs = board.get(f"vs_{reference}", {})
    if pairs:
        lines += ["", f"paired against {reference}: mean of (method - {reference}) [95% CI] and win rate"]
        cells = {
            m: {k: f"{num(p['diff'], True)} [{num(p['low'], True)}, {num(p['high'], True)}] w{p['win_rate']:.2f}"
                for k, p in per.items() if p["n"]}
            for m, per in pairs.items()
        }  # fmt: skip
        lines += table(cells, [k for k in HIGHER_IS_BETTER if any(k in c for c in cells.values())])
    sat = board["saturation"]
    spread = (
        f"non-random spread {sat['spread']:.3f} (best {sat['best'][0]} {sat['best'][1]:.3f}, "
        f"worst {sat['worst'][0]} {sat['worst'][1]:.3f})"
        if sat["best"] and sat["worst"] and np.isfinite(sat["spread"])
        else "non-random spread: fewer than two methods"
    )
    lines += ["", f"saturation guard: random insertion AUC {sat['random_insertion_auc']:.3f}; {spread}"]
    lines += [f"WARNING {w}" for w in sat["warnings"]] or ["  no warning (random <= 0.6 and spread >= 0.1)"]
    return "\n".join(lines)


def ceiling_summary(
    samples: list[Any], regions: str, cue: bool, per: list[dict[str, float]] | None = None
) -> dict[str, float]:
    """Share of scenes where a region-level map could win each pointing game (see :func:`pointing_ceiling`).

    ``per``: the scenes' :func:`pointing_ceiling` results when the caller already has them (on the regions
    it built for the methods), so the partitions are not made again.
    """
    per = [pointing_ceiling(regions, s, cue) for s in samples] if per is None else per
    keys = ("mask", "cue") if cue else ("mask",)
    return {k: float(np.nanmean([p[k] for p in per])) if any(np.isfinite(p[k]) for p in per) else float("nan")
            for k in keys}  # fmt: skip


def render_ceiling(ceiling: dict[str, float], regions: str) -> str:
    """One line: the pointing games' ceiling for region-level methods."""
    parts = ", ".join(f"{'object' if k == 'mask' else k} {v:.2f}" for k, v in ceiling.items())
    return (
        f"pointing ceiling for region-level maps on {regions} (share of scenes where some region is mostly "
        f"inside the ground truth): {parts}"
    )


def progress(done: int, total: int, started: float, every: int = 10) -> None:
    """A line on stderr every ``every`` scenes (long runs take minutes), with the elapsed seconds."""
    import time

    if done % every == 0 or done == total:
        print(f"  {done}/{total} scenes, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

