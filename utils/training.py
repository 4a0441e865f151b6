"""Training and evaluation loops, short enough to read in one screen, and ``fit`` around them.

The data can be either an ``InMemoryData`` (the fast path: whole split as tensors, batched by index
permutation) or any iterable of ``(images, labels)`` batches such as a ``DataLoader`` (the classic path).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Subset
from tqdm.auto import tqdm

from utils import checkpoints, config
from utils.config import display_path
from utils.data import (
    Augment,
    InMemoryData,
    default_transform,
    get_spec,
    iterate_batches,
    load_dataset,
    load_tensors,
    locate,
    make_augment,
    validation_indices,
    validation_split,
)
from utils.models import build_model, model_class

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """The fastest device available: CUDA, then Apple's MPS, then the CPU; or ``preferred``, if it is here."""
    available = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    if not preferred:
        return torch.device(next(kind for kind, present in available.items() if present))
    try:
        device = torch.device(preferred)
    except (RuntimeError, TypeError):
        device = None
    if device is None or device.type not in available:
        raise ValueError(f"unknown device {str(preferred)!r}; use cuda, mps or cpu (or leave it out for the fastest)")
    count = torch.cuda.device_count() if device.type == "cuda" else 1
    if not available[device.type] or (device.index or 0) >= count:
        raise ValueError(f"device {str(preferred)!r} is not available on this machine; use cpu, or leave it out")
    return device


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch so that the same seed gives the same numbers on the CPU.

    Returns a generator for shuffling, so the batch order does not depend on how much randomness
    other code (dropout, augmentation) has consumed.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def bf16_is_fast(device: torch.device) -> bool:
    """Whether this hardware runs bfloat16 natively: NVIDIA GPUs from Ampere on, CPUs with AVX512-BF16 or AMX.

    Elsewhere (a T4 GPU, most laptop CPUs, Apple's MPS) bf16 is emulated and slower than float32.
    """
    if device.type == "cuda":
        try:
            return torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # PyTorch before 2.4 counts emulation as support: ask for Ampere (8.0) or newer
            return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    return False


def uses_bf16(device: torch.device) -> bool:
    """Whether a recipe with ``mixed_precision="auto"`` trains in bf16 here: native bf16, unless
    ``COURSE_PRECISION=float32`` forces float32."""
    return bf16_is_fast(device) and not config.FORCE_FLOAT32


def describe_precision(device: torch.device, mixed: bool) -> str:
    """Which arithmetic a training uses, and why, for its first line."""
    if mixed:
        return "bf16 autocast"
    if config.FORCE_FLOAT32:
        return "float32, as COURSE_PRECISION=float32 asks"
    return "float32" if not bf16_is_fast(device) else "float32, as the recipe asks"


def describe_hardware(device: torch.device | str | None = None) -> str:
    """One line for benchmarks: the device, the CPU's vector instructions and threads, the precision used."""
    device = pick_device(device)
    mixed = uses_bf16(device)
    if device.type == "cuda":
        where = torch.cuda.get_device_name(device)
    else:
        where = f"{torch.backends.cpu.get_cpu_capability()} CPU kernels, {torch.get_num_threads()} threads"
    return f"{device} ({where}); {describe_precision(device, mixed)}; torch {torch.__version__}"


