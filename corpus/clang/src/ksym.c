// SPDX-License-Identifier: GPL-2.0
/* __ksym extern variables and extern kernel functions (kfuncs). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rq {
	int cpu;
} __attribute__((preserve_access_index));
struct kernel_opaque;                    /* forward declaration only */
extern const struct kernel_opaque *bpf_nonexistent_obj __ksym __weak;
struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

extern const struct rq runqueues __ksym;           /* typed ksym   */
extern const void bpf_prog_active __ksym __weak;   /* typeless ksym */
extern const int bpf_nonexistent_var __ksym __weak;

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern int bpf_nonexistent_kfunc(int a, long b) __ksym __weak;

unsigned long long out_addr;
int out_cpu;

SEC("tp_btf/sys_enter")
int use_ksyms(void *ctx)
{
	struct task_struct *t;

	bpf_rcu_read_lock();
	out_addr = (unsigned long long)&bpf_prog_active;
	out_cpu = bpf_get_smp_processor_id();
	out_addr ^= (unsigned long long)&runqueues;
	if (&bpf_nonexistent_obj)
		out_addr ^= 1;
	bpf_rcu_read_unlock();

	t = (struct task_struct *)bpf_get_current_task_btf();
	t = bpf_task_acquire(t);
	if (t)
		bpf_task_release(t);
	if (bpf_nonexistent_kfunc)
		out_cpu += bpf_nonexistent_kfunc(1, 2);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
