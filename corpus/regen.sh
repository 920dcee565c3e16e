#!/usr/bin/env bash
# Rebuild every BTF fixture in this directory from its sources.
#
# Assumes Debian 12 (bookworm) packages, installed with
#     apt-get install clang llvm dwarves bpftool libbpf-dev gcc clang-22 llvm-22
# The checked-in fixtures were made with clang 14.0.6, clang 22.1.8,
# pahole v1.24, bpftool v7.1.0 (libbpf v1.1), gcc 12.2.0; other versions
# still run but produce different bytes (a warning is printed).
#
# Usage:  ./regen.sh              everything (needs root, a BTF-enabled kernel)
#         ./regen.sh --no-kernel  only the steps that do not use the live kernel
#
# Kernel-dependent steps: bpftool gen min_core_btf and pahole --btf_base (both
# read /sys/kernel/btf/vmlinux), the libbpf/ captures (libbpf loads each object
# into the kernel, resolving externs against /proc/config.gz and kernel BTF)
# and VERDICTS.md (BPF_BTF_LOAD of every fixture).  Their output depends on
# the running kernel; the checked-in ones come from Linux 6.18.44.
#
# Idempotent: every output is rewritten in place; nothing else is touched.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"
CORPUS=$PWD
KERNEL=1
case "${1:-}" in
	--no-kernel) KERNEL=0 ;;
	"") ;;
	*) echo "usage: $0 [--no-kernel]" >&2; exit 2 ;;
esac

die() { echo "regen.sh: $*" >&2; exit 1; }

need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "missing tool '$1' (Debian package: $2). Install with: apt-get install clang llvm dwarves bpftool libbpf-dev gcc clang-22 llvm-22"
}
need clang clang
need clang-22 clang-22
need llvm-objcopy llvm
need pahole dwarves
need bpftool bpftool
need gcc gcc
need python3 python3
[ -f /usr/include/bpf/bpf_helpers.h ] || die "missing /usr/include/bpf/bpf_helpers.h (Debian package: libbpf-dev)"
[ -f /usr/include/linux/bpf.h ] || die "missing /usr/include/linux/bpf.h (Debian package: linux-libc-dev)"

warnver() { # $1 = description, $2 = actual, $3 = expected substring
	case "$2" in *"$3"*) ;; *) echo "regen.sh: warning: $1 is '$2', fixtures were made with '$3'; output bytes will differ" >&2 ;; esac
}
warnver "clang" "$(clang --version | head -1)" "clang version 14.0.6"
warnver "clang-22" "$(clang-22 --version | head -1)" "clang version 22.1.8"
warnver "pahole" "$(pahole --version)" "v1.24"
warnver "bpftool" "$(bpftool version | head -1)" "bpftool v7.1.0"
warnver "gcc" "$(gcc --version | head -1)" "12.2.0"

if [ "$KERNEL" = 1 ]; then
	[ "$(id -u)" = 0 ] || die "kernel-dependent steps need root (BPF_BTF_LOAD); run as root or pass --no-kernel"
	[ -r /sys/kernel/btf/vmlinux ] || die "no /sys/kernel/btf/vmlinux (kernel without CONFIG_DEBUG_INFO_BTF); pass --no-kernel"
fi

MULTIARCH=$(gcc -print-multiarch)
BPF_CFLAGS="-g -O2 -target bpf -I/usr/include/$MULTIARCH"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

BPF_PROGS="maps_kprobe kconfig ksym tags spinlock floats subprogs misc_types"

# ---------------------------------------------------------------- clang
# -fdebug-prefix-map keeps the absolute checkout path out of the objects:
# the .BTF string section holds the source file name (for .BTF.ext line info).
echo "== clang (BPF target)"
cd "$CORPUS/clang"
for p in $BPF_PROGS; do
	clang    $BPF_CFLAGS -fdebug-prefix-map="$PWD"=. -c "src/$p.c" -o "$p.o"
	clang-22 $BPF_CFLAGS -fdebug-prefix-map="$PWD"=. -c "src/$p.c" -o "$p.clang22.o"
	llvm-objcopy --dump-section .BTF="$p.btf" "$p.o"
	llvm-objcopy --dump-section .BTF="$p.clang22.btf" "$p.clang22.o"
done

# ---------------------------------------------------------------- bpftool
echo "== bpftool gen object (libbpf static linker)"
mkdir -p "$CORPUS/bpftool/linked"
for p in $BPF_PROGS; do
	bpftool gen object "$TMP/$p.linked.o" "$CORPUS/clang/$p.o"
	llvm-objcopy --dump-section .BTF="$CORPUS/bpftool/linked/$p.linked.btf" "$TMP/$p.linked.o"
done

cd "$CORPUS/bpftool"
clang $BPF_CFLAGS -fdebug-prefix-map="$PWD"=. -c src/core_reloc.c -o core_reloc.o
if [ "$KERNEL" = 1 ]; then
	echo "== bpftool gen min_core_btf (against /sys/kernel/btf/vmlinux)"
	bpftool gen min_core_btf /sys/kernel/btf/vmlinux core_reloc.min_core.btf core_reloc.o
