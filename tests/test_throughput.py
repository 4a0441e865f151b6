"""Notebook 06's measuring stick: it times what it says, in turns with the step before, and its verdicts follow the
paired differences, so that a machine slowing down between two steps cannot make either look faster."""

import pytest
import torch

from utils import data
from utils.guards import settings
from utils.machinery import throughput
from utils.machinery.throughput import MeasuringStick, Step


@pytest.mark.parametrize(
    ("rates", "before", "verdict"),
    [
        ((11.0, 21.0, 31.0), (10.0, 20.0, 30.0), "faster than"),  # the ranges overlap, yet every pair gained
        ((10.0, 20.0, 30.0), (11.0, 21.0, 31.0), "slower than"),
        ((12.0, 19.0, 31.0), (10.0, 20.0, 30.0), "cannot tell apart from"),  # the pairs disagree
    ],
)
def test_a_step_is_faster_only_if_the_interval_of_its_paired_gains_excludes_zero(rates, before, verdict):
    assert Step("after", rates, before).verdict == f"{verdict} the step before"
    assert Step("first", rates).verdict == "" and Step("first", rates).change is None


def _images(count=64):
    return data.InMemoryData(torch.randn(count, 1, 28, 28), torch.randint(0, 10, (count,)), tuple("0123456789"),
                             "mnist", "train", 0.0, 1.0)


def test_each_step_is_timed_in_turns_with_the_one_before(monkeypatch, capsys):
    monkeypatch.setattr(throughput, "WARM_UP_BATCHES", 1)
    images, seen = _images(), []

    def batches(label):
        def make():
            for x, y in data.iterate_batches(images, 16):
                seen.append(label)
                yield x, y
        return make

    stick = MeasuringStick(images_per_repeat=32, repeats=2)  # 2 batches of 16 per repeat
    stick.measure("first", batches("a"), batch_size=16)
    assert seen == ["a"] * (1 + 2 * 2)  # one warm-up batch, then its 2 repeats
    seen.clear()
    stick.measure("second", batches("b"), batch_size=16, channels_last=True)
    assert seen == ["b"] + ["a", "a", "b", "b"] + ["b", "b", "a", "a"]  # warm-up, then before-new, new-before
    first, second = stick.steps
    assert len(first.rates) == 2 and first.before_rates == () and first.verdict == ""
    assert len(second.rates) == len(second.before_rates) == 2 and second.verdict.endswith("the step before")
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("first") and "images/s" in printed[0] and "step before" not in printed[0]
    assert printed[1].startswith("second") and printed[2].startswith(f"  {second.verdict}: ")
    assert printed[2].endswith(f"the step before, in turns: {second.before_median:,.0f} images/s")
    assert stick.table().splitlines()[2].split()[0] == "second"


def test_a_machine_slowing_down_between_steps_does_not_hide_a_real_speed_up(monkeypatch):
    """The second step trains twice as fast as the first, but the machine runs at half speed while it is measured:
    timed one after the other, the two would look alike; timed in turns, the step is 2x and faster."""
    machine_speed = {"now": 1.0}
    jitter = iter([1.0, 1.01, 0.99, 1.02, 0.98, 1.0] * 10)

    def images_per_second(self, images):
        return 100.0 * (2 if self.batch_size == 32 else 1) * machine_speed["now"] * next(jitter)

    monkeypatch.setattr(throughput._TimedStep, "images_per_second", images_per_second)
    monkeypatch.setattr(throughput, "WARM_UP_BATCHES", 1)
    images = _images()
    stick = MeasuringStick(images_per_repeat=64, repeats=3)
    stick.measure("batch 16", lambda: iter(data.iterate_batches(images, 16)), batch_size=16)
    machine_speed["now"] = 0.5
    stick.measure("batch 32", lambda: iter(data.iterate_batches(images, 32)), batch_size=32)
    first, second = stick.steps
    assert second.median == pytest.approx(first.median, rel=0.05)  # alike, one after the other
    assert second.times_textbook == pytest.approx(2.0, rel=0.05) and second.verdict == "faster than the step before"
    row = stick.table().splitlines()[2]
    assert row.split()[3:5] == [f"{second.times_textbook:.2f}x", "faster"]
    assert row.endswith(f"{second.before_median:,.0f}")


def test_a_paired_interval_needs_two_repeats():
    with pytest.raises(ValueError, match="at least 2 repeats"):
        MeasuringStick(images_per_repeat=64, repeats=1)


@pytest.mark.parametrize("smoke", [True, False])
def test_smoke_mode_times_a_short_stretch_and_a_learners_run_the_whole_one(monkeypatch, smoke):
    """CI runs notebook 06 in smoke mode: its steps need only run, not be measured at the notebook's full size."""
    monkeypatch.setattr(settings, "SMOKE", smoke)
    monkeypatch.setattr(throughput, "WARM_UP_BATCHES", 1)
    images, trained = _images(), []

    def endless_batches():
        while True:
            for x, y in data.iterate_batches(images, 64):
                trained.append(len(y))
                yield x, y

    stick = MeasuringStick(images_per_repeat=1_280, repeats=2)
    stick.measure("only", endless_batches, batch_size=64)
    timed = throughput.SMOKE_IMAGES_PER_REPEAT if smoke else 1_280
    assert stick.images_per_repeat == timed and sum(trained) == 64 + 2 * timed  # one warm-up batch, then 2 repeats
