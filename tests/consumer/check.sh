#!/usr/bin/env bash
# Build and run the consumer program both ways a user would: against an
# installed libagrad found by pkg-config, and with libagrad as a subproject.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
real=${1:-float}

echo "--- install to a temporary prefix, compile with pkg-config"
meson setup "$work/build" "$src" --prefix="$work/prefix" -Dtests=false -Dreal="$real" >/dev/null
meson install -C "$work/build" >/dev/null
pc=$(dirname "$(find "$work/prefix" -name agrad.pc | head -1)")
libdir=$(PKG_CONFIG_PATH=$pc pkg-config --variable=libdir agrad)
cc -std=c11 -Wall -Wextra -Werror "$src/tests/consumer/consumer.c" -o "$work/consumer" \
    $(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs agrad) -lm
LD_LIBRARY_PATH=$libdir "$work/consumer"
echo "--- static linking with pkg-config --static"
cc -std=c11 "$src/tests/consumer/consumer.c" -o "$work/consumer-static" \
    $(PKG_CONFIG_PATH=$pc pkg-config --cflags agrad) "$libdir/libagrad.a" \
    $(PKG_CONFIG_PATH=$pc pkg-config --static --libs-only-other --libs-only-l agrad | sed 's/-lagrad//')
"$work/consumer-static"

echo "--- as a meson subproject"
mkdir -p "$work/sub/subprojects"
cp "$src/tests/consumer/meson.build" "$src/tests/consumer/consumer.c" "$work/sub/"
ln -s "$src" "$work/sub/subprojects/agrad"
meson setup "$work/sub/build" "$work/sub" --wrap-mode=forcefallback -Dagrad:real="$real" >/dev/null
meson compile -C "$work/sub/build" >/dev/null
"$work/sub/build/consumer"