fi

# ---------------------------------------------------------------- pahole
echo "== pahole -J"
cd "$CORPUS/pahole"
mkdir -p obj
for s in netstack shapes kv; do
	gcc   -g -O2 -fdebug-prefix-map="$PWD"=. -c "src/$s.c" -o "obj/$s.gcc.o"
	clang -g -O2 -fdebug-prefix-map="$PWD"=. -c "src/$s.c" -o "obj/$s.clang.o"
done
# btf_decl_tag / btf_type_tag need clang (gcc 12 has no DW_TAG_LLVM_annotation)
clang -g -O2 -fdebug-prefix-map="$PWD"=. -c src/tagged.c -o obj/tagged.clang.o

enc() { # $1 = output, rest = extra pahole options, last = object
	local out=$1; shift
	pahole -J "${@:1:$#-1}" --btf_encode_detached="$out" "${@: -1}"
	chmod 644 "$out"
}
enc netstack.gcc.btf                                 obj/netstack.gcc.o
enc netstack.gcc.all.btf     --btf_gen_all           obj/netstack.gcc.o
enc netstack.clang.btf                               obj/netstack.clang.o
enc shapes.gcc.btf                                   obj/shapes.gcc.o
enc shapes.gcc.all.btf       --btf_gen_all           obj/shapes.gcc.o
enc shapes.gcc.noenum64.btf  --skip_encoding_btf_enum64 obj/shapes.gcc.o
enc shapes.clang.btf                                 obj/shapes.clang.o
enc kv.gcc.btf                                       obj/kv.gcc.o
enc kv.clang.btf                                     obj/kv.clang.o
enc tagged.clang.btf                                 obj/tagged.clang.o
enc tagged.clang.all.btf     --btf_gen_all           obj/tagged.clang.o
enc tagged.clang.notags.btf  --skip_encoding_btf_decl_tag --skip_encoding_btf_type_tag obj/tagged.clang.o
enc tagged.clang.novars.btf  --skip_encoding_btf_vars obj/tagged.clang.o
if [ "$KERNEL" = 1 ]; then
	# split BTF on top of the running kernel's vmlinux BTF
	enc kv.gcc.split.btf --btf_base=/sys/kernel/btf/vmlinux obj/kv.gcc.o
fi

# ---------------------------------------------------------------- libbpf
if [ "$KERNEL" = 1 ]; then
	echo "== libbpf captures (BTF that libbpf v1.1 uploads with BPF_BTF_LOAD)"
	gcc -O2 -Wall -shared -fPIC -o "$TMP/btf_capture.so" "$CORPUS/tools/btf_capture.c" -ldl
	gcc -O2 -Wall -o "$TMP/libbpf_load" "$CORPUS/tools/libbpf_load.c" -lbpf
	mkdir -p "$CORPUS/libbpf"
	rm -f "$CORPUS"/libbpf/probe_*.btf
	for p in $BPF_PROGS; do
		mkdir -p "$TMP/cap.$p"
		# program load may fail (e.g. ksym addresses missing from kallsyms);
		# the BTF upload happens before that and is all we keep.
		BTF_CAPTURE_DIR="$TMP/cap.$p" LD_PRELOAD="$TMP/btf_capture.so" \
			"$TMP/libbpf_load" "$CORPUS/clang/$p.o" >/dev/null 2>&1 || true
		last=$(ls "$TMP/cap.$p"/*.btf 2>/dev/null | tail -1)
		[ -n "$last" ] || die "libbpf did not upload any BTF for $p.o"
		cp "$last" "$CORPUS/libbpf/$p.loaded.btf"
		# feature-probe blobs: all but the last upload, deduplicated by content
		for f in "$TMP/cap.$p"/*.btf; do
			[ "$f" = "$last" ] && continue
			h=$(sha256sum "$f" | cut -c1-8)
			have=("$CORPUS"/libbpf/probe_*_"$h".btf)
			[ -e "${have[0]}" ] && continue
			all=("$CORPUS"/libbpf/probe_*.btf)
			n=0; [ -e "${all[0]}" ] && n=${#all[@]}
			cp "$f" "$CORPUS/libbpf/probe_$(printf %02d "$n")_$h.btf"
		done
	done
fi

# ---------------------------------------------------------------- verdicts
if [ "$KERNEL" = 1 ]; then
	echo "== VERDICTS.md (BPF_BTF_LOAD, log_level 1)"
	cd "$CORPUS"
	{
		echo "# Live-kernel verdicts"
		echo
		echo "Generated by regen.sh on \`$(uname -r)\` with tools/kload.py"
		echo "(BPF_BTF_LOAD, log_level 1, 16 MiB log buffer). Do not edit."
		echo
		python3 tools/kload.py clang/*.btf bpftool/linked/*.btf bpftool/*.btf \
			libbpf/*.btf pahole/*.btf
	} > VERDICTS.md
	cat VERDICTS.md
fi
echo "== done"
