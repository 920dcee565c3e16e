// SPDX-License-Identifier: GPL-2.0
/* btf_decl_tag on struct/member/func/param/var/typedef, btf_type_tag on
 * pointers. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __tag(x)  __attribute__((btf_decl_tag(x)))
#define __user    __attribute__((btf_type_tag("user")))
#define __rcu     __attribute__((btf_type_tag("rcu")))
#define __percpu  __attribute__((btf_type_tag("percpu")))

typedef int tagged_int __tag("typedef_tag");

struct node {
	int key __tag("member_tag") __tag("second_member_tag");
	int __user *uptr;
	struct node __rcu *next;
	const int __user __percpu *multi;
	char __user * __user *pp;
	tagged_int ti;
} __tag("struct_tag");

union u_tagged {
	int i __tag("union_member_tag");
	long l;
} __tag("union_tag");

struct node global_node __tag("var_tag");
union u_tagged global_u;
int __user *global_uptr;

__attribute__((noinline)) __tag("func_tag")
int tagged_func(struct node *n __tag("param_tag"), int x __tag("param2_tag"))
{
	return n->key + x + (n->uptr != 0);
}

SEC("tp/syscalls/sys_enter_getpid")
int use_tags(void *ctx)
{
	global_u.i = 3;
	return tagged_func(&global_node, global_u.i) + (global_uptr != 0);
}

char LICENSE[] SEC("license") = "GPL";
