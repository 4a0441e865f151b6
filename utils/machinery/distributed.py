"""Data-parallel training with PyTorch's own engine: ``torchrun --nproc_per_node=N -m utils.train ...``.

torchrun starts N copies of the command and tells each its place in the team through environment variables
(``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``; across machines, its rendezvous
options). Each process holds the whole split in memory and trains on its own share of every epoch's shuffled order;
``DistributedDataParallel`` averages the gradients of all processes (an all-reduce) during each backward pass, so
every process takes the same step with the same weights. The effective batch stays the recipe's: each process
takes ``batch_size / N`` images per step, so the learning rate the recipe chose still fits. The processes talk
through gloo on CPUs and NCCL on CUDA GPUs; process 0 prints and saves, the others are silent.

``training.fit`` runs unchanged in each process: it is given the wrapped model, this process's share of the data,
and an end-of-epoch report that averages the epoch's numbers over the processes and prints them once.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from utils import training
from utils.data import InMemoryData
from utils.hardware import describe_precision, uses_bf16
from utils.models import one_view


class TeamError(ValueError):
    """A data-parallel run that cannot start as asked (one line, before any training)."""


def started_by_torchrun() -> bool:
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


@dataclass(frozen=True)
class Team:
    """This process's place in a data-parallel run: ``rank`` of ``size`` processes, training on ``device``."""

    rank: int
    size: int
    device: torch.device

    @property
    def leads(self) -> bool:
        """Process 0 prints, measures the test set and saves."""
        return self.rank == 0

    def fit(self, network, train_data: InMemoryData, val_data: InMemoryData, recipe: training.Recipe, *,
            seed: int, **options) -> training.History:
        """``training.fit`` on this process's share of ``train_data``, with the gradients averaged over the team."""
        if recipe.channels_last:  # the layout the gradients will have, before DDP lays out its buckets for them
            network.to(memory_format=torch.channels_last)
        network.to(self.device)
        model = DistributedDataParallel(network, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        share = Share(train_data.to(self.device), recipe.batch_size, self, seed)
        precision = describe_precision(self.device, uses_bf16(self.device, recipe.mixed_precision))
        print(
            f"Training {type(network).__name__} in {self.size} processes ({dist.get_backend()}, {self.device.type}, "
            f"{precision}) for {training.epochs_in_words(recipe.epochs)}: {share.batch_size} images per process per "
            f"step, {share.batch_size * self.size} in all"
        )
        options["progress"] = options.get("progress") and self.leads  # one set of progress bars, not N
        with one_view(network):  # fit's check after each epoch sees each image once, as in one process
            return training.fit(
                model, share, val_data, recipe, device=self.device, seed=seed + self.rank, verbose=False,
                stop_when=EpochReport(self, (options.get("history") or training.History()).epochs + recipe.epochs),
                **options,
            )


def join(device: str | None = None) -> Team | None:
    """The team torchrun started this process in (gloo on CPUs, NCCL on CUDA GPUs), or None outside torchrun."""
    if not started_by_torchrun():
        return None
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    wanted = torch.device(device) if device else None
    if wanted is not None and wanted.type not in ("cuda", "cpu"):
        raise TeamError(f"torchrun trains on CUDA GPUs or on CPUs, not on {wanted.type}: use --device cuda or cpu")
    if torch.cuda.is_available() and (wanted is None or wanted.type == "cuda"):
        if local_rank >= torch.cuda.device_count():
            raise TeamError(
                f"{size} processes on this machine but {torch.cuda.device_count()} CUDA GPU(s): "
                "use --nproc_per_node at most the number of GPUs"
            )
        chosen, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(chosen)
    else:
        chosen, backend = torch.device("cpu"), "gloo"
    dist.init_process_group(backend, device_id=chosen if backend == "nccl" else None)
    return Team(rank, size, chosen)


@contextlib.contextmanager
def team_of(device: str | None, batch_size: int) -> Iterator[Team | None]:
    """Join torchrun's team for the length of a training (None outside torchrun); only process 0 prints."""
    team = join(device)
    if team is None:
        yield None
        return
    quiet = None if team.leads else open(os.devnull, "w")
    try:
        if batch_size % team.size:
            raise TeamError(
                f"the recipe's batch of {batch_size} does not split into {team.size} equal parts: use a number of "
                f"processes that divides {batch_size}"
            )
        with contextlib.redirect_stdout(quiet) if quiet else contextlib.nullcontext():
            yield team
        # Every process leaves together. A process that left while process 0 still measured and saved could reach
        # Python's shutdown before gloo's worker thread had let go of the last all-reduce's tensor: the thread then
        # needs the interpreter that is going away, and C++ aborts the process (SIGABRT, 'terminate called without
        # an active exception', about 1 run in 10 on a 2-core CPU), so torchrun reported a finished run as failed.
        try:
            dist.barrier()
        except RuntimeError:  # gloo's "Connection closed by peer": another process stopped on an error it printed
            raise SystemExit(f"process {team.rank}: another process of this run stopped on an error (above); "
                             "this one stops too") from None
    finally:
        if quiet:
            quiet.close()
        dist.destroy_process_group()


class Share:
    """This process's batches of each epoch: one shuffled order for the whole team (the same seed everywhere), cut
    into ``team.size`` equal parts; part ``team.rank``, in batches of ``batch_size / team.size``. Equal parts, so that
    every process takes the same number of steps (a few images, fewer than the team, sit out each epoch)."""

    def __init__(self, data: InMemoryData, batch_size: int, team: Team, seed: int) -> None:
        self.data, self.team = data, team
        self.batch_size = batch_size // team.size
        self.part = len(data) // team.size
        self.order = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:  # batches per epoch: what the one-cycle schedule counts its steps in
        return math.ceil(self.part / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(len(self.data), generator=self.order)
        mine = order[self.team.rank * self.part : (self.team.rank + 1) * self.part].to(self.data.labels.device)
        for start in range(0, self.part, self.batch_size):
            index = mine[start : start + self.batch_size]
            yield self.data.images[index], self.data.labels[index]


class EpochReport:
    """``fit``'s ``stop_when``, used to report: after each epoch, the epoch's numbers averaged over the processes
    (each trained on its own share) replace this process's own, and process 0 prints the epoch's line. Never stops."""

    def __init__(self, team: Team, last: int) -> None:
        self.team, self.last = team, last  # the number of the run's last epoch, for "Epoch  3/10"

    def __call__(self, history: training.History) -> bool:
        names = ("train_loss", "train_acc", "val_loss", "val_acc")
        numbers = torch.tensor([getattr(history, name)[-1] for name in names], dtype=torch.float64,
                               device=self.team.device)
        dist.all_reduce(numbers)
        for name, total in zip(names, numbers.tolist()):
            getattr(history, name)[-1] = total / self.team.size
        print(training.epoch_line(history, self.last), flush=True)
        return False
