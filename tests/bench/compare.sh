#!/usr/bin/env bash
# Run each benchmark workload in libagrad and in PyTorch side by side, and
# print steps/s of both and their ratio. Both run in the same session, one
# after the other for each workload and thread count, so the ratio is fair on
# a noisy machine.
#
#   tests/bench/compare.sh [BUILD_DIR] [WORKLOAD ...]     (default: build, all)
#
# Needs Debian's python3-torch (`apt-get install -y python3-torch
# libopenblas0-pthread`; without OpenBLAS, PyTorch falls back to the slow
# reference BLAS). Run with /usr/bin/python3, one OpenBLAS thread, and this
# machine's OpenBLAS overrides unset, as BENCHMARKS.md prescribes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
shift || true
workloads=${*:-mlp cnn lstm gru rnn}
bench="$build/tests/bench/bench_models"
[ -x "$bench" ] || { echo "compare.sh: $bench not built (meson compile -C $build)"; exit 1; }
# Figures from an unoptimised build say nothing: say so before spending minutes.
opt=$(meson introspect --buildoptions "$build" 2>/dev/null |
      /usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "optimization"))' 2>/dev/null || echo unknown)
if [ "$opt" != 3 ]; then
    echo "compare.sh: warning: $build is built with optimization=$opt, not the project's default 3 (meson setup --wipe $build)"
fi


have_torch=1
/usr/bin/python3 -c 'import torch' 2>/dev/null || have_torch=0
if [ "$have_torch" = 0 ]; then
    echo "compare.sh: PyTorch not installed (apt-get install -y python3-torch libopenblas0-pthread); libagrad only"
fi
if [ "$have_torch" = 1 ] && ! update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null |
        grep -q '^Value:.*openblas'; then
    echo "compare.sh: warning: the system BLAS is not OpenBLAS; PyTorch figures will be low"
fi

printf '%-6s %3s %14s %14s %8s %10s %10s\n' workload thr "agrad steps/s" "torch steps/s" ratio "agrad MiB" "torch MiB"
for w in $workloads; do
    for th in 1 2; do
        a=$("$bench" --threads "$th" "$w" | tail -1)
        a_rate=$(echo "$a" | awk '{print $3}')
        a_rss=$(echo "$a" | awk '{print $7}')
        if [ "$have_torch" = 1 ]; then
            p=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
                /usr/bin/python3 "$here/torch_workloads.py" "$w" "$th")
            p_rate=$(echo "$p" | awk '{print $3}')
            p_rss=$(echo "$p" | awk '{print $5}')
            ratio=$(awk -v a="$a_rate" -v b="$p_rate" 'BEGIN { printf "%.2f", a / b }')
        else
            p_rate=-; p_rss=-; ratio=-
        fi
        printf '%-6s %3s %14s %14s %8s %10s %10s\n' "$w" "$th" "$a_rate" "$p_rate" "$ratio" "$a_rss" "$p_rss"
    done
done
