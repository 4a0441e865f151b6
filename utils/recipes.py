"""The course's recipes: how the course trains each model on each dataset, and the workflow around a trained model.

``course_recipe`` and ``course_model`` are what notebook 03 chose on the validation split; ``train_model`` trains
with them, measures the test set once and saves a checkpoint (``python -m utils.train`` calls it);
``load_or_train`` gives notebooks 04 and 05 the model notebook 03 saved.
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from pathlib import Path

from torch import nn

from utils import checkpoints, config
from utils.config import display_path
from utils.data import (
    Augment,
    InMemoryData,
    get_spec,
    load_tensors,
    locate,
    make_augment,
    validation_loaders,
    validation_split,
)
from utils.evaluation import evaluate
from utils.guards.checkpoint_files import check_writable
from utils.guards.files import set_aside
from utils.hardware import pick_device
from utils.models import build_model, model_class
from utils.training import History, Recipe, fit, make_optimizer, seed_everything


# Printed by notebook 03 (inspect.getsource): after editing it, re-run that notebook in full mode.
def course_recipe(model: str, dataset: str, epochs: int | None = None) -> tuple[Recipe, Augment | None]:
    """The recipe and augmentation (None: none) the course trains ``model`` on ``dataset`` with.

    The BN-CNN's peak learning rate and batch size were judged on the validation split over three seeds
    (``benchmarks/results_over_seeds.py``; notebook 03's ablation and docs/results.md show the table).
    """
    model_class(model)
    spec = get_spec(dataset)  # the dataset's record: its augmentation, label smoothing and BN-CNN batch size
    recipe = Recipe(epochs=epochs or 10)
    if model == "mlp":
        return replace(recipe, lr=2e-3, weight_decay=1e-4), None
    if model == "cnn":  # chosen for the BN-CNN on Fashion-MNIST: notebook 03's ablation
        recipe = replace(recipe, lr=5e-3, batch_size=spec.bn_cnn_batch_size)
    return replace(recipe, label_smoothing=spec.label_smoothing), make_augment(dataset, **spec.augmentation)


# Printed by notebook 03 (inspect.getsource): after editing it, re-run that notebook in full mode.
def course_model(model: str, dataset: str) -> nn.Module:
    """The course model ``model`` as the course trains it on ``dataset``. When evaluated, the BN-CNN also averages
    each image's logits over views of it that keep its class: on Fashion-MNIST its mirror image (test-time flips,
    chosen on the validation split: notebook 03's ablation), on MNIST, where a mirrored 2 is not a 2, the image
    moved one pixel up, down, left and right (test-time shifts, chosen on the validation split:
    ``benchmarks/recipe_probe.py``, the table of test-time views in docs/results.md)."""
    if model != "cnn":
        return build_model(model)
    views = get_spec(dataset).test_time_views  # each chosen on that dataset's validation split
    return build_model(model, test_time_flips="flips" in views, test_time_shifts="shifts" in views)


def short_budget_recipe() -> Recipe:
    """The BN-CNN recipe for Fashion-MNIST when time is short: a one-cycle schedule over 2 epochs, batch 64, peak
    learning rate 3e-3, no augmentation (chosen on the validation split by ``benchmarks/short_budget_search.py``;
    ``benchmarks/time_to_accuracy.py`` and notebook 06 time it)."""
    recipe, _ = course_recipe("cnn", "fashion-mnist")
    return replace(recipe, epochs=2, batch_size=64, lr=3e-3)


def default_checkpoint(model: str, dataset: str) -> Path:
    """Where notebook 03 and the CLI save a model, and where notebooks 04 and 05 look for it."""
    return config.checkpoint_dir() / f"{model}-{dataset}.pt"


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
) -> tuple[nn.Module, History]:
    """Train a course model with the course recipe: what ``python -m utils.train`` and the notebooks call.

    An interrupted run never replaces the checkpoint at ``save``: its finished epochs go to
    ``interrupted_path(save)`` instead.
    """
    recipe, augment = course_recipe(model, dataset, epochs)
    if save is not None:
        check_writable(save)  # before training: a bad path must not cost the trained model
    if loader not in ("tensors", "dataloader"):
        raise ValueError(f"unknown loader {loader!r}; use 'tensors' or 'dataloader'")
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
        fit(network, train_data, val_data, recipe, optimizer=optimizer, augment=augment, device=device, seed=seed,
            history=history, progress=progress)
    except KeyboardInterrupt:  # keep the finished epochs beside ``save``, never in it
        if save is not None:
            _keep_interrupted(save, **keep)
        raise
    metrics = final_metrics(network, history, test_data, device)
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


def final_metrics(model: nn.Module, history: History, test_data: InMemoryData, device=None) -> dict[str, float]:
    """The numbers a finished model is reported by: its last validation accuracy and, measured once, its test
    accuracy (and loss)."""
    test_loss, test_acc = evaluate(model, test_data.to(pick_device(device)), pick_device(device))
    return {"val_acc": history.val_acc[-1], "test_acc": test_acc, "test_loss": test_loss}


def interrupted_path(path: str | Path) -> Path:
    """Where an interrupted run keeps its finished epochs: ``cnn-mnist.pt`` -> ``cnn-mnist.interrupted.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.interrupted{path.suffix}")


def load_or_train(model: str, dataset: str, *, epochs: int | None = None, path: str | Path | None = None):
    """Load the checkpoint notebook 03 saved; if there is none (or it was trained on other data), train
    it now with ``train_model`` and save it. Says which it did. Returns a ``checkpoints.Checkpoint``.

    A checkpoint it cannot use is renamed, never overwritten: ``NAME.pt.unusable`` or ``NAME.pt.other-data``.
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
                val_acc, test_acc = loaded.metrics["val_acc"], loaded.metrics.get("test_acc", math.nan)
                print(
                    f"Loaded {display_path(path)}: {model} on {dataset}, {loaded.epoch} epochs, "
                    f"validation accuracy {val_acc:.4f}, test accuracy {test_acc:.4f}"
                )
                return loaded
            kept = set_aside(path, "other-data")
            print(f"{display_path(path)} was trained on other data; moved it to {display_path(kept)}.")
    print(f"No usable checkpoint at {display_path(path)}: training {model} on {dataset} now (as notebook 03 does).")
    train_model(model, dataset, epochs=epochs, save=path)
    return checkpoints.load_checkpoint(path, expect_model=model)
