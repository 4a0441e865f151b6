"""Whether a file is a checkpoint this course saved, checked before anything in it is trusted or allocated.

``read_checkpoint_file`` reads a file with ``torch.load(weights_only=True)`` (no pickled code can run), names a file
that is something else (a PNG, a gzip, a NumPy array, text, a whole pickled model), checks every field against what
``checkpoints.save_checkpoint`` writes and the dataset's record, and compares every tensor's name, shape and kind with
the model on PyTorch's ``meta`` device, so an edited file cannot make it allocate gigabytes. ``check_writable`` refuses,
before any training, a path a checkpoint cannot be written to. Each problem is one ``CheckpointError`` line.
"""

from __future__ import annotations

import math
import os
import pickle
import tempfile
from pathlib import Path

import torch
from torch import nn

from utils.datasets import DATASETS
from utils.guards.files import refuse_special, special_kind, write_whole
from utils.guards.settings import display_path
from utils.guards.text import safe_text
from utils.models import MODELS, build_model

FORMAT = "image-classification-course/2"  # 2: validation split; metrics hold val_acc and test_acc


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used, with a message that says why and what to do."""


def read_checkpoint_file(
    path: Path, map_location: str | torch.device = "cpu", expect_model: str | None = None
) -> tuple[dict, dict]:
    """``(fields, weights)`` of a checkpoint file once every check has passed: ``fields`` are the ``Checkpoint``'s
    metadata (and the model's ``config``), ``weights`` a state dict that fits the model they describe."""
    payload = _read(path, map_location)
    shown = display_path(path)
    _check_format(payload, shown)
    name, config = _model_of(payload, shown, expect_model)
    dataset_name, classes, mean, std, is_sample = _dataset_of(payload, shown)
    epoch = _field(payload, "epoch", int, shown)
    metrics = _field(payload, "metrics", dict, shown)
    _number(metrics.get("val_acc"), shown, "recorded validation accuracy", 0.0, 1.0)
    if "test_acc" in metrics:
        _number(metrics["test_acc"], shown, "recorded test accuracy", 0.0, 1.0)
    history = _field(payload, "history", dict, shown)
    if epoch < 1 or not all(isinstance(values, list) for values in history.values()):
        raise CheckpointError(f"{shown}: its epoch count or history is not valid. Train and save it again.")
    recipe, versions = (_optional(payload, key, dict, shown, {}) for key in ("recipe", "versions"))
    weights = _field(payload, "state_dict", dict, shown)
    outputs = _check_weights(name, config, weights, shown).config.get("num_classes")
    if outputs != len(classes):
        raise CheckpointError(f"{shown}: its model has {outputs} outputs for {len(classes)} classes. Train it again.")
    fields = dict(
        model_name=name, config=dict(config), dataset=dataset_name, classes=classes, mean=mean, std=std,
        is_sample=is_sample, epoch=epoch, metrics=dict(metrics), history=dict(history), recipe=dict(recipe),
        versions=dict(versions), optimizer_state=payload.get("optimizer_state"),
    )
    return fields, weights


def write_checkpoint_file(path: str | Path, payload: dict) -> Path:
    """``torch.save(payload)`` to ``path``, whole or not at all, after checking the path can be written; any failure is
    one ``CheckpointError`` line that says a file already there is unchanged."""
    path = Path(path)
    check_writable(path)
    try:  # to a temporary file, renamed over ``path`` once complete: an interrupted save never damages a good file
        return write_whole(path, lambda temporary: torch.save(payload, temporary), CheckpointError)
    except CheckpointError:
        raise
    except (OSError, RuntimeError) as error:  # a full disk comes out of torch.save as a RuntimeError
        reason = getattr(error, "strerror", None) or str(error).strip().splitlines()[0] or type(error).__name__
        shown = display_path(path)
        raise CheckpointError(f"could not write {shown} ({reason}); a file already there is unchanged") from None


def path_names_a_folder(path: str | Path) -> bool:
    """``newdir/``: a path that ends in a separator names a folder, even one that does not exist yet (``Path``
    drops the trailing slash, and the file would be written as ``newdir``)."""
    return str(path).endswith(tuple(separator for separator in ("/", os.sep, os.altsep) if separator))


def check_writable(path: str | Path) -> None:
    """Refuse, before any training, a checkpoint path that cannot be written (a folder, a path under a
    file, a read-only folder, a device, a pipe or a socket, a symbolic link loop)."""
    shown, kind = display_path(Path(path)), special_kind(path)
    if path_names_a_folder(path) and kind is None and Path(path).exists():
        raise CheckpointError(f"{shown} is a file, not a folder: give the file's own path, without a trailing /")
    if path_names_a_folder(path) or kind == "a folder":
        raise CheckpointError(
            f"{shown} is a folder; give a file name such as {display_path(Path(path) / 'model.pt')}"
        )
    path = Path(path)
    refuse_special(path, CheckpointError)  # a device, a pipe, a socket, a link loop, a name too long
    blocking = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise CheckpointError(f"cannot write {shown}: {display_path(blocking)} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(13, "the file there is read-only")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise CheckpointError(f"cannot write {shown} ({reason}): choose a path in a folder you can write to") from None


def train_hint(path: Path) -> str:
    """The command that makes the checkpoint ``path`` names: ``cnn-mnist.pt`` -> ``--model cnn --dataset mnist``."""
    for model in MODELS:
        for dataset in DATASETS:
            if path.stem == f"{model}-{dataset}":
                return f"`python -m utils.train --model {model} --dataset {dataset} --save {display_path(path)}`"
    models, datasets = "|".join(MODELS), "|".join(DATASETS)
    return f"`python -m utils.train --model {{{models}}} --dataset {{{datasets}}} --save {display_path(path)}`"



# What a file is, from its first bytes: a checkpoint is a zip archive (PyTorch's format since 1.6) or, from older
# versions, a pickle; anything else is named for what it is rather than blamed on the pickle check.
_NOT_A_CHECKPOINT = {
    b"\x1f\x8b": "gzip-compressed: decompress it first (gunzip FILE)",
    b"\x93NUMPY": "a NumPy array file (np.save), not a PyTorch checkpoint",
    b"\x89PNG": "a PNG image, not a PyTorch checkpoint",
    b"\xff\xd8\xff": "a JPEG image, not a PyTorch checkpoint",
}
_TORCH_MAGIC = (b"PK\x03\x04", b"\x80")


def _read(path: Path, map_location) -> dict:
    shown = display_path(path)
    kind = special_kind(path)
    if kind is not None:
        raise CheckpointError(f"{shown} is {kind}, not a checkpoint file.")
    if not path.is_file():
        raise CheckpointError(f"{shown}: no such checkpoint. Train one with {train_hint(path)} or run notebook 03.")
    try:
        with open(path, "rb") as file:
            head = file.read(8)
    except OSError as error:
        raise CheckpointError(f"{shown} cannot be read ({error.strerror or type(error).__name__}).") from None
    described = next((what for magic, what in _NOT_A_CHECKPOINT.items() if head.startswith(magic)), None)
    if described is None and not head.startswith(_TORCH_MAGIC):
        described = "empty" if not head else "not a PyTorch checkpoint (it does not start like one"
        described += "" if not head else (", it looks like text)" if _looks_like_text(path) else ")")
    if described is not None:
        raise CheckpointError(f"{shown} is {described}.")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch.load raises many types on damaged files: all mean "unusable"
        if isinstance(error, pickle.UnpicklingError) and "weights only load failed" in str(error).lower():
            raise CheckpointError(
                f"{shown} holds pickled Python objects (such as a whole model saved with torch.save(model)), "
                f"not only weights. A pickle can name any function to call while loading, so "
                f"torch.load(weights_only=True) refuses it: that is a safety feature, keep it on. Save the "
                f"model's state_dict instead (utils.checkpoints.save_checkpoint)."
            ) from None
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{shown} is not a PyTorch checkpoint, or it is damaged ({safe_text(reason)}).") from None


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as file:
        text = file.read(512).decode("utf-8", errors="replace").rstrip("\ufffd")  # a cut multi-byte character
    return all(character.isprintable() or character in "\n\r\t" for character in text)


def _field(payload: dict, key: str, kind: type, shown: str, where: str = ""):
    value = payload.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CheckpointError(
            f"{shown}: its {where}{key!r} is missing or not valid, so it was not saved by this course's "
            f"save_checkpoint (or it was edited). Train and save it again."
        )
    return value


def _optional(payload: dict, key: str, kind: type, shown: str, default, where: str = ""):
    """An older checkpoint may lack ``key``; if it has it, it must be valid."""
    return _field(payload, key, kind, shown, where) if key in payload else default


def _number(value, shown: str, what: str, low: float, high: float = math.inf) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise CheckpointError(f"{shown}: its {what} is {value!r}, which no trained model has. Train and save it again.")
    return float(value)


def build_model_without_memory(name: str, config: dict) -> nn.Module:
    """The model a configuration describes, on PyTorch's ``meta`` device: shapes and dtypes without storage, so an
    edited configuration (``hidden: [60000, 60000]``) cannot allocate gigabytes before its weights are compared."""
    with torch.device("meta"):
        return build_model(name, **config)


def _check_weights_fit(skeleton: nn.Module, weights: dict) -> None:
    """Compare every tensor's name, shape and kind (floating point or not) with the model's, before building it."""
    expected = skeleton.state_dict()
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or unexpected:
        which = f"missing {', '.join(missing[:3])}" if missing else f"unexpected {', '.join(unexpected[:3])}"
        raise ValueError(f"{which}")
    for key, want in expected.items():
        have = weights[key]
        if not torch.is_tensor(have):
            raise ValueError(f"{key} is a {type(have).__name__}, not a tensor")
        if have.shape != want.shape:
            raise ValueError(
                f"size mismatch for {key}: the file has {tuple(have.shape)}, the model needs {tuple(want.shape)}"
            )
        if have.is_floating_point() != want.is_floating_point():
            raise ValueError(f"{key} holds {have.dtype} values, the model needs {want.dtype}")



def _check_format(payload, shown: str) -> None:
    """A dict saved by this version of the course's ``save_checkpoint``, or one clear error."""
    if isinstance(payload, dict) and str(payload.get("format", "")).startswith("image-classification-course/"):
        if payload["format"] != FORMAT:
            raise CheckpointError(
                f"{shown} was saved by another version of the course ({safe_text(payload['format'])[:80]}, this "
                f"one reads {FORMAT}). Train and save it again."
            )
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        keys = (
            ", ".join(safe_text(key)[:40] for key in list(payload)[:4])
            if isinstance(payload, dict)
            else type(payload).__name__
        )
        raise CheckpointError(
            f"{shown} is a PyTorch file but not one of this course's checkpoints (it holds: {keys}). "
            f"Save models with utils.checkpoints.save_checkpoint."
        )


def _model_of(payload: dict, shown: str, expect_model: str | None) -> tuple[str, dict]:
    """The model's course name and constructor arguments."""
    model_info = _field(payload, "model", dict, shown)
    name = _field(model_info, "name", str, shown, "model ")
    if name not in MODELS:
        raise CheckpointError(f"{shown} holds a {name!r} model, which this course does not have ({', '.join(MODELS)}).")
    if expect_model is not None and name != expect_model:
        raise CheckpointError(f"{shown} holds a {name!r} model, not a {expect_model!r}: pick the matching checkpoint.")
    return name, _field(model_info, "config", dict, shown, "model ")


def _dataset_of(payload: dict, shown: str) -> tuple[str, list[str], float, float, bool]:
    """The dataset's name, classes, normalization and whether it was an offline sample, checked against its record."""
    dataset = _field(payload, "dataset", dict, shown)
    dataset_name = _field(dataset, "name", str, shown, "dataset ")
    if dataset_name not in DATASETS:
        raise CheckpointError(
            f"{shown} was trained on {dataset_name!r}, which this course does not have ({', '.join(DATASETS)})."
        )
    classes = _field(dataset, "classes", list, shown, "dataset ")
    if classes != list(DATASETS[dataset_name].classes):
        raise CheckpointError(
            f"{shown} lists {len(classes)} classes that are not {dataset_name}'s {len(DATASETS[dataset_name].classes)}:"
            f" it was edited or made elsewhere. Train and save it again."
        )
    mean = _number(dataset.get("mean"), shown, "normalization mean", -1.0, 1.0)
    std = _number(dataset.get("std"), shown, "normalization std", 1e-6, 10.0)
    return dataset_name, classes, mean, std, _optional(dataset, "is_sample", bool, shown, False, "dataset ")



def _check_weights(name: str, config: dict, weights: dict, shown: str) -> nn.Module:
    """Finite weights that fit the model ``name`` and ``config`` describe, checked on the meta device (no memory is
    spent on a mismatch)."""
    if any(
        torch.is_tensor(value) and value.is_floating_point() and not value.isfinite().all()
        for value in weights.values()
    ):
        raise CheckpointError(
            f"{shown}: some of its weights are NaN or infinite (the training diverged). Train it again."
        )
    try:
        skeleton = build_model_without_memory(name, config)
        _check_weights_fit(skeleton, weights)
    except (TypeError, ValueError, RuntimeError, OverflowError) as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = next((line for line in lines if not line.startswith("Error(s) in loading")), type(error).__name__)
        raise CheckpointError(f"{shown}: its weights do not fit a {name!r} model ({safe_text(detail)}).") from None
    return skeleton
