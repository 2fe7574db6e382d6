"""``bench faithfulness`` makes one partition per scene, shared by every method and the pointing ceiling."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from xattr_lab.bench._common import ceiling_summary, pointing_ceiling
from xattr_lab.cli import main


def test_pointing_ceiling_takes_prebuilt_regions_and_the_summary_takes_per_scene_results():
    from xattr_lab.inputs.regions import make_regions

    obj = np.zeros((96, 96), dtype=bool)
    obj[48:96, 48:96] = True
    cue = np.zeros((96, 96), dtype=bool)
    cue[0:12, 0:12] = True
    s = SimpleNamespace(image=np.zeros((96, 96, 3), np.uint8), seed=0, masks=obj[None], target=0, cue_mask=cue)
    t = SimpleNamespace(**{**vars(s), "cue_mask": np.zeros_like(cue)})
    for spec in ("grid:2x2", "grid:8x8"):
        per = [pointing_ceiling(make_regions(spec, x.image, seed=x.seed), x, cue=True) for x in (s, t)]
        assert per[0] == pointing_ceiling(spec, s, cue=True)
        assert ceiling_summary([s, t], spec, True, per=per) == ceiling_summary([s, t], spec, True)
    assert ceiling_summary([s, t], "grid:2x2", True) == {"mask": 1.0, "cue": 0.0}


def test_bench_faithfulness_builds_the_regions_once_per_scene(capsys, monkeypatch):
    import xattr_lab.inputs.regions as regions_module

    real = regions_module.make_regions
    calls: list[str] = []

    def counting(regions, image, seed=0):
        calls.append("spec" if isinstance(regions, str) else type(regions).__name__)
        return real(regions, image, seed=seed)

    monkeypatch.setattr(regions_module, "make_regions", counting)
    args = ["bench", "faithfulness", "--suite", "shapes", "--n", "1", "--methods", "eagle,random", "--regions",
            "grid:4", "--threads", "1", "--n-boot", "50"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 2  # one scene per task (colour, shape)
    assert calls.count("spec") == 2  # one partition per scene, not one per method plus one for the ceiling
    assert calls.count("Regions") == 2 * 3  # handed to each of the two methods and to the ceiling
    from xattr_lab.bench._common import held_out_questions

    monkeypatch.setattr(regions_module, "make_regions", real)
    samples = held_out_questions(1, 1, ["colour", "shape"], "shapes")  # the bench's scenes (--seed 1)
    assert out["pointing_ceiling"] == ceiling_summary(samples, "grid:4", False)  # as if built from the spec
    assert out["ci"]["eagle"]["pointing_mask"]["n"] == 2
