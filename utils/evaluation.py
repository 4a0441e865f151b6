"""Evaluate a trained model on a whole split: the one pass every accuracy comes from (``predict_logits``), loss and
accuracy (``evaluate``, what ``fit`` reports after each epoch), predictions, per-class accuracy, confused pairs;
and how to compare two settings trained with several seeds (``paired_difference``, notebook 03)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.stats
import torch
import torch.nn.functional as F
from torch import nn

from utils.data import Batches, InMemoryData, iterate_batches
from utils.hardware import pick_device
from utils.models import for_inference


def _as_batches(data: InMemoryData | Batches, batch_size: int, shuffle: bool, generator) -> Batches:
    """``data`` as batches: an ``InMemoryData`` sliced by ``iterate_batches``; a ``DataLoader`` as it is."""
    is_tensors = isinstance(data, InMemoryData)
    return iterate_batches(data, batch_size, shuffle=shuffle, generator=generator) if is_tensors else data


# Printed by notebook 02 (inspect.getsource): after editing it, re-run that notebook in full mode.
@torch.inference_mode()
def predict_logits(
    model: nn.Module, data: InMemoryData | Batches, device: torch.device, *, batch_size: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 logits and the labels of every sample of ``data``, in order: the one pass that every accuracy in
    the course comes from (``fit``'s report, the checkpoints' metrics, notebook 04's evaluation).

    Eval mode (dropout off, BatchNorm uses its running statistics), no autograd, no autocast, and always the
    channels_last memory layout (the faster one for convolutions: see notebook 06), so the numbers do not depend on
    how the model was trained.
    """
    model.eval().to(memory_format=torch.channels_last)
    fast = for_inference(model)  # the same logits, sooner: BatchNorm folded into the convolutions
    logits, labels = [], []
    for x, y in _as_batches(data, batch_size, False, None):
        logits.append(fast(x.to(device).contiguous(memory_format=torch.channels_last)).float())
        labels.append(y.to(device))
    return torch.cat(logits), torch.cat(labels)


# Printed by notebook 02 (inspect.getsource): after editing it, re-run that notebook in full mode.
def evaluate(model: nn.Module, data: InMemoryData | Batches, device: torch.device) -> tuple[float, float]:
    """Cross-entropy (plain, without label smoothing, so that every model is measured alike) and accuracy."""
    logits, labels = predict_logits(model, data, device)
    return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).sum().item() / len(labels)


@dataclass
class Predictions:
    """Everything one pass over a split gives, on the CPU, in the split's order."""

    logits: torch.Tensor  # (N, classes) float32
    labels: torch.Tensor  # (N,) true classes

    @property
    def probabilities(self) -> torch.Tensor:
        return self.logits.softmax(1)

    @property
    def predicted(self) -> torch.Tensor:
        return self.logits.argmax(1)

    @property
    def confidence(self) -> torch.Tensor:
        """The probability the model gave to the class it predicted."""
        return self.probabilities.max(1).values

    @property
    def correct(self) -> torch.Tensor:
        return self.predicted == self.labels

    @property
    def loss(self) -> torch.Tensor:
        """Cross-entropy of each sample: high when the model was confidently wrong."""
        return F.cross_entropy(self.logits, self.labels, reduction="none")

    @property
    def accuracy(self) -> float:
        return self.correct.sum().item() / len(self.labels)


# Printed by notebook 04 (inspect.getsource): after editing it, re-run that notebook in full mode.
def predict(model: nn.Module, data: InMemoryData, *, device: str | None = None) -> Predictions:
    """Run ``model`` over every image of ``data`` (``predict_logits``: eval mode, float32, test-time views included),
    so its accuracy is exactly the one the checkpoint recorded (``workflow.final_metrics``)."""
    device = pick_device(device)
    logits, labels = predict_logits(model.to(device), data, device)
    return Predictions(logits=logits.cpu(), labels=labels.cpu())


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """The share of each true class that was predicted right (the diagonal over the row sums)."""
    return np.diag(matrix) / matrix.sum(axis=1).clip(min=1)


def most_confused_pairs(matrix: np.ndarray, classes: Sequence[str], top: int = 10) -> list[tuple[str, str, int, float]]:
    """The largest off-diagonal cells: (true class, predicted as, count, share of the true class)."""
    off_diagonal = matrix.copy()
    np.fill_diagonal(off_diagonal, 0)
    order = np.argsort(off_diagonal, axis=None)[::-1][:top]
    rows = []
    for flat in order:
        true, guess = np.unravel_index(flat, matrix.shape)
        count = int(off_diagonal[true, guess])
        if count == 0:
            break
        rows.append((classes[true], classes[guess], count, count / matrix[true].sum()))
    return rows


def format_pairs(rows: list[tuple[str, str, int, float]]) -> str:
    """The most-confused pairs as an aligned text table."""
    lines = [f"{'rank':>4}  {'true class':<14}{'predicted as':<14}{'count':>6}  {'of its class':>12}"]
    for rank, (true, guess, count, share) in enumerate(rows, 1):
        lines.append(f"{rank:>4}  {true:<14}{guess:<14}{count:>6}  {share:>12.1%}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Difference:
    """How much a change moved a measurement over seeds: the mean difference and its 95 % confidence interval."""

    mean: float
    low: float
    high: float
    seeds: int

    @property
    def verdict(self) -> str:
        """"cannot tell apart" where the interval contains 0; otherwise which way the change went."""
        if self.low <= 0 <= self.high:
            return f"cannot tell apart with {self.seeds} seeds"
        return "higher" if self.mean > 0 else "lower"

    def __str__(self) -> str:
        interval = f"95 % interval {self.low:+.4f} to {self.high:+.4f}"
        return f"{self.mean:+.4f} ({interval}, {self.seeds} seeds): {self.verdict}"


# Printed by notebook 03 (inspect.getsource): after editing it, re-run that notebook in full mode.
def paired_difference(before: Sequence[float], after: Sequence[float], confidence: float = 0.95) -> Difference:
    """The mean of ``after[i] - before[i]``, each pair measured with the same seed, and its confidence interval:
    mean ± t × (standard deviation of the differences) / √n, where t is Student's t for n − 1 degrees of freedom
    (4.30 for 3 seeds, 2.78 for 5, 2.26 for 10): few seeds make the interval wide."""
    differences = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    seeds = len(differences)
    if seeds < 2:
        raise ValueError("a confidence interval needs at least 2 seeds")
    mean = float(differences.mean())
    t = scipy.stats.t.ppf((1 + confidence) / 2, df=seeds - 1)
    half_width = t * float(differences.std(ddof=1)) / math.sqrt(seeds)
    return Difference(mean, mean - half_width, mean + half_width, seeds)
