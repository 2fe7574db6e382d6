"""Per-task accuracy of the ShapesVLM on held-out scenes: ``python -m xattr_lab.models.toy.evaluate``.

Prints a JSON table. Held-out streams are seeds >= 1 of :func:`xattr_lab.datasets.shapes` (training uses
stream 0). The default mode scores exact match of greedy answers in one teacher-forced forward per batch
(identical to generating, see ``teacher_forced_exact``); ``--generate`` runs ``ScoringModel.generate``
through the public API instead. ``--world clutter`` (or any world of :mod:`xattr_lab.models.toy.answers`)
scores that world's model on its held-out streams, e.g.
``python -m xattr_lab.models.toy.evaluate --world clutter --n-per-task 100``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from xattr_lab.datasets.shapes import TASKS, ShapesSample, shapes


def held_out(n_per_task: int, seed: int = 1, world: str = "shapes", balanced: bool = False) -> list[ShapesSample]:
    """``n_per_task`` samples of every task from held-out stream ``seed`` (>= 1) of ``world``.

    ``balanced`` draws the world's generator with ``balanced=True`` (clutter: no commonest-colour shortcut).
    """
    from functools import partial

    from xattr_lab.models.toy.answers import held_out as held_out_streams

    if seed < 1:
        raise ValueError("seed: stream 0 is the training stream; use seed >= 1")
    if balanced and world == "shapes":
        raise ValueError("balanced: only worlds whose generator takes balanced=True (clutter), not shapes")
    tasks, generator = _world(world)
    return held_out_streams(partial(generator, balanced=True) if balanced else generator, tasks, n_per_task, seed)


def _world(world: str) -> tuple[tuple[str, ...], Any]:
    if world == "shapes":
        return TASKS, shapes
    from xattr_lab.models.toy.answers import load_world

    module, generator = load_world(world)
    return tuple(module.TASKS), generator


def _table(samples: list[ShapesSample], correct: list[bool], tasks: tuple[str, ...] = TASKS) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for task in tasks:
        hits = [c for s, c in zip(samples, correct) if s.task == task]
        table[task] = round(sum(hits) / max(1, len(hits)), 4)
    absent = [c for s, c in zip(samples, correct) if s.absent]
    table["presence_absent"] = round(sum(absent) / max(1, len(absent)), 4)
    table["overall"] = round(sum(correct) / max(1, len(correct)), 4)
    table["n"] = {t: sum(s.task == t for s in samples) for t in tasks}
    table["n"]["presence_absent"] = len(absent)
    return table


def frequency_split(samples: list[ShapesSample], correct: list[bool], task: str = "colour") -> dict[str, Any]:
    """Colour (or shape) accuracy split by how the answer stands among the scene's colour (shape) counts.

    In a world where a colour question always has a distractor of the asked object's colour, "the commonest
    colour in the scene" answers many questions without binding colour to shape. This split shows how much
    of a model's accuracy that shortcut explains: ``"answer_commonest"`` (the answer is the only commonest
    colour), ``"other_commonest"`` (another colour is the only commonest: the heuristic is always wrong
    there) and ``"tie"``; ``"heuristic"`` is the expected accuracy of the heuristic itself (ties broken at
    random). ``task="shape"`` does the same with shapes.

    Args:
        samples: samples of any tasks; only ``task`` questions are counted.
        correct: per-sample exact match, aligned with ``samples``.
        task: ``"colour"`` or ``"shape"``.

    Returns:
        ``{"heuristic": p, "n": k, "<group>": {"accuracy": a, "n": k}, ...}`` over ``task`` questions.
    """
    from collections import Counter

    if task not in ("colour", "shape"):
        raise ValueError(f"task: expected 'colour' or 'shape', got {task!r}")
    field = 0 if task == "colour" else 1  # objects are named "<colour> <shape>"
    groups: dict[str, list[bool]] = {"answer_commonest": [], "other_commonest": [], "tie": []}
    heuristic = 0.0
    items = [(s, c) for s, c in zip(samples, correct) if s.task == task]
    for s, c in items:
        counts = Counter(name.split(" ")[field] for name in s.objects)
        top = max(counts.values())
        commonest = [k for k, v in counts.items() if v == top]
        heuristic += (s.answer in commonest) / len(commonest)
        key = "tie" if len(commonest) > 1 else "answer_commonest" if commonest == [s.answer] else "other_commonest"
        groups[key].append(c)
    out: dict[str, Any] = {"heuristic": round(heuristic / max(1, len(items)), 4), "n": len(items)}
    for key, hits in groups.items():
        out[key] = {"accuracy": round(sum(hits) / max(1, len(hits)), 4), "n": len(hits)}
    return out


def evaluate(
    path: str | Path | None = None,
    n_per_task: int = 300,
    seed: int = 1,
    generate: bool = False,
    batch_size: int = 64,
    world: str = "shapes",
    balanced: bool = False,
) -> dict[str, Any]:
    """Accuracy per task (exact match of the whole answer) on held-out scenes.

    Args:
        path: a saved model directory (default: the world's built-in weights).
        n_per_task: samples per task.
        seed: held-out stream (>= 1).
        generate: use ``ScoringModel.generate`` (slow, the public path) instead of teacher forcing.
        batch_size: samples per forward in teacher-forced mode.
        world: ``"shapes"`` (the ShapesVLM) or a world of :mod:`xattr_lab.models.toy.answers` (``"clutter"``).
        balanced: draw the world with ``balanced=True`` (clutter: colour and shape questions whose answer is
            not the scene's only commonest colour or shape, a test of binding without the shortcut).

    Returns:
        ``{task: accuracy, "presence_absent": ..., "overall": ..., "n": {...}, "colour_by_frequency": ...,
        "shape_by_frequency": ..., "seconds": ...}`` (see :func:`frequency_split`).
    """
    from xattr_lab.models.loading import load_model
    from xattr_lab.models.toy.build import WEIGHTS_DIR
    from xattr_lab.models.toy.train import encode, teacher_forced_exact

    start = time.time()
    if path is None and world != "shapes":
        from xattr_lab.models.toy.answers import weights_dir

        path = weights_dir(world)
    model = load_model(str(path or WEIGHTS_DIR), device="cpu")
    samples = held_out(n_per_task, seed, world, balanced)
    correct: list[bool] = []
    if generate:
        for s in samples:
            gen = model.generate(s.image, s.prompt, max_new_tokens=32)
            correct.append(gen.text == s.answer)
    else:
        n_image = int((model.generate(samples[0].image, samples[0].prompt, 1).input_ids == model.image_token_id).sum())
        for i in range(0, len(samples), batch_size):
            if world == "shapes":
                batch = encode(samples[i : i + batch_size], model.tokenizer, n_image)
            else:  # the saved chat template decides the layout (toy-clutter: question first)
                from xattr_lab.models.toy.answers import encode_chat

                batch = encode_chat(samples[i : i + batch_size], model.processor, n_image)
            correct += teacher_forced_exact(model.model, batch).tolist()
    table = _table(samples, correct, _world(world)[0])
    if world != "shapes":  # the clutter world's frequency shortcut (see frequency_split)
        for task in ("colour", "shape"):
            table[f"{task}_by_frequency"] = frequency_split(samples, correct, task)
    table["world"] = world
    table["balanced"] = balanced
    table["mode"] = "generate" if generate else "teacher_forced_greedy"
    table["seconds"] = round(time.time() - start, 1)
    return table


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the accuracy table as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=None)
    parser.add_argument("--n-per-task", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--world", default="shapes", help="shapes (the ShapesVLM) or clutter")
    parser.add_argument("--balanced", action="store_true", help="clutter: close the commonest-colour shortcut")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    table = evaluate(args.path, args.n_per_task, args.seed, args.generate, world=args.world, balanced=args.balanced)
    print(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
