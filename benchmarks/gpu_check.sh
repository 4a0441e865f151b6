#!/usr/bin/env bash
# The course's GPU check: one prepared script of about 6 minutes on a CUDA GPU with PyTorch but no Jupyter.
#
#   bash benchmarks/gpu_check.sh prepare   # here: data, notebooks as scripts and the mlxtend wheel into .device/
#   bash benchmarks/gpu_check.sh run       # there, from the repository root, with .device/ carried along
#   bash benchmarks/gpu_check.sh run notebooks tests   # only those parts (two calls fit a 15-minute lease)
#
# `run` writes every log under $OUT (or build/gpu-check): the GPU recipe's search on the validation split (and its
# results file), the 10-epoch command line on MNIST, torchrun with one process (NCCL), the speedrun over 3 seeds
# (and its results file), notebooks 03 and 06 as scripts, and the tests in smoke mode. Each part has its own time
# limit, so one that hangs cannot eat the others' time.
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
    python3 -m pip install -q --no-index --no-deps --target /tmp/site "$DEVICE"/wheels/*.whl \
        && export PYTHONPATH=$PYTHONPATH:/tmp/site
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
    [ ${#wanted[@]} -gt 0 ] || wanted=(recipe-search cli-10-epochs torchrun-nccl speedrun notebooks tests)
    for name in "${wanted[@]}"; do
        case $name in
            recipe-search)
                part recipe-search 270 python3 benchmarks/gpu_recipe_search.py --seeds 0 1 2
                cp benchmarks/results/gpu_recipe.json "$out/" 2>/dev/null ;;
            cli-10-epochs)  # its wall time against its training time (the epochs' sum) is in summary.txt
                part cli-10-epochs 60 python3 -m utils.train --model cnn --dataset mnist --epochs 10 ;;
            torchrun-nccl)
                part torchrun-nccl 45 torchrun --nproc_per_node=1 -m utils.train --model cnn --dataset mnist \
                    --epochs 2 ;;
            speedrun)  # files each step as it finishes: a time limit keeps the steps done
                part speedrun 150 python3 benchmarks/speedrun.py --seeds 0 1 2
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