def cpu_class() -> str:
    """What decides how fast this machine trains on its CPU, as benchmark results are filed: the precision, the
    vector instructions PyTorch's kernels use, the threads."""
    mixed = uses_bf16(torch.device("cpu"))
    capability = torch.backends.cpu.get_cpu_capability()
    return f"{'native bf16' if mixed else 'float32'}, {capability} kernels, {torch.get_num_threads()} threads"


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """Mixed precision (bfloat16) where ``enabled``; a no-op context otherwise."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _as_batches(data: InMemoryData | Batches, batch_size: int, shuffle: bool, generator) -> Batches:
    if isinstance(data, InMemoryData):
        return iterate_batches(data, batch_size, shuffle=shuffle, generator=generator)
    return data


def _to_device(x: torch.Tensor, y: torch.Tensor, device: torch.device, channels_last: bool):
    x = x.to(device, non_blocking=True)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y.to(device, non_blocking=True)


def train_one_epoch(
    model: nn.Module,
    batches: Batches,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    device: torch.device,
    *,
    scheduler=None,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    mixed_precision: bool = False,
    channels_last: bool = False,
    progress: bool = False,
    description: str = "train",
) -> tuple[float, float]:
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


@torch.inference_mode()
def predict_logits(
    model: nn.Module, data: InMemoryData | Batches, device: torch.device, *, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 logits and the labels of every sample of ``data``, in order: the one pass that every accuracy in
    the course comes from (``fit``'s report, the checkpoints' metrics, notebook 04's evaluation).

    Eval mode (dropout off, BatchNorm uses its running statistics), no autograd, no autocast and the default
    memory layout, so the numbers do not depend on how the model was trained.
    """
    model.eval().to(memory_format=torch.contiguous_format)
    logits, labels = [], []
    for x, y in _as_batches(data, batch_size, False, None):
        logits.append(model(x.to(device)).float())
        labels.append(y.to(device))
    return torch.cat(logits), torch.cat(labels)


def evaluate(model: nn.Module, data: InMemoryData | Batches, device: torch.device) -> tuple[float, float]:
    """Cross-entropy (plain, without label smoothing, so that every model is measured alike) and accuracy."""
    logits, labels = predict_logits(model, data, device)
    return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).sum().item() / len(labels)


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

    def as_dict(self) -> dict:
        return {name: list(getattr(self, name)) for name in METRICS}

    def truncate(self, epochs: int) -> None:
        """Forget every epoch after the first ``epochs`` (an interrupted one may be partly recorded)."""
        for name in METRICS:
            del getattr(self, name)[epochs:]

    @classmethod
    def from_dict(cls, values: dict) -> History:
        return cls(**{name: list(values.get(name, [])) for name in cls().as_dict()})


@dataclass
class Recipe:
    """How to train: the course's defaults were chosen by measurement (see notebook 03 and benchmarks/)."""

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


def fit(
    model: nn.Module,
    train_data: InMemoryData | Batches,
    val_data: InMemoryData | Batches,
    recipe: Recipe | None = None,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    history: History | None = None,
    progress: bool | None = None,
    verbose: bool = True,
    stop_when: Callable[[History], bool] | None = None,
) -> History:
    """Train ``model`` in place for ``recipe.epochs`` epochs, evaluating on ``val_data`` after each.

    Pass validation data (``data.validation_split``): choices such as the number of epochs are made on it, and
    the test set is kept for one final measurement.

    ``history.seconds`` holds the training time of each epoch (evaluation excluded). ``stop_when(history)``,
    if given, is asked after each epoch and ends training early when it returns True.

    Pass ``optimizer`` (with its state loaded) and ``history`` to resume an earlier run. Press stop
    (KeyboardInterrupt) at any time: the model, the optimizer and ``history`` go back to the end of the last
    finished epoch, so that they agree, ``history.interrupted`` is set, and the interrupt goes on to stop the
    cell or the program (pass your own ``history`` to keep it).
    """
    recipe = recipe or Recipe()
    device = pick_device(device)
    progress = config.PROGRESS if progress is None else progress
    mixed = bf16_is_fast(device) if recipe.mixed_precision == "auto" else bool(recipe.mixed_precision)
    mixed = mixed and not config.FORCE_FLOAT32
    shuffler = seed_everything(seed)
    if isinstance(train_data, InMemoryData):
        train_data = train_data.to(device)
    if isinstance(val_data, InMemoryData):
        val_data = val_data.to(device)

    model.to(device)
    if recipe.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = optimizer or make_optimizer(model, recipe)
    move_optimizer_state(optimizer)
    scheduler = None
    if recipe.schedule == "onecycle":
        steps = (
            math.ceil(len(train_data) / recipe.batch_size)
            if isinstance(train_data, InMemoryData)
            else len(train_data)  # a DataLoader knows its number of batches
        )
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr, total_steps=recipe.epochs * steps)
    elif recipe.schedule != "constant":
        raise ValueError(f"unknown schedule {recipe.schedule!r}; use 'onecycle' or 'constant'")
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    history = history or History()
    start = history.epochs
    settings = dict(mixed_precision=mixed, channels_last=recipe.channels_last)
    if verbose:
        precision = describe_precision(device, mixed)
        print(f"Training {type(model).__name__} on {device} ({precision}) for {recipe.epochs} epochs")
    finished = _snapshot(model, optimizer, history.epochs)
    try:
        for epoch in range(start + 1, start + recipe.epochs + 1):
            began = time.perf_counter()
            train_loss, train_acc = train_one_epoch(
                model,
                _as_batches(train_data, recipe.batch_size, True, shuffler),
                optimizer,
                loss_fn,
                device,
                scheduler=scheduler,
                augment=augment,
                progress=progress,
                description=f"epoch {epoch}/{start + recipe.epochs}",
                **settings,
            )
            seconds = time.perf_counter() - began
            val_loss, val_acc = evaluate(model, val_data, device)
            if recipe.channels_last:
                model.to(memory_format=torch.channels_last)
            snapshot = _snapshot(model, optimizer, history.epochs + 1)  # taken first: the history must not run ahead
            for name, value in zip(METRICS, (train_loss, train_acc, val_loss, val_acc, seconds)):
                getattr(history, name).append(value)
            finished = snapshot
            if verbose:
                print(
                    f"Epoch {epoch:2d}/{start + recipe.epochs} | train loss {train_loss:.4f} acc {train_acc:.4f}"
                    f" | val loss {val_loss:.4f} acc {val_acc:.4f} | {seconds:.1f} s",
                    flush=True,
                )
            if stop_when is not None and stop_when(history):
                break
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
    return history


