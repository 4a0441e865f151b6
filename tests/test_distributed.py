"""Data-parallel training with torchrun: each process its share of the data, one voice, the same result as one
process. Two CPU processes talk through gloo; the model is the MNIST BN-CNN on the offline sample, in smoke mode.
Each torchrun costs several new Pythons importing PyTorch: one run here, and notebook 07's under nbval."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch
from conftest import OFFLINE, free_port

from utils import checkpoints
from utils.data import InMemoryData
from utils.guards import settings
from utils.machinery.distributed import Share, Team
from utils.train import main

pytest.importorskip("torch.distributed.run", reason="this PyTorch has no torchrun")
# on the CPU (gloo) also where a GPU is: two "machines" on one box would share its one GPU, which NCCL refuses
TRAIN = ["--model", "cnn", "--dataset", "mnist", "--epochs", "2", "--device", "cpu"]


def torchrun(*options: str, save, **popen) -> subprocess.Popen:
    """``torchrun OPTIONS -m utils.train ...`` in smoke mode, offline (``python -m torch.distributed.run`` is the
    same command; it needs no script on the PATH)."""
    launcher = OFFLINE + "import sys\nfrom torch.distributed.run import main\nsys.exit(main())"
    return subprocess.Popen(
        [sys.executable, "-c", launcher, *options, "-m", "utils.train", *TRAIN, "--save", str(save)],
        cwd=settings.REPO_ROOT,
        env={**os.environ, "COURSE_SMOKE": "1", "COURSE_PROGRESS": "0", "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def finished(processes: list[subprocess.Popen], timeout: float = 240) -> str:
    """What the processes printed, once all have ended well. One that has not ended by ``timeout`` is stopped, and
    the assertion shows what every process had printed by then (CI once saw a run whose training had finished
    hang at exit for 300 s: the other node's output is what tells why)."""
    deadline = time.monotonic() + timeout
    outputs = []
    for process in processes:
        try:
            outputs.append(process.communicate(timeout=max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            printed = [other.communicate() for other in processes]
            report = "\n".join(f"--- process {number}, exit {other.returncode}:\n{out[-1500:]}\n{err[-1500:]}"
                               for number, (other, (out, err)) in enumerate(zip(processes, printed)))
            raise AssertionError(f"not finished after {timeout:.0f} s\n{report}") from None
    for process, (_, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-3000:]
    return "".join(out for out, _ in outputs)


def test_each_process_trains_on_its_own_equal_share_of_every_epoch():
    count = 1003  # each image's label is its number, to see where it went
    data = InMemoryData(images=torch.zeros(count, 1, 28, 28), labels=torch.arange(count), classes=("x",) * 10,
                        name="mnist", split="train", mean=0.0, std=1.0)
    shares = [Share(data, 128, Team(rank, 4, torch.device("cpu")), seed=0) for rank in range(4)]
    orders = []
    for _ in range(2):
        parts = [torch.cat([labels for _, labels in share]) for share in shares]
        assert [len(part) for part in parts] == [250] * 4  # 1003 // 4: three images sit out this epoch
        assert [len(share) for share in shares] == [8] * 4  # the same steps everywhere: 250 images, 32 at a time
        assert len(torch.cat(parts).unique()) == 1000  # no image in two shares
        orders.append(torch.cat(parts))
    assert not torch.equal(*orders)  # a new order every epoch


def test_two_machines_meet_through_torchruns_rendezvous_print_once_save_once_and_match_one_process(tmp_path, capsys):
    """Two "machines" on localhost, one process each, meet at a rendezvous point as two real ones would (notebook 07
    runs ``torchrun --standalone --nproc_per_node=2`` under nbval)."""
    alone = tmp_path / "one.pt"
    assert main([*TRAIN, "--save", str(alone)]) == 0
    capsys.readouterr()
    port = free_port()
    common = ["--nnodes=2", "--nproc_per_node=1", "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{port}",
              "--rdzv-id=course-test"]
    nodes = [torchrun(*common, f"--node-rank={rank}", save=tmp_path / f"node{rank}.pt") for rank in range(2)]
    try:
        printed = finished(nodes)
    finally:
        for node in nodes:
            node.kill()
    assert printed.count("Training CNN in 2 processes (gloo, cpu") == 1
    assert printed.count("Epoch  1/2") == 1 and printed.count("Epoch  2/2") == 1
    assert printed.count("final model:") == 1 and printed.count("saved ") == 1
    saved = [tmp_path / f"node{rank}.pt" for rank in range(2) if (tmp_path / f"node{rank}.pt").exists()]
    assert len(saved) == 1
    one, two = checkpoints.load_checkpoint(alone), checkpoints.load_checkpoint(saved[0])
    assert two.epoch == 2 and two.metrics["val_acc"] > 0.8
    assert abs(two.metrics["val_acc"] - one.metrics["val_acc"]) < 0.03, (one.metrics, two.metrics)


def torchrun_script(folder, source: str, *arguments: str) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node=2`` on a small script written into ``folder``: the team's own
    behaviour, without a training."""
    script = folder / "team.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script), *arguments],
        cwd=settings.REPO_ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
        timeout=300,
    )


LEAVE_TOGETHER = """
import sys, time
from pathlib import Path
from utils.machinery import distributed
with distributed.team_of("cpu", 64) as team:
    if team.leads:
        time.sleep(2)  # process 0 measures and saves while the others have nothing left to do
Path(sys.argv[1], f"left-{team.rank}").write_text(repr(time.time()))
"""


def test_every_process_leaves_the_team_when_process_0_does(tmp_path):
    """A process that left while process 0 was still busy could reach Python's shutdown before gloo's worker thread
    let go of its last all-reduce; C++ then aborted it (SIGABRT, about 1 run in 10 on a 2-core CPU) and torchrun
    called the whole run failed. So the processes leave together: the silent one waits for process 0."""
    done = torchrun_script(tmp_path, LEAVE_TOGETHER, str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    left = [float((tmp_path / f"left-{rank}").read_text()) for rank in range(2)]
    assert left[1] > left[0] - 1, left  # without waiting, process 1 leaves about 2 s before process 0


ONE_FAILS = """
from utils.machinery import distributed
with distributed.team_of("cpu", 64) as team:
    if team.leads:
        raise SystemExit("error: process 0 could not save (as the command says it)")
"""


def test_when_process_0_stops_on_an_error_the_others_add_one_line_not_a_traceback(tmp_path):
    """The others wait for process 0 at the end; when it stops on an error instead, their wait ends in gloo's
    'Connection closed by peer' RuntimeError, which printed a second, misleading traceback."""
    done = torchrun_script(tmp_path, ONE_FAILS)
    assert done.returncode != 0
    assert "could not save" in done.stderr
    assert "Connection closed" not in done.stderr and "distributed.py" not in done.stderr, done.stderr[-3000:]
