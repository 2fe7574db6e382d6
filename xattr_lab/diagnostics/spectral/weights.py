"""WeightSpectrum: per-layer ESD metrics of a torch module or a dict of 2-D weights (estimator style)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from xattr_lab.diagnostics.spectral import esd as E


def collect_weights(source: Any, min_evals: int = E.WW_MIN_EVALS) -> dict[str, np.ndarray]:
    """Named 2-D weight matrices of a torch module or a mapping.

    Unlike WeightWatcher, every parameter with ≥ 2 dims is seen — including ``nn.Parameter`` stacks such as
    Nanda's (H, d_head, d) ``W_Q`` and ``nn.MultiheadAttention.in_proj_weight``, which it skips. A matrix with
    non-finite entries or all zeros has no spectrum: it is skipped with a ``RuntimeWarning`` naming it.

    Raises:
        TypeError: ``source`` is neither a module nor a mapping, or a key is not a string.
        ValueError: no matrix is left.
    """
    _check_min_evals(min_evals)
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
        try:
            A = E.as_matrix(w, name=name)
        except E.DegenerateMatrixError as err:
            warnings.warn(f"weights: skipping {err}", RuntimeWarning, stacklevel=2)
            continue
        if min(A.shape) >= min_evals:
            out[name] = A
    if not out:
        raise ValueError(f"weights: no usable matrix with at least min_evals={min_evals} eigenvalues")
    return out


def _check_min_evals(min_evals: Any) -> None:
    if isinstance(min_evals, bool) or not isinstance(min_evals, (int, np.integer)) or min_evals < 2:
        raise ValueError(f"min_evals: expected an integer >= 2, got {min_evals!r}")


class WeightSpectrum:
    """WeightWatcher-style analysis without WeightWatcher.

    Args:
        min_evals: skip matrices with fewer eigenvalues (WeightWatcher's default, 8).
        randomize: also compute the correlation-trap check on elementwise-shuffled weights.
        seed: seed of the shuffle.
        spike_margin: spike rule above the fitted MP bulk, ``"tw"`` (Tracy–Widom 99.9 %) or ``"ww"``
            (WeightWatcher's); see :func:`~xattr_lab.diagnostics.spectral.esd.spike_threshold`.
        ks: power-law KS rule, ``"ww"`` (WeightWatcher's) or ``"two-sided"``.
        small_n: WeightWatcher's small-sample power-law fit below 20 eigenvalues.

    Matrices with NaN/inf entries or all zeros are skipped with a ``RuntimeWarning``. Each layer costs one SVD,
    plus one of the shuffled copy when ``randomize``.

    After :meth:`fit`: ``layers_`` (name → metrics dict), ``esd_`` (name → eigenvalues) and ``summary_``
    (means of α, α̂, log norms, stable rank, MP soft rank; the number of correlation traps).
    """

    def __init__(
        self,
        min_evals: int = E.WW_MIN_EVALS,
        randomize: bool = True,
        seed: int = 0,
        spike_margin: str = "tw",
        ks: str = "ww",
        small_n: bool = True,
    ) -> None:
        self.min_evals, self.randomize, self.seed = min_evals, randomize, seed
        self.spike_margin, self.ks, self.small_n = spike_margin, ks, small_n

    def fit(self, weights: Any) -> WeightSpectrum:
        """Analyse every weight matrix; returns ``self``."""
        if self.spike_margin not in ("tw", "ww", "none"):
            raise ValueError(f"spike_margin: expected 'tw', 'ww' or 'none', got {self.spike_margin!r}")
        if self.ks not in ("ww", "two-sided"):
            raise ValueError(f"ks: expected 'ww' or 'two-sided', got {self.ks!r}")
        mats = collect_weights(weights, self.min_evals)
        self.layers_: dict[str, dict[str, Any]] = {}
        self.esd_: dict[str, np.ndarray] = {}
        for name, A in mats.items():
            self.esd_[name] = E.esd(A)
            metrics = E.layer_metrics(
                A,
                evals=self.esd_[name],
                randomize=self.randomize,
                seed=self.seed,
                spike_margin=self.spike_margin,
                ks=self.ks,
                small_n=self.small_n,
            )
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
