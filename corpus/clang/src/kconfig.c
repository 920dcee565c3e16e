// SPDX-License-Identifier: GPL-2.0
/* extern .kconfig variables (resolved by libbpf from /proc/config.gz). */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern bool CONFIG_DOES_NOT_EXIST __kconfig __weak;
extern unsigned long CONFIG_HZ __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[64] __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;

unsigned long long out_version;
unsigned long long out_hz;
int out_flags;

SEC("tp/syscalls/sys_enter_getpid")
int read_kconfig(void *ctx)
{
	out_version = LINUX_KERNEL_VERSION;
	out_hz = CONFIG_HZ;
	out_flags = (CONFIG_BPF_SYSCALL ? 1 : 0) |
		    (CONFIG_DOES_NOT_EXIST ? 2 : 0) |
		    (CONFIG_BPF_JIT == TRI_YES ? 4 : 0) |
		    (CONFIG_DEFAULT_HOSTNAME[0] ? 8 : 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
