"""The course's models: an MLP baseline and two CNNs, all returning logits.

Every model keeps the arguments it was built with in ``model.config`` so that a checkpoint can store
plain values and rebuild the same architecture later (see ``utils.checkpoints``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class MLP(nn.Module):
    """Flatten -> hidden Linear+ReLU layers -> logits: sees pixels, not their neighbourhoods."""

    def __init__(
        self,
        hidden: Sequence[int] = (256, 128),
        num_classes: int = 10,
        in_features: int = 28 * 28,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.config = {
            "hidden": list(hidden),
            "num_classes": num_classes,
            "in_features": in_features,
            "dropout": dropout,
        }
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class CNN(nn.Module):
    """The BN-CNN reference: two Conv-BatchNorm-ReLU-MaxPool blocks, dropout, a 128-unit head.

    The dropout rates were chosen by measurement (``benchmarks/recipe_search.py``): the reference's 0.25/0.5
    held the network back within 15 epochs on Fashion-MNIST (92.9 % vs 93.6 %).
    """

    def __init__(self, num_classes: int = 10, conv_dropout: float = 0.0, fc_dropout: float = 0.2) -> None:
        super().__init__()
        self.config = {"num_classes": num_classes, "conv_dropout": conv_dropout, "fc_dropout": fc_dropout}
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1),  # 28x28 -> 28x28
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 14x14
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 7x7
            nn.Dropout(conv_dropout),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 128),  # 3136 -> 128
            nn.ReLU(),
            nn.Dropout(fc_dropout),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class PlainCNN(nn.Module):
    """The Plain-CNN reference: the same idea without BatchNorm, dropout or padding."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.config = {"num_classes": num_classes}
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3),  # 28x28 -> 26x26
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 13x13
            nn.Conv2d(32, 64, kernel_size=3),  # -> 11x11
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 5x5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 5 * 5, 128),  # 1600 -> 128
            nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


MODELS: dict[str, type[nn.Module]] = {"mlp": MLP, "cnn": CNN, "plain-cnn": PlainCNN}


def model_class(name: str) -> type[nn.Module]:
    """The class of the course model called ``name``; an unknown name gets an error listing the valid ones."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def build_model(name: str, **config) -> nn.Module:
    """Create a model by its course name (``mlp``, ``cnn``, ``plain-cnn``) and constructor arguments."""
    return model_class(name)(**config)


def model_name(model: nn.Module) -> str:
    """The course name of a model instance, the inverse of ``build_model``."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise ValueError(f"{type(model).__name__} is not one of the course's models ({', '.join(MODELS)})")


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of parameters (weights and biases) the optimizer will update."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def shape_trace(model: nn.Module, input_shape: tuple[int, ...] = (1, 1, 28, 28)) -> list[tuple[str, tuple[int, ...]]]:
    """Output shape after each leaf layer for one dummy input: how an image flows through the network."""
    rows: list[tuple[str, tuple[int, ...]]] = [("input", input_shape)]
    hooks = [
        module.register_forward_hook(lambda mod, _inp, out: rows.append((repr(mod), tuple(out.shape))))
        for module in model.modules()
        if not list(module.children())
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(input_shape, device=next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return rows
