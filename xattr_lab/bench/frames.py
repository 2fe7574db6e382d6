"""Frames with a known decisive frame: intervention and the temporal pointing game.

``xattr-lab bench frames`` (or ``python -m xattr_lab.bench.frames``). The "video toy" is the ShapesVLM
(``toy-shapes``) reading a clip of ``T`` shape scenes as a multi-image prompt
(:class:`xattr_lab.models.frames.FramesModel`); it was not trained on clips. On held-out sequences
(:func:`xattr_lab.datasets.frames.frames`, stream ``--seed`` >= 1), where the asked object lies in one
frame only:

* intervention: the model answers the clip, then the clip with each frame in turn blacked out; removing
  the decisive frame should change the answer (target >= 0.9), removing any other frame should not
  (target <= 0.1). Counted on the sequences it answers correctly.
* temporal pointing game: per method, ``explain_frames`` of the first answer token; a hit when the frame
  with the most positive map mass (``mass``) or with the map's highest pixel (``peak``) is the decisive
  frame. With forwards (the method's, and the temporal curve's T + 1) and seconds per explanation.

Shares come with 95% Wilson intervals. Prints strict JSON on stdout and a readable table on stderr.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.bench._common import check_out, emit, set_threads
from xattr_lab.bench.intervention import share

DEFAULT_METHODS = ("eagle", "feature_ablation", "random")


def first(tokens: Sequence[str]) -> str:
    return tokens[0] if tokens else ""


def intervene(model: Any, samples: Sequence[Any]) -> list[dict[str, Any]]:
    """Per sequence: the answer, and the answer with each frame blacked out."""
    rows = []
    for s in samples:
        answer = first(model.generate(s.frames, s.prompt, 3).generated_tokens)
        removed = []
        for t in range(s.n_frames):
            clip = s.frames.copy()
            clip[t] = 0
            removed.append(first(model.generate(clip, s.prompt, 3).generated_tokens))
        rows.append(
            {"seed": s.seed, "decisive": s.decisive, "expected": s.answer, "answer": answer, "removed": removed}
        )
    return rows


def intervention_table(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, and how often removing the decisive / another frame changes a correct answer."""
    ok = [r for r in rows if r["answer"] == r["expected"]]
    return {
        "accuracy": share([r["answer"] == r["expected"] for r in rows]),
        "decisive_removed_changed": share([r["removed"][r["decisive"]] != r["answer"] for r in ok]),
        "other_removed_changed": share(
            [a != r["answer"] for r in ok for t, a in enumerate(r["removed"]) if t != r["decisive"]]
        ),
    }


def pointing(
    model: Any, samples: Sequence[Any], methods: Sequence[str], regions: str, search: str | None
) -> dict[str, Any]:
    """Temporal pointing game per method over correctly answered sequences."""
    from xattr_lab.inputs.frames import peak_frame
    from xattr_lab.metrics.localisation import pointing_game
    from xattr_lab.models.frames import frame_boxes
    from xattr_lab.video.explain import explain_frames

    gens = []
    for s in samples:
        gen = model.generate(s.frames, s.prompt, 3)
        if first(gen.generated_tokens) == s.answer:
            gens.append((s, gen))
    out: dict[str, Any] = {"explained": len(gens)}
    for method in methods:
        mass_hits, peak_hits, object_hits, effect_hits, forwards, temporal, seconds = [], [], [], [], [], [], []
        kw = {"search": search} if search and method in ("eagle", "lima") else {}
        for s, gen in gens:
            start = time.perf_counter()
            e = explain_frames(model, None, s.prompt, method, tokens=[0], regions=regions, generation=gen,
                               progress=False, **kw)  # fmt: skip
            seconds.append(time.perf_counter() - start)
            f = e.info["frames"]
            mass_hits.append(int(np.nanargmax(f["mass"])) == s.decisive if np.isfinite(f["mass"]).any() else False)
            peak_hits.append(peak_frame(e.pixel_map, frame_boxes(gen)) == s.decisive)
            x0, y0, x1, y1 = frame_boxes(gen)[s.decisive]
            truth = np.zeros(gen.image.shape[:2], dtype=bool)
            truth[y0:y1, x0:x1] = s.masks[s.decisive]
            object_hits.append(bool(pointing_game(e.pixel_map, mask=truth)))
            effect_hits.append(int(np.argmax(f["effect"])) == s.decisive)
            forwards.append(e.cost["n_forward"])
            temporal.append(f["n_forward"])
        out[method] = {
            "pointing_mass": share(mass_hits),
            "pointing_peak": share(peak_hits),
            "pointing_object": share(object_hits),
            "forwards_mean": round(float(np.mean(forwards)), 1) if forwards else None,
            "temporal_forwards_mean": round(float(np.mean(temporal)), 1) if temporal else None,
            "seconds_mean": round(float(np.mean(seconds)), 3) if seconds else None,
        }
        out["effect_points_decisive"] = share(effect_hits)  # the model's own removal curve (method-free)
    return out


