"""Evaluate a trained model on a whole split: predictions, confusion matrix, per-class metrics, errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import classification_report, confusion_matrix
from torch import nn

from utils.data import InMemoryData
from utils.training import pick_device, predict_logits


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


def predict(model: nn.Module, data: InMemoryData, *, device: str | None = None) -> Predictions:
    """Run ``model`` over every image of ``data`` (``training.predict_logits``: eval mode, float32), so its
    accuracy is exactly the one ``fit`` printed and the checkpoint recorded."""
    device = pick_device(device)
    logits, labels = predict_logits(model.to(device), data, device)
    return Predictions(logits=logits.cpu(), labels=labels.cpu())


def confusion(predictions: Predictions, num_classes: int) -> np.ndarray:
    """Counts: row = true class, column = predicted class (scikit-learn's convention)."""
    return confusion_matrix(predictions.labels.numpy(), predictions.predicted.numpy(), labels=range(num_classes))


def report(predictions: Predictions, classes: Sequence[str], *, as_dict: bool = False):
    """Precision, recall, F1 and support per class (scikit-learn's classification report)."""
    return classification_report(
        predictions.labels.numpy(),
        predictions.predicted.numpy(),
        labels=range(len(classes)),
        target_names=list(classes),
        digits=4,
        output_dict=as_dict,
        zero_division=0,
    )


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
