/* Userspace-style C: a toy packet pipeline.  Structs, bitfields, enums,
 * unions, typedefs, function prototypes / pointers, a flexible array. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum proto { PROTO_NONE, PROTO_TCP = 6, PROTO_UDP = 17, PROTO_RAW = 255 };
enum verdict { V_DROP = -1, V_PASS = 0, V_REDIRECT = 1 };

typedef uint32_t be32;
typedef uint16_t be16;

struct ipv4_hdr {
	uint8_t  ihl : 4, version : 4;
	uint8_t  tos;
	be16     tot_len;
	be16     id;
	be16     frag_off;
	uint8_t  ttl;
	uint8_t  protocol;
	uint16_t check;
	be32     saddr, daddr;
};

union l4 {
	struct { be16 source, dest; uint32_t seq, ack_seq; uint16_t res1 : 4, doff : 4, fin : 1, syn : 1, rst : 1, psh : 1, ack : 1, urg : 1, ece : 1, cwr : 1; } tcp;
	struct { be16 source, dest, len, check; } udp;
	uint8_t raw[20];
};

struct packet;
typedef enum verdict (*hook_fn)(struct packet *pkt, void *priv);

struct hook {
	const char *name;
	hook_fn fn;
	void *priv;
	struct hook *next;
};

struct packet {
	size_t len;
	enum proto proto;
	struct ipv4_hdr ip;
	union l4 l4;
	unsigned int flags;
	unsigned char payload[];	/* flexible array */
};

struct packet *packet_alloc(size_t len, enum proto proto);
enum verdict run_hooks(struct hook *chain, struct packet *pkt);
int register_hook(struct hook **chain, struct hook *h);

static uint64_t packets_seen;
struct hook *global_chain;

struct packet *packet_alloc(size_t len, enum proto proto)
{
	struct packet *p = calloc(1, sizeof(*p) + len);

	if (p) {
		p->len = len;
		p->proto = proto;
	}
	packets_seen++;
	return p;
}

enum verdict run_hooks(struct hook *chain, struct packet *pkt)
{
	for (; chain; chain = chain->next) {
		enum verdict v = chain->fn(pkt, chain->priv);

		if (v != V_PASS)
			return v;
	}
	return V_PASS;
}

int register_hook(struct hook **chain, struct hook *h)
{
	if (!h || !h->fn)
		return -1;
	h->next = *chain;
	*chain = h;
	return 0;
}

static enum verdict drop_udp(struct packet *pkt, void *priv)
{
	(void)priv;
	return pkt->proto == PROTO_UDP ? V_DROP : V_PASS;
}

struct hook udp_dropper = { "drop_udp", drop_udp, NULL, NULL };

uint64_t stats(void)
{
	return packets_seen;
}
