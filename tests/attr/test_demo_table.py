"""The demo's table: columns that fit every method, AHS only where it discriminates, one forward count."""

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.demo import _table


def row(method, ahs=1.0, forwards=1412):
    return {"method": method, "insertion_auc": 0.9, "deletion_auc": 0.1, "ahs": ahs, "pointing": "hit",
            "forwards": forwards, "seconds": 1.0}  # fmt: skip


def test_long_method_names_keep_the_columns_aligned():
    lines = _table([row("eagle"), row("integrated_gradients"), row("random")]).splitlines()
    head, body = lines[0], lines[2:5]
    assert {len(line) for line in body} == {len(head)}
    assert all(line.split()[1] == "0.900" for line in body)
    assert head.index("ins AUC") > len("integrated_gradients")


def test_ahs_is_shown_only_where_it_tells_methods_apart():
    same = _table([row("eagle"), row("random")])
    assert "AHS ↑" not in same.splitlines()[0] and "AHS not shown: 1.000" in same
    differs = _table([row("eagle", ahs=0.97), row("random", ahs=0.80)])
    assert "AHS ↑" in differs.splitlines()[0] and "0.970" in differs and "AHS not shown" not in differs


def test_one_forward_count_everywhere():
    # Occlusion scores its own windows outside the subset scorer: they count in the same figure.
    model = SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    cmp = xattr_lab.compare(
        model, model.image, "d", methods=["eagle", "occlusion"], regions="grid:2", rescore=False, progress=False,
        params={"occlusion": {"window": 16, "stride": 16}},
    )  # fmt: skip
    for e, r in zip(cmp.explanations, cmp.rows):
        assert r["forwards"] == e.cost["n_forward"]
        assert e.cost["n_forward_method"] == e.info.get("n_forward_method", 0)
        assert f"forwards={e.cost['n_forward']}" in repr(e)
    occ = cmp["occlusion"]
    assert occ.cost["n_forward_method"] == 4 + 1
    # plus its curves through the scorer: the empty and full images, 3 proper prefixes and their complements
    assert occ.cost["n_forward"] == occ.cost["n_forward_method"] + occ.cost["n_forward_search"] + 2 + 2 * 3
