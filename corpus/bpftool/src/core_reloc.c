// SPDX-License-Identifier: GPL-2.0
/* CO-RE relocations against kernel types (no vmlinux.h: the local types are
 * minimal preserve_access_index shadows).  Input to
 * `bpftool gen min_core_btf`, which keeps only the vmlinux types (and
 * members) these relocations touch. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct list_head { struct list_head *next, *prev; } __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long task_size;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	unsigned int flags;
	char comm[16];
	struct task_struct *real_parent;
	struct mm_struct *mm;
	struct list_head children;
} __attribute__((preserve_access_index));

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

struct out { int pid, ppid, tgid; unsigned int flags; unsigned long task_size; char comm[16]; };

struct out result;

SEC("tp_btf/sched_process_exec")
int core(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	result.pid = BPF_CORE_READ(t, pid);
	result.tgid = BPF_CORE_READ(t, tgid);
	result.ppid = BPF_CORE_READ(t, real_parent, tgid);
	result.task_size = BPF_CORE_READ(t, mm, task_size);
	if (bpf_core_field_exists(t->flags))
		result.flags = BPF_CORE_READ(t, flags);
	if (bpf_core_type_exists(struct list_head))
		result.flags |= bpf_core_field_size(t->children);
	if (bpf_core_enum_value_exists(enum pid_type, PIDTYPE_SID))
		result.flags |= bpf_core_enum_value(enum pid_type, PIDTYPE_SID) << 8;
	BPF_CORE_READ_STR_INTO(&result.comm, t, comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
