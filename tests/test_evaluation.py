"""How the course measures a model (``predict_logits``) and compares two settings trained with several seeds (the
mean difference and its 95 % interval)."""

import importlib.util
import math
import re

import pytest
import scipy.stats
import torch

from utils import evaluation, models
from utils.data import InMemoryData
from utils.evaluation import paired_difference
from utils.guards import settings


def test_the_interval_is_the_mean_plus_or_minus_t_times_the_standard_error():
    difference = paired_difference([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])  # differences 1, 2, 3: mean 2, sd 1
    half_width = scipy.stats.t.ppf(0.975, df=2) / math.sqrt(3)
    assert (difference.mean, difference.seeds) == (2.0, 3)
    assert difference.low == pytest.approx(2.0 - half_width) and difference.high == pytest.approx(2.0 + half_width)
    assert round(scipy.stats.t.ppf(0.975, df=2), 2) == 4.30  # the 4.30 the docstring and notebook 03 quote


def test_an_interval_that_contains_zero_cannot_tell_the_settings_apart():
    assert paired_difference([0, 0, 0], [1, 2, 3]).verdict == "cannot tell apart with 3 seeds"
    assert paired_difference([0, 0, 0], [1.0, 1.1, 0.9]).verdict == "higher"
    assert paired_difference([1.0, 1.1, 0.9], [0, 0, 0]).verdict == "lower"


def test_more_seeds_narrow_the_interval_for_the_same_spread():
    three = paired_difference([0] * 3, [0.9, 1.0, 1.1])
    five = paired_difference([0] * 5, [0.9, 1.0, 1.1, 0.9, 1.1])
    assert five.high - five.low < three.high - three.low


def test_one_seed_has_no_interval():
    with pytest.raises(ValueError, match="at least 2 seeds"):
        paired_difference([0.9], [0.91])


def test_predict_logits_measures_the_model_without_running_its_batchnorm():
    model = models.CNN(test_time_shifts=True)
    with torch.no_grad():
        model.train()(torch.randn(64, 1, 28, 28))  # BatchNorm statistics of its own
    normalizations = []
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.register_forward_hook(lambda *_: normalizations.append(1))
    images = torch.randn(40, 1, 28, 28)
    split = InMemoryData(images, torch.arange(40) % 10, tuple("0123456789"), "mnist", "test", 0.0, 1.0)
    logits, labels = evaluation.predict_logits(model, split, torch.device("cpu"), batch_size=16)
    assert not normalizations  # folded into the convolutions: for_inference
    with torch.no_grad():
        assert torch.allclose(logits, model.eval()(images), atol=1e-5)
    assert torch.equal(labels, torch.arange(40) % 10)


def test_the_fold_benchmark_finds_no_prediction_that_changes_and_puts_the_fold_back(smoke, capsys):
    """``benchmarks/inference_fold.py`` on the shipped MNIST checkpoint: both ways ran on both splits (a row each),
    no prediction differs, and ``predict_logits`` folds again afterwards."""
    spec = importlib.util.spec_from_file_location("fold", settings.REPO_ROOT / "benchmarks" / "inference_fold.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    assert benchmark.main(["--repeats", "1"]) == 0
    row = r"^cnn-mnist\.pt\s+(validation|test)\s+[\d.]+s\s+[\d.]+s\s+[\d.]+x\s+(\d+)\s"
    rows = re.findall(row, capsys.readouterr().out, re.M)
    assert rows == [("validation", "0"), ("test", "0")]
    assert evaluation.for_inference is models.for_inference
