// SPDX-License-Identifier: GPL-2.0
/* float / double / long double types (BTF_KIND_FLOAT).  Only stored, never
 * computed on at run time (BPF has no FP instructions). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct measurement {
	float f;
	double d;
	long double ld;
	float arr[4];
	double (*conv)(float);
};

typedef double real_t;

struct measurement m_global;
real_t r_global;
float  f_array[3];
const volatile double pi_ro = 3.14159;   /* constant folded into .rodata */

SEC("tp/syscalls/sys_enter_getpid")
int floats(void *ctx)
{
	unsigned long long *raw = (unsigned long long *)&r_global;

	*raw = *(const volatile unsigned long long *)&pi_ro;
	m_global.conv = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
