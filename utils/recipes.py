"""The course's recipes: how the course trains each model on each dataset.

``course_recipe`` and ``course_model`` are what notebook 03 chose on the validation split; ``short_budget_recipe``
is the Fashion-MNIST recipe for when time is short (notebook 06). The workflow that trains with them, measures the
test set once and saves a checkpoint is ``utils.machinery.workflow`` (``python -m utils.train`` runs it).
"""

from __future__ import annotations

from dataclasses import replace

from torch import nn

from utils.data import Augment, get_spec
from utils.models import build_model, model_class
from utils.training import Recipe


# Printed by notebook 03 (inspect.getsource): after editing it, re-run that notebook in full mode.
def course_recipe(model: str, dataset: str, epochs: int | None = None) -> tuple[Recipe, Augment | None]:
    """The recipe and augmentation (None: none) the course trains ``model`` on ``dataset`` with.

    The BN-CNN's peak learning rate and batch size were judged on the validation split over five seeds
    (``benchmarks/results_over_seeds.py``; notebook 03's ablation and docs/results.md show the table).
    """
    model_class(model)
    spec = get_spec(dataset)  # the dataset's record: its augmentation, label smoothing and BN-CNN batch size
    recipe = Recipe(epochs=epochs or 10)
    if model == "mlp":
        return replace(recipe, lr=2e-3, weight_decay=1e-4), None
    if model == "cnn":  # chosen for the BN-CNN on Fashion-MNIST: notebook 03's ablation
        recipe = replace(recipe, lr=5e-3, batch_size=spec.bn_cnn_batch_size)
    return replace(recipe, label_smoothing=spec.label_smoothing), Augment(dataset, **spec.augmentation)


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
