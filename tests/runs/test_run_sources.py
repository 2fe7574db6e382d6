"""Dataset sources of a run: built-ins, a folder with JSONL or CSV (PNG masks, boxes, COCO polygons),
a datasets.Dataset, a list of dicts; and the errors that name the argument."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

import xattr_lab
from xattr_lab.runs.sources import load_samples
from xattr_lab.runs.work import ground_truth, load_image


def _images(n=3, seed=0):
    return [s.image for s in xattr_lab.datasets.shapes(n, seed)]


@pytest.fixture()
def folder(tmp_path):
    """A folder of PNG images with a mask PNG, boxes and COCO polygons."""
    ims = _images()
    for i, im in enumerate(ims):
        Image.fromarray(im).save(tmp_path / f"im{i}.png")
    mask = np.zeros((96, 96), np.uint8)
    mask[10:30, 40:70] = 255
    Image.fromarray(mask).save(tmp_path / "mask0.png")
    rows = [
        {"id": "a", "image": "im0.png", "prompt": "what colour is the circle ?", "mask": "mask0.png", "task": "t1",
         "answer": "red"},
        {"id": "b", "image": "im1.png", "prompt": "how many shapes are there ?", "boxes": [[0, 0, 48, 48]],
         "target": "two"},
        {"id": "c", "image": "im2.png", "prompt": "describe the image .",
         "segmentation": [[10, 10, 50, 10, 50, 40, 10, 40]]},
    ]  # fmt: skip
    return tmp_path, rows, ims, mask > 0


def test_builtin_generators_by_name_and_dict():
    samples, desc = load_samples({"name": "shapes", "n": 4, "seed": 3, "task": "colour"})
    ref = list(xattr_lab.datasets.shapes(4, 3, task="colour"))
    assert [s.sample_id for s in samples] == ["0", "1", "2", "3"]
    assert [s.prompt for s in samples] == [r.prompt for r in ref] and {s.task for s in samples} == {"colour"}
    assert np.array_equal(samples[1].mask, ref[1].masks[ref[1].target]) and samples[1].answer == ref[1].answer
    assert desc == {"kind": "builtin", "name": "shapes", "n": 4, "seed": 3, "task": "colour"}
    for name in ("clutter", "shortcut"):
        got, d = load_samples({"name": name, "n": 2})
        assert len(got) == 2 and d["name"] == name and got[0].image.shape[2] == 3
    assert len(load_samples("shapes")[0]) == 100  # a bare name: the default size


def test_folder_with_jsonl_png_mask_boxes_and_coco_polygons(folder):
    root, rows, ims, mask = folder
    (root / "prompts.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    samples, desc = load_samples(str(root))
    assert [s.sample_id for s in samples] == ["a", "b", "c"] and desc["kind"] == "folder"
    assert np.array_equal(load_image(samples[0].image), ims[0])
    assert np.array_equal(ground_truth(samples[0], (96, 96)), mask)
    assert samples[1].boxes == ((0.0, 0.0, 48.0, 48.0),) and samples[1].target == "two"
    poly = ground_truth(samples[2], (96, 96))
    assert poly[20, 20] and not poly[60, 60] and poly.sum() == pytest.approx(41 * 31, rel=0.05)
    assert ground_truth(samples[1], (96, 96)) is None
    # the same folder named by dict, and its description is stable (fingerprint) across reads
    again, desc2 = load_samples({"path": str(root), "prompts": "prompts.jsonl"})
    assert desc2 == desc and [s.prompt for s in again] == [r["prompt"] for r in rows]


def test_folder_with_csv(folder):
    root, rows, _, mask = folder
    with open(root / "prompts.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["image", "prompt", "mask", "boxes", "polygons", "task"])
        w.writeheader()
        w.writerow({"image": "im0.png", "prompt": "p0", "mask": "mask0.png", "task": "x"})
        w.writerow({"image": "im1.png", "prompt": "p1", "boxes": "[0, 0, 10, 10]"})
        w.writerow({"image": "im2.png", "prompt": "p2", "polygons": "[[1, 1, 20, 1, 20, 20]]"})
    samples, _ = load_samples(str(root))
    assert [s.sample_id for s in samples] == ["0", "1", "2"]  # no id column: the row index
    assert samples[0].task == "x" and samples[1].task is None  # an empty cell is missing
    assert np.array_equal(ground_truth(samples[0], (96, 96)), mask)
    assert samples[1].boxes == ((0.0, 0.0, 10.0, 10.0),) and len(samples[2].polygons) == 1


def test_an_in_memory_hf_dataset_and_a_list_of_dicts():
    datasets = pytest.importorskip("datasets")
    ims = _images(2)
    ds = datasets.Dataset.from_dict({
        "image": [Image.fromarray(im) for im in ims], "prompt": ["what colour is the circle ?"] * 2,
        "id": ["x1", "x2"], "boxes": [[1, 2, 30, 40], [0, 0, 5, 5]],
    })  # fmt: skip
    samples, desc = load_samples(ds)
    assert desc["kind"] == "datasets.Dataset" and [s.sample_id for s in samples] == ["x1", "x2"]
    assert np.array_equal(samples[0].image, ims[0]) and samples[0].boxes == ((1.0, 2.0, 30.0, 40.0),)
    listed, d2 = load_samples([{"image": ims[0], "prompt": "p"},
                               {"image": ims[1], "prompt": "q", "mask": ims[1][..., 0] > 100}])  # fmt: skip
    assert [s.sample_id for s in listed] == ["0", "1"] and d2["kind"] == "rows"
    assert ground_truth(listed[1], (96, 96)).dtype == bool
    # generator samples (objects with image and prompt) are rows too, from an iterator
    objs, _ = load_samples(xattr_lab.datasets.shapes(2, 0))
    assert len(objs) == 2 and objs[0].answer is not None
    # the content digest follows the images: another image, another fingerprint
    _, d3 = load_samples([{"image": ims[1], "prompt": "p"}, {"image": ims[1], "prompt": "q"}])
    _, d4 = load_samples([{"image": ims[0], "prompt": "p"}, {"image": ims[1], "prompt": "q"}])
    assert d3["content"] != d4["content"]


def test_a_run_over_a_folder_plays_the_pointing_game_on_its_masks(folder):
    root, rows, _, _ = folder
    full = np.full((96, 96), 255, np.uint8)
    Image.fromarray(full).save(root / "full.png")
    rows = [{**rows[0], "mask": "full.png"}, {**rows[1], "boxes": [0, 0, 96, 96]},
            {**rows[2], "polygons": [[0, 0, 95, 0, 95, 95, 0, 95]]}]  # fmt: skip
    (root / "prompts.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    model = xattr_lab.load_model("toy-shapes")
    run = xattr_lab.run(model, str(root), ["random"], root / "out", regions="grid:2", max_new_tokens=4, progress=False)
    got = {r["sample_id"]: r for r in run.rows()}
    assert run.counts()["ok"] == 3
    # ground truth covering the whole image: the map's peak is always inside
    assert got["a"]["pointing_mask"] == 1.0 and np.isnan(got["a"]["pointing_box"])
    assert got["b"]["pointing_box"] == 1.0 and np.isnan(got["b"]["pointing_mask"])
    assert got["c"]["pointing_mask"] == 1.0
    assert got["a"]["correct"] in (True, False) and got["b"]["target"] == "two" and got["b"]["generated"] == "two"
    assert run.leaderboard(task="t1")[0]["n"] == 1


@pytest.mark.parametrize(
    ("dataset", "error", "match"),
    [
        ({"name": "mnist"}, ValueError, "unknown built-in generator 'mnist'"),
        ({"name": "shapes", "n": 0}, ValueError, "n must be a positive int"),
        ({"name": "shapes", "size": 3}, ValueError, r"unknown keys \['size'\]"),
        ({"what": 1}, ValueError, "needs 'name'"),
        ([], ValueError, "holds no samples"),
        ([1, 2], TypeError, "row 0 is a int"),
        ([{"prompt": "p"}], ValueError, "has no image"),
        ([{"image": np.zeros((4, 4, 3), np.uint8)}], ValueError, "needs a non-empty prompt"),
        ([{"image": np.zeros((4, 4), np.uint8), "prompt": "p"}], ValueError, r"uint8 \[H, W, 3\]"),
        ([{"image": "/no/such.png", "prompt": "p"}], ValueError, "image file /no/such.png not found"),
        ([{"id": 1, "image": np.zeros((4, 4, 3), np.uint8), "prompt": "p"}] * 2, ValueError, "duplicate sample id"),
        ([{"image": np.zeros((4, 4, 3), np.uint8), "prompt": "p", "boxes": [1, 2, 3]}], ValueError, "boxes must"),
        ([{"image": np.zeros((4, 4, 3), np.uint8), "prompt": "p", "polygons": [[1, 2, 3]]}], ValueError, "polygon"),
        (3.5, TypeError, "dataset: expected"),
    ],
)
def test_bad_datasets_are_named(dataset, error, match):
    with pytest.raises(error, match=match):
        load_samples(dataset)


def test_a_folder_without_prompts_or_with_bad_lines(tmp_path):
    with pytest.raises(ValueError, match="no prompts file"):
        load_samples(str(tmp_path))
    (tmp_path / "prompts.jsonl").write_text('{"image": "a.png", "prompt": "p"}\nnot json\n')
    with pytest.raises(ValueError, match="prompts.jsonl line 2 is not JSON"):
        load_samples(str(tmp_path))
