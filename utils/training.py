"""Training: one epoch by hand (``train_one_epoch``), then ``fit``, the loop notebook 02 writes plus a few named steps.

``fit`` trains for ``recipe.epochs`` epochs and evaluates on the validation split after each; the steps it adds to
the plain loop each live in a small function of their own: the learning-rate schedule (``make_scheduler``), the
precision (``hardware.uses_bf16``) and going back to the last finished epoch when interrupted
(``keep_finished_epochs``). The data can be an ``InMemoryData`` (the fast path: the whole split as tensors) or any
iterable of ``(images, labels)`` batches such as a ``DataLoader`` (the classic path).
"""

from __future__ import annotations

import contextlib
import copy
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from utils.data import Batches, InMemoryData
from utils.evaluation import _as_batches, evaluate
from utils.guards import settings
from utils.hardware import autocast, describe_precision, pick_device, uses_bf16
from utils.models import one_view


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch so that the same seed gives the same numbers on the CPU.

    Returns a generator for shuffling, so the batch order does not depend on how much randomness
    other code (dropout, augmentation) has consumed.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _to_device(x: torch.Tensor, y: torch.Tensor, device: torch.device, channels_last: bool):
    x = x.to(device, non_blocking=True)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y.to(device, non_blocking=True)


# Printed by notebook 02 (inspect.getsource): after editing it, re-run that notebook in full mode.
def train_one_epoch(model: nn.Module, batches: Batches, optimizer: torch.optim.Optimizer, loss_fn: nn.Module,
                    device: torch.device, *, scheduler=None, augment: Callable | None = None,
                    mixed_precision: bool = False, channels_last: bool = False, progress: bool = False,
                    description: str = "train") -> tuple[float, float]:
    """One pass over the training data: forward, loss, backward, step. Returns (mean loss, accuracy).

    The sums stay on the device and are read once at the end: reading a number after every batch
    (``loss.item()``) makes a GPU wait for the CPU on each step.
    """
    model.train()
    total_loss, correct, seen = torch.zeros((), device=device), torch.zeros((), device=device, dtype=torch.long), 0
    for x, y in tqdm(batches, desc=description, leave=False, disable=not progress):
        x, y = _to_device(x, y, device, channels_last)
        if augment is not None:
            x = augment(x)
        with autocast(device, mixed_precision):
            logits = model(x)
            loss = loss_fn(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.detach() * len(y)
        correct += (logits.argmax(1) == y).sum()
        seen += len(y)
    return total_loss.item() / seen, correct.item() / seen


METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "seconds")


@dataclass
class History:
    """Per-epoch metrics of a training run; plain lists of floats, so they go into checkpoints as they are.

    ``train_loss`` and ``train_acc`` are running figures over the epoch, in train mode (dropout and augmentation
    on, label smoothing in the loss); ``val_loss`` and ``val_acc`` come from ``evaluate`` after the epoch.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def record(self, *values: float) -> None:
        """Add one epoch's ``METRICS``, in that order."""
        for name, value in zip(METRICS, values, strict=True):
            getattr(self, name).append(value)

    def as_dict(self) -> dict:
        return {name: list(getattr(self, name)) for name in METRICS}

    def truncate(self, epochs: int) -> None:
        """Forget every epoch after the first ``epochs`` (an interrupted one may be partly recorded)."""
        for name in METRICS:
            del getattr(self, name)[epochs:]

    @classmethod
    def from_dict(cls, values: dict) -> History:
        return cls(**{name: list(values.get(name, [])) for name in cls().as_dict()})


