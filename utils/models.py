"""The course's models: an MLP baseline and two CNNs, all returning logits.

Every model keeps the arguments it was built with in ``model.config`` so that a checkpoint can store
plain values and rebuild the same architecture later (see ``utils.checkpoints``).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


# Printed by notebook 02 (inspect.getsource): after editing it, re-run that notebook in full mode.
class MLP(nn.Module):
    """Flatten -> hidden Linear+ReLU layers -> logits: sees pixels, not their neighbourhoods."""

    def __init__(self, hidden: Sequence[int] = (256, 128), num_classes: int = 10, in_features: int = 28 * 28,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.config = {"hidden": list(hidden), "num_classes": num_classes, "in_features": in_features,
                       "dropout": dropout}  # the arguments, to rebuild the same network from a checkpoint
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


def dropout(rate: float) -> list[nn.Module]:
    """A dropout layer, or none where the rate is 0 (so the layer list shows only what acts)."""
    return [nn.Dropout(rate)] if rate else []


# Printed by notebook 03 (inspect.getsource): after editing it, re-run that notebook in full mode.
class CNN(nn.Module):
    """The BN-CNN: two Conv-BatchNorm-ReLU-MaxPool blocks, then dropout 0.2 before a 128-unit head.

    ``padding=0, batchnorm=False`` and no dropout make it the plain CNN (``PlainCNN``); notebook 03 adds padding,
    BatchNorm and dropout back one at a time. Dropout 0.2 narrows the gap between train and validation accuracy;
    within 10 epochs it also costs validation accuracy (−0.0026 over five seeds, paired; notebook 03).

    ``test_time_flips=True``: in eval mode the logits are the mean of the image's and its mirror image's, for data
    where a mirrored image shows the same class (a garment, not a digit). ``test_time_shifts=True``: in eval mode
    the logits are also averaged over the image moved one pixel up, down, left and right (a digit moved by a pixel
    is still the same digit). Training is unchanged.
    """

    def __init__(self, num_classes: int = 10, conv_dropout: float = 0.0, fc_dropout: float = 0.2, *, padding: int = 1,
                 batchnorm: bool = True, test_time_flips: bool = False, test_time_shifts: bool = False) -> None:
        super().__init__()
        self.config = {"num_classes": num_classes, "conv_dropout": conv_dropout, "fc_dropout": fc_dropout,
                       "padding": padding, "batchnorm": batchnorm, "test_time_flips": test_time_flips,
                       "test_time_shifts": test_time_shifts}
        self.test_time_flips = test_time_flips
        self.test_time_shifts = test_time_shifts

        def block(channels_in: int, channels_out: int) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(channels_in, channels_out, kernel_size=3, padding=padding)]
            if batchnorm:
                layers.append(nn.BatchNorm2d(channels_out))
            return layers + [nn.ReLU(), nn.MaxPool2d(2)]

        side = ((28 + 2 * padding - 2) // 2 + 2 * padding - 2) // 2  # (W - K + 2P) / S + 1, then pooling halves
        self.features = nn.Sequential(*block(1, 32), *block(32, 64), *dropout(conv_dropout))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * side * side, 128),
            nn.ReLU(),
            *dropout(fc_dropout),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.classifier(self.features(x))
        views = [x]
        if self.test_time_flips:
            views.append(x.flip(-1))
        if self.test_time_shifts:
            views += one_pixel_shifts(x)
        return torch.stack([self.classifier(self.features(view)) for view in views]).mean(dim=0)


# Printed by notebook 03 (inspect.getsource): after editing it, re-run that notebook in full mode.
def one_pixel_shifts(images: torch.Tensor) -> list[torch.Tensor]:
    """The images moved one pixel up, down, left and right, the border pixel repeated into the gap."""
    height, width = images.shape[-2:]
    padded = nn.functional.pad(images, (1, 1, 1, 1), mode="replicate")
    return [padded[..., top : top + height, left : left + width] for top, left in ((0, 1), (2, 1), (1, 0), (1, 2))]


@contextlib.contextmanager
def one_view(model: nn.Module) -> Iterator[nn.Module]:
    """Evaluate ``model`` on each image once, its test-time views (if any) switched off meanwhile: ``fit``'s check
    after each epoch, where the views would cost two to five passes; the finished model is measured with them."""
    views = {name: getattr(model, name) for name in ("test_time_flips", "test_time_shifts") if hasattr(model, name)}
    try:
        for name in views:
            setattr(model, name, False)
        yield model
    finally:
        for name, value in views.items():
            setattr(model, name, value)


def for_inference(model: nn.Module) -> nn.Module:
    """A copy of a CNN in eval mode that gives the same logits (to within float rounding) in fewer passes over
    memory: each BatchNorm folded into the convolution before it (in eval mode BatchNorm is a fixed scale and shift
    per channel, which the convolution's weights and bias absorb) and each max-pool moved before its ReLU (the
    largest of four ReLUs is the ReLU of the largest, computed on a quarter of the values). ``predict_logits`` uses
    it; training cannot (BatchNorm learns from each batch). Any other model, or one in training mode, comes back as
    it is."""
    if not isinstance(model, CNN) or model.training:
        return model
    fast = copy.deepcopy(model)  # the model itself is left as it was: it may be trained further
    layers: list[nn.Module] = []
    for layer in fast.features:
        if isinstance(layer, nn.BatchNorm2d) and layers and isinstance(layers[-1], nn.Conv2d):
            layers[-1] = fuse_conv_bn_eval(layers[-1], layer)
        elif isinstance(layer, nn.MaxPool2d) and layers and isinstance(layers[-1], nn.ReLU):
            layers.insert(-1, layer)
        else:
            layers.append(layer)
    fast.features = nn.Sequential(*layers)
    return fast


class PlainCNN(CNN):
    """The plain CNN: the same two blocks without padding, BatchNorm or dropout."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__(num_classes, conv_dropout=0.0, fc_dropout=0.0, padding=0, batchnorm=False)
        self.config = {"num_classes": num_classes}


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
    hooks = [module.register_forward_hook(lambda mod, _inp, out: rows.append((repr(mod), tuple(out.shape))))
             for module in model.modules() if not list(module.children())]  # the leaves: layers, not containers
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
