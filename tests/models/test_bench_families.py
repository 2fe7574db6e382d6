"""``python -m xattr_lab.bench.families``: a row per family, both paths timed, their probabilities equal."""

import json

from xattr_lab.bench.families import block_masks, main


def test_block_masks_hide_one_block_each():
    masks = block_masks(5, 40, 52, seed=3)
    assert masks.shape == (5, 40, 52)
    for m in masks:
        hidden = (m == 0).nonzero()
        assert len(hidden) > 0 and (m == 1).any()
        (y0, x0), (y1, x1) = hidden.min(0).values.tolist(), hidden.max(0).values.tolist()
        assert int((m[y0 : y1 + 1, x0 : x1 + 1] == 0).sum()) == len(hidden)  # one solid rectangle


def test_bench_reports_each_family_and_path(tmp_path, capsys):
    out = tmp_path / "families.json"
    assert main(["--family", "llava", "idefics3", "--masks", "3", "--repeats", "1", "--no-reference",
                 "--out", str(out)]) == 0  # fmt: skip
    result = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == result
    rows = result["families"]
    assert set(rows) == {"llava", "idefics3"}
    for row in rows.values():
        assert row["masking_path"] == "processed_replay" and row["images_scored"] == 3
        keys = {"score_pixel_space", "inputs_pixel_space", "score_mask_then_process", "inputs_mask_then_process",
                "score_pixel_space_plain_forward", "model_forward"}  # fmt: skip
        assert set(row["s_per_image"]) == set(row["cpu_s_per_image"]) == keys
        assert all(v > 0 for v in row["s_per_image"].values())
        assert row["max_abs_prob_diff_pixel_space_vs_mask_then_process"] < 1e-6
        assert row["max_abs_prob_diff_fast_vs_plain_forward"] < 1e-6
    assert rows["llava"]["ratio_to_llava"]["score_pixel_space"] == 1.0
    assert rows["llava"]["ratio_to_llava_cpu"]["model_forward"] == 1.0
    # LLaVA has no shared work to pass in; one-tile Idefics3 neither (every mask touches its only tile)
    assert rows["llava"]["forward_path"] == rows["idefics3"]["forward_path"] == "plain"
