#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang (ASan + UBSan + fuzzer coverage),
# generate the seed corpora and run each harness for a bounded time.
#   tests/fuzz/run.sh [seconds per harness (default 60)] [build dir] [harness...]
# Exits nonzero if a harness finds a crash, a leak, a sanitizer report or a
# failed property; the reproducer is left in <build dir>/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
dir=${2:-build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
harnesses=${*:-load idx csv}

if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Dfuzz=true -Dtests=false -Db_lto=false \
        -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
if ! ninja -C "$dir" -j2 tests/fuzz/make_seeds $(for h in $harnesses; do echo tests/fuzz/fuzz_$h; done) \
        >"$dir/ninja.log" 2>&1; then
    echo "fuzz: building the harnesses failed:"
    tail -30 "$dir/ninja.log"
    exit 1
fi
"$dir/tests/fuzz/make_seeds" "$dir/seeds"
mkdir -p "$dir/artifacts"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
# the harnesses write each input to a scratch file: keep it in memory if we can
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
status=0
for h in $harnesses; do
    corpus="$dir/corpus/$h"
    mkdir -p "$corpus"
    log="$dir/fuzz_$h.log"
    echo "=== fuzz_$h: ${secs}s"
    if "$dir/tests/fuzz/fuzz_$h" -max_total_time="$secs" -max_len=4096 -timeout=10 \
        -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$h-" \
        "$corpus" "$dir/seeds/$h" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' '
        echo "cov: $(grep -oE 'cov: [0-9]+' "$log" | tail -1)"
    else
        echo "fuzz_$h FAILED (log: $log)"
        grep -E 'ERROR|SUMMARY|check failed|Test unit written' "$log" | head -20
        status=1
    fi
done
exit $status
