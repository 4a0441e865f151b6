"""The BN-CNN's recipe on a CUDA GPU, chosen on the validation split: bigger batches, the learning rate scaled.

    python benchmarks/gpu_recipe_search.py                  # on a CUDA GPU: both datasets, seeds 0-2
    COURSE_SMOKE=1 python benchmarks/gpu_recipe_search.py   # checks the script on little data (any device)

A GPU takes a batch of 512 images in about the time it takes one of 128, so a bigger batch makes an epoch shorter;
with fewer steps per epoch the peak learning rate is scaled up, by the square root of the batch ratio or (the
linear scaling rule, notebook 07) by the ratio itself. Each candidate trains the course's BN-CNN for 10 epochs as
the course does (its dataset's augmentation and label smoothing, one-cycle AdamW, bf16 where native) on the 50,000
training images of ``data.validation_split``, seed by seed beside the course's CPU recipe on the same GPU, and is
judged by its validation accuracy with the test-time views (as the course measures a final model).

The rule, fixed before the first run: a candidate qualifies on a dataset when its validation accuracy, compared
seed by seed with the CPU recipe's, differs by a mean of at least ``-TOLERANCE`` with a 95 % interval that reaches 0
or above (not worse, or "cannot tell apart"). Of the candidates that qualify on both datasets, the one whose
training takes the fewest seconds (both datasets together) becomes the GPU recipe; if none does, the CPU recipe
stays. The chosen recipe's MNIST models are then measured once on the test set: the course's goal on an H200-class
GPU is 10 epochs in at most 5 s of training at a mean test accuracy of 0.994 or more. A run on a GPU files its
result under the GPU's name in ``benchmarks/results/gpu_recipe.json`` (smoke mode writes to build/ instead).
"""

from __future__ import annotations

import argparse
import datetime
from dataclasses import replace

import torch

from utils import data, evaluation, hardware, recipes, training
from utils.guards import settings
from utils.machinery import results

RESULTS_FILE = settings.REPO_ROOT / "benchmarks" / "results" / "gpu_recipe.json"
DATASETS = ("mnist", "fashion-mnist")
EPOCHS = 1 if settings.SMOKE else 10
TOLERANCE = 0.001
CPU_RECIPE = "CPU recipe"
CANDIDATES = {  # name: (batch size, peak learning rate); the CPU recipe's is 5e-3 at batch 128
    "batch 512, peak lr 1e-2 (square-root rule)": (512, 1e-2),
    "batch 512, peak lr 2e-2 (linear rule)": (512, 2e-2),
    "batch 1024, peak lr 1.4e-2 (square-root rule)": (1024, 1.4e-2),
}


def recipe_for(name: str, dataset: str) -> tuple[training.Recipe, data.Augment | None]:
    recipe, augment = recipes.course_recipe("cnn", dataset, EPOCHS)
    if name != CPU_RECIPE:
        batch_size, lr = CANDIDATES[name]
        recipe = replace(recipe, batch_size=batch_size, lr=lr)
    return recipe, augment


def train(name: str, dataset: str, seed: int, device: torch.device, split) -> tuple[torch.nn.Module, dict]:
    """One candidate, one seed: its training seconds (the epochs' sum) and its validation accuracy."""
    recipe, augment = recipe_for(name, dataset)
    train_data, val_data = split
    training.seed_everything(seed)  # the same starting weights for every candidate with this seed
    model = recipes.course_model("cnn", dataset)
    history = training.fit(model, train_data, val_data, recipe, augment=augment, device=device, seed=seed,
                           progress=False, verbose=False)
    _, val_acc = evaluation.evaluate(model, val_data.to(device), device)  # with the test-time views
    return model, {"seconds": sum(history.seconds), "val_acc": val_acc}


def choose(measured: dict) -> tuple[str, dict]:
    """The rule above: ``measured[name][dataset][seed]`` holds each run's record. Returns the chosen name and each
    candidate's verdicts (``{name: {dataset: (Difference, qualifies)}}``)."""
    verdicts, qualified = {}, []
    for name in CANDIDATES:
        verdicts[name] = {}
        for dataset in DATASETS:
            seeds = sorted(measured[CPU_RECIPE][dataset])
            difference = evaluation.paired_difference(
                [measured[CPU_RECIPE][dataset][seed]["val_acc"] for seed in seeds],
                [measured[name][dataset][seed]["val_acc"] for seed in seeds],
            )
            verdicts[name][dataset] = difference, bool(difference.mean >= -TOLERANCE and difference.high >= 0)
        if all(qualifies for _, qualifies in verdicts[name].values()):
            qualified.append(name)

    def seconds(name: str) -> float:
        return sum(record["seconds"] for runs in measured[name].values() for record in runs.values())

    return min(qualified, key=seconds, default=CPU_RECIPE), verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    if len(set(args.seeds)) < 2:
        parser.error("a confidence interval needs at least 2 different seeds")
    device = hardware.pick_device()
    if device.type != "cuda" and not settings.SMOKE:
        parser.error(f"this chooses a recipe for a CUDA GPU and there is none here ({device}); "
                     "COURSE_SMOKE=1 checks the script on the CPU")
    print(results.describe_hardware(device))
    measured = {name: {dataset: {} for dataset in DATASETS} for name in (CPU_RECIPE, *CANDIDATES)}
    models = {}  # (name, seed) -> the MNIST model, for the chosen recipe's one look at the test set
    for dataset in DATASETS:
        split = tuple(part.to(device) for part in data.validation_split(data.load_tensors(dataset, "train")))
        for seed in args.seeds:
            for name in measured:
                model, record = train(name, dataset, seed, device, split)
                measured[name][dataset][str(seed)] = record
                if dataset == "mnist":
                    models[name, str(seed)] = model
                print(f"{dataset:<13} {name:<46} seed {seed}: {record['seconds']:5.1f} s of training, "
                      f"validation {record['val_acc']:.4f}", flush=True)
    chosen, verdicts = choose(measured)
    for name, by_dataset in verdicts.items():
        for dataset, (difference, qualifies) in by_dataset.items():
            print(f"{name} on {dataset}, validation accuracy against the CPU recipe: {difference}"
                  f"{'' if qualifies else ' (does not qualify)'}")
    test = data.load_tensors("mnist", "test").to(device)
    tested = {seed: evaluation.evaluate(models[chosen, seed], test, device)[1] for seed in measured[chosen]["mnist"]}
    mnist_seconds = [record["seconds"] for record in measured[chosen]["mnist"].values()]
    print(f"chosen: {chosen}; on MNIST {sum(mnist_seconds) / len(mnist_seconds):.1f} s of training on average, "
          f"test accuracy {sum(tested.values()) / len(tested):.4f} on average ({len(tested)} seeds, measured once)")
    entry = {
        "hardware": results.describe_hardware(device),
        "date": datetime.date.today().isoformat(),
        "epochs": EPOCHS,
        "candidates": {name: dict(zip(("batch_size", "lr"), CANDIDATES[name])) for name in CANDIDATES},
        "runs": measured,
        "chosen": chosen,
        "chosen_mnist_test_acc": tested,
    }
    path = settings.REPO_ROOT / "build" / "gpu-recipe-smoke.json" if settings.SMOKE else RESULTS_FILE
    saved = results.read(path)
    saved[results.machine_class()] = entry
    results.write(path, saved)
    print(f"saved under {results.machine_class()!r} in {settings.display_path(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
