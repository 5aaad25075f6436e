"""The exercise grader: passes independent reference solutions, fails every untouched skeleton kindly, grades
in stages, and names each realistic wrong answer in tests/grader_answers/ — from the arrays it returns.

The table ANSWERS is also the teachers' page's list of common mistakes (walkthrough/exercises/README.md
quotes what the grader says for each; a test checks that the quotes are still what it says)."""

import pathlib
import re

import numpy
import pytest

from lcn_np import ops
from lcn_np.grade import _exercises, compare, grade, main, shape_problem, watching

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "walkthrough" / "exercises").glob("*_backward.py"))
ANSWERS_DIR = ROOT / "tests" / "grader_answers"
NAMES = ["batchnorm2d", "depthwise_conv2d", "margin_loss", "maxpool2d", "pointwise_conv2d", "power_spectrogram",
         "routing", "squash"]

# file in tests/grader_answers → (the first stage that fails, or None when the shape check stops it;
#                                 phrases the feedback must contain)
ANSWERS = {
    # power spectrogram
    "power_spectrogram_no_dc_nyquist": ("the DC bin only", ["exactly 1/2 of the expected one",
                                                            "rfft lists DC once"]),
    "power_spectrogram_always_nyquist": ("every bin, odd n_fft = 15", ["not a Nyquist bin"]),
    "power_spectrogram_irfft_scale": ("bins 1 … n/2−1 only", ["exactly 1/16 of the expected one — 16 is n_fft"]),
    "power_spectrogram_no_window": ("bins 1 … n/2−1 only", ["the frame's window is left out of the backward"]),
    "power_spectrogram_batched_only": ("one waveform of shape (T,)", ["raised ValueError", "cache['batched']"]),
    # depthwise convolution
    "depthwise_conv2d_padding_kept": ("stride 1, padding 1", ["larger by (0, 0, 2, 2): a padded shape not cut back"]),
    "depthwise_conv2d_cut_wrong_side": ("stride 1, padding 1", ["shifted by (1, 1) rows and columns"]),
    "depthwise_conv2d_kernel_flipped": ("stride 1, no padding", ["dw holds the right numbers in the wrong places",
                                                                 "flipped along the last two axes"]),
    "depthwise_conv2d_dw_batch_mean": ("stride 1, no padding", ["exactly 1/3 of the expected one — 3 is the batch size N",
                                                                "dw is wrong"]),
    "depthwise_conv2d_negative_slice": (None, ["a slice such as a[t:-b] is empty when b = 0"]),
    # pointwise convolution
    "pointwise_conv2d_dw_transposed": ("one example, one pixel", ["axes in the order (Cin, Cout) instead of (Cout, Cin)",
                                                                  "a reshape does not transpose"]),
    "pointwise_conv2d_dw_transposed_einsum": ("one example, one pixel", ["axes in the order (Cin, Cout) instead of (Cout, Cin)"]),
    "pointwise_conv2d_dw_batch_mean": ("a batch of 3 at 5×7 pixels", ["exactly 1/3 of the expected one — 3 is the batch size N"]),
    "pointwise_conv2d_db_mean_over_pixels": ("a batch of 3 at 5×7 pixels", ["exactly 1/105 of the expected one — 105 is N·H·W"]),
    "pointwise_conv2d_always_db": ("no bias (b = None)", ["b is None here, so its gradient must be None"]),
    # max-pooling
    "maxpool2d_spread_over_window": ("2×2 windows, stride 2", [
        "In inputs that held a window's maximum: 100% wrong — there yours is exactly 1/4 of the expected one — 4 is size²",
        "In inputs that held no maximum: 100% wrong — there the expected gradient is 0"]),
    "maxpool2d_assign_not_add": ("3×3 windows, stride 2 (windows overlap)", [
        "Every wrong element is in inputs that held a window's maximum", "must receive both gradients"]),
    "maxpool2d_swapped_pq": ("2×2 windows, stride 2", ["p and q swapped"]),
    "maxpool2d_no_floor_mode": ("odd size", ["Yours is smaller by (0, 0, 1, 1)"]),
    # batch normalisation
    "batchnorm2d_direct_only": ("dout constant over each channel", ["The expected dx is 0 everywhere in this stage",
                                                                    "the term through the mean μ"]),
    "batchnorm2d_no_mean_term": ("dout constant over each channel", ["the term through the mean μ"]),
    "batchnorm2d_no_variance_term": ("dout ∝ x̂ in each channel", ["the term through the variance σ²"]),
    "batchnorm2d_dgamma_mean": ("dout constant over each channel", ["exactly 1/140 of the expected one — 140 is M = N·H·W",
                                                                    "dbeta is wrong"]),
    # squash
    "squash_diagonal_only": ("dout along s", ["squash is treated as element-wise", "g'(n) and the product rule"]),
    "squash_no_product_rule_factor": ("dout along s", ["exactly half of what it should be"]),
    "squash_divides_by_norm": ("capsules at and near s = 0", ["4 of 24 elements are NaN or inf"]),
    "squash_sums_wrong_axis": ("another leading shape", ["along the last axis"]),
    # routing
    "routing_reshape_not_transpose": ("R = 1", ["axes in the order (N, J, I, D) instead of (N, I, J, D)"]),
    "routing_softmax_over_i": ("R = 2, dot agreement, one output capsule", ["not over the inputs i"]),
    "routing_last_iteration_only": ("R = 2, dot agreement", ["the gradient stops at the last iteration"]),
    "routing_no_carry": ("R = 3, dot agreement", ["carried from each iteration to the one before"]),
    "routing_cosine_only": ("R = 2, dot agreement, one output capsule", ["raised KeyError", "handle dot agreement too"]),
    "routing_cosine_norms_constant": ("R = 2, cosine agreement", ["through both norms"]),
    # margin loss
    "margin_loss_no_mean": ("a batch of 5", ["exactly 5× the expected one — 5 is the batch size N"]),
    "margin_loss_present_sign": ("one example", ["Every wrong element is in the labelled class (T = 1)",
                                                 "exactly the negative of the expected one: a sign flip"]),
    "margin_loss_no_lambda": ("one example", ["Every wrong element is in the other classes (T = 0)",
                                              "exactly 2× the expected one — 2 is 1/λ"]),
    "margin_loss_mean_over_classes": ("one example", ["exactly 1/4 of the expected one — 4 is the number of classes K"]),
}


