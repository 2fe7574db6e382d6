"""Train a toy LLaVA on answers alone: ``python -m xattr_lab.models.toy.answers --world clutter``.

Unlike :mod:`xattr_lab.models.toy.train` (the ShapesVLM's trainer), the only loss is next-token
cross-entropy on the answer tokens: no attention guidance, no per-patch probe, no logit-lens targets, no
occluded backgrounds. Nothing tells the model where the asked-about object is, so what an explanation finds
is what the model learned to use, not what it was told to use.

The trainer is generic over a *world*: a module ``xattr_lab.datasets.<world>`` exposing ``TASKS``,
``VOCABULARY``, ``IMAGE_SIZE`` and a generator function named like the world, ``<world>(n, seed=..., task=...)``,
that lazily yields samples with ``image`` (uint8 [IMAGE_SIZE, IMAGE_SIZE, 3]), ``prompt``, ``answer`` and
``task`` (``clutter`` and ``shortcut`` do). Training reads stream 0 of the generator, one iterator per task
(sample seeds ``0, 1, ...`` of that task); streams >= 1 are held out. Seeds are fixed throughout; the same
torch build and thread count should give the same weights (only the accuracy has been checked).

The loss is averaged per sample (mean over each answer's tokens, then over the batch), so that one caption
does not outweigh twenty one-word answers.

Layout: by default the question comes before the image (``<s> question <image>*N <sep> answer </s>``), so
that the image tokens can read the question under causal attention, as InstructBLIP's instruction-aware
queries do; the ShapesVLM's (and LLaVA's usual) image-first order is ``layout="image-first"``. This was
chosen by reasoning, not measured: in short pilots (a few hundred steps) both orders stayed at chance.
``--threads`` defaults to one: two threads on two shared cores ran up to 20x slower.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from xattr_lab.models.toy.train import (
    IGNORE,
    adamw_schedule,
    optimiser_step,
    pad_rows,
    pixel_values,
    save_checkpoint,
    teacher_forced_exact,
)

WORLD_NAMES = ("TASKS", "VOCABULARY", "IMAGE_SIZE")


def weights_dir(world: str) -> Path:
    """Where a world's built-in weights live: ``xattr_lab/models/toy/<world>_vlm``."""
    return Path(__file__).parent / f"{world}_vlm"


def load_world(world: str) -> tuple[ModuleType, Any]:
    """The world's dataset module and its generator function, checked for the names the trainer needs.

    Args:
        world: a module name under ``xattr_lab.datasets`` (e.g. ``"clutter"``).

    Raises:
        ValueError: when the module does not exist or lacks ``TASKS``, ``VOCABULARY``, ``IMAGE_SIZE`` or the
            generator ``<world>``.
    """
    if not isinstance(world, str) or not world.isidentifier():
        raise ValueError(f"world: expected a dataset module name such as 'clutter', got {world!r}")
    try:
        module = importlib.import_module(f"xattr_lab.datasets.{world}")
    except ModuleNotFoundError as err:
        raise ValueError(f"world: no module xattr_lab.datasets.{world}") from err
    missing = [n for n in (*WORLD_NAMES, world) if not hasattr(module, n)]
    if missing:
        raise ValueError(f"world: xattr_lab.datasets.{world} lacks {', '.join(missing)}")
    return module, getattr(module, world)


def answer_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy on the answer tokens, mean per sample, then mean over the batch."""
    lg, lab = logits[:, :-1], labels[:, 1:]
    ce = torch.nn.functional.cross_entropy(lg.transpose(1, 2), lab, ignore_index=IGNORE, reduction="none")
    mask = (lab != IGNORE).float()
    return ((ce * mask).sum(1) / mask.sum(1).clamp(min=1)).mean()


def encode_chat(samples: list[Any], processor: Any, n_image: int) -> dict[str, torch.Tensor]:
    """Token ids of the processor's chat template with the answer appended, labels on the answer only.

    Like :func:`xattr_lab.models.toy.train.encode`, but the prompt is whatever the saved chat template makes
    (image-first or question-first), so training, evaluation and ``ScoringModel.generate`` see the same
    tokens (a test checks it). ``<image>`` is expanded to ``n_image`` tokens as the processor does.
    """
    tok = processor.tokenizer
    image = processor.image_token
    rows, labels = [], []
    for s in samples:
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": s.prompt}]}]
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prompt = tok(text.replace(image, image * n_image), add_special_tokens=False)["input_ids"]
        answer = tok(s.answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        rows.append(prompt + answer)
        labels.append([IGNORE] * len(prompt) + answer)
    ids, att, lab = pad_rows(rows, labels, tok.pad_token_id)
    pixels = pixel_values([s.image for s in samples])
    return {"input_ids": ids, "attention_mask": att, "labels": lab, "pixel_values": pixels}


class TaskStreams:
    """Stream 0 of a world's generator, one lazy iterator per task: the training data."""

    def __init__(self, generator: Any, tasks: tuple[str, ...], limit: int) -> None:
        self._iters: dict[str, Iterator[Any]] = {t: iter(generator(limit, seed=0, task=t)) for t in tasks}
        self.step = 0  # set by the trainer each step, as for CurriculumStreams (unused here)

    def tasks(self) -> None:
        """Every task at every step (no curriculum)."""
        return None

    def next(self, task: str) -> Any:
        """The next training sample of ``task``."""
        return next(self._iters[task])