def move_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    """Put the optimizer's running averages on the device of the parameters they belong to.

    A state loaded from a checkpoint sits on the CPU; once the model has moved to a GPU, AdamW's step would mix
    devices. ``load_state_dict`` places each state tensor by PyTorch's own rules (beside its parameter, except
    a step counter that belongs on the CPU), so loading the state into itself re-homes it.
    """
    if optimizer.state:
        optimizer.load_state_dict(optimizer.state_dict())


def _snapshot(model: nn.Module, optimizer: torch.optim.Optimizer, epochs: int) -> tuple[dict, dict, int]:
    """Copies of the weights and optimizer state after ``epochs`` epochs, to go back to when the next one is
    interrupted halfway."""
    weights = {key: value.detach().clone() for key, value in model.state_dict().items()}
    return weights, copy.deepcopy(optimizer.state_dict()), epochs


def time_to_target(history: History, target: float) -> float | None:
    """Training seconds until the evaluated accuracy first reached ``target`` (None if it never did)."""
    elapsed = 0.0
    for seconds, accuracy in zip(history.seconds, history.val_acc):
        elapsed += seconds
        if accuracy >= target:
            return elapsed
    return None


def course_recipe(model: str, dataset: str, epochs: int | None = None) -> tuple[Recipe, Augment | None]:
    """The recipe and augmentation (None: none) the course trains ``model`` on ``dataset`` with.

    The BN-CNN's peak learning rate and batch size were judged on the validation split over three seeds
    (``benchmarks/results_over_seeds.py``; notebook 03's ablation and the README show the table).
    """
    model_class(model)
    get_spec(dataset)
    recipe = Recipe(epochs=epochs or 10)
    if model == "mlp":
        return replace(recipe, lr=2e-3, weight_decay=1e-4), None
    if model == "cnn":
        recipe = replace(recipe, lr=5e-3)  # chosen for the BN-CNN on Fashion-MNIST: notebook 03's ablation
    if dataset == "fashion-mnist":
        if model == "cnn":
            recipe = replace(recipe, batch_size=64)
        return replace(recipe, label_smoothing=0.1), make_augment(dataset, max_degrees=0.0, max_shift=0.0, hflip=True)
    return recipe, make_augment(dataset, max_degrees=10.0, max_shift=0.1)


