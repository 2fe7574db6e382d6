"""Bad input to the diagnostics fails early with an error that names the argument (issue 14, item 6)."""

import numpy as np
import pytest

from xattr_lab.diagnostics.grokking import GrokTrainer, preset
from xattr_lab.diagnostics.pe.train import PE_PRESETS, PETrainer
from xattr_lab.diagnostics.spectral import esd as E
from xattr_lab.diagnostics.spectral.analyzer import PESpectrum
from xattr_lab.diagnostics.spectral.weights import WeightSpectrum, collect_weights

BAD_BATCH = [(0, ValueError), (-3, ValueError), (True, TypeError), (2.0, TypeError), ("8", TypeError)]


def test_weight_spectrum_skips_all_zero_and_nan_matrices_with_a_warning():
    rng = np.random.default_rng(0)
    good = rng.standard_normal((64, 32))
    nan = good.copy()
    nan[3, 4] = np.nan
    weights = {"good": good, "zeros": np.zeros((64, 32)), "nan": nan, "inf": np.full((40, 20), np.inf)}
    with pytest.warns(RuntimeWarning) as record:
        ws = WeightSpectrum().fit(weights)
    assert set(ws.layers_) == {"good"}
    messages = " ".join(str(w.message) for w in record)
    for name in ("zeros", "nan", "inf"):
        assert name in messages
    assert "all entries are zero" in messages and "non-finite" in messages
    with pytest.warns(RuntimeWarning), pytest.raises(ValueError, match="no usable matrix"):
        WeightSpectrum().fit({"zeros": np.zeros((16, 16))})


def test_single_matrix_functions_raise_a_clear_error():
    with pytest.raises(ValueError, match="all entries are zero"):
        E.layer_metrics(np.zeros((32, 16)))
    with pytest.raises(ValueError, match="non-finite"):
        E.esd(np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="dims"):
        E.as_matrix(np.ones(5))


def test_weight_spectrum_min_evals_and_options():
    W = {"w": np.random.default_rng(1).standard_normal((20, 8))}
    assert "w" in collect_weights(W)  # WeightWatcher's default min_evals is 8
    assert collect_weights.__defaults__[0] == E.WW_MIN_EVALS == 8
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="min_evals"):
            WeightSpectrum(min_evals=bad).fit(W)
    with pytest.raises(ValueError, match="spike_margin"):
        WeightSpectrum(spike_margin="wide").fit(W)
    with pytest.raises(ValueError, match="ks"):
        WeightSpectrum(ks="both").fit(W)


def test_pe_trainer_refuses_unknown_keywords_but_takes_a_whole_preset():
    with pytest.raises(TypeError, match="epoch"):
        PETrainer(epoch=1)
    tr = PETrainer(pe="rope", **PE_PRESETS["tiny"])  # n and seq_len are task options, accepted and ignored
    assert tr.epochs == PE_PRESETS["tiny"]["epochs"]


@pytest.mark.parametrize("value, exc", BAD_BATCH)
def test_batch_size_is_validated(value, exc):
    with pytest.raises(exc, match="batch_size"):
        PESpectrum(batch_size=value)
    with pytest.raises(exc, match="batch_size"):
        PETrainer(batch_size=value)
    with pytest.raises(exc, match="batch_size"):
        GrokTrainer(**preset("tiny", batch_size=value), progress=False).fit()


def test_grok_trainer_accepts_full_batch_and_integer_batch():
    for bs in (None, 16):
        tr = GrokTrainer(**preset("tiny", batch_size=bs, steps=2, eval_every=2), measures="basic", progress=False)
        assert len(tr.fit().run_) == 2
    with pytest.raises(ValueError, match="steps"):
        GrokTrainer(**preset("tiny", steps=True), progress=False).fit()