@dataclass(frozen=True)
class Stage:
    """One curriculum stage: until ``until`` x steps, ``low``-``high`` objects per scene and only ``tasks``."""

    until: float
    low: int
    high: int
    tasks: tuple[str, ...] | None = None


def parse_curriculum(text: str | None, known: tuple[str, ...] = ()) -> tuple[Stage, ...]:
    """``"0.1:2-3:colour+shape,0.3:3-5"`` -> curriculum stages.

    Until that fraction of the steps, scenes with low-high objects and (optionally) only those tasks. After
    the last stage the world's own scenes and tasks are drawn.

    Args:
        text: the stages, comma-separated.
        known: the world's task names (checked when given).

    Raises:
        ValueError: a malformed text, stage ends that do not rise within (0, 1], or an unknown task.
    """
    if not text:
        return ()
    stages = []
    try:
        for part in text.split(","):
            until, span, *rest = part.split(":")
            low, high = span.split("-")
            if len(rest) > 1:
                raise ValueError(part)
            tasks = tuple(rest[0].split("+")) if rest else None
            stages.append(Stage(float(until), int(low), int(high), tasks))
    except ValueError as err:
        raise ValueError(
            "curriculum: expected 'until:low-high[:task+task],...' such as "
            f"'0.2:2-3:colour+shape,0.4:3-5', got {text!r}"
        ) from err
    untils = [st.until for st in stages]
    if untils != sorted(untils) or not all(0 < u <= 1 for u in untils):
        raise ValueError(f"curriculum: stage ends must rise within (0, 1], got {untils}")
    unknown = sorted({t for st in stages for t in st.tasks or () if known and t not in known})
    if unknown:
        raise ValueError(f"curriculum: unknown tasks {unknown}; expected names from {known}")
    return tuple(stages)


class CurriculumStreams:
    """Stream 0 of a world, with sparser scenes (and optionally fewer tasks) early on.

    Sample ``k`` of a task is ``sample(k, task, objects=(low, high))``: seed ``k``, the seed stream 0 gives
    it, so that after the curriculum the model sees the scenes :class:`TaskStreams` would give it at that
    point. The world's module must take ``objects=`` (``clutter`` does). Only the number of objects and the
    mix of tasks change: the questions, the binding distractors, the backgrounds and the answer loss stay
    the world's.
    """

    def __init__(self, module: Any, tasks: tuple[str, ...], stages: tuple[Stage, ...], steps: int):
        self._sample, self._stages, self._steps = module.sample, stages, steps
        self._k = dict.fromkeys(tasks, 0)
        self.step = 0

    def stage(self) -> Stage | None:
        """The stage at the current step; None once the curriculum is over."""
        return next((st for st in self._stages if self.step < st.until * self._steps), None)

    def objects(self) -> tuple[int, int] | None:
        """The (low, high) objects per scene at the current step; None once the curriculum is over."""
        st = self.stage()
        return None if st is None else (st.low, st.high)

    def tasks(self) -> tuple[str, ...] | None:
        """The tasks drawn at the current step; None for all of them."""
        st = self.stage()
        return None if st is None else st.tasks

    def next(self, task: str) -> Any:
        """The next training sample of ``task`` at the current step."""
        k = self._k[task]
        self._k[task] += 1
        return self._sample(k, task, self.objects())


