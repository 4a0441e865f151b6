"""Notebook 06's measuring stick: training images per second, with warm-up and repeats, each step judged against the
step before. The notebook's prose says how it measures; this is the bookkeeping (the repeats, the verdicts, the table).
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch
from torch import nn

from utils import training
from utils.guards import settings
from utils.models import CNN

WARM_UP_BATCHES = 5  # the first batches pick kernels and allocate memory: never timed
SMOKE_IMAGES_PER_REPEAT = 640  # smoke mode (CI) proves that every step runs; nobody reads its rates


@dataclass(frozen=True)
class Step:
    """One measured step: images per second of each repeat, and how it compares with the step before."""

    name: str
    rates: tuple[float, ...]
    verdict: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def low(self) -> float:
        return min(self.rates)

    @property
    def high(self) -> float:
        return max(self.rates)


class MeasuringStick:
    """Times steps one after another. Each step trains a fresh BN-CNN (same seed, Adam at 1e-3, the course's loop
    ``training.train_one_epoch``) for ``WARM_UP_BATCHES`` untimed batches, then ``repeats`` runs of
    ``images_per_repeat`` images (at most ``SMOKE_IMAGES_PER_REPEAT`` in smoke mode). A step is faster than the one
    before only if its slowest repeat beats the other's fastest, slower only if its fastest is behind the other's
    slowest; otherwise the two are within noise."""

    def __init__(self, images_per_repeat: int, repeats: int = 3) -> None:
        if settings.SMOKE:
            images_per_repeat = min(images_per_repeat, SMOKE_IMAGES_PER_REPEAT)
        self.images_per_repeat, self.repeats = images_per_repeat, repeats
        self.steps: list[Step] = []

    def measure(self, name: str, make_batches: Callable[[], Iterator], *, batch_size: int, channels_last: bool = False,
                bf16: bool = False, device: str = "cpu") -> None:
        device = torch.device(device)
        torch.manual_seed(0)
        model = CNN().to(device, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

        def train_batches(count: int) -> None:  # train_one_epoch reads its sums at the end: the device has finished
            training.train_one_epoch(model, itertools.islice(make_batches(), count), optimizer, nn.CrossEntropyLoss(),
                                     device, mixed_precision=bf16, channels_last=channels_last)

        train_batches(WARM_UP_BATCHES)
        steps = max(1, self.images_per_repeat // batch_size)
        rates = []
        for _ in range(self.repeats):
            began = time.perf_counter()
            train_batches(steps)
            rates.append(steps * batch_size / (time.perf_counter() - began))
        step = Step(name, tuple(rates))
        if self.steps:  # the verdict needs the step's own range, so it is added once the step exists
            step = replace(step, verdict=f"{self.compare(step, self.steps[-1])} the step before")
        self.steps.append(step)
        verdict = f"  {step.verdict}" if step.verdict else ""
        print(f"{name:<34} {step.median:>8,.0f} images/s (range {step.low:,.0f}-{step.high:,.0f}){verdict}")

    @staticmethod
    def compare(step: Step, before: Step) -> str:
        if step.low > before.high:
            return "faster than"
        return "slower than" if step.high < before.low else "within noise of"

    def table(self) -> str:
        """Every step: median images/s, the range of its repeats, the speed-up over the first step, the verdict."""
        first = self.steps[0].median
        lines = [f"{'step':<34} {'images/s':>9} {'range':>15} {'x textbook':>11}  verdict"]
        for step in self.steps:
            lines.append(f"{step.name:<34} {step.median:>9,.0f} {step.low:>7,.0f}-{step.high:<7,.0f} "
                         f"{step.median / first:>10.1f}x  {step.verdict}")
        return "\n".join(lines)
