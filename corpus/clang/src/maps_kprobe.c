// SPDX-License-Identifier: GPL-2.0
/* A kprobe + an XDP program sharing BTF-defined maps.  Exercises structs,
 * unions, bitfields, enums (incl. a 64-bit enum), typedefs, arrays, function
 * pointers, const/volatile and globals in .data/.bss/.rodata. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned int u32;
typedef unsigned long long u64;
typedef u64 counter_t;

enum color { RED, GREEN = 5, BLUE = -1 };
enum big { BIG_SMALL = 1, BIG_HUGE = 0xfedcba9876543210ULL };

struct flags {
	unsigned int a : 3;
	unsigned int b : 5;
	int          c : 7;
	unsigned long long d : 33;
	_Bool        e : 1;
};

union addr {
	u32 v4;
	unsigned char v6[16];
	struct { unsigned short lo, hi; } halves;
};

struct event {
	counter_t count;
	struct flags fl;
	union addr addr;
	enum color color;
	enum big big;
	char comm[16];
	int matrix[2][3];
	const volatile int *cvp;
	int (*cb)(void *ctx, u32 n);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, counter_t);
} hits SEC(".maps");

int data_var = 42;                       /* .data   */
u64 bss_var;                             /* .bss    */
const volatile u32 rodata_var = 7;       /* .rodata */
static volatile int static_bss;          /* .bss, static */
struct event last_event;                 /* .bss    */

SEC("kprobe/do_sys_open")
int kp(void *ctx)
{
	u32 key = 0;
	struct event ev = {};
	counter_t *c = bpf_map_lookup_elem(&hits, &key);

	if (c)
		__sync_fetch_and_add(c, 1);
	ev.count = bss_var + rodata_var + data_var;
	ev.color = BLUE;
	ev.big = BIG_HUGE;
	ev.fl.a = 1;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	bpf_map_update_elem(&events, &key, &ev, BPF_ANY);
	static_bss++;
	last_event = ev;
	return 0;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	bss_var += ctx->data_end - ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
