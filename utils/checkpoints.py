"""Save and load trained models safely: a state dict plus plain metadata, never pickled code.

A checkpoint is a dict of tensors and plain Python values (str, int, float, bool, lists, dicts), so it
loads with ``torch.load(..., weights_only=True)``: PyTorch's default since 2.6, which refuses files that
would run code while loading. Writes are atomic: a temporary file is renamed over the target only once it
is complete, so an interrupted save never destroys a good checkpoint.
"""

from __future__ import annotations

import os
import pickle
import platform
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torchvision
from torch import nn

from utils.data import display_path
from utils.models import build_model, model_name

FORMAT = "image-classification-course/1"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used, with a message that says why and what to do."""


@dataclass
class Checkpoint:
    """A loaded checkpoint: the rebuilt model (in eval mode) and its metadata."""

    model: nn.Module
    model_name: str
    dataset: str
    classes: list[str]
    mean: float
    std: float
    epoch: int
    metrics: dict[str, float]
    history: dict[str, list[float]]
    is_sample: bool = False
    recipe: dict = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    optimizer_state: dict | None = None
    path: Path | None = None


def library_versions() -> dict[str, str]:
    return {
        "torch": str(torch.__version__),
        "torchvision": str(torchvision.__version__),
        "python": platform.python_version(),
    }


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    dataset: str,
    classes: list[str] | tuple[str, ...],
    mean: float,
    std: float,
    history: dict[str, list[float]],
    is_sample: bool = False,
    recipe: dict | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> Path:
    """Write model weights and metadata (and optionally the optimizer state, for resuming) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    test_acc = history.get("test_acc") or [float("nan")]
    payload = {
        "format": FORMAT,
        "model": {"name": model_name(model), "config": dict(model.config)},
        "state_dict": {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()},
        "dataset": {
            "name": dataset,
            "classes": list(classes),
            "mean": float(mean),
            "std": float(std),
            "is_sample": bool(is_sample),
        },
        "epoch": len(history.get("train_loss", [])),
        "metrics": {"test_acc": float(test_acc[-1])},
        "history": {key: [float(v) for v in values] for key, values in history.items()},
        "recipe": dict(recipe or {}),
        "versions": library_versions(),
    }
    if optimizer is not None:
        payload["optimizer_state"] = optimizer.state_dict()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)  # atomic on the same file system
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _read(path: Path, map_location) -> dict:
    shown = display_path(path)
    if not path.exists():
        raise CheckpointError(
            f"{shown}: no such checkpoint. Train one with `python -m utils.train --model cnn "
            f"--dataset fashion-mnist --save {shown}` or run notebook 03."
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch.load raises many types on damaged files: all mean "unusable"
        if isinstance(error, pickle.UnpicklingError) and "Unsupported global" in str(error):
            raise CheckpointError(
                f"{shown} holds pickled Python objects (such as a whole model saved with torch.save(model)), "
                f"not only weights. Loading it would run code stored in the file, so "
                f"torch.load(weights_only=True) refuses it: that is a safety feature, keep it on. Save the "
                f"model's state_dict instead (utils.checkpoints.save_checkpoint), or if you trust the file's "
                f"author, load it once with weights_only=False and re-save it that way."
            ) from error
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{shown} is not a PyTorch checkpoint, or it is damaged ({reason}).") from error


def load_checkpoint(
    path: str | Path, *, map_location: str | torch.device = "cpu", expect_model: str | None = None
) -> Checkpoint:
    """Load with ``weights_only=True``, rebuild the model from the metadata, load weights, ``eval()``."""
    path = Path(path)
    payload = _read(path, map_location)
    shown = display_path(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        keys = ", ".join(list(payload)[:4]) if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(
            f"{shown} is a PyTorch file but not one of this course's checkpoints (it holds: {keys}). "
            f"Save models with utils.checkpoints.save_checkpoint."
        )
    name = payload["model"]["name"]
    if expect_model is not None and name != expect_model:
        raise CheckpointError(f"{shown} holds a {name!r} model, not a {expect_model!r}: pick the matching checkpoint.")
    model = build_model(name, **payload["model"]["config"])
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise CheckpointError(f"{shown}: its weights do not fit a {name!r} model ({first}).") from error
    model.eval()
    dataset = payload["dataset"]
    return Checkpoint(
        model=model,
        model_name=name,
        dataset=dataset["name"],
        classes=list(dataset["classes"]),
        mean=dataset["mean"],
        std=dataset["std"],
        is_sample=dataset.get("is_sample", False),
        epoch=payload["epoch"],
        metrics=dict(payload["metrics"]),
        history=dict(payload["history"]),
        recipe=dict(payload.get("recipe", {})),
        versions=dict(payload.get("versions", {})),
        optimizer_state=payload.get("optimizer_state"),
        path=path,
    )
