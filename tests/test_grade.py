"""The exercise grader: passes lcn_np's own backward passes, fails every untouched skeleton kindly,
and explains a wrong answer."""

import pathlib

import pytest

from lcn_np.grade import _exercises, grade, main

EXERCISES = sorted((pathlib.Path(__file__).resolve().parents[1] / "walkthrough" / "exercises").glob("*_backward.py"))
NAMES = ["batchnorm2d", "depthwise_conv2d", "margin_loss", "maxpool2d", "pointwise_conv2d", "power_spectrogram",
         "routing", "squash"]


def test_there_are_at_least_six_exercises():
    assert len(EXERCISES) >= 6


@pytest.mark.parametrize("name", NAMES)
def test_reference_implementation_passes(tmp_path, name):
    ex = _exercises()[name]
    path = tmp_path / f"{name}.py"
    path.write_text(f"from lcn_np.ops import {ex.function} as _ref\n\n"
                    f"def {ex.function}(*args):\n    return _ref(*args)\n")
    ok, text = grade(path)
    assert ok, text
    assert "Well done" in text


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_untouched_skeleton_fails_with_a_friendly_message(path, capsys):
    ok, text = grade(path)
    assert not ok and text.startswith("NOT YET") and "YOUR CODE HERE" in text and "Traceback" not in text


def test_wrong_answer_gets_a_diagnosis(tmp_path):
    path = tmp_path / "margin.py"
    path.write_text(
        "def margin_loss_backward(cache):\n"
        "    T, present, absent, lam = cache['T'], cache['present'], cache['absent'], cache['lam']\n"
        "    return -2 * T * present + 2 * lam * (1 - T) * absent     # forgot the mean over the batch\n")
    ok, text = grade(path)
    assert not ok and "lengths: at index" in text and "5× too large" in text and "Hint:" in text


def test_errors_point_at_the_students_line(tmp_path):
    path = tmp_path / "squash.py"
    path.write_text("def squash_backward(dout, cache):\n    return dout * cache['missing']\n")
    ok, text = grade(path)
    assert not ok and "KeyError" in text and "line 2" in text
    bad = tmp_path / "syntax.py"
    bad.write_text("def squash_backward(dout, cache)\n    return dout\n")
    ok, text = grade(bad)
    assert not ok and "line 1" in text and "cannot read your file" in text


def test_wrong_shape_and_dtype_are_explained(tmp_path):
    path = tmp_path / "squash.py"
    path.write_text("def squash_backward(dout, cache):\n    return dout.astype('float64')\n")
    ok, text = grade(path)
    assert not ok and "float32" in text and "keep the input's dtype" in text


def test_cli_exit_status(tmp_path, capsys):
    assert main([str(EXERCISES[0])]) == 1
    assert "NOT YET" in capsys.readouterr().out
    assert main([str(tmp_path / "nope.py")]) == 1
