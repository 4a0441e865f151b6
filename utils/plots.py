"""Pictures the course draws more than once: image grids, class balance, training curves, confusion
matrices. Each function draws one figure and returns it (notebooks end the cell with ``plt.show()``)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.figure import Figure

RIGHT, WRONG = "tab:green", "tab:red"


def image_grid(images: torch.Tensor, titles: Sequence[str] | None = None, *, ncols: int = 8,
               colors: Sequence[str] | None = None, size: float = 1.4, suptitle: str | None = None) -> Figure:
    """Show (N, 1, 28, 28) or (N, 28, 28) images in a grid, grey on white, with optional coloured titles."""
    images = images.detach().cpu().float()
    if images.ndim == 4:
        images = images[:, 0]
    count = len(images)
    nrows = max(1, -(-count // ncols))
    ncols = min(ncols, count)
    # Room above each image for its title, line by line, so that two-line titles clear the row above.
    title_lines = max((str(title).count("\n") + 1 for title in titles), default=0) if titles is not None else 0
    title_space = 0.2 * title_lines + 0.1 if title_lines else 0.0
    figsize = (ncols * size, nrows * (size + title_space))
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        ax.imshow(images[index].numpy(), cmap="gray_r" if images.min() >= 0 else "gray")
        if titles is not None:
            ax.set_title(titles[index], fontsize=9, color=colors[index] if colors else "black")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def predictions_grid(images: torch.Tensor, labels: Sequence[int], predicted: Sequence[int], classes: Sequence[str],
                     *, probabilities: Sequence[float] | None = None, probability_of: str = "predicted",
                     ncols: int = 5, size: float = 1.8, suptitle: str | None = None) -> Figure:
    """Images titled actual → predicted, green when right and red when wrong.

    ``probabilities`` are shown beside the predicted class, or beside the actual class with
    ``probability_of="actual"`` (the probability a sample's loss is the negative log of).
    """
    if probability_of not in ("predicted", "actual"):
        raise ValueError(f"probability_of is 'predicted' or 'actual', not {probability_of!r}")
    titles, colors = [], []
    for index, (true, guess) in enumerate(zip(labels, predicted)):
        shown = f" ({probabilities[index]:.0%})" if probabilities is not None else ""
        if probability_of == "actual":
            title = f"{classes[int(true)]}{shown}\n→ {classes[int(guess)]}"
        else:
            title = f"{classes[int(true)]}\n→ {classes[int(guess)]}{shown}"
        titles.append(title)
        colors.append(RIGHT if int(true) == int(guess) else WRONG)
    return image_grid(images, titles, ncols=ncols, colors=colors, size=size, suptitle=suptitle)


def class_balance(labels: torch.Tensor, classes: Sequence[str], title: str = "Images per class") -> Figure:
    counts = torch.bincount(labels.cpu(), minlength=len(classes)).numpy()
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar(range(len(classes)), counts, color="tab:blue")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_ylabel("images")
    ax.set_title(title)
    for x, count in enumerate(counts):
        ax.text(x, count, f"{count:,}", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, counts.max() * 1.15)
    fig.tight_layout()
    return fig


def training_curves(histories: dict[str, object], title: str = "") -> Figure:
    """Loss and accuracy per epoch, train (dashed) vs validation (solid), for one or several runs.

    ``histories`` maps a run name to a ``training.History``. The validation loss is plain cross-entropy for
    every model; the training loss is what the optimizer minimised (label smoothing included, where a recipe uses
    it), so it is drawn for a single run only: across recipes it would not compare like with like.
    """
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    for (name, history), color in zip(histories.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        epochs = np.arange(1, len(history.train_loss) + 1)
        prefix = f"{name}: " if len(histories) > 1 else ""
        if len(histories) == 1:
            loss_ax.plot(epochs, history.train_loss, "--o", color=color, markersize=3, label="train (as optimized)")
        loss_ax.plot(epochs, history.val_loss, "-o", color=color, markersize=3, label=f"{prefix}validation")
        acc_ax.plot(epochs, history.train_acc, "--o", color=color, markersize=3, label=f"{prefix}train (running)")
        acc_ax.plot(epochs, history.val_acc, "-o", color=color, markersize=3, label=f"{prefix}validation")
    for ax, label in ((loss_ax, "loss (validation: cross-entropy)"), (acc_ax, "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_heatmap(matrix: np.ndarray, classes: Sequence[str], *, normalize: bool = False,
                      title: str | None = None) -> Figure:
    """A seaborn heatmap of a confusion matrix: rows are the true class, columns the prediction."""
    values = matrix / matrix.sum(axis=1, keepdims=True) if normalize else matrix
    fig, ax = plt.subplots(figsize=(8, 6.5))
    sns.heatmap(values, annot=True, fmt=".2f" if normalize else "d", cmap="Blues", cbar=False, xticklabels=classes,
                yticklabels=classes, ax=ax, annot_kws={"fontsize": 8})
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("Confusion matrix (each row sums to 1)" if normalize else "Confusion matrix (counts)"))
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    plt.setp(ax.get_yticklabels(), rotation=0)
    fig.tight_layout()
    return fig


def per_class_bars(values: Sequence[float], classes: Sequence[str], title: str = "Accuracy per class") -> Figure:
    """A horizontal bar per class, worst at the top, with the value written on each bar; the axis starts at 0."""
    order = np.argsort(values)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(classes) + 1))
    ax.barh([classes[i] for i in order], [values[i] for i in order], color="tab:blue")
    for y, index in enumerate(order):
        ax.text(values[index], y, f" {values[index]:.1%}", va="center", fontsize=8)
    ax.set_xlim(0, 1.12)  # from 0, so a bar's length is its accuracy (room on the right for the labels)
    ax.set_xlabel("accuracy (recall)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def confidence_histogram(confidence: torch.Tensor, correct: torch.Tensor, title: str = "") -> Figure:
    """How sure the model was, separately for right and wrong predictions (each normalized to 1)."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    bins = np.linspace(0.1, 1.0, 37)
    for mask, label, color in ((correct, "right", RIGHT), (~correct, "wrong", WRONG)):
        if mask.any():
            ax.hist(confidence[mask].numpy(), bins=bins, alpha=0.6, color=color, density=True,
                    label=f"{label} ({int(mask.sum()):,})")
    ax.set_xlabel("probability of the predicted class")
    ax.set_ylabel("density")
    ax.set_title(title or "Confidence of right and wrong predictions")
    ax.legend()
    fig.tight_layout()
    return fig
