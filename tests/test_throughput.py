"""Notebook 06's measuring stick: it times what it says, and its verdicts follow the ranges of the repeats."""

import pytest
import torch

from utils import data
from utils.guards import settings
from utils.machinery import throughput
from utils.machinery.throughput import MeasuringStick, Step


@pytest.mark.parametrize(
    ("rates", "before", "verdict"),
    [
        ((10.0, 11.0, 12.0), (7.0, 8.0, 9.0), "faster than"),
        ((7.0, 8.0, 9.0), (10.0, 11.0, 12.0), "slower than"),
        ((8.0, 10.0, 12.0), (9.0, 11.0, 13.0), "within noise of"),  # the ranges overlap
        ((9.0, 10.0, 11.0), (7.0, 8.0, 9.0), "within noise of"),  # touching is not beating
    ],
)
def test_a_step_is_faster_only_if_its_slowest_repeat_beats_the_others_fastest(rates, before, verdict):
    assert MeasuringStick.compare(Step("after", rates), Step("before", before)) == verdict


def test_each_step_trains_its_images_and_is_judged_against_the_one_before(monkeypatch, capsys):
    monkeypatch.setattr(throughput, "WARM_UP_BATCHES", 1)
    images = data.InMemoryData(torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,)), tuple("0123456789"),
                               "mnist", "train", 0.0, 1.0)
    seen = []

    def batches():
        for x, y in data.iterate_batches(images, 16):
            seen.append(len(y))
            yield x, y

    stick = MeasuringStick(images_per_repeat=32, repeats=2)
    stick.measure("first", batches, batch_size=16)
    stick.measure("second", batches, batch_size=16, channels_last=True)
    assert seen == [16] * (1 + 2 * 2) * 2  # per step: one warm-up batch, then 2 repeats of 32 images
    first, second = stick.steps
    assert len(first.rates) == 2 and all(rate > 0 for rate in first.rates) and first.verdict == ""
    assert second.verdict.endswith("the step before")
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("first") and "images/s" in printed[0]
    assert stick.table().splitlines()[2].split()[0] == "second"


@pytest.mark.parametrize("smoke", [True, False])
def test_smoke_mode_times_a_short_stretch_and_a_learners_run_the_whole_one(monkeypatch, smoke):
    """CI runs notebook 06 in smoke mode: its steps need only run, not be measured at the notebook's 6,400 images."""
    monkeypatch.setattr(settings, "SMOKE", smoke)
    monkeypatch.setattr(throughput, "WARM_UP_BATCHES", 1)
    images = data.InMemoryData(torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,)), tuple("0123456789"),
                               "mnist", "train", 0.0, 1.0)
    trained = []

    def endless_batches():
        while True:
            for x, y in data.iterate_batches(images, 64):
                trained.append(len(y))
                yield x, y

    stick = MeasuringStick(images_per_repeat=1_280, repeats=1)
    stick.measure("only", endless_batches, batch_size=64)
    timed = throughput.SMOKE_IMAGES_PER_REPEAT if smoke else 1_280
    assert stick.images_per_repeat == timed and sum(trained) == 64 + timed  # one warm-up batch, then one repeat