@dataclass(frozen=True)
class Recipe:
    """How to train: the course's defaults were chosen by measurement (see notebook 03 and benchmarks/). Frozen: make
    a changed copy with ``dataclasses.replace(recipe, lr=1e-3)``."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    schedule: str = "onecycle"  # or "constant"
    mixed_precision: str | bool = "auto"  # bf16 autocast where the hardware runs it natively
    channels_last: bool = True


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, recipe: Recipe, train_data: InMemoryData | Batches):
    """The learning-rate schedule, stepped after every batch: one cycle (warm up to ``recipe.lr``, then anneal to
    almost 0 over all the epochs), or None for a constant learning rate."""
    if recipe.schedule == "constant":
        return None
    if recipe.schedule != "onecycle":
        raise ValueError(f"unknown schedule {recipe.schedule!r}; use 'onecycle' or 'constant'")
    steps = len(_as_batches(train_data, recipe.batch_size, False, None))  # batches per epoch
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr, total_steps=recipe.epochs * steps)


# Printed by notebook 02 (inspect.getsource): after editing it, re-run that notebook in full mode.
def fit(model: nn.Module, train_data: InMemoryData | Batches, val_data: InMemoryData | Batches,
        recipe: Recipe | None = None, *, optimizer: torch.optim.Optimizer | None = None,
        augment: Callable | None = None, device: torch.device | str | None = None, seed: int = 0,
        history: History | None = None, progress: bool | None = None, verbose: bool = True,
        stop_when: Callable[[History], bool] | None = None) -> History:
    """Train ``model`` in place for ``recipe.epochs`` epochs, evaluating on ``val_data`` (``data.validation_split``:
    choices are made on it, the test set is kept for one final measurement) after each. ``history.seconds`` holds
    each epoch's training time. ``stop_when(history)``, asked after each epoch, ends training early if True.

    Pass ``optimizer`` (with its state loaded) and ``history`` to resume. Interrupted (KeyboardInterrupt), the model,
    the optimizer and ``history`` go back to the end of the last finished epoch and the interrupt goes on.
    """
    recipe, device = recipe or Recipe(), pick_device(device)
    mixed = uses_bf16(device, recipe.mixed_precision)
    shuffler = seed_everything(seed)
    if isinstance(train_data, InMemoryData):  # on a GPU the whole split fits: batches never cross the bus
        train_data = train_data.to(device)
    if isinstance(val_data, InMemoryData):
        val_data = val_data.to(device)
    model.to(device)
    optimizer = optimizer or make_optimizer(model, recipe)
    move_optimizer_state(optimizer)
    scheduler = make_scheduler(optimizer, recipe, train_data)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    history = history or History()
    last = history.epochs + recipe.epochs
    if verbose:
        precision = describe_precision(device, mixed)
        print(f"Training {type(model).__name__} on {device} ({precision}) for {epochs_in_words(recipe.epochs)}")
    with keep_finished_epochs(model, optimizer, history) as epoch_finished:
        for epoch in range(history.epochs + 1, last + 1):
            # the recipe's layout, set every epoch: evaluate() leaves the model in channels_last
            model.to(memory_format=torch.channels_last if recipe.channels_last else torch.contiguous_format)
            began = time.perf_counter()
            train_loss, train_acc = train_one_epoch(
                model, _as_batches(train_data, recipe.batch_size, True, shuffler), optimizer, loss_fn, device,
                scheduler=scheduler, augment=augment, mixed_precision=mixed, channels_last=recipe.channels_last,
                progress=settings.PROGRESS if progress is None else progress, description=f"epoch {epoch}/{last}",
            )
            seconds = time.perf_counter() - began
            with one_view(model):  # each image once: the finished model is measured with its test-time views
                epoch_finished(train_loss, train_acc, *evaluate(model, val_data, device), seconds)
            if verbose:
                print(epoch_line(history, last), flush=True)
            if stop_when is not None and stop_when(history):
                break
    return history


def epochs_in_words(epochs: int) -> str:
    return "1 epoch" if epochs == 1 else f"{epochs} epochs"


def epoch_line(history: History, last: int) -> str:
    """``Epoch  3/10 | train loss ... acc ... | val loss ... acc ... | 12.3 s`` for the latest epoch of ``history``."""
    train_loss, train_acc, val_loss, val_acc, seconds = (getattr(history, name)[-1] for name in METRICS)
    return (f"Epoch {history.epochs:2d}/{last} | train loss {train_loss:.4f} acc {train_acc:.4f}"
            f" | val loss {val_loss:.4f} acc {val_acc:.4f} | {seconds:.1f} s")


@contextlib.contextmanager
def keep_finished_epochs(model: nn.Module, optimizer: torch.optim.Optimizer, history: History) -> Iterator[Callable]:
    """Yield ``epoch_finished(*metrics)``, which records an epoch in ``history`` and keeps a copy of the model and the
    optimizer as they are then. Interrupted (KeyboardInterrupt), all three go back to the last finished epoch, so
    that they agree, ``history.interrupted`` is set, and the interrupt goes on to stop the cell or the program."""
    finished = _snapshot(model, optimizer, history.epochs)

    def epoch_finished(*metrics: float) -> None:
        nonlocal finished
        snapshot = _snapshot(model, optimizer, history.epochs + 1)  # taken first: the history must not run ahead
        history.record(*metrics)
        finished = snapshot

    try:
        yield epoch_finished
    except KeyboardInterrupt:
        weights, optimizer_state, epochs = finished
        model.load_state_dict(weights)
        optimizer.load_state_dict(optimizer_state)
        history.truncate(epochs)
        history.interrupted = True
        print(f"Interrupted: the model and its history are back at the end of epoch {epochs}.")
        raise
    finally:
        model.to(memory_format=torch.contiguous_format)


def move_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    """Put the optimizer's running averages on the device of their parameters: a state loaded from a checkpoint sits
    on the CPU, and once the model is on a GPU AdamW's step would mix devices. ``load_state_dict`` places each tensor
    by PyTorch's rules (beside its parameter; a step counter on the CPU): loading the state into itself re-homes it."""
    if optimizer.state:
        optimizer.load_state_dict(optimizer.state_dict())


def _snapshot(model: nn.Module, optimizer: torch.optim.Optimizer, epochs: int) -> tuple[dict, dict, int]:
    """Copies of the weights and optimizer state after ``epochs`` epochs, to go back to if the next is interrupted."""
    weights = {key: value.detach().clone() for key, value in model.state_dict().items()}
    return weights, copy.deepcopy(optimizer.state_dict()), epochs
