/*
 * btfcheck's QEMU guest: the /init of a throwaway initramfs.
 *
 * The host (src/oracle/qemu/) packs every blob into /jobs.bin, boots a kernel
 * with this program as /init, and reads back what bpf(BPF_BTF_LOAD) said
 * about each blob. No shell, no modules, no disk: one static binary.
 *
 * /jobs.bin (little-endian):
 *     "BTFJOBS1"  u32 count
 *     count times: u32 log_level, u32 log_size, u32 blob_len, blob bytes
 *
 * Answers go to QEMU's isa-debugcon I/O port, which needs only ioperm(2)
 * (CONFIG_X86_IOPL_IOPERM) and never mixes with kernel messages. The port
 * first carries the 6-byte preamble "BTFQ1" + 'z' (a zlib stream follows) or
 * 'r' (raw frames follow). Frames: u8 tag, u32 payload length, payload.
 *     'U'  release NUL version NUL machine NUL            (uname, once)
 *     'B'  u32 index                    (about to load: names a crash)
 *     'R'  u32 index, i32 ret, i32 errno, u32 log_true_size, u32 usec, log
 *     'W'  text                         (a problem worth showing the user)
 *     'F'  u32 loaded, u32 guest milliseconds       (then power off)
 * The zlib stream is sync-flushed after every 'B' and 'R' frame, so a
 * guest that dies mid-load has already handed over everything before it.
 *
 * Settings come from the kernel command line (unknown key=value words
 * become init's environment):
 *     bq_first=N      first job to run (the host resumes after a crash)
 *     bq_port=N       I/O port (default 0xe9)
 *     bq_zlib=0       send raw frames even when built with zlib
 *     bq_fault=crash:N or hang:N   die or stall at job N (tests the host's
 *                     recovery; never set in normal runs)
 *
 * Build: cc -O2 -static [-DBQ_ZLIB ... -lz] -o init loader.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#ifdef BQ_ZLIB
#include <zlib.h>
#endif

#ifndef SYS_bpf
#define SYS_bpf 321
#endif
#define CMD_BTF_LOAD 18

static unsigned short port = 0xe9;

static void port_write(const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t n = len;

	__asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(port) : "memory");
}

/* One frame is built in `frame`, then handed to emit(). */
static unsigned char *frame;
static size_t frame_len, frame_cap;

static void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	_exit(1);
}

static void need(size_t more)
{
	size_t cap = frame_cap ? frame_cap : 4096;

	if (frame_len + more <= frame_cap)
		return;
	while (cap < frame_len + more)
		cap *= 2;
	frame = realloc(frame, cap);
	if (!frame) {
		static const char msg[] = "btfcheck guest: out of memory\n";
		write(2, msg, sizeof(msg) - 1);
		power_off();
	}
	frame_cap = cap;
}

static void put(const void *p, size_t n)
{
	need(n);
	memcpy(frame + frame_len, p, n);
	frame_len += n;
}

