"""The course's results over several seeds, as ``benchmarks/results_over_seeds.py`` measured and saved them.

Notebook 03 and the results page (``docs/results.md``; the README for the notebook minutes) read their tables from here
instead of retraining every variant live; a test checks that the pages' tables are the ones this module prints.
"""

from __future__ import annotations

import json
import re
import shlex
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from utils import hardware, training
from utils.evaluation import Difference, paired_difference
from utils.guards import settings
from utils.guards.files import write_whole
from utils.guards.settings import display_path
from utils.guards.text import safe_text

RESULTS_FILE = settings.REPO_ROOT / "benchmarks" / "results" / "seeds.json"


METRICS = ("val_acc", "test_acc", "train_acc", "seconds")
HEADLINE = [
    "mlp-fashion",
    "mlp-fashion-all",
    "ablation-plain",
    "ablation-flips",
    "cnn-fashion-15",
    "cnn-fashion-15-all",
    "mlp-mnist",
    "mlp-mnist-all",
    "cnn-mnist",
    "cnn-mnist-15",
    "cnn-mnist-20",
    "cnn-mnist-15-all",
]
# notebook 03's ablation on Fashion-MNIST: one change per step under one recipe, then the BN-CNN's own recipe,
# one setting at a time
ABLATION = [
    "ablation-plain",
    "ablation-padding",
    "ablation-batchnorm",
    "ablation-dropout",
    "ablation-lr",
    "ablation-batch",
    "ablation-flips",
]


@dataclass(frozen=True)
class Summary:
    """Mean and standard deviation over seeds of one configuration."""

    key: str
    description: str
    seeds: int
    val_acc: tuple[float, float] | None
    test_acc: tuple[float, float]
    train_acc: tuple[float, float]
    seconds: tuple[float, float]


class ResultsError(ValueError):
    """A results file that cannot be read, with a message that says which and what to do."""


_RESTORE = "restore the committed one (git checkout -- benchmarks/results) or measure again"


def describe_hardware(device: torch.device | str | None = None) -> str:
    """One line for benchmarks: the device, the CPU's vector instructions and threads, the precision used."""
    device = hardware.pick_device(device)
    mixed = hardware.uses_bf16(device)
    if device.type == "cuda":
        where = torch.cuda.get_device_name(device)
    else:
        where = f"{torch.backends.cpu.get_cpu_capability()} CPU kernels, {torch.get_num_threads()} threads"
    return f"{device} ({where}); {hardware.describe_precision(device, mixed)}; torch {torch.__version__}"


def cpu_class() -> str:
    """What decides how fast this machine trains on its CPU, as benchmark results are filed: the precision, the
    vector instructions PyTorch's kernels use, the threads."""
    mixed = hardware.uses_bf16(torch.device("cpu"))
    capability = torch.backends.cpu.get_cpu_capability()
    return f"{'native bf16' if mixed else 'float32'}, {capability} kernels, {torch.get_num_threads()} threads"


def machine_class() -> str:
    """Where a training command's benchmark files its result: this machine's CPU class, or the GPU's name where the
    command trains on one."""
    device = hardware.pick_device()
    return cpu_class() if device.type == "cpu" else describe_hardware(device).split(";")[0]


EPOCH_LINE = re.compile(r"^Epoch +\d+/\d+ \|.*\| ([\d.]+) s$", re.M)
"""An epoch's line as ``training.epoch_line`` prints it; its last field is the epoch's seconds."""


def seconds_in_epochs(output: str) -> float:
    """The sum of the epoch times in what a training command printed: the time it spent training."""
    return sum(float(seconds) for seconds in EPOCH_LINE.findall(output))


def load(path: Path | None = None) -> dict:
    """The saved runs (``RESULTS_FILE`` unless ``path`` is given):
    ``{"hardware": ..., "runs": {key: {"description": ..., "seeds": {seed: record}}}}``."""
    path = path or RESULTS_FILE
    saved = read(path) or {"hardware": "", "runs": {}}
    if not isinstance(saved.get("runs"), dict):
        raise ResultsError(f"{display_path(path)} holds no 'runs' table: {_RESTORE}")
    return saved


def read(path: Path) -> dict:
    """A results file of ``benchmarks/results/`` as a dict; empty where there is none yet."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsError(f"{display_path(path)} cannot be read ({safe_text(error)}): {_RESTORE}") from None
    if not isinstance(saved, dict):
        raise ResultsError(f"{display_path(path)} holds a {type(saved).__name__}, not a results table: {_RESTORE}")
    return saved


def write(path: Path, saved: dict) -> None:
    """Write a results file whole or not at all: a run that dies mid-write leaves the old file as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, lambda partial: partial.write_text(json.dumps(saved, indent=1) + "\n"), ResultsError)


