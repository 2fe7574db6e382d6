"""The frames view encodes each frame's crop (image, labels, pixel map) exactly as the explanation view would,
without building a whole explanation payload per frame."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from xattr_lab.viz.explanation_view import explanation_payload, map_arrays
from xattr_lab.viz.frames_view import frames_payload


@pytest.fixture(scope="module")
def clip():
    import xattr_lab
    from xattr_lab.datasets.frames import frames_sample
    from xattr_lab.models.frames import FramesModel
    from xattr_lab.video.explain import explain_frames

    s = frames_sample(42, t=3)
    model = FramesModel(xattr_lab.load_model("toy-shapes"))
    return explain_frames(model, list(s.frames), s.prompt, "feature_ablation", tokens=[0], regions="frames:grid:2",
                          progress=False)  # fmt: skip


@pytest.mark.parametrize("noisy", [False, True])
def test_each_frame_holds_its_crop_encoded_as_the_explanation_view_does(clip, noisy):
    e = clip
    if noisy:  # a map that is not constant per region: its pixels travel too
        e = dataclasses.replace(e, pixel_map=e.pixel_map + np.random.default_rng(0).normal(size=e.pixel_map.shape))
    data = e.to_view_data()
    p = frames_payload(e)
    boxes = e.info["frames"]["boxes"]
    assert len(p["data"]["frames"]) == len(boxes) == 3
    for frame, (x0, y0, x1, y1) in zip(p["data"]["frames"], boxes):
        crop = {k: np.asarray(data[k])[y0:y1, x0:x1] for k in ("image", "labels", "pixel_map")}
        crop["region_scores"] = data["region_scores"]
        whole = explanation_payload({**crop, "tokens": data["tokens"]})["data"]
        assert frame == {k: whole[k] for k in ("image", "labels", "pixel_map") if k in whole}
        assert ("pixel_map" in frame) is noisy
        keys = {"image", "labels", "n_regions", "region_scores"} | ({"pixel_map"} if noisy else set())
        assert set(map_arrays(crop)) == keys


def test_map_arrays_is_the_explanation_payloads_image_and_map_part(clip):
    data = dict(clip.to_view_data())
    whole = explanation_payload(data)["data"]
    part = map_arrays(data)
    assert part == {k: whole[k] for k in part}
    assert part["n_regions"] == int(np.asarray(data["labels"]).max()) + 1
