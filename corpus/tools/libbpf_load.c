// SPDX-License-Identifier: GPL-2.0
/* Open and load a BPF object with libbpf (never pinned, closed at once).
 * Run under btf_capture.so to capture the BTF libbpf uploads.
 *
 *   gcc -O2 -o libbpf_load libbpf_load.c -lbpf
 */
#include <stdio.h>
#include <bpf/libbpf.h>

static int print_fn(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return lvl == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJ.o\n", argv[0]);
		return 2;
	}
	libbpf_set_print(print_fn);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s failed\n", argv[1]);
		return 1;
	}
	err = bpf_object__load(obj);
	printf("%s: bpf_object__load = %d\n", argv[1], err);
	bpf_object__close(obj);
	return 0;
}