def _spread(values: list[float | None]) -> tuple[float, float] | None:
    """Mean and sample standard deviation; None where there is nothing to measure (a final model trained on the
    validation images too has no validation accuracy)."""
    if any(value is None for value in values):
        return None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarize(key: str, results: dict | None = None) -> Summary:
    """Mean ± standard deviation of the final validation, test and (eval-mode) train accuracy, and seconds."""
    entry = (results or load())["runs"][key]
    records = list(entry["seeds"].values())
    return Summary(
        key=key,
        description=entry["description"],
        seeds=len(records),
        **{name: _spread([record[name] for record in records]) for name in METRICS},
    )


def seed_values(key: str, metric: str = "val_acc", results: dict | None = None) -> dict[str, float]:
    """Seed -> the final ``metric`` of configuration ``key``."""
    return {seed: record[metric] for seed, record in (results or load())["runs"][key]["seeds"].items()}


def compare(before: str, after: str, metric: str = "val_acc", results: dict | None = None) -> Difference:
    """What changing configuration ``before`` into ``after`` did to ``metric``, paired by seed
    (``evaluation.paired_difference``: the mean difference and its 95 % interval)."""
    first, second = seed_values(before, metric, results), seed_values(after, metric, results)
    seeds = sorted(set(first) & set(second))
    return paired_difference([first[seed] for seed in seeds], [second[seed] for seed in seeds])


def views_gain(key: str, results: dict | None = None) -> Difference:
    """What the test-time views (flips or shifts) are worth to the networks of ``key``: each network's validation
    accuracy with them against seeing each image once, paired by seed."""
    pairs = accuracy_once_and_with_views(key, results)
    return paired_difference([once for _, once, _ in pairs], [with_views for _, _, with_views in pairs])


# the ablation's steps, each judged against the one before; the flips step trains nothing new: it is judged by
# ``views_gain``, each network with and without its test-time views
COMPARED_STEPS = [("mlp-fashion", "ablation-plain"), *zip(ABLATION[:-2], ABLATION[1:-1]),
                  ("ablation-dropout", "ablation-batch")]


def steps_table(results: dict | None = None) -> str:
    """The results page's table of the ablation's steps: each one's change in validation accuracy, paired by seed."""
    results = results or load()
    lines = ["| step | change in validation accuracy | 95 % interval | seeds | verdict |", "|---|---|---|---|---|"]
    rows = []  # (the row's name, its Difference), formatted alike below
    for before, after in COMPARED_STEPS:
        name = ABLATION_STEP_NAMES.get((before, after), results["runs"][after]["description"])
        rows.append((name, compare(before, after, results=results)))
    for key in MEASURED_ONCE_AND_WITH_VIEWS:
        name = f"test-time views: {HEADLINE_LABELS.get(key, results['runs'][key]['description'])}"
        rows.append((name, views_gain(key, results)))
    for name, difference in rows:
        lines.append(
            f"| {name} | {difference.mean:+.4f} | {difference.low:+.4f} to {difference.high:+.4f} | "
            f"{difference.seeds} | {difference.verdict} |"
        )
    return "\n".join(lines)


ABLATION_STEP_NAMES = {
    ("mlp-fashion", "ablation-plain"): "plain CNN against the MLP (each with its own recipe)",
    ("ablation-dropout", "ablation-batch"): "the BN-CNN's recipe (peak lr 5e-3 and batch 64 together)",
}


# how the headline table names configurations that notebook 03's ablation describes as steps
HEADLINE_LABELS = {
    "ablation-plain": "plain CNN, Fashion-MNIST, 10 epochs",
    "ablation-flips": "BN-CNN with test-time flips, Fashion-MNIST, 10 epochs",
}


def markdown_table(
    keys: list[str], results: dict | None = None, labels: dict[str, str] | None = None, *, test: bool = True
) -> str:
    """The results page's table for ``keys``: mean ± std over seeds; ``labels`` rename rows. ``test=False`` leaves the
    test accuracy out, for intermediate models that only the validation set should judge."""
    results = results or load()
    columns = ["validation accuracy", *(["test accuracy"] if test else []), "train accuracy (eval mode)"]
    lines = [
        f"| configuration | seeds | {' | '.join(columns)} | training s |",
        "|---" * (len(columns) + 3) + "|",
    ]
    for key in keys:
        row = summarize(key, results)
        pairs = (row.val_acc, row.test_acc, row.train_acc) if test else (row.val_acc, row.train_acc)
        cells = [f"{pair[0]:.4f} ± {pair[1]:.4f}" if pair else "—" for pair in pairs]
        name = (labels or {}).get(key, row.description)
        lines.append(f"| {name} | {row.seeds} | {' | '.join(cells)} | {row.seconds[0]:.0f} ± {row.seconds[1]:.0f} |")
    return "\n".join(lines)


