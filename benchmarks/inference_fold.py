"""What ``models.for_inference`` changes in a measurement: ``predict_logits`` with each BatchNorm folded into its
convolution and each max-pool before its ReLU (as committed) against the model run as it is, on the validation and
test splits, with the checkpoint's test-time views.

    python benchmarks/inference_fold.py               # the shipped MNIST BN-CNN, and notebook 03's if it is there
    python benchmarks/inference_fold.py --repeats 5

For each split it prints the seconds of each way (median of the repeats, taken in turn so that a slower minute of a
shared machine falls on both), how many predictions differ (the claim: none) and the largest difference of a logit.
Import full MNIST first and run nothing else meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from unittest import mock

import torch

from utils import checkpoints, data, evaluation
from utils.hardware import pick_device
from utils.machinery.workflow import PRETRAINED, default_checkpoint


def measure(model, split, device, *, fold: bool) -> tuple[float, torch.Tensor]:
    with contextlib.nullcontext() if fold else mock.patch.object(evaluation, "for_inference", lambda model: model):
        began = time.perf_counter()
        logits, _ = evaluation.predict_logits(model, split, device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - began, logits.cpu()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device")
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    paths = [(PRETRAINED / "cnn-mnist.pt", "mnist"), (default_checkpoint("cnn", "fashion-mnist"), "fashion-mnist")]
    print(f"{'checkpoint':<40} {'split':<10} {'as it is':>9} {'folded':>9} {'speed-up':>8} {'predictions differ':>18}"
          f" {'largest logit difference':>24}")
    for path, dataset in paths:
        if not path.exists():
            print(f"{path.name}: not there (notebook 03 makes it), skipped")
            continue
        model = checkpoints.load_checkpoint(path).model.to(device)
        _, validation = data.validation_split(data.load_tensors(dataset, "train"))
        for name, split in (("validation", validation), ("test", data.load_tensors(dataset, "test"))):
            split = split.to(device)
            for fold in (False, True):  # warm-up, each way: kernels chosen, memory allocated
                measure(model, split, device, fold=fold)
            times: dict[bool, list[float]] = {False: [], True: []}
            logits: dict[bool, torch.Tensor] = {}  # by fold: the last repeat's
            for _ in range(args.repeats):
                for fold in (False, True):
                    seconds, logits[fold] = measure(model, split, device, fold=fold)
                    times[fold].append(seconds)
            plain, fast = statistics.median(times[False]), statistics.median(times[True])
            differ = (logits[False].argmax(1) != logits[True].argmax(1)).sum().item()
            largest = (logits[False] - logits[True]).abs().max().item()
            print(f"{path.name:<40} {name:<10} {plain:8.2f}s {fast:8.2f}s {plain / fast:7.2f}x {differ:>18}"
                  f" {largest:>24.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
