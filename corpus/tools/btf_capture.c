// SPDX-License-Identifier: GPL-2.0
/* LD_PRELOAD shim: every bpf(BPF_BTF_LOAD) issued through libc's syscall()
 * has its raw BTF blob written to $BTF_CAPTURE_DIR/NNN.btf (NNN = order of
 * the call) and its result appended to $BTF_CAPTURE_DIR/results.txt; the call
 * then proceeds unchanged.  Used to capture the BTF that libbpf actually
 * hands to the kernel (feature probes + the sanitized object BTF).
 *
 *   gcc -O2 -shared -fPIC -o btf_capture.so btf_capture.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

static int seq;

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	long a[6];
	long ret;
	int i, e;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	ret = real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	e = errno;
	if (nr == __NR_bpf && a[0] == BPF_BTF_LOAD) {
		const union bpf_attr *attr = (const union bpf_attr *)a[1];
		const char *dir = getenv("BTF_CAPTURE_DIR");
		char path[4096];
		FILE *f;

		if (dir) {
			snprintf(path, sizeof(path), "%s/%03d.btf", dir, seq);
			f = fopen(path, "wb");
			if (f) {
				fwrite((const void *)(unsigned long)attr->btf,
				       1, attr->btf_size, f);
				fclose(f);
			}
			snprintf(path, sizeof(path), "%s/results.txt", dir);
			f = fopen(path, "a");
			if (f) {
				fprintf(f, "%03d size=%u log_level=%u ret=%ld errno=%d\n",
					seq, attr->btf_size, attr->btf_log_level,
					ret, ret < 0 ? e : 0);
				fclose(f);
			}
		}
		seq++;
	}
	errno = e;
	return ret;
}
