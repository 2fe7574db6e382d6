"""WeightSpectrum: per-layer ESD metrics of a torch module or a dict of 2-D weights (estimator style)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from xattr_lab.diagnostics.spectral import esd as E


def collect_weights(source: Any, min_evals: int = 10) -> dict[str, np.ndarray]:
    """Named 2-D weight matrices of a torch module or a mapping.

    Unlike WeightWatcher, every parameter with ≥ 2 dims is seen — including ``nn.Parameter`` stacks such as
    Nanda's (H, d_head, d) ``W_Q`` and ``nn.MultiheadAttention.in_proj_weight``, which it skips.
    """
    if isinstance(source, Mapping):
        items = list(source.items())
    elif hasattr(source, "named_parameters"):
        items = [(n, p) for n, p in source.named_parameters() if p.ndim >= 2]
    else:
        raise TypeError(f"weights: expected a torch module or a dict of 2-D weights, got {type(source).__name__}")
    out = {}
    for name, w in items:
        if not isinstance(name, str):
            raise TypeError(f"weights: keys must be strings, got {type(name).__name__}")
        A = E.as_matrix(w)
        if min(A.shape) >= min_evals:
            out[name] = A
    if not out:
        raise ValueError(f"weights: no matrix with at least min_evals={min_evals} eigenvalues")
    return out


class WeightSpectrum:
    """WeightWatcher-style analysis without WeightWatcher.

    Args:
        min_evals: skip matrices with fewer eigenvalues (WeightWatcher's default 10).
        randomize: also compute the correlation-trap check on elementwise-shuffled weights.
        seed: seed of the shuffle.

    After :meth:`fit`: ``layers_`` (name → metrics dict), ``esd_`` (name → eigenvalues) and ``summary_``
    (means of α, α̂, log norms, stable rank, MP soft rank; the number of correlation traps).
    """

    def __init__(self, min_evals: int = 10, randomize: bool = True, seed: int = 0) -> None:
        self.min_evals, self.randomize, self.seed = min_evals, randomize, seed

    def fit(self, weights: Any) -> WeightSpectrum:
        """Analyse every weight matrix; returns ``self``."""
        mats = collect_weights(weights, self.min_evals)
        self.layers_: dict[str, dict[str, Any]] = {}
        self.esd_: dict[str, np.ndarray] = {}
        for name, A in mats.items():
            self.esd_[name] = E.esd(A)
            metrics = E.layer_metrics(A, randomize=self.randomize, seed=self.seed)
            if metrics["n_evals"] < E.MIN_RELIABLE_EVALS:
                E.warn_few_evals(name, int(metrics["n_evals"]))
            self.layers_[name] = metrics
        self.summary_ = self._summary()
        return self

    def _summary(self) -> dict[str, float]:
        keys = (
            "alpha",
            "alpha_weighted",
            "log_norm",
            "log_spectral_norm",
            "log_alpha_norm",
            "stable_rank",
            "mp_softrank",
        )
        out = {}
        for key in keys:
            vals = np.array([m[key] for m in self.layers_.values()], dtype=np.float64)
            if key in ("alpha", "alpha_weighted", "log_alpha_norm"):
                ok = np.array([0 < m["alpha"] <= E.ALPHA_SPURIOUS for m in self.layers_.values()])
                vals = vals[ok]
            out[key] = float(np.nanmean(vals)) if vals.size else float("nan")
        out["n_layers"] = len(self.layers_)
        out["correlation_traps"] = int(sum(m.get("rand_num_spikes", 0) > 0 for m in self.layers_.values()))
        return out

    def alpha(self) -> dict[str, float]:
        """Name → fitted α."""
        return {n: float(m["alpha"]) for n, m in self.layers_.items()}


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with the few-eigenvalue warnings silenced (for sweeps over toy models)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)
