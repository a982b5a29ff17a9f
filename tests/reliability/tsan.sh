#!/usr/bin/env bash
# Build the two-tapes-in-two-threads test with ThreadSanitizer and run it:
#   tests/reliability/tsan.sh [build dir (default build-tsan)]
# Fails on any data race the sanitizer reports or a result that differs.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build-tsan}
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Db_sanitize=thread -Db_lundef=false -Db_lto=false \
        -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$dir" -j2 tests/threads_two_tapes >/dev/null
# halt_on_error: the first race fails the run; second_deadlock_stack for reports
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
    AGRAD_THREADS=4 "$dir/tests/threads_two_tapes"