static void put_u32(uint32_t v)
{
	unsigned char b[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(b, 4);
}

/* Starts a frame; its length is patched in by emit(). */
static void begin(char tag)
{
	frame_len = 0;
	put(&tag, 1);
	put_u32(0);
}

#ifdef BQ_ZLIB
static z_stream zs;
static int use_zlib = 1;

static void deflate_out(int flush)
{
	static unsigned char out[1 << 16];

	zs.next_in = frame;
	zs.avail_in = (uInt)frame_len;
	do {
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		if (deflate(&zs, flush) == Z_STREAM_ERROR)
			return;
		port_write(out, sizeof(out) - zs.avail_out);
	} while (zs.avail_out == 0);
}
#else
static const int use_zlib = 0;
#endif

static void emit(void)
{
	uint32_t body = (uint32_t)(frame_len - 5);

	frame[1] = body;
	frame[2] = body >> 8;
	frame[3] = body >> 16;
	frame[4] = body >> 24;
#ifdef BQ_ZLIB
	if (use_zlib) {
		deflate_out(Z_SYNC_FLUSH);
		frame_len = 0;
		return;
	}
#endif
	port_write(frame, frame_len);
	frame_len = 0;
}

static void warn(const char *a, const char *b)
{
	begin('W');
	put(a, strlen(a));
	if (b)
		put(b, strlen(b));
	emit();
}

static void finish(uint32_t loaded, uint64_t ms)
{
	begin('F');
	put_u32(loaded);
	put_u32((uint32_t)ms);
	emit();
#ifdef BQ_ZLIB
	if (use_zlib) {
		frame_len = 0;
		deflate_out(Z_FINISH);
	}
#endif
	power_off();
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

/*
 * The BTF part of union bpf_attr, as the host's live oracle passes it:
 * btf, btf_log_buf, btf_size, btf_log_size, btf_log_level,
 * btf_log_true_size (6.4+), btf_flags, btf_token_fd; all else zero.
 */
struct load_attr {
	uint64_t btf;
	uint64_t log_buf;
	uint32_t btf_size;
	uint32_t log_size;
	uint32_t log_level;
	uint32_t log_true_size;
	uint32_t flags;
	uint32_t token_fd;
};

/*
 * The log buffer: one mapping reused by every load and kept all zero
 * between loads, so each load sees what the live oracle gives it, a fresh
 * zeroed buffer. Its pages are touched once up front: a kernel that
 * touches the whole buffer on every load (6.12 does) would otherwise take
 * a page fault per 4 KiB on every load.
 */
static char *logbuf;
static size_t logbuf_len;

static int log_room(size_t size)
{
	char *p;

	if (size <= logbuf_len)
		return 0;
	if (logbuf)
		munmap(logbuf, logbuf_len);
	logbuf = NULL;
	logbuf_len = 0;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	memset(p, 0, size);
	logbuf = p;
	logbuf_len = size;
	return 0;
}

static void load_one(uint32_t index, uint32_t level, uint32_t size, const unsigned char *blob,
		     uint32_t len)
{
	struct load_attr attr;
	uint64_t t0, t1;
	long ret;
	int err;
	size_t log_len, dirty;

	if (log_room(size ? size : 1) < 0) {
		warn("cannot map a log buffer: ", strerror(errno));
		return;
	}
	memset(&attr, 0, sizeof(attr));
	attr.btf = (uint64_t)(uintptr_t)blob;
	attr.log_buf = size ? (uint64_t)(uintptr_t)logbuf : 0;
	attr.btf_size = len;
	attr.log_size = size;
	attr.log_level = level;

	t0 = now_us();
	ret = syscall(SYS_bpf, CMD_BTF_LOAD, &attr, sizeof(attr));
	err = ret < 0 ? errno : 0;
	t1 = now_us();
	if (ret >= 0)
		close((int)ret);
	log_len = size ? strnlen(logbuf, size) : 0;

	begin('R');
	put_u32(index);
	put_u32((uint32_t)(int32_t)(ret < 0 ? -1 : ret));
	put_u32((uint32_t)err);
	put_u32(attr.log_true_size);
	put_u32((uint32_t)(t1 - t0));
	put(logbuf, log_len);
	emit();

	/*
	 * Back to all zero. The kernel writes within the first
	 * max(log_len + 1, log_true_size) bytes (a rotated log stays inside
	 * the true size); when that is unknown, or the log did not fit,
	 * clear the whole buffer.
	 */
	dirty = log_len + 1;
	if (attr.log_true_size > dirty)
		dirty = attr.log_true_size;
	if (err == ENOSPC || dirty > size)
		dirty = size;
	memset(logbuf, 0, dirty);
}

int main(void)
{
	uint64_t t_start = now_us();
	const char *s;
	struct utsname u;
	unsigned char *jobs;
	size_t jobs_len = 0, pos;
	uint32_t count, i, first = 0, loaded = 0, fault_at = UINT32_MAX;
	int fault_hang = 0;

	s = getenv("bq_port");
	if (s)
		port = (unsigned short)strtoul(s, NULL, 0);
	s = getenv("bq_first");
	if (s)
		first = (uint32_t)strtoul(s, NULL, 0);
	s = getenv("bq_fault");
	if (s && (!strncmp(s, "crash:", 6) || !strncmp(s, "hang:", 5))) {
		fault_hang = s[0] == 'h';
		fault_at = (uint32_t)strtoul(strchr(s, ':') + 1, NULL, 0);
	}

	mount("proc", "/proc", "proc", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);

	if (ioperm(port, 1, 1) < 0) {
		static const char msg[] = "btfcheck guest: ioperm failed (CONFIG_X86_IOPL_IOPERM?)\n";
		write(2, msg, sizeof(msg) - 1);
		power_off();
	}

#ifdef BQ_ZLIB
	s = getenv("bq_zlib");
	if (s && !strcmp(s, "0"))
		use_zlib = 0;
	if (use_zlib && deflateInit(&zs, 1) != Z_OK)
		use_zlib = 0;
#endif
	port_write(use_zlib ? "BTFQ1z" : "BTFQ1r", 6);

	uname(&u);
	begin('U');
	put(u.release, strlen(u.release) + 1);
	put(u.version, strlen(u.version) + 1);
	put(u.machine, strlen(u.machine) + 1);
	emit();

	jobs = slurp("/jobs.bin", &jobs_len);
	if (!jobs || jobs_len < 12 || memcmp(jobs, "BTFJOBS1", 8)) {
		warn("no readable /jobs.bin in the initramfs", NULL);
		finish(0, (now_us() - t_start) / 1000);
	}
	count = get_u32(jobs + 8);
	pos = 12;
	for (i = 0; i < count; i++) {
		uint32_t level, size, len;

		if (jobs_len - pos < 12) {
			warn("/jobs.bin ends early", NULL);
			break;
		}
		level = get_u32(jobs + pos);
		size = get_u32(jobs + pos + 4);
		len = get_u32(jobs + pos + 8);
		pos += 12;
		if (jobs_len - pos < len) {
			warn("/jobs.bin ends inside a blob", NULL);
			break;
		}
		if (i >= first) {
			begin('B');
			put_u32(i);
			emit();
			if (i == fault_at) {
				if (fault_hang)
					for (;;)
						pause();
				_exit(7); /* init dies: the kernel panics */
			}
			load_one(i, level, size, jobs + pos, len);
			loaded++;
		}
		pos += len;
	}
	finish(loaded, (now_us() - t_start) / 1000);
	return 0;
}