def draw_tasks(draw: np.random.Generator, names: list[str], probs: Any, streams: Any, size: int) -> Any:
    """The tasks of one batch: ``probs`` over ``names``, renormalised over a curriculum stage's tasks.

    ``probs=None`` draws uniformly with numpy's unweighted path (the guided trainer's original draws, which
    its shipped weights depend on).
    """
    allowed = streams.tasks()
    if allowed:
        if probs is None:
            return draw.choice(list(allowed), size=size)
        p = probs[[names.index(t) for t in allowed]]
        return draw.choice(list(allowed), size=size, p=p / p.sum())
    return draw.choice(names, size=size) if probs is None else draw.choice(names, size=size, p=probs)


def make_streams(module: Any, generator: Any, names: list[str], steps: int, batch_size: int, curriculum: str | None):
    """The training streams: :class:`CurriculumStreams` when ``curriculum`` names stages, else stream 0."""
    stages = parse_curriculum(curriculum, tuple(names))
    if stages:
        return CurriculumStreams(module, tuple(names), stages, steps)
    return TaskStreams(generator, tuple(names), steps * batch_size + 1)


def held_out(generator: Any, tasks: tuple[str, ...], n_per_task: int, seed: int = 1) -> list[Any]:
    """``n_per_task`` samples of every task from held-out streams ``seed * 100 + i`` (never trained on)."""
    if seed < 1:
        raise ValueError("seed: stream 0 is the training stream; use seed >= 1")
    out: list[Any] = []
    for i, task in enumerate(tasks):
        out += list(generator(n_per_task, seed=seed * 100 + i, task=task))
    return out


def per_task_exact(model: Any, samples: list[Any], processor: Any, n_image: int, batch: int = 64) -> dict[str, float]:
    """Exact match of greedy answers per task (teacher-forced, equal to generate-and-compare)."""
    ok: list[bool] = []
    for i in range(0, len(samples), batch):
        ok += teacher_forced_exact(model, encode_chat(samples[i : i + batch], processor, n_image)).tolist()
    tasks = sorted({s.task for s in samples}, key=[s.task for s in samples].index)
    return {t: round(float(np.mean([c for s, c in zip(samples, ok) if s.task == t])), 3) for t in tasks}


def evaluate_and_save(
    model: Any,
    processor: Any,
    watch: list[Any],
    n_image: int,
    history: list[dict[str, Any]],
    done: int,
    steps: int,
    start: float,
    out: Path | None,
    meta: dict[str, Any],
    eager: bool = False,
) -> None:
    """Score the watch set after ``done`` steps, print and record it in ``history``, save a checkpoint.

    Args:
        eager: the model trains with the eager attention kernel; it is saved with ``sdpa`` (the default
            for inference) and switched back.
    """
    model.eval()
    exact = per_task_exact(model, watch, processor, n_image)
    model.train()
    history.append({"step": done, "seconds": round(time.time() - start, 1), "held_out_exact": exact})
    print(json.dumps(history[-1]), flush=True)
    if out is not None:
        save_checkpoint(model, processor, out, meta, done, steps, start, history, eager)


