/* Userspace-style C: geometry with floats, 64-bit enum, nested anonymous
 * unions/structs, multi-dimensional arrays, const/volatile, a variadic
 * function and static/global functions. */
#include <stdarg.h>
#include <stdio.h>

enum shape_kind { SHAPE_CIRCLE = 1, SHAPE_RECT, SHAPE_POLY };
enum mask64 { M_LOW = 1ULL, M_HIGH = 1ULL << 63 };
enum signed_enum { S_NEG = -5, S_POS = 5 };

typedef double coord_t;
typedef struct { coord_t x, y; } point_t;

struct shape {
	enum shape_kind kind;
	const char *label;
	union {
		struct { point_t center; float radius; } circle;
		struct { point_t tl, br; } rect;
		struct { unsigned int n; point_t pts[8]; } poly;
	};
	volatile unsigned long generation;
	unsigned char rgba[4];
	float transform[3][3];
	long double precise_area;
	enum mask64 mask;
	enum signed_enum se;
	struct shape *parent;
};

double shape_area(const struct shape *s);
int shape_describe(char *buf, size_t n, const char *fmt, ...);

const float unit_scale = 1.0f;
struct shape scene[4];
static int scene_len;

static double sq(double v) { return v * v; }

double shape_area(const struct shape *s)
{
	switch (s->kind) {
	case SHAPE_CIRCLE:
		return 3.14159265358979 * sq(s->circle.radius);
	case SHAPE_RECT:
		return (s->rect.br.x - s->rect.tl.x) * (s->rect.br.y - s->rect.tl.y);
	default:
		return 0.0;
	}
}

int shape_describe(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

int scene_add(const struct shape *s)
{
	if (scene_len >= 4)
		return -1;
	scene[scene_len] = *s;
	scene[scene_len].mask = (enum mask64)(M_LOW | M_HIGH);
	return scene_len++;
}
