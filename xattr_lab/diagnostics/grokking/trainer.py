"""GrokTrainer: train a modular-arithmetic model and log the progress measures (estimator style)."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from xattr_lab.diagnostics._checks import check_positive_int
from xattr_lab.diagnostics.grokking import measures as M
from xattr_lab.diagnostics.grokking.data import ModularData, make_modular_data
from xattr_lab.diagnostics.grokking.grokfast import GradientEMA
from xattr_lab.diagnostics.grokking.models import build_grok_model
from xattr_lab.results.training import TrainingRun

Callback = Callable[[int, dict[str, float]], Any]


class GrokTrainer:
    """Train a grokking model with AdamW and log progress measures every ``eval_every`` steps.

    Configuration lives in ``__init__``; :meth:`fit` trains and returns ``self``; the learned state is in
    ``model_``, ``data_``, ``history_``, ``run_`` (a :class:`~xattr_lab.results.TrainingRun`),
    ``wall_time_`` and ``interrupted_`` (True when Ctrl-C ended training; ``run_`` then holds the run so far).

    Live views: every callback in ``callbacks`` is called as ``fn(step, metrics)`` after each evaluation,
    with ``metrics`` a dict of floats (the same names as the run's series). A callback returning ``True``
    stops training after that evaluation — that is how a notebook widget appends points live or adds its
    own stop button.

    Args:
        p: prime modulus.
        op: ``"add"``, ``"sub"``, ``"div"`` or ``"quad"``.
        frac: training fraction (random split).
        split: ``"random"``, ``"square"`` or ``"strip"``.
        k: held-out region size for ``square``/``strip``.
        model: ``"nanda"`` (1-layer, no LayerNorm) or ``"power"`` (2-layer pre-LN decoder).
        d_model: residual width.
        n_heads: attention heads.
        d_mlp: MLP width.
        n_layers: number of blocks.
        lr: peak AdamW learning rate.
        weight_decay: AdamW decoupled weight decay.
        betas: AdamW betas (0.9, 0.98) as in Power and Nanda — not the swapped (0.98, 0.9) of one repo.
        warmup: linear warm-up steps.
        batch_size: minibatch size; ``None`` or ``>= n_train`` means full batch.
        steps: maximum optimiser steps.
        eval_every: steps between evaluations (a full p² evaluation costs about one step).
        grokfast_alpha: EMA momentum of the slow-gradient amplifier.
        grokfast_lambda: amplification; 0 disables Grokfast.
        stop_at_test_acc: stop once test accuracy reaches this value (None: run all steps).
        measures: ``"full"`` (Fourier, restricted/excluded loss, geometry) or ``"basic"`` (loss, accuracy,
            weight norm, MED).
        key_freq_rule: how the key frequencies of the restricted/excluded loss are chosen: ``"vote"`` (neurons
            with a clear best frequency vote, a frequency needs 5 % of the neurons) or ``"argmax"`` (Nanda et
            al.'s reference: every neuron's best frequency); see
            :func:`~xattr_lab.diagnostics.grokking.measures.key_frequencies`.
        callbacks: functions ``fn(step, metrics)`` called after every evaluation.
        progress: show a tqdm progress bar.
        threads: torch CPU threads (None leaves torch's setting).
        device: torch device string.
        seed: seed of the split, the initialisation and the batches.
    """

    def __init__(
        self,
        p: int = 97,
        op: str = "add",
        frac: float = 0.3,
        split: str = "random",
        k: int | None = None,
        model: str = "nanda",
        d_model: int = 128,
        n_heads: int = 4,
        d_mlp: int = 512,
        n_layers: int = 1,
        lr: float = 1e-3,
        weight_decay: float = 1.0,
        betas: tuple[float, float] = (0.9, 0.98),
        warmup: int = 10,
        batch_size: int | None = 512,
        steps: int = 15000,
        eval_every: int = 250,
        grokfast_alpha: float = 0.98,
        grokfast_lambda: float = 0.0,
        stop_at_test_acc: float | None = 0.99,
        measures: str = "full",
        key_freq_rule: str = "vote",
        callbacks: Sequence[Callback] = (),
        progress: bool = True,
        threads: int | None = None,
        device: str = "cpu",
        seed: int = 0,
    ) -> None:
        self.p, self.op, self.frac, self.split, self.k = p, op, frac, split, k
        self.model, self.d_model, self.n_heads, self.d_mlp, self.n_layers = (
            model,
            d_model,
            n_heads,
            d_mlp,
            n_layers,
        )
        self.lr, self.weight_decay, self.betas, self.warmup = lr, weight_decay, betas, warmup
        self.batch_size, self.steps, self.eval_every = batch_size, steps, eval_every
        self.grokfast_alpha, self.grokfast_lambda = grokfast_alpha, grokfast_lambda
        self.stop_at_test_acc, self.measures, self.key_freq_rule = stop_at_test_acc, measures, key_freq_rule
        self.callbacks, self.progress, self.threads, self.device, self.seed = (
            tuple(callbacks),
            progress,
            threads,
            device,
            seed,
        )

    def get_params(self) -> dict[str, Any]:
        """The configuration (JSON-friendly; callbacks left out)."""
        keys = (
            "p op frac split k model d_model n_heads d_mlp n_layers lr weight_decay betas warmup batch_size steps "
            "eval_every grokfast_alpha grokfast_lambda stop_at_test_acc measures key_freq_rule threads device seed"
        ).split()
        out = {key: getattr(self, key) for key in keys}
        out["betas"] = list(self.betas)
        return out

    def _validate(self) -> None:
        if self.measures not in ("full", "basic"):
            raise ValueError(f"measures: expected 'full' or 'basic', got {self.measures!r}")
        if self.key_freq_rule not in M.KEY_FREQ_RULES:
            raise ValueError(f"key_freq_rule: expected one of {M.KEY_FREQ_RULES}, got {self.key_freq_rule!r}")
        if self.batch_size is not None:
            check_positive_int("batch_size", self.batch_size, "a positive integer or None (full batch)")
        for name in ("steps", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if self.lr <= 0:
            raise ValueError(f"lr: expected a positive learning rate, got {self.lr!r}")
        for fn in self.callbacks:
            if not callable(fn):
                raise TypeError(f"callbacks: expected callables fn(step, metrics), got {type(fn).__name__}")

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module | None = None, data: ModularData | None = None) -> dict[str, float]:
        """All progress measures of ``model`` (default: the fitted one) on the full p² grid."""
        model = self.model_ if model is None else model
        data = self.data_ if data is None else data
        was_training = model.training
        model.eval()
        try:
            logits, acts = model.forward_with_cache(data.x_all.to(self.device))
        finally:
            model.train(was_training)
        logits = logits.double().cpu()
        y = data.y_all
        out: dict[str, float] = {}
        for name, mask in (("train", data.train_mask), ("test", data.test_mask)):
            m = torch.as_tensor(mask.ravel())
            if m.any():
                out[f"{name}_loss"] = float(torch.nn.functional.cross_entropy(logits[m], y[m]))
                out[f"{name}_acc"] = float((logits[m].argmax(-1) == y[m]).double().mean())
            else:
                out[f"{name}_loss"] = out[f"{name}_acc"] = float("nan")
        out["weight_norm"] = M.weight_norm(model)
        E = model.embed.weight.detach().double().cpu().numpy()[: data.p]
        out["med"] = M.med(E)
        if self.measures == "basic":
            return out
        out["fourier_gini"] = M.fourier_gini(E)
        out.update({k: v for k, v in M.embedding_geometry(E).items() if k in M.SERIES_LABELS})
        key, _ = M.key_frequencies(acts.double().cpu().numpy(), data.p, rule=self.key_freq_rule)
        out["n_key_freqs"] = float(len(key))
        if data.op in ("add", "sub"):
            valid = (data.train_mask | data.test_mask).ravel()
            if valid.all():
                r, e = M.restricted_and_excluded_loss(logits.numpy(), y.numpy(), data.p, key, data.train_mask, data.op)
                out["restricted_loss"], out["excluded_loss"] = r, e
        self.key_freqs_ = key
        return out

    def fit(self, data: ModularData | None = None) -> GrokTrainer:
        """Train, logging measures; returns ``self``.

        Args:
            data: a prepared :class:`ModularData` (default: built from the configuration).
        """
        self._validate()
        old_threads = torch.get_num_threads()
        if self.threads is not None:
            torch.set_num_threads(int(self.threads))
        try:
            return self._fit(data)
        finally:
            torch.set_num_threads(old_threads)

    def _fit(self, data: ModularData | None) -> GrokTrainer:
        self.data_ = (
            data if data is not None else make_modular_data(self.p, self.op, self.frac, self.split, self.k, self.seed)
        )
        if not isinstance(self.data_, ModularData):
            raise TypeError(f"data: expected ModularData, got {type(self.data_).__name__}")
        torch.manual_seed(self.seed)
        self.model_ = build_grok_model(
            self.model,
            self.data_.vocab_size,
            self.data_.p,
            d_model=self.d_model,
            n_heads=self.n_heads,
            d_mlp=self.d_mlp,
            n_layers=self.n_layers,
        ).to(self.device)
        opt = torch.optim.AdamW(self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay, betas=self.betas)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, self.warmup)))
        amplifier = (
            GradientEMA(self.model_.parameters(), self.grokfast_alpha, self.grokfast_lambda)
            if self.grokfast_lambda > 0
            else None
        )
        x_tr, y_tr = self.data_.x_train.to(self.device), self.data_.y_train.to(self.device)
        n_train = x_tr.shape[0]
        full_batch = self.batch_size is None or self.batch_size >= n_train
        gen = torch.Generator().manual_seed(self.seed)
        order, cursor = torch.randperm(n_train, generator=gen).to(self.device), 0
        self.history_: list[dict[str, float]] = []
        self.key_freqs_: list[int] = []
        bar = _progress_bar(self.steps, self.progress)
        t0 = time.perf_counter()
        stopped_early = self.interrupted_ = False
        try:
            for step in range(self.steps + 1):
                if step % self.eval_every == 0 or step == self.steps:
                    metrics = {"step": step, **self.evaluate(), "lr": float(sched.get_last_lr()[0])}
                    metrics["wall_time"] = time.perf_counter() - t0
                    self.history_.append(metrics)
                    if bar is not None:
                        bar.set_postfix(train=f"{metrics['train_acc']:.3f}", test=f"{metrics['test_acc']:.3f}")
                    stop = any(bool(fn(step, dict(metrics))) for fn in self.callbacks)
                    target = self.stop_at_test_acc
                    if stop or (target is not None and metrics["test_acc"] >= target):
                        stopped_early = step < self.steps
                        break
                if step == self.steps:
                    break
                if full_batch:
                    xb, yb = x_tr, y_tr
                else:
                    # Epochs of a fresh permutation (not sampling with replacement), so every training example
                    # is seen every n/batch steps — otherwise a few stragglers keep train accuracy below 100 %.
                    if cursor + self.batch_size > n_train:
                        order, cursor = torch.randperm(n_train, generator=gen).to(self.device), 0
                    idx = order[cursor : cursor + self.batch_size]
                    cursor += self.batch_size
                    xb, yb = x_tr[idx], y_tr[idx]
                loss = torch.nn.functional.cross_entropy(self.model_(xb).double(), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if amplifier is not None:
                    amplifier()
                opt.step()
                sched.step()
                if bar is not None:
                    bar.update(1)
        except KeyboardInterrupt:
            # Keep what was logged: an interrupted run still returns a usable TrainingRun.
            stopped_early = self.interrupted_ = True
        finally:
            if bar is not None:
                bar.close()
        self.wall_time_ = time.perf_counter() - t0
        self.run_ = self._build_run(stopped_early)
        return self

    def _build_run(self, stopped_early: bool) -> TrainingRun:
        hist = [{k: v for k, v in rec.items() if k != "wall_time"} for rec in self.history_]
        run = TrainingRun.from_history(hist)
        events = {
            "train_acc_99": run.first_step("train_acc", 0.99),
            "train_acc_100": run.first_step("train_acc", 1.0),
            "test_acc_99": run.first_step("test_acc", 0.99),
            "test_acc_50": run.first_step("test_acc", 0.5),
        }
        for name in ("test_loss", "weight_norm", "med"):
            if name in run.series and np.isfinite(run.series[name]).any():
                events[f"{name}_peak"] = int(run.steps[int(np.nanargmax(run.series[name]))])
        info = {
            "wall_time_s": self.wall_time_,
            "steps_run": int(run.steps[-1]) if len(run) else 0,
            "stopped_early": stopped_early,
            "n_train": int(self.data_.x_train.shape[0]),
            "n_test": int(self.data_.x_test.shape[0]),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),  # read inside fit, so the run's own setting
            "device": self.device,
            "cpu_count": os.cpu_count(),
            "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "platform": platform.platform(),
            "key_freqs": list(self.key_freqs_),
        }
        labels = {k: v for k, v in M.SERIES_LABELS.items() if k in run.series}
        extras: dict[str, np.ndarray] = {}
        E = self.model_.embed.weight.detach().double().cpu().numpy()[: self.data_.p]
        extras["fourier_norms"] = M.fourier_norms(E)
        wall = np.array([rec["wall_time"] for rec in self.history_])
        extras["wall_time"] = wall
        return TrainingRun(
            steps=run.steps,
            series=run.series,
            labels=labels,
            events=events,
            config=self.get_params(),
            info=info,
            extras=extras,
        )

    def result(self) -> TrainingRun:
        """The fitted :class:`TrainingRun`."""
        if not hasattr(self, "run_"):
            raise RuntimeError("GrokTrainer: call fit() first")
        return self.run_


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from xattr_lab.progress import progress_bar  # text, never a widget: saved notebooks stay clean

    return progress_bar(total, "grok", unit="step", mininterval=0.5)


def steps_per_second(run: TrainingRun) -> float:
    """Average optimiser steps per wall-clock second of a run."""
    t = run.info.get("wall_time_s", float("nan"))
    return run.info.get("steps_run", 0) / t if t and math.isfinite(t) and t > 0 else float("nan")
