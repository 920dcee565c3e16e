// SPDX-License-Identifier: GPL-2.0
/* Map value containing struct bpf_spin_lock (and a bpf_timer). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val {
	int cnt;
	struct bpf_spin_lock lock;
	long long sum;
};

struct tval {
	struct bpf_timer timer;
	unsigned int fired;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, int);
	__type(value, struct val);
} locked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, int);
	__type(value, struct tval);
} timers SEC(".maps");

SEC("tc")
int lock_it(struct __sk_buff *skb)
{
	int key = 0;
	struct val *v = bpf_map_lookup_elem(&locked, &key);
	struct tval *t = bpf_map_lookup_elem(&timers, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->cnt++;
	v->sum += skb->len;
	bpf_spin_unlock(&v->lock);
	if (t)
		t->fired++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