def course_model(model: str, dataset: str) -> nn.Module:
    """The course model ``model`` as the course trains it on ``dataset``. When evaluated, the BN-CNN also averages
    each image's logits over views of it that keep its class: on Fashion-MNIST its mirror image (test-time flips,
    chosen on the validation split: notebook 03's ablation), on MNIST, where a mirrored 2 is not a 2, the image
    moved one pixel up, down, left and right (test-time shifts, chosen on the validation split:
    ``benchmarks/recipe_probe.py``, the README's table of test-time views)."""
    if model != "cnn":
        return build_model(model)
    spec = get_spec(dataset)
    # shifts were measured on MNIST only: another dataset gets them after its own validation run
    return build_model(model, test_time_flips=spec.mirror_keeps_class, test_time_shifts=spec.name == "mnist")


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
        checkpoints.check_writable(save)  # before training: a bad path must not cost the trained model
    if loader not in ("tensors", "dataloader"):
        raise ValueError(f"unknown loader {loader!r}; use 'tensors' or 'dataloader'")
    train_images, test_data = load_tensors(dataset, "train"), load_tensors(dataset, "test")
    train_data, val_data = validation_split(train_images)
    if loader == "dataloader":  # the classic path over the same images
        images = load_dataset(dataset, "train", transform=default_transform(dataset), limit="auto")
        train_index, val_index = validation_indices(train_images.labels)
        train_data = DataLoader(Subset(images, train_index.tolist()), batch_size=recipe.batch_size, shuffle=True)
        val_data = DataLoader(Subset(images, val_index.tolist()), batch_size=1024)
    seed_everything(seed)
    network = course_model(model, dataset)
    optimizer = make_optimizer(network, recipe)
    history = History()
    metrics: dict[str, float] = {}

    def save_to(path: str | Path) -> Path:
        return checkpoints.save_checkpoint(
            path,
            network,
            dataset=dataset,
            history=history.as_dict(),
            metrics=metrics or None,
            recipe=asdict(recipe),
            optimizer=optimizer,
        )

    try:
        fit(
            network,
            train_data,
            val_data,
            recipe,
            optimizer=optimizer,
            augment=augment,
            device=device,
            seed=seed,
            history=history,
            progress=progress,
        )
    except KeyboardInterrupt:  # keep the finished epochs beside ``save``, never in it
        if save is not None and history.epochs == 0:
            print(f"Nothing saved: no epoch finished ({display_path(save)} is as it was).")
        elif save is not None:
            kept = save_to(interrupted_path(save))
            print(
                f"{display_path(save)} is as it was; the {history.epochs} finished epoch(s) are saved in "
                f"{display_path(kept)} (resume from it as notebook 05 shows, or delete it)."
            )
        raise
    metrics.update(final_metrics(network, history, test_data, device))
    print(f"final model: validation accuracy {metrics['val_acc']:.4f}, test accuracy {metrics['test_acc']:.4f}")
    if save is not None:
        print(f"saved {display_path(save_to(save))}")
    return network, history


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
            print(f"Cannot use it: {error}\nMoved it to {display_path(_set_aside(path, 'unusable'))}.")
        else:
            if loaded.dataset == dataset and loaded.is_sample == is_sample:
                val_acc, test_acc = loaded.metrics["val_acc"], loaded.metrics.get("test_acc", math.nan)
                print(
                    f"Loaded {display_path(path)}: {model} on {dataset}, {loaded.epoch} epochs, "
                    f"validation accuracy {val_acc:.4f}, test accuracy {test_acc:.4f}"
                )
                return loaded
            kept = _set_aside(path, "other-data")
            print(f"{display_path(path)} was trained on other data; moved it to {display_path(kept)}.")
    print(f"No usable checkpoint at {display_path(path)}: training {model} on {dataset} now (as notebook 03 does).")
    train_model(model, dataset, epochs=epochs, save=path)
    return checkpoints.load_checkpoint(path, expect_model=model)


def _set_aside(path: Path, tag: str) -> Path:
    """Rename ``path`` to ``path.tag`` (or ``path.tag.2``, ...: an earlier one is never overwritten)."""
    target, number = path.with_name(f"{path.name}.{tag}"), 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.{tag}.{number}")
    os.replace(path, target)
    return target
