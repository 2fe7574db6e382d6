"""Two-image prompts on the ShapesVLM: does the map rest on the image the answer depends on, and at what cost?

Pairs: a held-out colour question (stream seeds from 3000 on) whose scene holds the asked shape, and a
scene from seed 5000 on that holds neither that shape nor the answer's colour. Both orders are explained
with the given method on per-image regions (:func:`xattr_lab.models.multi_image.image_regions`); pairs the
model answers wrongly are counted and skipped. Reported: the share of positive map mass on the answer's
image, how often it is the majority, the pointing game on the asked object, forwards and seconds.

    python -m xattr_lab.bench.multi_image --method eagle --regions slico:16 --search efficient --pairs 10
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from xattr_lab.bench._common import method_parser


def _partner(shape: str, colour: str) -> int:
    from xattr_lab.datasets.shapes import sample

    for seed in range(5000, 100_000):
        objects = sample(seed, "colour").objects
        if all(o.split()[1] != shape and o.split()[0] != colour for o in objects):
            return seed
    raise RuntimeError("unreachable: some scene lacks a shape and a colour")


def run(method: str, regions: str, search: str | None, pairs: int) -> dict[str, float]:
    """Mass, pointing and cost over ``pairs`` pairs in both orders (see the module docstring)."""
    import xattr_lab
    from xattr_lab.datasets.shapes import sample
    from xattr_lab.metrics.localisation import pointing_game
    from xattr_lab.models.multi_image import MultiImageModel, image_boxes, image_mass, image_regions

    model = MultiImageModel(xattr_lab.load_model("toy-shapes"))
    mass, hits, forwards, seconds, wrong = [], [], [], [], 0
    for seed in range(3000, 3000 + pairs):
        s = sample(seed, "colour")
        other = sample(_partner(s.prompt.split()[-2], s.answer), "colour")
        for first in (True, False):
            gen = model.generate([s.image, other.image] if first else [other.image, s.image], s.prompt, 3)
            if not gen.generated_tokens or gen.generated_tokens[0] != s.answer:
                wrong += 1
                continue
            kw = {"search": search} if search else {}
            start = time.perf_counter()
            labels = image_regions(regions, gen)
            e = xattr_lab.explain(
                model, None, s.prompt, method, regions=labels, tokens=[0], generation=gen, progress=False, **kw
            )
            seconds.append(time.perf_counter() - start)
            forwards.append(e.cost["n_forward"])
            k = 0 if first else 1
            mass.append(image_mass(e.pixel_map, gen)[k])
            x0, y0, x1, y1 = image_boxes(gen)[k]
            truth = np.zeros(gen.image.shape[:2], dtype=bool)
            truth[y0:y1, x0:x1] = s.masks[s.target]
            hits.append(bool(pointing_game(e.pixel_map, mask=truth)))
    return {
        "explained": len(mass),
        "wrong_answers": wrong,
        "mass_mean": float(np.mean(mass)),
        "mass_min": float(np.min(mass)),
        "majority": int(np.sum(np.asarray(mass) > 0.5)),
        "pointing": int(np.sum(hits)),
        "forwards_mean": float(np.mean(forwards)),
        "seconds_mean": float(np.mean(seconds)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print one line of results."""
    p = method_parser("python -m xattr_lab.bench.multi_image", __doc__, "slico:16")
    p.add_argument("--pairs", type=int, default=10)
    args = p.parse_args(argv)
    r = run(args.method, args.regions, args.search, args.pairs)
    n = r["explained"]
    print(
        f"{args.method} {args.regions} {args.search or '-'}: {n} explained ({r['wrong_answers']} wrong answers "
        f"skipped); mass on the answer's image mean {r['mass_mean']:.3f} (min {r['mass_min']:.3f}), majority "
        f"{r['majority']}/{n}; pointing {r['pointing']}/{n}; forwards {r['forwards_mean']:.1f}; "
        f"{r['seconds_mean']:.2f} s per explanation"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
