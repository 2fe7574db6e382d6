"""Contrastive explanations on the ShapesVLM: does each map point at its own object, and what does it cost?

Scenes: held-out colour questions (stream seeds from 3000 on) with two objects of different colours, asked
about one of them ("what colour is the star ?" → A). For each scene it explains "why A rather than B"
(the generated answer against the other object's colour) and "why B rather than A" (``target=B``,
``contrast=A``), and plays the pointing game on A's and B's object masks. ``--plain`` drops the contrast
(explains A, then B alone) for comparison. It reports hits, forwards and seconds per explanation.

    python -m xattr_lab.bench.contrastive --method eagle --regions slico:24 --search efficient --scenes 20
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from xattr_lab.bench._common import method_parser


def run(method: str, regions: str, search: str | None, scenes: int, plain: bool = False) -> dict[str, float]:
    """Pointing-game hits and cost over ``scenes`` two-colour scenes (see the module docstring)."""
    import xattr_lab
    from xattr_lab.datasets.shapes import sample
    from xattr_lab.metrics.localisation import pointing_game

    model = xattr_lab.load_model("toy-shapes")
    hits, forwards, seconds, n = [0, 0], [], [], 0
    for seed in range(3000, 100_000):
        s = sample(seed, "colour")
        colours = [o.split()[0] for o in s.objects]
        if len(s.objects) != 2 or colours[0] == colours[1]:
            continue
        a, b = s.target, 1 - s.target
        gen = model.generate(s.image, s.prompt, max_new_tokens=3)
        for k, (target, contrast, obj) in enumerate([(None, colours[b], a), (colours[b], colours[a], b)]):
            kw = {"search": search} if search else {}
            start = time.perf_counter()
            e = xattr_lab.explain(
                model, None, s.prompt, method, regions=regions, target=target, generation=gen, progress=False,
                contrast=None if plain else contrast, **kw,
            )  # fmt: skip
            seconds.append(time.perf_counter() - start)
            forwards.append(e.cost["n_forward"])
            hits[k] += bool(pointing_game(e.pixel_map, mask=s.masks[obj]))
        n += 1
        if n >= scenes:
            break
    return {
        "scenes": n,
        "hits_a": hits[0],
        "hits_b": hits[1],
        "forwards_mean": float(np.mean(forwards)),
        "forwards_min": float(np.min(forwards)),
        "forwards_max": float(np.max(forwards)),
        "seconds_mean": float(np.mean(seconds)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print one line of results."""
    p = method_parser("python -m xattr_lab.bench.contrastive", __doc__, "slico:24")
    p.add_argument("--scenes", type=int, default=8)
    p.add_argument("--plain", action="store_true", help="no contrast: explain each colour alone")
    args = p.parse_args(argv)
    r = run(args.method, args.regions, args.search, args.scenes, args.plain)
    mode = "plain" if args.plain else "contrast"
    print(
        f"{args.method} {args.regions} {args.search or '-'} {mode}: {r['scenes']} scenes; pointing "
        f"why-A {r['hits_a']}/{r['scenes']}, why-B {r['hits_b']}/{r['scenes']}; forwards "
        f"{r['forwards_mean']:.1f} [{r['forwards_min']:.0f}-{r['forwards_max']:.0f}]; "
        f"{r['seconds_mean']:.2f} s per explanation"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
