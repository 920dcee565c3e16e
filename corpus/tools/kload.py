#!/usr/bin/env python3
"""Load raw BTF blobs into the running kernel with BPF_BTF_LOAD (cmd 18) and
report the verdict.  Needs root / CAP_BPF.  x86-64 only (syscall 321).

    python3 kload.py FILE.btf...            # markdown table rows
    python3 kload.py -v FILE.btf            # also print the full level-1 log

For every file: size, number of types (parsed from the blob, without
validation), return value or errno name, and the last line of the level-1
verifier log (trailing newline shown as \\n)."""
import ctypes, errno, os, struct, sys

libc = ctypes.CDLL(None, use_errno=True)
SYS_bpf, BPF_BTF_LOAD = 321, 18


def btf_load(blob, level=1, log_size=1 << 24):
    buf = ctypes.create_string_buffer(blob, len(blob))
    lb = ctypes.create_string_buffer(log_size)
    attr = struct.pack('<QQIIIIII', ctypes.addressof(buf), ctypes.addressof(lb),
                       len(blob), log_size, level, 0, 0, 0).ljust(128, b'\0')
    a = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(SYS_bpf, BPF_BTF_LOAD, a, 128)
    err = ctypes.get_errno() if r < 0 else 0
    if r >= 0:
        os.close(r)
    log = lb.raw.split(b'\0', 1)[0].decode('latin-1')
    return r, err, log


def count_types(blob):
    """Number of types (not counting void) in a well-formed little-endian blob."""
    magic, ver, flags, hlen, toff, tlen, soff, slen = struct.unpack_from('<HBBIIIII', blob)
    if magic != 0xeb9f:
        return None
    p, end, n = hlen + toff, hlen + toff + tlen, 0
    extra = {1: lambda v: 4, 3: lambda v: 12, 4: lambda v: 12 * v, 5: lambda v: 12 * v,
             6: lambda v: 8 * v, 13: lambda v: 8 * v, 14: lambda v: 4,
             15: lambda v: 12 * v, 17: lambda v: 4, 19: lambda v: 12 * v}
    while p + 12 <= end:
        info = struct.unpack_from('<I', blob, p + 4)[0]
        kind, vlen = (info >> 24) & 0x1f, info & 0xffff
        p += 12 + extra.get(kind, lambda v: 0)(vlen)
        n += 1
    return n


def last_line(log):
    if not log:
        return "(empty)"
    if log.endswith("\n"):
        return log[:-1].rsplit("\n", 1)[-1] + "\\n"
    return log.rsplit("\n", 1)[-1]


def main(argv):
    verbose = argv[:1] == ['-v']
    files = argv[1:] if verbose else argv
    print("| file | bytes | types | verdict | last log line (level 1) |")
    print("|---|---:|---:|---|---|")
    for f in files:
        blob = open(f, 'rb').read()
        r, err, log = btf_load(blob)
        verdict = "accepted" if r >= 0 else "-" + errno.errorcode.get(err, str(err))
        ll = last_line(log).replace('|', '\\|').replace('\t', '\\t')
        print(f"| {f} | {len(blob)} | {count_types(blob)} | {verdict} | `{ll}` |")
        if verbose:
            print(log)


if __name__ == '__main__':
    main(sys.argv[1:])
