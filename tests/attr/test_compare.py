import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.results.comparison import COLUMNS, Comparison

METHODS = ["eagle", "feature_ablation", "lime", "random"]


@pytest.fixture(scope="module")
def model():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


@pytest.fixture(scope="module")
def comparison(model):
    return xattr_lab.compare(
        model, model.image, "describe", methods=METHODS, tokens=[0], regions="grid:4",
        mask=model.object_masks[0], params={"lime": {"n_samples": 64}},
    )  # fmt: skip


def test_table_rows_follow_methods(comparison):
    rows = comparison.table()
    assert [r["method"] for r in rows] == METHODS and comparison.methods == tuple(METHODS)
    assert all(set(r) == set(COLUMNS) for r in rows)
    by = {r["method"]: r for r in rows}
    assert by["eagle"]["insertion_auc"] >= by["random"]["insertion_auc"]
    assert by["eagle"]["pointing_game"] == 1.0
    assert by["eagle"]["forwards"] > by["random"]["forwards"] > 0
    assert comparison["lime"].method == "lime" and comparison["lime"].params["n_samples"] == 64
    with pytest.raises(KeyError, match="method"):
        comparison["tam"]


def test_every_method_explains_the_same_regions_and_tokens(comparison):
    labels = comparison.explanations[0].regions.labels
    for e in comparison.explanations:
        np.testing.assert_array_equal(e.regions.labels, labels)
        assert e.positions == (0,)


def test_view_data_and_display(comparison):
    data = comparison.to_view_data()
    assert data["methods"] == METHODS
    assert data["pixel_maps"].shape == (4, 32, 32) and data["region_scores"].shape == (4, 16)
    assert data["metrics"]["eagle"]["insertion_auc"] == comparison.rows[0]["insertion_auc"]
    assert data["tokens"][0] == "red" and data["targets"] == [0]
    bundle = comparison._repr_mimebundle_()
    assert bundle["text/plain"] == repr(comparison) and "\n" not in repr(comparison)
    assert repr(comparison).startswith("Comparison(4 methods")


def test_table_figure(comparison):
    rows, fig = comparison.table(figure=True)
    assert len(rows) == 4 and fig.data[0].type == "table"


def test_save_load_round_trip(comparison, tmp_path):
    back = xattr_lab.load(comparison.save(tmp_path / "cmp"))
    assert isinstance(back, Comparison) and back.methods == comparison.methods
    for a, b in zip(back.explanations, comparison.explanations):
        np.testing.assert_array_equal(a.pixel_map, b.pixel_map)
        assert a.method == b.method
    assert back.rows[0]["insertion_auc"] == comparison.rows[0]["insertion_auc"]
    assert back.info == comparison.info


@pytest.mark.parametrize(
    ("methods", "err", "match"),
    [("eagle", TypeError, "methods"), ([], ValueError, "methods"), (["eagle", "eagle"], ValueError, "methods"),
     (["nope"], ValueError, "method")],
)  # fmt: skip
def test_bad_arguments(model, methods, err, match):
    with pytest.raises(err, match=match):
        xattr_lab.compare(model, model.image, "describe", methods=methods)


def test_params_for_methods_not_compared(model):
    with pytest.raises(ValueError, match="params"):
        xattr_lab.compare(model, model.image, "describe", methods=["random"], params={"lime": {}})


def test_bench_compare_prints_faithfulness_and_localisation(capsys):
    import json

    from xattr_lab.bench.compare import main

    argv = ["--n", "1", "--n-captions", "1", "--methods", "eagle,feature_ablation,tam,random", "--regions", "grid:2"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["methods"]) == {"eagle", "feature_ablation", "tam", "random"}
    assert set(out["eagle_vs_captum"]["feature_ablation"]) == {"insertion_geq", "deletion_leq"}
    assert set(out["localisation"]["tam"]) == {"obj_iou", "func_iou", "f1_iou"}
