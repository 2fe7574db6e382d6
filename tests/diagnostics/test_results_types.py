import sys

import numpy as np
import pytest
import torch

from xattr_lab.diagnostics.pe.models import PETransformer
from xattr_lab.diagnostics.spectral.analyzer import PESpectrum
from xattr_lab.results._store import ResultFileError
from xattr_lab.results.spectrum import STAT_NAMES, SpectrumReport
from xattr_lab.results.training import TrainingRun


@pytest.fixture(scope="module")
def report():
    torch.manual_seed(0)
    m = PETransformer(30, 4, "rope", d_model=16, n_heads=2, n_layers=2, d_ff=16, max_len=12)
    return PESpectrum(seq_len=12, n_sequences=4).fit(m).result()


def test_spectrum_report_roundtrip_and_view_data(report, tmp_path):
    rep = report.with_deposit(np.array([[0.5, 0.0], [0.1, 0.0]]), {"deposit_share": 0.83})
    rep.save(tmp_path / "r")
    back = SpectrumReport.load(tmp_path / "r")
    for name in STAT_NAMES:
        np.testing.assert_allclose(back.stats[name], rep.stats[name])
    np.testing.assert_allclose(back.eig, rep.eig)
    np.testing.assert_allclose(back.rope_energy, rep.rope_energy)
    np.testing.assert_allclose(back.deposit_drop, rep.deposit_drop)
    assert back.info["deposit"]["deposit_share"] == 0.83
    view = back.to_view_data()
    assert view["matrix"].shape == (12, 12) and view["eig_real"].shape == (2, 2, 12)
    assert view["toeplitz_offsets"].shape == (23,) and view["deposit_drop"].shape == (2, 2)
    assert isinstance(view["stat_names"], list)
    assert back.to_view_data(1, 0)["matrix_layer"] == 1
    with pytest.raises(ValueError, match="layer"):
        back.to_view_data(5, 0)
    with pytest.raises(ValueError, match="drop"):
        rep.with_deposit(np.zeros(3), {})
    next((tmp_path / "r").glob("arrays*.safetensors")).write_bytes(b"xx")
    with pytest.raises(ResultFileError):
        SpectrumReport.load(tmp_path / "r")


def test_repr_and_mimebundle_fallback(report, monkeypatch):
    assert report.__repr__().startswith("SpectrumReport('rope', 2 layers")
    assert "\n" not in repr(report)
    monkeypatch.setitem(sys.modules, "xattr_lab.viz.bundle", None)  # import fails → plain text
    assert report._repr_mimebundle_() == {"text/plain": repr(report)}
    run = TrainingRun.from_history([{"step": 0, "train_acc": 0.1}])
    assert run._repr_mimebundle_() == {"text/plain": repr(run)}


def test_training_run_roundtrip_and_queries(tmp_path):
    hist = [
        {"step": 0, "train_acc": 0.1, "test_acc": 0.0},
        {"step": 10, "train_acc": 1.0, "test_acc": 0.2, "med": 1.5},
        {"step": 20, "train_acc": 1.0, "test_acc": 0.995},
    ]
    run = TrainingRun.from_history(hist, labels={"med": "MED"}, events={"x": 3}, extras={"f": np.arange(3.0)})
    assert np.isnan(run.series["med"][0]) and run.final("med") == 1.5
    assert run.first_step("train_acc", 1.0) == 10 and run.first_step("test_acc", 0.99) == 20
    assert run.first_step("test_acc", 2.0) is None
    run.save(tmp_path / "t")
    back = TrainingRun.load(tmp_path / "t")
    np.testing.assert_array_equal(back.steps, run.steps)
    np.testing.assert_allclose(back.series["test_acc"], run.series["test_acc"])
    np.testing.assert_allclose(back.extras["f"], np.arange(3.0))
    assert back.labels == {"med": "MED"} and back.events == {"x": 3}
    v = back.to_view_data()
    assert v["names"] == ["med", "test_acc", "train_acc"] and v["labels"]["med"] == "MED"
    assert repr(back) == "TrainingRun(3 points to step 20, train_acc=1.000, test_acc=0.995)"
    with pytest.raises(KeyError, match="name"):
        run.final("nope")
    with pytest.raises(TypeError, match="history"):
        TrainingRun.from_history("x")
