"""PESpectrum: from captured logits to a :class:`~xattr_lab.results.SpectrumReport` (estimator style)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from xattr_lab.diagnostics._checks import check_positive_int
from xattr_lab.diagnostics.spectral import kernels as K
from xattr_lab.diagnostics.spectral.capture import CapturedLogits, capture_hf_logits
from xattr_lab.results.spectrum import STAT_NAMES, SpectrumReport


def analyze_logits(captured: CapturedLogits, scheme: str = "model", centre: bool = True) -> SpectrumReport:
    """Spectral statistics of every (layer, head) of batch-averaged unmasked logits.

    Args:
        captured: the logits (and optionally the logits without positional coupling and RoPE energies).
        scheme: label stored in the report.
        centre: row-centre before everything (softmax ignores row constants).

    Returns:
        The report.
    """
    S_all = np.asarray(captured.logits, dtype=np.float64)
    if S_all.ndim != 4 or S_all.shape[2] != S_all.shape[3]:
        raise ValueError(f"captured: expected logits of shape (L, H, T, T), got {S_all.shape}")
    L, H, T, _ = S_all.shape
    stats = {name: np.full((L, H), np.nan) for name in STAT_NAMES}
    eig_sym = np.empty((L, H, T))
    eig = np.empty((L, H, T), dtype=np.complex128)
    sv = np.empty((L, H, T))
    prof = np.empty((L, H, 2 * T - 1))
    mean_logits = np.empty((L, H, T, T), dtype=np.float32)
    without = captured.logits_without
    eig_without = np.empty((L, H, T)) if without is not None else None
    for l in range(L):
        for h in range(H):
            S = K.row_centre(S_all[l, h]) if centre else S_all[l, h]
            mean_logits[l, h] = S
            for name, value in K.spectrum_stats(S).items():
                stats[name][l, h] = value
            stats["toeplitz_fraction"][l, h] = K.toeplitz_fraction(S)
            eig_sym[l, h] = np.linalg.eigvalsh(K.symmetric_part(S))
            ev = np.linalg.eigvals(S)
            eig[l, h] = ev[np.argsort(-np.abs(ev))]
            sv[l, h] = np.linalg.svd(S, compute_uv=False)
            prof[l, h] = K.toeplitz_profile(S)[1]
            if without is not None:
                S0 = K.row_centre(without[l, h]) if centre else np.asarray(without[l, h], np.float64)
                eig_without[l, h] = np.linalg.eigvalsh(K.symmetric_part(S0))
                stats["contraction_ratio"][l, h] = K.contraction_ratio(S, S0, centre=False)
    return SpectrumReport(
        scheme=scheme,
        stats=stats,
        mean_logits=mean_logits,
        eig_sym=eig_sym,
        eig=eig,
        singular_values=sv,
        toeplitz_profile=prof,
        eig_sym_without=eig_without,
        rope_energy=captured.rope_energy,
        info={**captured.info, "centred": centre},
    )


class PESpectrum:
    """Spectral analysis of positional coupling in a model's attention logits.

    Args:
        seq_len: T of the probe sequences (keep 64–512 on CPU: eigendecompositions are O(T³)).
        n_sequences: sequences averaged (≥ 32 so content averages out of E[S]).
        batch_size: sequences per forward pass.
        vocab_low: smallest token id of random probes (skip special tokens).
        centre: row-centre the logits.
        route: HF capture route (``"auto"``, ``"interface"``, ``"rotary"``).
        seed: seed of the random probe tokens.

    After :meth:`fit`: ``captured_`` (:class:`CapturedLogits`) and ``report_`` (:class:`SpectrumReport`).
    """

    def __init__(
        self,
        seq_len: int = 64,
        n_sequences: int = 32,
        batch_size: int = 8,
        vocab_low: int = 0,
        centre: bool = True,
        route: str = "auto",
        seed: int = 0,
    ) -> None:
        check_positive_int("batch_size", batch_size, "a positive integer (sequences per forward)")
        self.seq_len, self.n_sequences, self.batch_size = seq_len, n_sequences, batch_size
        self.vocab_low, self.centre, self.route, self.seed = vocab_low, centre, route, seed

    def _probe(self, vocab_size: int) -> torch.Tensor:
        if self.seq_len < 2 or self.n_sequences < 1:
            raise ValueError(f"seq_len, n_sequences: expected >= 2 and >= 1, got {self.seq_len}, {self.n_sequences}")
        g = torch.Generator().manual_seed(self.seed)
        return torch.randint(self.vocab_low, vocab_size, (self.n_sequences, self.seq_len), generator=g)

    def fit(
        self, model: torch.nn.Module, input_ids: torch.Tensor | None = None, scheme: str | None = None
    ) -> PESpectrum:
        """Capture and analyse; returns ``self``.

        Args:
            model: a transformers model, or a :class:`xattr_lab.diagnostics.pe.PETransformer`.
            input_ids: (N, T) probe tokens (default: uniform random tokens).
            scheme: label for the report (default: the PE scheme or the model type).
        """
        from xattr_lab.diagnostics.pe.models import PETransformer

        if isinstance(model, PETransformer):
            ids = input_ids if input_ids is not None else self._probe(model.vocab_size)
            self.captured_ = model.capture_logits(ids, batch_size=self.batch_size)
            label = scheme or model.pe
        else:
            vocab = getattr(getattr(model, "config", None), "vocab_size", None)
            if input_ids is None and vocab is None:
                raise ValueError("input_ids: required for a model without config.vocab_size")
            ids = input_ids if input_ids is not None else self._probe(int(vocab))
            self.captured_ = capture_hf_logits(model, ids, batch_size=self.batch_size, route=self.route)
            label = scheme or getattr(getattr(model, "config", None), "model_type", type(model).__name__)
        self.report_ = analyze_logits(self.captured_, scheme=label, centre=self.centre)
        return self

    def result(self) -> SpectrumReport:
        """The fitted report."""
        if not hasattr(self, "report_"):
            raise RuntimeError("PESpectrum: call fit() first")
        return self.report_

    def get_params(self) -> dict[str, Any]:
        """The configuration."""
        return {
            k: getattr(self, k)
            for k in ("seq_len", "n_sequences", "batch_size", "vocab_low", "centre", "route", "seed")
        }