# configurations whose networks were also evaluated seeing each validation image once, without test-time views
MEASURED_ONCE_AND_WITH_VIEWS = ["ablation-flips", "cnn-fashion-15", "cnn-mnist", "cnn-mnist-15"]


def accuracy_once_and_with_views(key: str, results: dict | None = None) -> list[tuple[str, float, float]]:
    """Seed by seed, the validation accuracy of the same trained network seeing each image once, and with its
    test-time views (flips or one-pixel shifts) averaged in."""
    seeds = (results or load())["runs"][key]["seeds"]
    return [(seed, seeds[seed]["val_acc_each_image_once"], seeds[seed]["val_acc"]) for seed in sorted(seeds)]


def views_table(results: dict | None = None) -> str:
    """The results page's table of what test-time flips and shifts are worth: one row per configuration and seed."""
    results = results or load()
    lines = [
        "| configuration | seed | validation accuracy, each image once | with test-time flips or shifts | change |",
        "|---|---|---|---|---|",
    ]
    for key in MEASURED_ONCE_AND_WITH_VIEWS:
        for seed, once, with_views in accuracy_once_and_with_views(key, results):
            description = HEADLINE_LABELS.get(key, results["runs"][key]["description"])
            lines.append(f"| {description} | {seed} | {once:.4f} | {with_views:.4f} | {with_views - once:+.4f} |")
    return "\n".join(lines)


