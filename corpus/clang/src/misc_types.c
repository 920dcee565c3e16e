// SPDX-License-Identifier: GPL-2.0
/* Assorted type shapes: self-referential and mutually-recursive structs,
 * forward declarations, anonymous members, flexible and zero-length arrays,
 * packed/aligned structs, restrict, _Bool, __int128, signed/unsigned enums,
 * empty struct, long names. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct opaque;                          /* FWD struct */
union opaque_u;                         /* FWD union  */

struct list { struct list *next, *prev; };
struct a; struct b;
struct a { struct b *b; int x; };
struct b { struct a *a; int y; };

struct anon_holder {
	int tag;
	union {
		int i;
		struct { short s1, s2; };
	};
	struct { char c; } named;
};

struct flex { int len; char data[]; };
struct zero { int len; char data[0]; };
struct empty { };

struct __attribute__((packed)) packed {
	char c;
	int i;
	long long ll;
};

struct aligned { char c; int i __attribute__((aligned(16))); };

enum negative { NEG_MIN = -2147483647 - 1, NEG_ZERO = 0 };
enum unsigned_big { UB_MAX = 0xffffffffu };
enum __attribute__((packed)) small_enum { SE_A, SE_B };

struct a_struct_with_a_rather_long_name_to_exercise_the_string_section_handling {
	struct opaque *o;
	union opaque_u *ou;
	int *restrict rp;
	const char *const cpc;
	volatile const unsigned long vcul;
	_Bool flag;
	__int128 wide;
	unsigned __int128 uwide;
	signed char sc;
	unsigned char uc;
	char pc;
	enum negative neg;
	enum unsigned_big ub;
	enum small_enum se;
	struct list l;
	struct a aa;
	struct anon_holder ah;
	struct packed pk;
	struct aligned al;
	struct empty em;
	struct zero *z;
	struct flex *f;
};

struct a_struct_with_a_rather_long_name_to_exercise_the_string_section_handling g_all;

SEC("socket")
int misc(struct __sk_buff *skb)
{
	return g_all.flag + g_all.pk.i + g_all.ah.s1;
}

char LICENSE[] SEC("license") = "GPL";
