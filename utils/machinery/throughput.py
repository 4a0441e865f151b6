"""Notebook 06's measuring stick: training images per second, each step timed in turns with the step before it and
judged by the paired difference (the mean and its 95 % interval, as notebook 03 compares seeds). The notebook's prose
says how it measures; this is the bookkeeping (the turns, the verdicts, the table).
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from utils import training
from utils.evaluation import Difference, paired_difference
from utils.guards import settings
from utils.models import CNN

WARM_UP_BATCHES = 5  # the first batches pick kernels and allocate memory: never timed
SMOKE_IMAGES_PER_REPEAT = 256  # smoke mode (CI) proves that every step runs; nobody reads its rates


@dataclass(frozen=True)
class Step:
    """One measured step: images per second of each repeat and, from the second step on, how much faster it trained
    than the step before, in images per second, paired repeat by repeat (``before_rates`` were timed in turns)."""

    name: str
    rates: tuple[float, ...]
    before_rates: tuple[float, ...] = ()
    times_textbook: float = 1.0  # the speed-up over the first step: each step's ratio to the one before, multiplied

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def low(self) -> float:
        return min(self.rates)

    @property
    def high(self) -> float:
        return max(self.rates)

    @property
    def before_median(self) -> float | None:
        return statistics.median(self.before_rates) if self.before_rates else None

    @property
    def change(self) -> Difference | None:
        return paired_difference(self.before_rates, self.rates) if self.before_rates else None

    @property
    def direction(self) -> str:
        """"faster", "slower" or "cannot tell apart" (more images per second is faster); "" for the first step."""
        if self.change is None:
            return ""
        return {"higher": "faster", "lower": "slower"}.get(self.change.verdict, "cannot tell apart")

    @property
    def verdict(self) -> str:
        """The direction as a sentence: "faster than the step before", ..., "cannot tell apart from the step before"."""
        if not self.direction:
            return ""
        return f"{self.direction} {'from' if self.direction == 'cannot tell apart' else 'than'} the step before"


class _TimedStep:
    """A fresh BN-CNN (seed 0, Adam at 1e-3) trained by the course's loop ``training.train_one_epoch``, warmed up."""

    def __init__(self, make_batches: Callable[[], Iterator], batch_size: int, channels_last: bool, bf16: bool,
                 device: str) -> None:
        self.make_batches, self.batch_size = make_batches, batch_size
        self.channels_last, self.bf16 = channels_last, bf16
        self.device = torch.device(device)
        torch.manual_seed(0)
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = CNN().to(self.device, memory_format=memory_format)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.train_batches(WARM_UP_BATCHES)

    def train_batches(self, count: int) -> None:  # train_one_epoch reads its sums at the end: the device has finished
        training.train_one_epoch(self.model, itertools.islice(self.make_batches(), count), self.optimizer,
                                 nn.CrossEntropyLoss(), self.device, mixed_precision=self.bf16,
                                 channels_last=self.channels_last)

    def images_per_second(self, images: int) -> float:
        steps = max(1, images // self.batch_size)
        began = time.perf_counter()
        self.train_batches(steps)
        return steps * self.batch_size / (time.perf_counter() - began)


class MeasuringStick:
    """Times steps one after another, each ``repeats`` runs of ``images_per_repeat`` training images (at most
    ``SMOKE_IMAGES_PER_REPEAT`` in smoke mode) after ``WARM_UP_BATCHES`` untimed batches. From the second step on,
    the step before is timed again in turns with it (before, new, new, before, ...), so that a machine that slows
    down for a while slows both alike, and the step is judged by the mean difference of the pairs and its 95 %
    interval: faster or slower only where the interval excludes 0."""

    def __init__(self, images_per_repeat: int, repeats: int = 5) -> None:
        if settings.SMOKE:
            images_per_repeat = min(images_per_repeat, SMOKE_IMAGES_PER_REPEAT)
        if repeats < 2:
            raise ValueError("a paired interval needs at least 2 repeats")
        self.images_per_repeat, self.repeats = images_per_repeat, repeats
        self.steps: list[Step] = []
        self._last: _TimedStep | None = None

    def measure(self, name: str, make_batches: Callable[[], Iterator], *, batch_size: int, channels_last: bool = False,
                bf16: bool = False, device: str = "cpu") -> None:
        new, before = _TimedStep(make_batches, batch_size, channels_last, bf16, device), self._last
        rates, before_rates = [], []
        for repeat in range(self.repeats):
            # alternate which goes first, so that a machine speeding up or slowing down favours neither
            order = [(before, before_rates), (new, rates)]
            if repeat % 2:
                order.reverse()
            for timed, into in order:
                if timed is not None:
                    into.append(timed.images_per_second(self.images_per_repeat))
        times_textbook = 1.0
        if self.steps:  # the ratio of two medians timed in turns, so the machine's mood cancels out of the product
            times_textbook = self.steps[-1].times_textbook * statistics.median(rates) / statistics.median(before_rates)
        step = Step(name, tuple(rates), tuple(before_rates), times_textbook)
        self.steps.append(step)
        self._last = new
        print(f"{name:<34} {step.median:>8,.0f} images/s (range {step.low:,.0f}-{step.high:,.0f})")
        if step.change is not None:  # the verdict first: on a narrow screen the end of a long line is cut off
            change = step.change
            print(f"  {step.verdict}: {change.mean:+,.0f} images/s (95 % interval {change.low:+,.0f} to "
                  f"{change.high:+,.0f}); the step before, in turns: {step.before_median:,.0f} images/s")

    def table(self) -> str:
        """Every step: the median of its repeats, the speed-up over the first step, the verdict, the change (mean of
        the pairs with its 95 % interval) and the step before's median timed in turns with it. The columns a reader
        needs first come first: on a narrow screen the end of a row is cut off."""
        lines = [f"{'step':<32} {'images/s':>8} {'x textbook':>10}  {'verdict':<18} {'change (95 % interval)':>30} "
                 f"{'before, in turns':>16}"]
        for step in self.steps:
            change = step.change
            interval = f"{change.mean:+,.0f} ({change.low:+,.0f} to {change.high:+,.0f})" if change else ""
            before = f"{step.before_median:,.0f}" if change else ""
            lines.append(f"{step.name:<32} {step.median:>8,.0f} {step.times_textbook:>9.2f}x  "
                         f"{step.direction or '-':<18} {interval:>30} {before:>16}".rstrip())
        return "\n".join(lines)
