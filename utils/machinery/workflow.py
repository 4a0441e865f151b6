"""The workflow around a trained model: train with the course recipe, measure the test set once, save a
checkpoint (``train_model``, what ``python -m utils.train`` runs), or load the one notebook 03 saved
(``load_or_train``, notebooks 04 and 05). Bookkeeping around the lessons: the training itself is
``training.fit`` with ``recipes.course_recipe``, and saving and loading is ``checkpoints``.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

from torch import nn
from torch.utils.data import DataLoader, Subset

from utils import checkpoints
from utils.data import (
    Batches,
    InMemoryData,
    default_transform,
    load_dataset,
    load_tensors,
    locate,
    validation_indices,
    validation_split,
)
from utils.evaluation import evaluate
from utils.guards import settings
from utils.guards.checkpoint_files import check_writable
from utils.guards.files import set_aside
from utils.guards.settings import display_path
from utils.hardware import pick_device
from utils.machinery.distributed import Team
from utils.recipes import course_model, course_recipe
from utils.training import History, fit, make_optimizer, seed_everything


def default_checkpoint(model: str, dataset: str) -> Path:
    """Where notebook 03 and the CLI save a model, and where notebooks 04 and 05 look for it."""
    return settings.checkpoint_dir() / f"{model}-{dataset}.pt"


def validation_loaders(name: str, batch_size: int, limit: int | None | str = "auto") -> tuple[DataLoader, DataLoader]:
    """The classic path over ``data.validation_split``'s images (the same ones the fast path holds out): a shuffled
    ``DataLoader`` over the images it trains on and one over the validation images, read with ``default_transform``
    (``python -m utils.train --loader dataloader``, ``benchmarks/time_to_accuracy.py``)."""
    images = load_dataset(name, "train", transform=default_transform(name), limit=limit)
    labels = images.dataset.targets[: len(images)] if isinstance(images, Subset) else images.targets
    train_index, validation_index = validation_indices(labels)
    return (
        DataLoader(Subset(images, train_index.tolist()), batch_size=batch_size, shuffle=True),
        DataLoader(Subset(images, validation_index.tolist()), batch_size=1024),
    )


def train_model(
    model: str,
    dataset: str,
    *,
    epochs: int | None = None,
    seed: int = 0,
    loader: str = "tensors",
    device: str | None = None,
    save: str | Path | None = None,
    progress: bool | None = None,
    team: Team | None = None,
) -> tuple[nn.Module, History]:
    """Train a course model with the course recipe: what ``python -m utils.train`` and the notebooks call.

    An interrupted run never replaces the checkpoint at ``save``: its finished epochs go to
    ``interrupted_path(save)`` instead. With a ``team`` (``torchrun``: see ``distributed``) each process trains on
    its share of the data and process 0 measures and saves the model.
    """
    recipe, augment = course_recipe(model, dataset, epochs)
    if save is not None:
        check_writable(save)  # before training: a bad path must not cost the trained model
    if loader not in ("tensors", "dataloader"):
        raise ValueError(f"unknown loader {loader!r}; use 'tensors' or 'dataloader'")
    if team is not None and loader != "tensors":
        raise ValueError("torchrun shares the in-memory tensors between its processes: leave out --loader")
    train_images, test_data = load_tensors(dataset, "train"), load_tensors(dataset, "test")
    train_data, val_data = validation_split(train_images)
    if loader == "dataloader":  # the classic path over the same images
        train_data, val_data = validation_loaders(dataset, recipe.batch_size)
    seed_everything(seed)
    network = course_model(model, dataset)
    optimizer = make_optimizer(network, recipe)
    history = History()
    keep = dict(model=network, dataset=dataset, history=history, recipe=recipe, optimizer=optimizer,
                is_sample=train_images.is_sample)
    try:
        if team is None:
            fit(network, train_data, val_data, recipe, optimizer=optimizer, augment=augment, device=device,
                seed=seed, history=history, progress=progress)
        else:
            team.fit(network, train_data, val_data, recipe, optimizer=optimizer, augment=augment, seed=seed,
                     history=history, progress=progress)
    except KeyboardInterrupt:  # keep the finished epochs beside ``save``, never in it
        if save is not None and (team is None or team.leads):
            _keep_interrupted(save, **keep)
        raise
    if team is not None:
        if not team.leads:  # the weights are the same in every process: one measures and saves them
            return network, history
        device = team.device
    metrics = final_metrics(network, val_data, test_data, device)
    print(f"final model: validation accuracy {metrics['val_acc']:.4f}, test accuracy {metrics['test_acc']:.4f}")
    if save is not None:
        print(f"saved {display_path(_save(save, metrics=metrics, **keep))}")
    return network, history


def _save(path: str | Path, *, model, dataset, history, recipe, optimizer, is_sample, metrics=None) -> Path:
    return checkpoints.save_checkpoint(
        path,
        model,
        dataset=dataset,
        history=history.as_dict(),
        metrics=metrics,
        recipe=asdict(recipe),
        optimizer=optimizer,
        is_sample=is_sample,
    )


def _keep_interrupted(save: str | Path, **keep) -> None:
    """Save the finished epochs of an interrupted run beside ``save`` (never in it), and say where."""
    history = keep["history"]
    if history.epochs == 0:
        print(f"Nothing saved: no epoch finished ({display_path(save)} is as it was).")
        return
    kept = _save(interrupted_path(save), **keep)
    print(
        f"{display_path(save)} is as it was; the {history.epochs} finished epoch(s) are saved in "
        f"{display_path(kept)} (resume from it as notebook 05 shows, or delete it)."
    )


def final_metrics(model: nn.Module, val_data: InMemoryData | Batches, test_data: InMemoryData, device=None) -> dict:
    """The numbers a finished model is reported by, with its test-time views (if any): its validation accuracy
    and, measured once, its test accuracy (and loss). ``fit``'s checks after each epoch saw each image once."""
    device = pick_device(device)
    if isinstance(val_data, InMemoryData):
        val_data = val_data.to(device)
    _, val_acc = evaluate(model, val_data, device)
    test_loss, test_acc = evaluate(model, test_data.to(device), device)
    return {"val_acc": val_acc, "test_acc": test_acc, "test_loss": test_loss}


