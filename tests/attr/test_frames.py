"""Video as frames: spatio-temporal regions, the temporal curve, the ShapesVLM's decisive frames, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from xattr_lab.inputs.frames import frame_mass, frame_regions, peak_frame, region_frames

BOXES = [(0, 0, 24, 24), (24, 0, 48, 24), (48, 0, 72, 24)]
CANVAS = np.random.default_rng(0).integers(0, 255, (24, 72, 3), dtype=np.uint8)


def test_per_frame_regions_are_numbered_frame_major():
    r = frame_regions("frames:grid:2", CANVAS, BOXES)
    assert r.n == 12 and r.spec == "frames:grid:2"
    for i, (x0, _, x1, _) in enumerate(BOXES):
        assert set(np.unique(r.labels[:, x0:x1])) == set(range(4 * i, 4 * i + 4))
    assert region_frames(r, BOXES).sum(axis=1).tolist() == [1] * 12


def test_eagle_grid_groups_frames_in_time():
    r = frame_regions("grid:2,2,2", CANVAS, BOXES)  # groups: frames {0, 1} and {2}
    assert r.n == 8 and r.spec == "grid:2,2,2"
    assert np.array_equal(r.labels[:, 0:24], r.labels[:, 24:48])
    assert set(np.unique(r.labels[:, 48:])) == set(range(4, 8))
    covers = region_frames(r, BOXES)
    assert covers[:4].tolist() == [[True, True, False]] * 4 and covers[4:].tolist() == [[False, False, True]] * 4


@pytest.mark.parametrize(
    ("spec", "match"),
    [("grid:4,2,2", "4 temporal groups"), ("grid:2,x,2", "three integers"), ("grid:0,2,2", "positive"),
     ("slico:16", "not a spatio-temporal")],
)  # fmt: skip
def test_bad_specs_are_refused(spec, match):
    with pytest.raises(ValueError, match=match):
        frame_regions(spec, CANVAS, BOXES)


@pytest.mark.parametrize("spec", ["frames:slico:16", "grid:4,2,2"])
def test_single_image_explain_points_to_explain_frames(spec):
    from xattr_lab.inputs.regions import make_regions

    with pytest.raises(ValueError, match="explain_frames"):
        make_regions(spec, CANVAS)


def test_frame_mass_and_peak():
    m = np.zeros((24, 72))
    m[3, 30] = 2.0
    m[5, 60] = 1.0
    m[0, 0] = -5.0  # negative attribution is not mass
    assert np.allclose(frame_mass(m, BOXES), [0, 2 / 3, 1 / 3])
    assert peak_frame(m, BOXES) == 1
    assert np.isnan(frame_mass(np.zeros((24, 72)), BOXES)).all()


@pytest.fixture(scope="module")
def model():
    import xattr_lab
    from xattr_lab.models.frames import FramesModel

    return FramesModel(xattr_lab.load_model("toy-shapes"))


def test_removing_the_decisive_frame_changes_the_answer_and_others_do_not(model):
    from xattr_lab.bench.frames import intervene, intervention_table
    from xattr_lab.datasets.frames import frames

    table = intervention_table(intervene(model, list(frames(12, seed=7))))
    assert table["accuracy"]["share"] >= 0.6  # the ShapesVLM never trained on clips (about 0.87 on 100)
    assert table["decisive_removed_changed"]["n"] >= 7
    assert table["decisive_removed_changed"]["share"] >= 0.9
    assert table["other_removed_changed"]["share"] <= 0.1


def test_eagle_points_at_the_decisive_frame(model):
    from xattr_lab.datasets.frames import frames
    from xattr_lab.models.frames import frame_boxes
    from xattr_lab.video.explain import explain_frames

    hits, effect_hits, n = 0, 0, 0
    for s in frames(6, seed=8):
        gen = model.generate(s.frames, s.prompt, 3)
        if gen.generated_tokens[:1] != (s.answer,):
            continue
        e = explain_frames(model, None, s.prompt, "eagle", tokens=[0], regions="grid:4,2,2", generation=gen,
                           progress=False)  # fmt: skip
        f = e.info["frames"]
        assert f["n_frames"] == 4 and f["n_forward"] == 5 and np.isclose(sum(f["mass"]), 1.0)
        n += 1
        hits += int(np.argmax(f["mass"])) == s.decisive and peak_frame(e.pixel_map, frame_boxes(gen)) == s.decisive
        effect_hits += int(np.argmax(f["effect"])) == s.decisive
    assert n >= 4 and hits / n >= 0.8 and effect_hits == n


def test_save_load_round_trip_and_payload(model, tmp_path):
    import xattr_lab
    from xattr_lab.datasets.frames import frames_sample
    from xattr_lab.video.explain import explain_frames
    from xattr_lab.viz.frames_view import frames_payload

    s = frames_sample(42, t=3)
    e = explain_frames(model, list(s.frames), s.prompt, "feature_ablation", tokens=[0], regions="frames:grid:2")
    back = xattr_lab.load(e.save(tmp_path / "clip"))
    assert back.info["frames"] == e.info["frames"]
    assert np.array_equal(back.pixel_map, e.pixel_map) and back.regions.spec == "frames:grid:2"
    assert back.generation.geometry["n_frames"] == 3
    p = frames_payload(back, decisive=s.decisive)
    assert p["view"] == "frames" and len(p["data"]["frames"]) == 3 and p["data"]["decisive"] == s.decisive
    assert "image" not in p["data"] and p["data"]["temporal"]["value"] == "probability"
    with pytest.raises(ValueError, match="decisive"):
        frames_payload(back, decisive=3)
    from xattr_lab.viz.bundle import result_payload

    assert result_payload(back)["view"] == "frames"  # displaying the Explanation itself shows the scrubber


def test_clear_errors(model):
    import xattr_lab
    from xattr_lab.datasets.frames import frames_sample
    from xattr_lab.video.explain import explain_frames
    from xattr_lab.viz.frames_view import frames_payload

    s = frames_sample(1)
    with pytest.raises(ValueError, match="frames:slico:16"):
        explain_frames(model, s.frames, s.prompt, regions="slico:16")
    with pytest.raises(ValueError, match="at least two frames"):
        explain_frames(model, s.frames[:1], s.prompt)
    with pytest.raises(ValueError, match=r"\[T, H, W, 3\]"):
        explain_frames(model, s.frames[0], s.prompt)
    with pytest.raises(TypeError, match="adapter"):
        explain_frames(object(), s.frames, s.prompt)
    with pytest.raises(ValueError, match="explain_frames"):
        xattr_lab.explain(model.base, s.frames, s.prompt, "random", regions="grid:2")
    assert xattr_lab.explain_frames is explain_frames and xattr_lab.video.FramesModel is type(model)
    assert xattr_lab.datasets.frames(1, seed=3).__next__().n_frames == 4
    plain = xattr_lab.explain(model.base, s.frames[0], s.prompt, "random", regions="grid:2")
    with pytest.raises(ValueError, match="explain_frames"):
        frames_payload(plain)


def test_a_contrast_reads_the_margin_over_time(model):
    from xattr_lab.datasets.frames import frames_sample
    from xattr_lab.video.explain import explain_frames

    s = frames_sample(1_000_003 * 9 + 1)  # the circle (yellow) is in frame 4 only
    e = explain_frames(model, s.frames, s.prompt, "feature_ablation", tokens=[0], regions="grid:4,2,2",
                       contrast="blue", max_new_tokens=3)  # fmt: skip
    f = e.info["frames"]
    assert f["value"] == "margin" and f["value_full"] > 5 and e.contrast.tokens == ("blue",)
    assert int(np.argmax(f["effect"])) == s.decisive == int(np.argmax(f["mass"]))
