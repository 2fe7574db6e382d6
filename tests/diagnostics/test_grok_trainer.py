import json
import subprocess
import sys

import numpy as np
import pytest

from xattr_lab.diagnostics.grokking import GrokTrainer, preset
from xattr_lab.diagnostics.grokking.cli import main as grok_main


def test_tiny_preset_with_callbacks_and_stop():
    seen = []
    tr = GrokTrainer(**preset("tiny"), callbacks=[lambda s, m: seen.append((s, m))], progress=False).fit()
    run = tr.result()
    assert [s for s, _ in seen] == list(run.steps) == [0, 20, 40, 60]
    for name in ("train_loss", "test_acc", "weight_norm", "med", "restricted_loss", "excluded_loss",
                 "fourier_gini", "effective_rank", "unif_hypersphere", "wd_uniformity_norm_cv"):  # fmt: skip
        assert name in run.series and np.isfinite(run.series[name]).all(), name
    assert "hypersphere" in run.labels["unif_hypersphere"]
    assert run.config["p"] == 23 and run.info["steps_run"] == 60
    stopper = GrokTrainer(**preset("tiny"), callbacks=[lambda s, m: s >= 20], progress=False).fit()
    assert list(stopper.run_.steps) == [0, 20] and stopper.run_.info["stopped_early"]


def test_power_model_and_bad_input():
    tr = GrokTrainer(**preset("tiny", model="power", n_layers=1, op="sub", steps=20), progress=False).fit()
    assert np.isfinite(tr.run_.series["test_loss"]).all()
    with pytest.raises(ValueError, match="measures"):
        GrokTrainer(measures="some").fit()
    with pytest.raises(TypeError, match="callbacks"):
        GrokTrainer(**preset("tiny"), callbacks=[3]).fit()
    with pytest.raises(ValueError, match="preset"):
        preset("nope")


def test_cli_json_summary(capsys, tmp_path):
    rc = grok_main(["--preset", "tiny", "--steps", "40", "--json", "--no-progress", "--save", str(tmp_path / "run")])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["preset"] == "tiny" and out["steps_run"] == 40
    assert (tmp_path / "run" / "result.json").is_file()


def test_import_does_not_load_transformers():
    code = "import xattr_lab.diagnostics, sys; print('transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_grokfast_ema_amplifies_the_slow_gradient():
    import torch

    from xattr_lab.diagnostics.grokking import GradientEMA

    w = torch.nn.Parameter(torch.zeros(3))
    amp = GradientEMA([w], alpha=0.5, lamb=2.0)
    w.grad = torch.tensor([1.0, 0.0, 2.0])
    amp()
    torch.testing.assert_close(w.grad, torch.tensor([3.0, 0.0, 6.0]))  # g + λ·g on the first step
    w.grad = torch.tensor([3.0, 0.0, 0.0])
    amp()  # ema = 0.5·[1, 0, 2] + 0.5·[3, 0, 0] = [2, 0, 1]
    torch.testing.assert_close(w.grad, torch.tensor([7.0, 0.0, 2.0]))
    with pytest.raises(ValueError, match="alpha"):
        GradientEMA([w], alpha=1.0)


def test_nanda_last_position_shortcut_is_exact():
    import torch

    from xattr_lab.diagnostics.grokking.models import NandaTransformer

    torch.manual_seed(0)
    m = NandaTransformer(12, 11, d_model=16, n_heads=2, d_mlp=32, n_layers=2)
    x = torch.randint(0, 12, (20, 3))
    with torch.no_grad():
        h = m.embed(x) + m.pos[:3]
        for attn, w_in, w_out in zip(m.attn, m.mlp_in, m.mlp_out):
            h = h + attn(h)
            act = torch.relu(w_in(h))
            h = h + w_out(act)
        logits, cache = m.forward_with_cache(x)
    torch.testing.assert_close(logits, m.unembed(h[:, -1]))
    torch.testing.assert_close(cache, act[:, -1])