def interrupted_path(path: str | Path) -> Path:
    """Where an interrupted run keeps its finished epochs: ``cnn-mnist.pt`` -> ``cnn-mnist.interrupted.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.interrupted{path.suffix}")


PRETRAINED = settings.REPO_ROOT / "checkpoints" / "pretrained"
"""Checkpoints shipped with the course for the models no notebook trains: the MNIST BN-CNN, made on full MNIST by
``python -m utils.train --model cnn --dataset mnist --save checkpoints/pretrained/cnn-mnist.pt``."""


def load_or_train(model: str, dataset: str, *, epochs: int | None = None, path: str | Path | None = None):
    """Load the checkpoint notebook 03 saved, else the one the course ships (``PRETRAINED``); if neither fits the
    data here (or there is none), train it now with ``train_model`` and save it. Says which it did. Returns a
    ``checkpoints.Checkpoint``.

    A checkpoint of yours it cannot use is renamed, never overwritten: ``NAME.pt.unusable`` or
    ``NAME.pt.other-data``. A shipped one is never touched.
    """
    path = Path(path or default_checkpoint(model, dataset))
    is_sample = locate(dataset).is_sample
    if path.exists():
        try:
            loaded = checkpoints.load_checkpoint(path, expect_model=model)
        except checkpoints.CheckpointError as error:
            print(f"Cannot use it: {error}\nMoved it to {display_path(set_aside(path, 'unusable'))}.")
        else:
            if loaded.dataset == dataset and loaded.is_sample == is_sample:
                return _loaded(path, loaded)
            kept = set_aside(path, "other-data")
            print(f"{display_path(path)} was trained on other data; moved it to {display_path(kept)}.")
    shipped = PRETRAINED / f"{model}-{dataset}.pt"
    if shipped.exists() and path == default_checkpoint(model, dataset):
        try:
            loaded = checkpoints.load_checkpoint(shipped, expect_model=model)
        except checkpoints.CheckpointError as error:  # a damaged copy of the repository: train instead
            print(f"Cannot use the course's pre-trained model: {error}")
        else:
            if loaded.dataset == dataset and loaded.is_sample == is_sample:
                return _loaded(shipped, loaded, "the course's pre-trained ")
    print(f"No usable checkpoint at {display_path(path)}: training {model} on {dataset} now, as utils.train does.")
    train_model(model, dataset, epochs=epochs, save=path)
    return checkpoints.load_checkpoint(path, expect_model=model)


def _loaded(path: Path, loaded: checkpoints.Checkpoint, whose: str = "") -> checkpoints.Checkpoint:
    val_acc, test_acc = loaded.metrics["val_acc"], loaded.metrics.get("test_acc", math.nan)
    print(
        f"Loaded {whose}{display_path(path)}: {loaded.model_name} on {loaded.dataset}, {loaded.epoch} epochs, "
        f"validation accuracy {val_acc:.4f}, test accuracy {test_acc:.4f}"
    )
    return loaded
