#!/bin/bash -eu
# Builds btfcheck's fuzz targets for ClusterFuzzLite / OSS-Fuzz: one binary
# per target in $OUT, each with its seed corpus (corpus/fuzz/<target>) and,
# for verify_raw, the BTF dictionary.
#
# OSS-Fuzz's base-builder-rust image provides nightly Rust, cargo-fuzz and
# $SRC/$OUT. To run it on a plain machine with stable Rust (as checked here):
#   SRC=$PWD/.. OUT=/tmp/cflite-out RUSTC_BOOTSTRAP=1 .clusterfuzzlite/build.sh
# kernel_diff is left out: it needs BPF_BTF_LOAD, which fuzzing containers
# do not allow (it would do nothing there).

ROOT=${SRC:?}/btfcheck
[ -d "$ROOT" ] || ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:?}
TARGETS="verify_raw verify_valid verify_faulted roundtrip"

cd "$ROOT"
for t in $TARGETS; do
  cargo fuzz build -O --fuzz-dir fuzz "$t"
done
BUILD_DIR=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p "$OUT"
for t in $TARGETS; do
  cp "$BUILD_DIR/$t" "$OUT/"
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "corpus/fuzz/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  printf '[libfuzzer]\nrss_limit_mb = 512\ntimeout = 10\n' > "$OUT/$t.options"
done
cp fuzz/btf.dict "$OUT/verify_raw.dict"
printf '[libfuzzer]\nrss_limit_mb = 512\ntimeout = 10\ndict = verify_raw.dict\n' > "$OUT/verify_raw.options"
