import json

import numpy as np
import pytest
import torch

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.results._store import ResultFileError
from xattr_lab.results.explanation import Explanation


@pytest.fixture(scope="module")
def expl():
    model = SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    return xattr_lab.explain(
        model, model.image, "describe it", regions="grid:4", search="efficient", progress=False
    )


def _same(a, b):
    assert a.method == b.method and a.positions == b.positions and a.partial == b.partial
    for name in (
        "order",
        "region_scores",
        "pixel_map",
        "area",
        "insertion",
        "deletion",
        "objective",
        "reliance",
    ):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), name
    assert np.array_equal(a.regions.labels, b.regions.labels) and a.regions.spec == b.regions.spec
    assert a.metrics == b.metrics and a.params == b.params and a.cost == b.cost and a.info == b.info
    ga, gb = a.generation, b.generation
    assert np.array_equal(ga.image, gb.image) and ga.image.dtype == gb.image.dtype
    assert torch.equal(ga.input_ids, gb.input_ids) and torch.equal(ga.generated_ids, gb.generated_ids)
    for f in (
        "prompt",
        "prompt_tokens",
        "generated_tokens",
        "image_token_span",
        "geometry",
        "model_id",
        "is_target",
    ):
        assert getattr(ga, f) == getattr(gb, f), f


def test_round_trip_is_exact(expl, tmp_path):
    expl.save(tmp_path / "e")
    back = xattr_lab.load(tmp_path / "e")
    assert isinstance(back, Explanation)
    _same(expl, back)
    _same(expl, Explanation.load(tmp_path / "e"))


def test_truncated_file_fails_clearly(expl, tmp_path):
    path = expl.save(tmp_path / "e")
    arrays_file = path / json.loads((path / "result.json").read_text())["arrays_file"]
    data = arrays_file.read_bytes()
    arrays_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ResultFileError, match="truncated"):
        xattr_lab.load(path)


def test_tampered_file_fails_clearly(expl, tmp_path):
    path = expl.save(tmp_path / "e")
    doc = json.loads((path / "result.json").read_text())
    doc["meta"] = doc["meta"].replace('"eagle"', '"lima"')
    (path / "result.json").write_text(json.dumps(doc))
    with pytest.raises(ResultFileError, match="checksum"):
        xattr_lab.load(path)
    (path / "result.json").write_text("{not json")
    with pytest.raises(ResultFileError):
        xattr_lab.load(path)


def test_missing_path(tmp_path):
    with pytest.raises(ResultFileError, match="path"):
        xattr_lab.load(tmp_path / "nothing")


def test_repr_is_one_line(expl):
    r = repr(expl)
    assert "\n" not in r and r.startswith("Explanation(eagle") and "ins=" in r


def test_mimebundle_always_has_text(expl):
    bundle = expl._repr_mimebundle_()
    assert isinstance(bundle, dict) and bundle


def test_view_data_is_plain_numpy(expl):
    v = expl.to_view_data()
    n, t = expl.regions.n, len(expl.positions)
    assert v["image"].dtype == np.uint8 and v["labels"].dtype == np.int32
    assert v["pixel_map"].dtype == np.float32 and v["insertion"].shape == (t, n + 1)
    assert v["area"].shape == (n + 1,) and v["order"].shape == (n,)
    assert len(v["tokens"]) == len(v["token_kind"]) == len(v["reliance"])
    assert [v["tokens"][i] for i in v["targets"]] == list(expl.target_tokens)
    assert np.isnan(v["reliance"][0])  # a prompt token


def test_frozen(expl):
    with pytest.raises(AttributeError):
        expl.method = "x"


def test_unknown_kind_is_refused(tmp_path):
    from xattr_lab.results._store import save_result

    save_result(tmp_path / "x", "Bogus", {"a": 1}, {"z": np.zeros(2)})
    with pytest.raises(ResultFileError, match="unknown result kind"):
        xattr_lab.load(tmp_path / "x")


def test_load_refuses_another_kind_through_explanation(tmp_path):
    from xattr_lab.results._store import save_result

    save_result(tmp_path / "x", "TrainingRun", {"a": 1}, {})
    with pytest.raises(ResultFileError, match="expected a 'Explanation'"):
        Explanation.load(tmp_path / "x")