def train(
    world: str = "clutter",
    steps: int = 12000,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    out: Path | None = None,
    patch: int = 32,
    hidden: int = 128,
    vision_layers: int = 2,
    text_layers: int = 3,
    heads: int = 4,
    layout: str = "question-first",
    task_weights: dict[str, float] | None = None,
    log_every: int = 50,
    eval_every: int = 500,
    n_eval: int = 32,
    stop_after: int | None = None,
    curriculum: str | None = None,
) -> Any:
    """Train a fresh toy LLaVA on a world's answers alone and save it (model, tokenizer, processor).

    Args:
        world: dataset module under ``xattr_lab.datasets`` (see the module docstring for what it exposes).
        steps: optimiser steps.
        batch_size: samples per step.
        lr: peak AdamW learning rate (linear warm-up over 5% of the steps, cosine decay).
        seed: seed of the initialisation and of the task draws.
        out: directory to save into; a checkpoint is written there at every evaluation (None: don't save).
        patch: vision patch size in pixels (``IMAGE_SIZE / patch`` squared image tokens).
        hidden: width of both towers.
        vision_layers: vision transformer layers.
        text_layers: decoder layers.
        heads: attention heads.
        layout: ``"question-first"`` (default: ``<s> question <image> <sep>``, so the image tokens can read
            the question) or ``"image-first"`` (the ShapesVLM's ``<s><image> question <sep>``).
        task_weights: share of the batches per task (default: the world's ``TASK_WEIGHTS`` if it has one,
            else uniform).
        log_every: print a JSON line of the loss every this many steps.
        eval_every: evaluate on a fixed held-out set (stream 7) and checkpoint every this many steps.
        n_eval: held-out samples per task for those evaluations.
        stop_after: stop (and save) after this many steps of the ``steps``-step schedule; reproduces a
            checkpoint of a longer run exactly (None: run the whole schedule).
        curriculum: sparser scenes early in training, e.g. ``"0.15:2-3,0.3:3-5,0.5:4-7"`` (2-3 objects for the
            first 15% of the steps, ...; the world's own scenes after 50%); a stage may also name its tasks,
            ``"0.1:2-3:colour+shape+count"``; see :class:`CurriculumStreams`.

    Returns:
        The trained model (in eval mode).
    """
    from xattr_lab.models.toy.build import build_model, build_processor

    module, generator = load_world(world)
    tasks, vocabulary, image_size = tuple(module.TASKS), tuple(module.VOCABULARY), int(module.IMAGE_SIZE)
    if image_size % patch:
        raise ValueError(f"patch: {patch} does not divide the world's image size {image_size}")
    weights = task_weights or getattr(module, "TASK_WEIGHTS", None) or {t: 1.0 for t in tasks}
    if set(weights) - set(tasks):
        raise ValueError(f"task_weights: unknown tasks {sorted(set(weights) - set(tasks))}; expected {tasks}")
    names = list(weights)
    probs = np.array([weights[t] for t in names], dtype=float)
    probs /= probs.sum()

    torch.manual_seed(seed)
    processor = build_processor(patch, image_size, vocabulary, layout)
    n_image = (image_size // patch) ** 2
    model = build_model(seed, patch, image_size, vocabulary, hidden, vision_layers, text_layers, heads)
    model.train()
    params = list(model.named_parameters())
    opt, sched = adamw_schedule(params, lr, steps)
    streams = make_streams(module, generator, names, steps, batch_size, curriculum)
    draw = np.random.default_rng(seed)
    watch = held_out(generator, tuple(names), n_eval, seed=7)
    meta: dict[str, Any] = {
        "world": world, "steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed, "patch": patch,
        "layout": layout, "hidden": hidden, "vision_layers": vision_layers, "text_layers": text_layers, "heads": heads,
        "task_weights": {t: float(p) for t, p in zip(names, probs)}, "loss": "answer tokens only",
        "threads": torch.get_num_threads(), "torch": torch.__version__,
    }  # fmt: skip
    if curriculum:
        meta["curriculum"] = curriculum
    start, running, history = time.time(), 0.0, []
    last = steps if stop_after is None else min(steps, stop_after)
    for step in range(last):
        streams.step = step
        batch_tasks = draw_tasks(draw, names, probs, streams, batch_size)
        batch = encode_chat([streams.next(str(t)) for t in batch_tasks], processor, n_image)
        labels = batch.pop("labels")
        loss = answer_loss(model(**batch).logits, labels)
        loss.backward()
        optimiser_step(model, opt, sched)
        running += float(loss.detach())
        if (step + 1) % log_every == 0 or step + 1 == last:
            n = step % log_every + 1
            print(json.dumps({"step": step + 1, "loss": round(running / n, 4), "lr": round(sched.get_last_lr()[0], 6),
                              "seconds": round(time.time() - start, 1)}), flush=True)  # fmt: skip
            running = 0.0
        if (step + 1) % eval_every == 0 or step + 1 == last:  # a checkpoint per evaluation; the last is final
            evaluate_and_save(model, processor, watch, n_image, history, step + 1, steps, start, out, meta)
    model.eval()
    return model


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="clutter", help="dataset module under xattr_lab.datasets")
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="default: the world's built-in weights directory")
    parser.add_argument("--no-save", action="store_true", help="train without saving (pilot runs)")
    parser.add_argument("--patch", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--vision-layers", type=int, default=2)
    parser.add_argument("--text-layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layout", choices=("question-first", "image-first"), default="question-first")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--stop-after", type=int, default=None, help="stop after this many steps of the schedule")
    parser.add_argument(
        "--curriculum", default=None, help="sparser scenes (and fewer tasks) early, e.g. 0.1:2-3:colour+shape,0.3:3-5"
    )
    # one thread: on a machine shared with other jobs, OpenMP threads spin at every barrier while the other
    # core is taken (two threads on two shared cores ran up to 20x slower)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = None if args.no_save else (args.out or weights_dir(args.world))
    train(
        args.world, args.steps, args.batch_size, args.lr, args.seed, out, args.patch, args.hidden,
        args.vision_layers, args.text_layers, args.heads, args.layout,
        log_every=args.log_every, eval_every=args.eval_every, stop_after=args.stop_after,
        curriculum=args.curriculum,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
