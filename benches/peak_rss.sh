#!/usr/bin/env bash
# Peak resident set size of `btfcheck verify <blob>`, against the blob size.
#
#   benches/peak_rss.sh [BLOB [VERIFY-ARGS...]]   (default /sys/kernel/btf/vmlinux)
#
# e.g. `benches/peak_rss.sh /sys/kernel/btf/vmlinux --no-vmlinux`.
#
# Uses the binary at $BTFCHECK, else target/release/btfcheck (build it with
# `cargo build --release`). Measures with GNU time (`/usr/bin/time -v`) when
# present, else by polling /proc/<pid>/status for VmHWM. Target: peak RSS at
# most 3x the blob size.
set -euo pipefail

blob=${1:-/sys/kernel/btf/vmlinux}
extra=("${@:2}")
exe=${BTFCHECK:-}
# Paths given relative to the caller's directory stay valid after the cd.
[[ $blob == /* ]] || blob=$PWD/$blob
[[ -z $exe || $exe == /* ]] || exe=$PWD/$exe
cd "$(dirname "$0")/.."
exe=${exe:-target/release/btfcheck}

if [[ ! -x $exe ]]; then
    echo "peak_rss: $exe not found; run 'cargo build --release' first" >&2
    exit 2
fi
if [[ ! -r $blob ]]; then
    echo "peak_rss: cannot read $blob" >&2
    exit 2
fi

# sysfs reports 4096 for every file; count the bytes instead.
blob_bytes=$(wc -c <"$blob")

status=0
if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
    method="/usr/bin/time -v"
    report=$(mktemp)
    trap 'rm -f "$report"' EXIT
    /usr/bin/time -v -o "$report" "$exe" verify "${extra[@]}" "$blob" >/dev/null 2>&1 </dev/null || status=$?
    # GNU time exits with the command's status; 1 means "rejected", still measured.
    rss_kib=$(awk -F': *' '/Maximum resident set size/ {print $2}' "$report")
else
    method="/proc/PID/status VmHWM polling"
    "$exe" verify "${extra[@]}" "$blob" >/dev/null 2>&1 </dev/null &
    pid=$!
    rss_kib=0
    while kill -0 "$pid" 2>/dev/null; do
        hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        if [[ -n ${hwm:-} && $hwm -gt $rss_kib ]]; then
            rss_kib=$hwm
        fi
        sleep 0.001
    done
    wait "$pid" || status=$?
fi

if [[ -z ${rss_kib:-} || $rss_kib -eq 0 ]]; then
    echo "peak_rss: could not measure peak RSS with $method" >&2
    exit 2
fi
if [[ $status -gt 1 ]]; then
    echo "peak_rss: warning: btfcheck exited with status $status" >&2
fi

rss_bytes=$((rss_kib * 1024))
awk -v exe="$exe" -v blob="$blob" -v b="$blob_bytes" -v r="$rss_bytes" -v m="$method" -v s="$status" -v args="${extra[*]:+${extra[*]} }" 'BEGIN {
    ratio = r / b
    printf "command:   %s verify %s%s (exit %d)\n", exe, args, blob, s
    printf "method:    %s\n", m
    printf "blob size: %d bytes (%.2f MiB)\n", b, b / 1048576
    printf "peak RSS:  %d bytes (%.2f MiB)\n", r, r / 1048576
    printf "ratio:     %.2fx blob size (target <= 3x): %s\n", ratio, (ratio <= 3 ? "ok" : "OVER")
}'
