// SPDX-License-Identifier: GPL-2.0
/* static and global subprograms, a hidden global, a varargs prototype
 * and a func-pointer-typed member. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct ctx_like {
	int a;
	long b;
};

typedef int (*logger_t)(const char *fmt, ...);     /* varargs proto */
typedef void (*noargs_t)(void);

struct ops {
	logger_t log;
	noargs_t init;
	int (*compare)(const void *, const void *);
	void *(*alloc)(unsigned long size, int flags);
};

struct ops global_ops;

static __attribute__((noinline)) int static_helper(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) int global_subprog(struct ctx_like *c, int n)
{
	if (!c)
		return 0;
	return c->a + static_helper(n);
}

__hidden __attribute__((noinline)) long hidden_subprog(long v)
{
	return v ^ 0x5a;
}

__attribute__((noinline)) void void_global(void)
{
	global_ops.init = 0;
}

SEC("tp/syscalls/sys_enter_getpid")
int main_prog(void *ctx)
{
	struct ctx_like c = { .a = 1, .b = 2 };

	void_global();
	return global_subprog(&c, 5) + hidden_subprog(c.b) + (global_ops.log != 0);
}

SEC("tp/syscalls/sys_enter_getppid")
int second_prog(void *ctx)
{
	return static_helper(9);
}

char LICENSE[] SEC("license") = "GPL";