def answer(stem):
    return ANSWERS_DIR / f"{stem}.py"


def test_there_are_eight_exercises_each_with_three_wrong_answers_and_a_solution():
    assert sorted(_exercises()) == NAMES and len(EXERCISES) == 8
    for name in NAMES:
        assert answer(f"{name}_solution").is_file()
        assert sum(stem.startswith(name) for stem in ANSWERS) >= 3, name
    on_disk = {p.stem for p in ANSWERS_DIR.glob("*.py")}
    assert set(ANSWERS) <= on_disk


@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_passes_every_stage(name):
    ok, text = grade(answer(f"{name}_solution"))
    assert ok, text
    assert "Well done" in text and "FAIL" not in text and "Note:" not in text
    assert len(re.findall(r"^stage \d+/\d+ .*: ok$", text, re.M)) == len(_exercises()[name].stages)


@pytest.mark.parametrize("stem", sorted(ANSWERS))
def test_wrong_answer_gets_its_diagnosis(stem):
    stage, phrases = ANSWERS[stem]
    ok, text = grade(answer(stem))
    assert not ok and "Well done" not in text
    if stage is None:
        assert text.startswith("NOT YET") and "stage" not in text, text
    else:
        assert f'the first stage that fails is "{stage}' in text, text
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} missing from:\n{text}"


def test_the_same_mistake_written_two_ways_gets_the_same_diagnosis():
    """The diagnosis comes from the arrays the answer returns, never from its source text."""
    _, a = grade(answer("pointwise_conv2d_dw_transposed"))
    _, b = grade(answer("pointwise_conv2d_dw_transposed_einsum"))
    assert a.splitlines()[1:] == b.splitlines()[1:]


def test_routing_is_graded_iteration_by_iteration_dot_before_cosine():
    ok, text = grade(answer("routing_no_carry"))
    stages = re.findall(r"^stage \d+/6  (.*): (ok|FAIL)$", text, re.M)
    assert [s for s, _ in stages] == ["R = 1 (one iteration: no agreement yet)",
                                      "R = 2, dot agreement, one output capsule (J = 1: c = 1 whatever the logits)",
                                      "R = 2, dot agreement", "R = 3, dot agreement",
                                      "R = 2, cosine agreement", "R = 3, cosine agreement"]
    assert [v for _, v in stages] == ["ok", "ok", "ok", "FAIL", "ok", "FAIL"]


@pytest.mark.parametrize("stem, library", [
    ("squash_wrapper", "lcn_np.ops.squash_backward"),
    ("routing_wrapper", "lcn_np.ops.routing_backward"),
    ("pointwise_conv2d_via_conv2d", "lcn_np.ops.conv2d_backward"),
    ("pointwise_conv2d_via_reference", "ops.conv.conv2d_reference_backward"),   # the plain forms,
    ("depthwise_conv2d_wrapper", "ops.conv.depthwise_conv2d_reference_backward"),  # not exported
    ("maxpool2d_wrapper", "ops.pooling.maxpool2d_reference_backward"),
    ("batchnorm2d_wrapper", "ops.normalization.batchnorm2d_reference_backward"),
])
def test_a_call_to_the_library_answer_is_reported_beside_the_diagnosis(stem, library):
    ok, text = grade(answer(stem))
    assert not ok and "Well done" not in text
    assert f"called {library} (" in text
    assert re.search(r"^stage 1/\d+ .*: ok$", text, re.M)      # the stages are still graded and shown


def test_calling_other_library_functions_is_fine():
    """routing_solution.py uses lcn_np.ops.squash_backward, as the exercise suggests."""
    assert "squash_backward" in answer("routing_solution").read_text()
    ok, text = grade(answer("routing_solution"))
    assert ok and "Note:" not in text


