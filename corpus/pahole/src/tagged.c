/* Userspace-style C with clang's btf_decl_tag / btf_type_tag annotations
 * (clang emits them as DW_TAG_LLVM_annotation, which pahole turns into
 * BTF_KIND_DECL_TAG / BTF_KIND_TYPE_TAG).  Build with clang -g (gcc 12
 * ignores these attributes).  Also has a variable in ".data..percpu": pahole
 * 1.24 only encodes VARs/DATASECs for that section. */
#include <stddef.h>

#define __tag(x)  __attribute__((btf_decl_tag(x)))
#define __user    __attribute__((btf_type_tag("user")))
#define __rcu     __attribute__((btf_type_tag("rcu")))
#define __percpu_sec __attribute__((section(".data..percpu")))

typedef unsigned long ulong_t __tag("typedef_tag");

struct buffer {
	char __user *ubuf __tag("member_tag");
	size_t len;
	struct buffer __rcu *next;
	const int __user * __user *pp;
	ulong_t cookie;
} __tag("struct_tag");

union value {
	long l __tag("union_member_tag");
	double d;
} __tag("union_tag");

int percpu_counter __percpu_sec __tag("var_tag") = 1;
struct buffer percpu_buf __percpu_sec;
union value percpu_val __percpu_sec;

__tag("func_tag") __attribute__((noinline))
long copy_from(struct buffer *b __tag("param_tag"), char __user *src, size_t n)
{
	if (n > b->len)
		n = b->len;
	b->ubuf = src;
	return (long)n + percpu_counter + (long)percpu_val.l;
}

int use_buf(struct buffer *b)
{
	percpu_buf = *b;
	return (int)copy_from(b, b->ubuf, 4);
}