def render(result: dict[str, Any]) -> str:
    """The tables as text."""

    def fmt(cell: dict[str, Any]) -> str:
        lo, hi = cell["ci95"]
        return f"{cell['share']:.3f}  [{lo:.3f}, {hi:.3f}]  ({cell['k']}/{cell['n']})"

    lines = [
        f"frames on {result['model']} (FramesModel, T={result['t']}, task {result['task']}): "
        f"{result['n']} held-out sequences, stream {result['seed']}",
    ]
    for key, cell in result["intervention"].items():
        lines.append(f"  {key:<30}{fmt(cell)}")
    p = result["pointing"]
    lines.append(f"  temporal pointing game, {p['explained']} explained, regions {result['regions']}:")
    for m in result["methods"]:
        r = p[m]
        lines.append(f"    {m:<18} mass {fmt(r['pointing_mass'])}   peak {fmt(r['pointing_peak'])}")
        lines.append(f"    {'':<18} object (spatial pointing game in the decisive frame) {fmt(r['pointing_object'])}")
        lines.append(
            f"    {'':<18} forwards {r['forwards_mean']} (+{r['temporal_forwards_mean']} temporal), "
            f"{r['seconds_mean']} s per explanation"
        )
    if "effect_points_decisive" in p:
        lines.append(f"    removal effect's top frame is the decisive one: {fmt(p['effect_points_decisive'])}")
    lines.append(f"  targets: decisive >= 0.9, other <= 0.1, eagle pointing >= 0.8; {result['seconds']} s")
    return "\n".join(lines)


def run(
    model_name: str = "toy-shapes", n: int = 100, explain: int = 30, seed: int = 1, t: int = 4,
    task: str = "colour", methods: Sequence[str] = DEFAULT_METHODS, regions: str = "frames:slico:8",
    search: str | None = "efficient",
) -> dict[str, Any]:  # fmt: skip
    """The whole bench as a JSON-able dict (see the module docstring)."""
    import xattr_lab
    from xattr_lab.datasets.frames import frames
    from xattr_lab.models.frames import FramesModel

    model = FramesModel(xattr_lab.load_model(model_name))
    start = time.time()
    samples = list(frames(n, seed=seed, t=t, task=task))
    table = intervention_table(intervene(model, samples))
    point = pointing(model, samples[:explain], methods, regions, search)
    return {
        "model": model_name, "n": n, "seed": seed, "t": t, "task": task, "regions": regions, "search": search,
        "methods": list(methods), "intervention": table, "pointing": point,
        "seconds": round(time.time() - start, 1),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    import sys

    from xattr_lab.datasets.frames import FRAME_TASKS

    p = argparse.ArgumentParser(prog="python -m xattr_lab.bench.frames", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="toy-shapes")
    p.add_argument("--n", type=int, default=100, help="sequences for the intervention")
    p.add_argument("--explain", type=int, default=30, help="of those, sequences explained per method")
    p.add_argument("--seed", type=int, default=1, help="stream (>= 1 is held out from training)")
    p.add_argument("--t", type=int, default=4, help="frames per sequence")
    p.add_argument("--task", default="colour", choices=FRAME_TASKS)
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    p.add_argument("--regions", default="frames:slico:8", help="'frames:<spec>' or 'grid:T,R,C'")
    p.add_argument("--search", default="efficient", help="EAGLE/LiMA search engine")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.n < 1 or args.explain < 0:
        p.error("--n: expected a positive number of sequences (and --explain >= 0)")
    if args.seed < 1:
        p.error("--seed: stream 0 is the training stream; use >= 1")
    if args.t < 2:
        p.error("--t: expected at least two frames")
    from xattr_lab.inputs.frames import is_frames_spec

    if not is_frames_spec(args.regions):
        p.error(f"--regions: expected 'frames:<spec>' or 'grid:T,R,C', got {args.regions!r}")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        p.error("--methods: expected at least one method")
    check_out(args.out)
    set_threads(args.threads)
    result = run(args.model, args.n, min(args.explain, args.n), args.seed, args.t, args.task, methods,
                 args.regions, args.search)  # fmt: skip
    print(render(result), file=sys.stderr)
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