def test_watching_counts_calls_by_any_name():
    alias = ops.squash_backward
    s = numpy.ones((2, 3))
    _, cache = ops.squash_forward(s)
    calls = {}
    with watching([ops.squash_backward], calls):
        alias(s, cache)
        ops.relu_forward(s)
    assert calls == {"lcn_np.ops.squash_backward": 1}


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_untouched_skeleton_fails_with_a_friendly_message(path):
    ok, text = grade(path)
    assert not ok and text.startswith("NOT YET") and "YOUR CODE HERE" in text and "Traceback" not in text


def test_errors_point_at_the_students_line(tmp_path):
    path = tmp_path / "squash.py"
    path.write_text("def squash_backward(dout, cache):\n    return dout * cache['missing']\n")
    ok, text = grade(path)
    assert not ok and "KeyError" in text and "line 2" in text
    bad = tmp_path / "syntax.py"
    bad.write_text("def squash_backward(dout, cache)\n    return dout\n")
    ok, text = grade(bad)
    assert not ok and "line 1" in text and "cannot read your file" in text


def test_wrong_shape_dtype_and_count_are_explained(tmp_path):
    path = tmp_path / "squash.py"
    path.write_text("def squash_backward(dout, cache):\n    return dout.astype('float64')\n")
    ok, text = grade(path)
    assert not ok and "float32" in text and "keep the input's dtype" in text
    path = tmp_path / "pointwise.py"
    path.write_text("def pointwise_conv2d_backward(dout, cache):\n    return dout, cache['w']\n")
    ok, text = grade(path)
    assert not ok and "returned 2 gradient(s); it must return 3: (dx, dw, db)" in text


def test_shape_problems_are_named():
    x = numpy.zeros((2, 3, 5, 7))
    assert "transposed/permuted" in shape_problem("x", numpy.zeros((2, 3, 7, 5)), x)
    assert "larger by (0, 0, 2, 2): a padded shape not cut back" in shape_problem("x", numpy.zeros((2, 3, 7, 9)), x)
    assert "Axis 0 (size 2) is missing" in shape_problem("x", numpy.zeros((3, 5, 7)), x)
    assert "a slice such as a[t:-b] is empty" in shape_problem("x", numpy.zeros((2, 3, 0, 7)), x)
    assert shape_problem("x", numpy.zeros((2, 3, 5, 7)), x) == ""


def test_compare_names_sign_factor_transpose_share_and_ratio(rng):
    n = rng.standard_normal((4, 4))
    assert compare("dw", n, n, 1e-5).ok
    assert "sign" in compare("dw", -n, n, 1e-5).tags
    v = compare("dw", 3 * n, n, 1e-5, sizes={"the batch size N": 3})
    assert "factor:3" in v.tags and "3 is the batch size N" in v.lines[1]
    v = compare("dw", n.T.copy(), n, 1e-5, axes=("Cout", "Cin"))      # square: passes the shape check
    assert not v.ok and "transposed" in v.tags and "(Cin, Cout) instead of (Cout, Cin)" in "".join(v.lines)
    assert "zero" in compare("dw", 0 * n, n, 1e-5).tags
    bad = n.copy()
    bad[1, 2] += 1.0
    v = compare("dw", bad, n, 1e-5)
    assert "1 of 16 elements wrong (6%)" in v.lines[0] and "Least-squares fit: yours ≈" in v.lines[1]


def test_hints_come_in_tiers_and_never_print_the_answer(capsys):
    for name, ex in _exercises().items():
        assert len(ex.hints) >= 3, name
    wrong = str(answer("squash_diagonal_only"))
    main([wrong])
    out = capsys.readouterr().out
    assert "--hint 1" in out and "Hint 1/" not in out
    main([wrong, "--hint", "2"])
    out = capsys.readouterr().out
    assert "Hint 1/3" in out and "Hint 2/3" in out and "Hint 3/3" not in out and "--hint 3 gives the next" in out
    # the formulas the old hints printed
    answers = ["g·I + 2·g'", "2·g'(|s|²)·s·sᵀ", "wᵀ·dout", "dout·xᵀ", "−2·max(0, m − |v|)", "2·dP·X",
               "v/(|û||v|)", "(g + 2n·g')·dout"]
    text = " ".join(h for ex in _exercises().values() for h in ex.hints)
    assert not [a for a in answers if a in text]


def test_teachers_page_quotes_what_the_grader_says():
    page = (ROOT / "walkthrough" / "exercises" / "README.md").read_text(encoding="utf-8")
    for stem, (_, phrases) in ANSWERS.items():
        assert f"`{stem}.py`" in page, stem
        assert phrases[0] in page, (stem, phrases[0])


def test_cli_exit_status(tmp_path, capsys):
    assert main([str(EXERCISES[0])]) == 1
    assert "NOT YET" in capsys.readouterr().out
    assert main([str(tmp_path / "nope.py")]) == 1
    assert main([str(answer("margin_loss_solution"))]) == 0
