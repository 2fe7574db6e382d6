"""End to end on the real ShapesVLM (skipped until its weights are built)."""

from pathlib import Path

import numpy as np
import pytest

import xattr_lab


def _weights_ready() -> bool:
    try:
        from xattr_lab.models.toy.build import WEIGHTS_DIR
    except ImportError:
        return False
    return (Path(WEIGHTS_DIR) / "model.safetensors").exists()


pytestmark = pytest.mark.skipif(not _weights_ready(), reason="the ShapesVLM weights are not built")


@pytest.fixture(scope="module")
def model():
    return xattr_lab.load_model("toy-shapes")


@pytest.fixture(scope="module")
def sample():
    from xattr_lab.datasets import shapes

    return list(shapes(2, seed=1, task="colour"))[-1]


def test_eagle_on_shapes_vlm(model, sample, tmp_path):
    e = xattr_lab.explain(
        model,
        sample.image,
        sample.prompt,
        regions="slico:64",
        search="efficient",
        max_new_tokens=4,
        progress=False,
        search_scope=8,
        pending=4,
        update_step=10,
        early_stop=0.05,
    )
    assert e.regions.n > 40 and not e.partial
    assert e.insertion.shape == (len(e.positions), e.regions.n + 1)
    assert np.isfinite(e.insertion).all() and np.isfinite(e.deletion).all()
    e.save(tmp_path / "e")
    back = xattr_lab.load(tmp_path / "e")
    assert np.array_equal(back.insertion, e.insertion) and back.generation.text == e.generation.text
    m = xattr_lab.evaluate(model, e, mask=sample.masks[sample.target])
    assert 0 <= m["insertion_auc"] <= 1 and m["pointing_mask"] in (0.0, 1.0)


def test_demo_runs(capsys):
    from xattr_lab.demo import main

    assert main(["--methods", "eagle,random", "--search", "efficient", "--regions", "grid:4", "--out", ""]) == 0
    out = capsys.readouterr().out
    assert "eagle" in out and "random" in out and "ins AUC" in out


def test_cli_explain_saves(tmp_path, capsys):
    import json

    from xattr_lab.cli import main

    out = tmp_path / "e"
    assert main(["explain", "--regions", "grid:4", "--search", "efficient", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "insertion_auc" in doc["metrics"] and doc["cost"]["n_forward"] > 0
    assert xattr_lab.load(out).regions.n == 16
