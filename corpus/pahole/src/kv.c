/* Userspace-style C: a tiny key/value store with a hash table of
 * variable-length entries, bitfield flags, a callback table and
 * self-referencing structs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct kv_entry {
	struct kv_entry *next;
	uint32_t hash;
	uint32_t dirty : 1, pinned : 1, refs : 14, ttl : 16;
	uint16_t klen, vlen;
	char data[];			/* key bytes, then value bytes */
};

struct kv_ops {
	uint32_t (*hash)(const void *key, size_t len);
	bool (*eq)(const void *a, const void *b, size_t len);
	void (*on_evict)(struct kv_entry *e, void *cookie);
};

struct kv_table {
	unsigned int nbuckets;
	unsigned int count;
	const struct kv_ops *ops;
	void *cookie;
	struct kv_entry *buckets[];
};

typedef struct kv_table kv_t;

static uint32_t fnv1a(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static bool memeq(const void *a, const void *b, size_t len)
{
	return memcmp(a, b, len) == 0;
}

const struct kv_ops default_ops = { fnv1a, memeq, NULL };

kv_t *kv_new(unsigned int nbuckets, const struct kv_ops *ops)
{
	kv_t *t = calloc(1, sizeof(*t) + nbuckets * sizeof(t->buckets[0]));

	if (t) {
		t->nbuckets = nbuckets;
		t->ops = ops ? ops : &default_ops;
	}
	return t;
}

int kv_put(kv_t *t, const void *key, uint16_t klen, const void *val, uint16_t vlen)
{
	uint32_t h = t->ops->hash(key, klen);
	struct kv_entry *e = malloc(sizeof(*e) + klen + vlen);

	if (!e)
		return -1;
	e->hash = h;
	e->dirty = 1;
	e->pinned = 0;
	e->refs = 1;
	e->ttl = 0;
	e->klen = klen;
	e->vlen = vlen;
	memcpy(e->data, key, klen);
	memcpy(e->data + klen, val, vlen);
	e->next = t->buckets[h % t->nbuckets];
	t->buckets[h % t->nbuckets] = e;
	t->count++;
	return 0;
}

const void *kv_get(const kv_t *t, const void *key, uint16_t klen, uint16_t *vlen)
{
	uint32_t h = t->ops->hash(key, klen);
	const struct kv_entry *e;

	for (e = t->buckets[h % t->nbuckets]; e; e = e->next)
		if (e->hash == h && e->klen == klen && t->ops->eq(e->data, key, klen)) {
			*vlen = e->vlen;
			return e->data + klen;
		}
	return NULL;
}
