"""SpectrumReport: per-(layer, head) spectra of attention logits, plain data with save/load."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from xattr_lab.results._store import ResultFileError, load_result, save_result

# Scalar statistics stored per (layer, head), in display order.
STAT_NAMES = (
    "lambda_min",
    "lambda_max",
    "spread",
    "spectral_radius",
    "sigma_max",
    "condition",
    "effective_rank",
    "stable_rank",
    "toeplitz_fraction",
    "contraction_ratio",
)
_OPTIONAL = ("rope_energy", "deposit_drop", "eig_sym_without")


@dataclass(frozen=True, eq=False)
class SpectrumReport:
    """Spectra of the unmasked, row-centred, batch-averaged pre-softmax logits of every (layer, head).

    Attributes:
        scheme: positional-encoding scheme or model label (``"rope"``, ``"alibi"``, ``"llama"`` …).
        stats: name → (L, H) array for each of :data:`STAT_NAMES` (NaN where undefined, e.g. the
            contraction ratio of NoPE).
        mean_logits: (L, H, T, T) float32 row-centred mean logits.
        eig_sym: (L, H, T) eigenvalues of the symmetric part, ascending.
        eig: (L, H, T) complex eigenvalues of the logits themselves.
        singular_values: (L, H, T), descending.
        toeplitz_profile: (L, H, 2T−1) diagonal means for offsets ``−(T−1) … T−1``.
        eig_sym_without: (L, H, T) eigenvalues of the symmetric part without positional coupling, if known.
        rope_energy: (L, H, K) energy per RoPE frequency band, for rotary schemes.
        deposit_drop: (L, H) accuracy drop when ablating each head, if a deposit analysis was attached.
        info: provenance and scalar extras (capture method, T, number of sequences, RoPE layout, deposit
            summary, versions).
    """

    scheme: str
    stats: dict[str, np.ndarray]
    mean_logits: np.ndarray
    eig_sym: np.ndarray
    eig: np.ndarray
    singular_values: np.ndarray
    toeplitz_profile: np.ndarray
    eig_sym_without: np.ndarray | None = None
    rope_energy: np.ndarray | None = None
    deposit_drop: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        """Number of layers analysed."""
        return int(self.eig_sym.shape[0])

    @property
    def n_heads(self) -> int:
        """Number of heads per layer."""
        return int(self.eig_sym.shape[1])

    @property
    def seq_len(self) -> int:
        """Sequence length T of the logit matrices."""
        return int(self.eig_sym.shape[2])

    def summary(self) -> dict[str, float]:
        """Median over all heads of each statistic (NaNs ignored), plus the deposit summary if any."""
        out = {}
        for name in STAT_NAMES:
            v = self.stats[name]
            out[name] = float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")
        out.update({k: v for k, v in self.info.get("deposit", {}).items() if isinstance(v, (int, float))})
        return out

    def with_deposit(self, drop: np.ndarray, summary: dict[str, Any]) -> SpectrumReport:
        """A copy with a head-ablation drop matrix (L, H) and its summary attached."""
        drop = np.asarray(drop, dtype=np.float64)
        if drop.shape != self.eig_sym.shape[:2]:
            raise ValueError(f"drop: expected shape {self.eig_sym.shape[:2]}, got {drop.shape}")
        return replace(self, deposit_drop=drop, info={**self.info, "deposit": dict(summary)})

    def pick_head(self, layer: int | None = None, head: int | None = None) -> tuple[int, int]:
        """``(layer, head)`` checked against the report, or the head with the largest spread when both are None."""
        if (layer is None) != (head is None):
            raise ValueError("layer, head: give both or neither")
        if layer is None:
            spread = np.nan_to_num(np.asarray(self.stats["spread"], dtype=np.float64), nan=-np.inf)
            layer, head = (int(i) for i in np.unravel_index(np.argmax(spread), spread.shape))
        if not (0 <= layer < self.n_layers and 0 <= head < self.n_heads):
            raise ValueError(f"layer, head: ({layer}, {head}) outside {self.n_layers} layers × {self.n_heads} heads")
        return int(layer), int(head)

    def to_view_data(self, layer: int | None = None, head: int | None = None) -> dict[str, Any]:
        """Plain arrays and lists for the eigenvalue-scatter and matrix-heatmap views.

        Args:
            layer: layer of the representative logits matrix (default: the head with the largest spread).
            head: head of the representative matrix.

        Returns:
            A dict of numpy arrays, lists and scalars; nothing here needs torch or the viz package.
        """
        layer, head = self.pick_head(layer, head)
        T = self.seq_len
        return {
            "kind": "SpectrumReport",
            "scheme": self.scheme,
            "n_layers": self.n_layers,
            "n_heads": self.n_heads,
            "seq_len": T,
            "eig_sym": self.eig_sym,
            "eig_sym_without": self.eig_sym_without,
            "eig_real": self.eig.real.copy(),
            "eig_imag": self.eig.imag.copy(),
            "singular_values": self.singular_values,
            "toeplitz_offsets": np.arange(-(T - 1), T),
            "toeplitz_profile": self.toeplitz_profile,
            "matrix": self.mean_logits[layer, head],
            "matrix_layer": layer,
            "matrix_head": head,
            "stats": {name: self.stats[name] for name in STAT_NAMES},
            "stat_names": list(STAT_NAMES),
            "contraction_ratio": self.stats["contraction_ratio"],
            "rope_energy": self.rope_energy,
            "deposit_drop": self.deposit_drop,
            "deposit": dict(self.info.get("deposit", {})),
        }

    def save(self, path: str | os.PathLike) -> os.PathLike:
        """Write as JSON + safetensors (see :mod:`xattr_lab.results._store`)."""
        arrays = {f"stat.{k}": np.asarray(v, np.float64) for k, v in self.stats.items()}
        arrays.update(
            mean_logits=np.asarray(self.mean_logits, np.float32),
            eig_sym=self.eig_sym,
            eig_real=self.eig.real.copy(),
            eig_imag=self.eig.imag.copy(),
            singular_values=self.singular_values,
            toeplitz_profile=self.toeplitz_profile,
        )
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                arrays[name] = np.asarray(value, np.float64)
        return save_result(path, "SpectrumReport", {"scheme": self.scheme, "info": self.info}, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SpectrumReport:
        """Read a report written by :meth:`save` (checksummed, shapes checked; never executes code).

        Raises:
            xattr_lab.results._store.ResultFileError: for a missing, truncated, tampered or inconsistent file.
        """
        _, meta, arrays = load_result(path, "SpectrumReport")
        return cls._from_loaded(path, meta, arrays)

    @classmethod
    def _from_loaded(
        cls, path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> SpectrumReport:
        """Rebuild from what ``load_result`` read and verified (``xattr_lab.load`` calls it after one parse)."""
        try:
            return _report_from_store(cls, meta, arrays)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise ResultFileError(f"path: {path} holds a SpectrumReport that fails its checks: {err}") from None

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"SpectrumReport({self.scheme!r}, {self.n_layers} layers × {self.n_heads} heads, "
            f"T={self.seq_len}, "
            f"median spread={s['spread']:.3g}, toeplitz={s['toeplitz_fraction']:.2f}, "
            f"contraction={_ratio_text(s['contraction_ratio'])})"
        )

    def figure(self, layer: int | None = None, head: int | None = None) -> Any:
        """The ESD over all heads and one head's eigenvalues, Toeplitz fit and singular values, as a plotly figure.

        ``fig.write_html(path, include_plotlyjs=True)`` writes it as one HTML file that opens offline.
        """
        from xattr_lab.viz.figures.spectrum import spectrum_figure  # lazy: plotly on demand

        return spectrum_figure(self, layer=layer, head=head)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from xattr_lab.viz.bundle import result_bundle
        except (ImportError, AttributeError):
            return {"text/plain": repr(self)}
        return result_bundle(self)


def _report_from_store(
    cls: type[SpectrumReport], meta: dict[str, Any], arrays: dict[str, np.ndarray]
) -> SpectrumReport:
    """Rebuild a report, checking that every array agrees with the (L, H, T) of ``eig_sym``."""
    from xattr_lab.results import _checks as c

    eig_sym = c.array(arrays, "eig_sym", "f", ndim=3)
    layers, heads, t = eig_sym.shape
    expected = {
        "mean_logits": (layers, heads, t, t),
        "eig_real": (layers, heads, t),
        "eig_imag": (layers, heads, t),
        "singular_values": (layers, heads, t),
        "toeplitz_profile": (layers, heads, max(2 * t - 1, 0)),
    }
    expected.update({f"stat.{name}": (layers, heads) for name in STAT_NAMES})
    for name, shape in expected.items():
        c.shape(c.array(arrays, name, "f"), shape, name)
    optional = {"eig_sym_without": (layers, heads, t), "deposit_drop": (layers, heads)}
    for name, shape in optional.items():
        if name in arrays:
            c.shape(c.array(arrays, name, "f"), shape, name)
    if "rope_energy" in arrays:
        energy = c.array(arrays, "rope_energy", "f", ndim=3)
        c.shape(energy, (layers, heads, energy.shape[2]), "rope_energy")
    return cls(
        scheme=c.field(meta, "scheme", str),
        stats={k[5:]: v for k, v in arrays.items() if k.startswith("stat.")},
        mean_logits=arrays["mean_logits"],
        eig_sym=eig_sym,
        eig=arrays["eig_real"] + 1j * arrays["eig_imag"],
        singular_values=arrays["singular_values"],
        toeplitz_profile=arrays["toeplitz_profile"],
        info=c.field(meta, "info", dict),
        **{name: arrays.get(name) for name in _OPTIONAL},
    )


def _ratio_text(value: float) -> str:
    """The contraction ratio for a repr: NoPE has no logits without positional coupling to compare with."""
    return f"{value:.3g}" if np.isfinite(value) else "n/a (no positional coupling to remove)"