def notebook_minutes_table() -> str:
    """The README's notebook minutes: one column per CPU class in ``notebook_minutes.json``."""
    saved = read(RESULTS_FILE.parent / "notebook_minutes.json")
    classes = sorted(saved, key=lambda name: not name.startswith("native"))
    lines = [
        "| notebook | " + " | ".join(f"minutes: {name}" for name in classes) + " |",
        "|---" * (1 + len(classes)) + "|",
    ]
    for notebook in sorted({name for run in saved.values() for name in run["minutes"]}):
        cells = [f"{saved[name]['minutes'].get(notebook, float('nan')):.1f}" for name in classes]
        lines.append(f"| {notebook} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def time_to_accuracy_table() -> str:
    """The results page's time-to-accuracy table: one row per recipe and CPU class in ``time_to_accuracy.json``."""
    saved = read(RESULTS_FILE.parent / "time_to_accuracy.json")
    lines = [
        "| CPU class | recipe | images/s | epochs | seconds to 91 % | test accuracy | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(saved, key=lambda name: not name.startswith("native")):
        run = saved[name]
        for recipe in ("reference", "course"):
            row = run[recipe]
            seconds = f"{row['seconds_to_target']:.1f}" if row["seconds_to_target"] else "not reached"
            speedup = f"{run['speedup']:.2f}x" if recipe == "course" and run["speedup"] else ""
            lines.append(
                f"| {name if recipe == 'reference' else ''} | {recipe} | {row['images_per_s']:,.0f} | {row['epochs']} "
                f"| {seconds} | {row['test_acc']:.4f} | {speedup} |"
            )
    return "\n".join(lines)


def time_verdict(difference: Difference) -> str:
    """A paired difference in seconds in words: fewer seconds is faster."""
    return {"lower": "faster", "higher": "slower"}.get(difference.verdict, difference.verdict)


def speedrun_table(saved: dict | None = None) -> str:
    """The speedrun's table (``benchmarks/speedrun.py``): per machine class and step, the training seconds to the
    target (mean and 95 % interval over the seeds that reached it), the stopped models' test accuracy, and the change
    from the step before, paired by seed."""
    saved = read(RESULTS_FILE.parent / "speedrun.json") if saved is None else saved
    lines = [
        "| machine | step | reached | seconds to 99 % | test accuracy | change from the step before |",
        "|---|---|---|---|---|---|",
    ]
    for machine, entry in saved.items():
        before = None
        for step in entry["steps"]:
            seeds = step["seeds"]
            reached = {seed: run["seconds"] for seed, run in seeds.items() if run["seconds"] is not None}
            if len(reached) >= 2:
                mean = paired_difference([0.0] * len(reached), list(reached.values()))
                seconds = f"{mean.mean:.1f} ({mean.low:.1f} to {mean.high:.1f})"
            else:
                seconds = ", ".join(f"{value:.1f}" for value in reached.values()) or "—"
            test = sum(run["test_acc"] for run in seeds.values()) / len(seeds)
            change = ""
            if before:
                paired = sorted(set(before) & set(reached))
                if len(paired) >= 2:
                    difference = paired_difference([before[seed] for seed in paired],
                                                   [reached[seed] for seed in paired])
                    change = (f"{difference.mean:+.1f} s ({difference.low:+.1f} to {difference.high:+.1f}, "
                              f"{difference.seeds} seeds): {time_verdict(difference)}")
            lines.append(f"| {machine if before is None else ''} | {step['step']} | {len(reached)} of {len(seeds)} "
                         f"| {seconds} | {test:.4f} | {change} |")
            before = reached
    return "\n".join(lines)


def gpu_recipe_table(saved: dict | None = None) -> str:
    """The GPU recipe's search (``benchmarks/gpu_recipe_search.py``): per GPU, candidate and dataset, the mean
    training seconds and validation accuracy over the seeds, and the change from the CPU recipe, paired by seed."""
    saved = read(RESULTS_FILE.parent / "gpu_recipe.json") if saved is None else saved
    lines = [
        "| GPU | recipe | dataset | seconds of training | validation accuracy | change from the CPU recipe |",
        "|---|---|---|---|---|---|",
    ]
    for gpu, entry in saved.items():
        baseline = next(name for name in entry["runs"] if name not in entry["candidates"])  # the CPU recipe
        for number, (name, by_dataset) in enumerate(entry["runs"].items()):
            shown = f"**{name} (chosen)**" if name == entry["chosen"] else name
            for row, (dataset, seeds) in enumerate(by_dataset.items()):
                seconds = statistics.fmean(run["seconds"] for run in seeds.values())
                accuracy = statistics.fmean(run["val_acc"] for run in seeds.values())
                change = ""
                if name != baseline:
                    before = entry["runs"][baseline][dataset]
                    order = sorted(seeds)
                    change = str(paired_difference([before[seed]["val_acc"] for seed in order],
                                                   [seeds[seed]["val_acc"] for seed in order]))
                lines.append(f"| {gpu if number == row == 0 else ''} | {shown if row == 0 else ''} | {dataset} "
                             f"| {seconds:.1f} | {accuracy:.4f} | {change} |")
    return "\n".join(lines)


def what_the_command_trained(command: str) -> str:
    """``python -m utils.train --model cnn --dataset mnist --epochs 2`` as "cnn, mnist, 2 epochs": the command in
    words, short enough for a table's column (written whole, it broke between the two hyphens of "--model"). Any
    other option follows as typed; a command of another shape is shown whole."""
    words = shlex.split(command)
    options = dict(zip(words[3::2], words[4::2]))
    shaped = words[:3] == ["python", "-m", "utils.train"] and len(words) % 2 == 1
    if not shaped or not {"--model", "--dataset"} <= set(options):
        return f"`{command}`"
    named = [options.pop("--model"), options.pop("--dataset")]
    if "--epochs" in options:
        named.append(training.epochs_in_words(int(options.pop("--epochs"))))
    return ", ".join(named + [f"`{flag} {value}`" for flag, value in options.items()])


def cli_wall_time_table() -> str:
    """The training command end to end against the epochs it prints (``benchmarks/cli_wall_time.py``), per machine
    class: what starting, loading, the checks after each epoch and the final measurement add. A row of several runs
    shows their medians and every run's ratio."""
    saved = read(RESULTS_FILE.parent / "cli_wall_time.json")
    lines = ["| machine | trained | code | date | seconds end to end | seconds in the epochs | ratio |",
             "|---|---|---|---|---|---|---|"]
    for machine, runs in sorted(saved.items()):
        for run in runs.values():  # "code": an earlier commit, kept to compare with; else the code at the date
            ratios = run.get("ratios", [run["ratio"]])  # older rows hold one run
            spread = f" (runs: {', '.join(f'{ratio:.2f}' for ratio in ratios)})" if len(ratios) > 1 else ""
            lines.append(f"| {machine} | {what_the_command_trained(run['command'])} "
                         f"| {run.get('code', 'as committed then')} | {run['date']} "
                         f"| {run['wall_s']:.1f} | {run['training_s']:.1f} | {run['ratio']:.2f}x{spread} |")
    return "\n".join(lines)


def processes_in(run: dict) -> int:
    """How many processes a run of ``benchmarks/data_parallel.py`` trained in (its torchrun command says)."""
    return int(re.search(r"--nproc_per_node=(\d+)", run["command"])[1])


def data_parallel_rows(saved: dict | None = None) -> list[tuple[str, dict]]:
    """The runs of ``data_parallel.json`` (or ``saved``) as (machine class, run), in the order notebook 07's table and
    figure both show them."""
    saved = read(RESULTS_FILE.parent / "data_parallel.json") if saved is None else saved
    return [(machine, run) for machine, runs in sorted(saved.items()) for _, run in sorted(runs.items())]


def data_parallel_table(saved: dict | None = None) -> str:
    """Notebook 07's table: one process against N (``torchrun``), per machine class, from ``data_parallel.json``:
    the final validation accuracy and the seconds in the epochs, each compared paired by seed."""
    lines = [
        "| machine | processes | seeds | mean seconds in the epochs: 1 process, N processes "
        "| seconds, N processes minus 1 process (95 % interval) "
        "| validation accuracy, N processes minus 1 process (95 % interval) |",
        "|---|---|---|---|---|---|",
    ]
    for machine, run in data_parallel_rows(saved):
        gap = run["val_acc_difference"]
        seconds = paired_difference([one["training_s"] for one in run["one_process"]],
                                    [many["training_s"] for many in run["processes"]])
        lines.append(
            f"| {machine} | {processes_in(run)} | {len(run['seeds'])} "
            f"| {run['training_s_one']:.0f}, {run['training_s_many']:.0f} "
            f"| {seconds.mean:+.0f} s ({seconds.low:+.0f} to {seconds.high:+.0f}): {time_verdict(seconds)} "
            f"| {gap['mean']:+.4f} ({gap['low']:+.4f} to {gap['high']:+.4f}): {run['verdict']} |"
        )
    return "\n".join(lines)


def data_parallel_figure(saved: dict | None = None, smallest_accuracy_span: float = 0.01):
    """Notebook 07's figure: seed by seed, one process against N, a row per machine in the table's order. Every row's
    accuracy axis spans the same range, at least ``smallest_accuracy_span`` (100 of 10,000 validation images), so
    that a gap of a few images does not fill a panel and look like a large one, and the rows compare by eye. Points
    only: the seeds are separate runs, not a series."""
    import matplotlib.pyplot as plt  # only the notebook draws; the tables and the benchmarks do not need it

    rows = data_parallel_rows(saved)
    accuracies = [[r["val_acc"] for r in run["one_process"] + run["processes"]] for _, run in rows]
    half = max([smallest_accuracy_span] + [1.2 * (max(values) - min(values)) for values in accuracies]) / 2
    figure, axes = plt.subplots(len(rows), 2, figsize=(10, 3.2 * len(rows)), squeeze=False)
    for (machine, run), values, (accuracy, seconds) in zip(rows, accuracies, axes):
        for label, marker, runs_of in (("1 process", "o", run["one_process"]),
                                       (f"{processes_in(run)} processes", "s", run["processes"])):
            accuracy.plot(run["seeds"], [r["val_acc"] for r in runs_of], marker, label=label)
            seconds.plot(run["seeds"], [r["training_s"] for r in runs_of], marker, label=label)
        middle = (max(values) + min(values)) / 2
        accuracy.set(xlabel="seed", ylabel="final validation accuracy", xticks=run["seeds"],
                     ylim=(middle - half, middle + half), title=machine)
        slowest = max(r["training_s"] for r in run["one_process"] + run["processes"])
        seconds.set(xlabel="seed", ylabel="seconds of training, all epochs", xticks=run["seeds"],
                    ylim=(0, 1.1 * slowest), title=machine)
        accuracy.legend()
        seconds.legend(loc="lower right")
    figure.tight_layout()
    return figure


def main() -> int:
    """``python -m utils.machinery.results``: the tables of the results page and the README, to paste after a new
    measurement."""
    try:
        print(
            markdown_table(HEADLINE, labels=HEADLINE_LABELS),
            markdown_table(ABLATION, test=False),
            steps_table(),
            views_table(),
            notebook_minutes_table(),
            time_to_accuracy_table(),
            speedrun_table(),
            gpu_recipe_table(),
            cli_wall_time_table(),
            data_parallel_table(),
            sep="\n\n",
        )
    except ResultsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (KeyError, TypeError, ValueError, AttributeError) as error:  # a record without a field the tables need
        shown = safe_text(error.args[0] if error.args else type(error).__name__)
        print(f"error: a file in {display_path(RESULTS_FILE.parent)} lacks {shown} or holds it in another shape: "
              f"{_RESTORE}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
