"""Time to accuracy: the reference recipe against the course's, BN-CNN on Fashion-MNIST, one run.

    python benchmarks/time_to_accuracy.py           # full data, target 91 %, at most 15 epochs each
    python benchmarks/time_to_accuracy.py --quick   # 12,000 training images, target 85 %, at most 4 epochs

    # a laptop without native bfloat16, measured on a machine with AVX-512:
    COURSE_PRECISION=float32 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/time_to_accuracy.py

(a) reference: torchvision Dataset + ToTensor/Normalize + DataLoader (batch 64), Adam lr 1e-3, float32;
(b) course: tensors in memory (batch 128), AdamW with a one-cycle schedule over a short budget, label smoothing,
    channels_last, bf16 autocast where the hardware runs it natively (``training.course_recipe``, with the
    schedule length and augmentation that ``short_budget_search.py`` chose on a validation split).

Both train the same model with the same loop (``training.fit``); each stops once it reaches the target.
Times are training seconds (evaluation excluded), cumulative; the course's one-time conversion of the
dataset to tensors is counted in its first epoch. The first line says which CPU kernels and precision ran.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch
from short_budget_search import CANDIDATES, CHOSEN

from utils import data, training
from utils.models import CNN

DATASET = "fashion-mnist"


def run_reference(args, train_limit, test_limit) -> training.History:
    began = time.perf_counter()
    train = data.make_loader(DATASET, "train", batch_size=64, limit=train_limit)
    test = data.make_loader(DATASET, "test", batch_size=1024, limit=test_limit)
    setup = time.perf_counter() - began
    recipe = training.Recipe(
        epochs=args.max_epochs,
        batch_size=64,
        lr=1e-3,
        weight_decay=0.0,
        schedule="constant",
        mixed_precision=False,
        channels_last=False,
    )
    torch.manual_seed(args.seed)
    model = CNN()
    history = training.fit(
        model,
        train,
        test,
        recipe,
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
        seed=args.seed,
        progress=False,
        stop_when=lambda h: h.test_acc[-1] >= args.target,
    )
    history.seconds[0] += setup
    return history


def run_course(args, train_limit, test_limit) -> training.History:
    began = time.perf_counter()
    train = data.load_tensors(DATASET, "train", limit=train_limit)
    test = data.load_tensors(DATASET, "test", limit=test_limit)
    setup = time.perf_counter() - began
    recipe, _ = training.course_recipe("cnn", DATASET)
    changes, augment = CANDIDATES[CHOSEN]
    recipe = replace(recipe, **changes)
    if args.quick:
        recipe.epochs = args.max_epochs
    torch.manual_seed(args.seed)
    history = training.fit(
        CNN(),
        train,
        test,
        recipe,
        augment=augment,
        seed=args.seed,
        progress=False,
        stop_when=lambda h: h.test_acc[-1] >= args.target,
    )
    history.seconds[0] += setup
    return history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="12,000 training images, target 85 %%, 4 epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train_limit, test_limit = (12_000, 2_000) if args.quick else (None, None)
    args.target = 0.85 if args.quick else 0.91
    args.max_epochs = 4 if args.quick else 15

    print(training.describe_hardware())
    print(f"== (a) reference recipe: DataLoader batch 64, Adam 1e-3, float32 (at most {args.max_epochs} epochs)")
    reference = run_reference(args, train_limit, test_limit)
    print(f"== (b) course recipe for a short budget: tensors in memory, AdamW + OneCycle, channels_last ({CHOSEN})")
    course = run_course(args, train_limit, test_limit)
    images = len(data.load_tensors(DATASET, "train", limit=train_limit))

    print(f"\n{'epoch':>5} | {'reference s':>11} {'acc':>7} | {'course s':>9} {'acc':>7}   (cumulative seconds)")
    for epoch in range(max(reference.epochs, course.epochs)):
        cells = []
        for history in (reference, course):
            if epoch < history.epochs:
                cells.append(f"{sum(history.seconds[: epoch + 1]):>9.1f} {history.test_acc[epoch]:>7.4f}")
            else:
                cells.append(f"{'':>9} {'':>7}")
        print(f"{epoch + 1:>5} | {cells[0]:>19} | {cells[1]:>17}")

    runs = {"reference": reference, "course": course}
    for name, history in runs.items():
        throughput = images / statistics.median(history.seconds)
        print(f"training throughput, {name}: {throughput:,.0f} images/s (median epoch)")
    reached = {name: training.time_to_target(history, args.target) for name, history in runs.items()}
    for name, seconds in reached.items():
        print(f"time to {args.target:.0%}, {name}: " + (f"{seconds:.1f} s" if seconds else "not reached"))
    label = f"speedup to {args.target:.0%}"
    if reached["reference"] and reached["course"]:
        print(f"{label}: {reached['reference'] / reached['course']:.2f}x")
    else:
        missing = " and ".join(name for name, s in reached.items() if s is None)
        print(
            f"{label}: not computable: the {missing} recipe did not reach {args.target:.0%} "
            f"within {args.max_epochs} epochs"
        )


if __name__ == "__main__":
    main()
