import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.text_attribution import TextAttribution, arc_relevance, leave_one_out


@pytest.fixture(scope="module")
def toy():
    from xattr_lab.datasets import shapes

    model = xattr_lab.load_model("toy-shapes", device="cpu")
    s = next(shapes(1, seed=4, task="caption"))
    return model, model.generate(s.image, s.prompt, max_new_tokens=3)


def test_arc_relevance_aligns_with_the_token_strip(toy):
    model, gen = toy
    a = arc_relevance(model, gen, position=1, k=10)
    assert a.tokens == (*gen.prompt_tokens, gen.generated_tokens[0])
    image = a.tokens.index("<image>")
    assert np.isnan(a.scores[image])
    rest = np.delete(a.scores, image)
    assert np.isfinite(rest).all() and (rest >= 0).all() and (rest <= 1 + 1e-9).all()
    strip = a.token_strip()
    assert strip.payload["data"]["tokens"][-1] == gen.generated_tokens[1]
    assert "application/vnd.xattr-lab.v1+json" in a._repr_mimebundle_()


def test_leave_one_out_scores_each_prompt_word(toy):
    model, gen = toy
    loo = leave_one_out(model, gen, positions=[0])
    assert loo.tokens == tuple(gen.prompt.split()) and loo.scores.shape == (len(loo.tokens),)
    assert np.isfinite(loo.scores).all() and loo.method == "leave_one_out"
    assert repr(loo).startswith("TextAttribution(leave_one_out")


def test_leave_one_out_on_a_model_whose_answer_ignores_text():
    from xattr_lab.attr.synthetic import SyntheticModel

    model = SyntheticModel()
    loo = leave_one_out(model, model.generate(prompt="describe the image"))
    np.testing.assert_allclose(loo.scores, 0.0, atol=1e-9)


def test_bad_arguments(toy):
    model, gen = toy
    with pytest.raises(ValueError, match="position"):
        arc_relevance(model, gen, position=99)
    with pytest.raises(TypeError, match="position"):
        arc_relevance(model, gen, position="0")
    with pytest.raises(ValueError, match="segments"):
        leave_one_out(model, gen, segments=["something", "else"])
    with pytest.raises(TypeError, match="model"):
        leave_one_out(object(), gen)


def test_repr_of_an_empty_attribution():
    assert "top=''" in repr(TextAttribution((), np.zeros(0), "x", "arc"))
