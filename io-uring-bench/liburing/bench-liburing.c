/*
 * bench-one for liburing: the io-uring-bench workloads written against
 * liburing, with bench-one's command line and output, so that run.sh can
 * count and time it like the Rust libraries:
 *
 *   bench-liburing --lib liburing --workload {nop-batch,nop-single,read-4k,sqpoll-nop} --ops N
 *
 * stdout: "liburing WORKLOAD OPS WALL_NS_PER_OP"; stderr: the CPU time of
 * the timed loop per op ("# cpu user_ns_per_op U sys_ns_per_op S").
 * Every op is checked as in io-uring-bench/src/lib.rs: NOPs complete with
 * 0, in submission order, each once; reads return 4096 bytes that start
 * with their block number. Exit 1 on a failed check, 2 on bad arguments.
 *
 * Built by run.sh with the C compiler and liburing-dev of the machine
 * (Debian's liburing 2.3 here): -O2 for the release profile, -O2 -flto for
 * bench-lto (liburing's inline helpers are in its header; the few calls
 * into liburing.a, such as io_uring_submit_and_wait, stay calls).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The constants of io-uring-bench/src/lib.rs and testfile.rs. */
enum {
	NOP_BATCH = 32,
	NOP_BATCH_RING = 64,
	NOP_SINGLE_RING = 8,
	SQPOLL_BATCH = 64,
	SQPOLL_RING = 256,
	SQPOLL_IDLE_MS = 1000,
	READ_DEPTH = 32,
	BLOCK = 4096,
};
#define BLOCKS 16384ull
#define READ_SEED 0x9e3779b97f4a7c15ull

static int fail(const char *what, long a, unsigned long long b)
{
	fprintf(stderr, "bench-liburing: check failed: %s (%ld, %llu)\n", what, a, b);
	exit(1);
}

static void need(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "bench-liburing: %s failed: %s\n", what, strerror(-ret));
		exit(1);
	}
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void cpu_ns(double *user, double *sys)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	*user = u.ru_utime.tv_sec * 1e9 + u.ru_utime.tv_usec * 1e3;
	*sys = u.ru_stime.tv_sec * 1e9 + u.ru_stime.tv_usec * 1e3;
}

/* Batches of `batch` NOPs: push, submit and wait for all, drain, check
 * result 0 and user data in submission order. nop-batch and sqpoll-nop. */
static void nop_batch(struct io_uring *ring, unsigned batch, unsigned long long ops)
{
	unsigned long long next = 0;
	while (ops > 0) {
		unsigned n = ops < batch ? ops : batch;
		unsigned long long expect = next, bad = 0;
		for (unsigned i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			if (!sqe)
				fail("a free SQE", i, next);
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, next + i);
		}
		need(io_uring_submit_and_wait(ring, n), "io_uring_submit_and_wait");
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(ring, head, cqe) {
			bad |= (uint32_t)cqe->res | (cqe->user_data ^ expect);
			expect++;
			seen++;
		}
		io_uring_cq_advance(ring, seen);
		if (bad || expect != next + n)
			fail("NOPs complete with 0, each once, in submission order", (long)bad, expect);
		next += n;
		ops -= n;
	}
}

static void nop_single(struct io_uring *ring, unsigned long long ops)
{
	for (unsigned long long next = 0; next < ops; next++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		if (!sqe)
			fail("a free SQE", 0, next);
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, next);
		need(io_uring_submit_and_wait(ring, 1), "io_uring_submit_and_wait");
		struct io_uring_cqe *cqe;
		if (io_uring_peek_cqe(ring, &cqe) != 0)
			fail("a completion after submit_and_wait(1)", 0, next);
		if (cqe->res != 0 || cqe->user_data != next)
			fail("NOP result 0 and its own user data", cqe->res, cqe->user_data);
		io_uring_cqe_seen(ring, cqe);
	}
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int read_fd;
static unsigned char *bufs;
static uint64_t block_of[READ_DEPTH], rng = READ_SEED;

static void queue_read(struct io_uring *ring, unsigned slot)
{
	uint64_t block = xorshift(&rng) & (BLOCKS - 1);
	unsigned char *buf = bufs + (size_t)slot * BLOCK;
	block_of[slot] = block;
	memset(buf, 0xff, 8);
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe)
		fail("a free SQE", slot, block);
	io_uring_prep_read(sqe, read_fd, buf, BLOCK, block * BLOCK);
	io_uring_sqe_set_data64(sqe, slot);
}

static void read_4k(struct io_uring *ring, unsigned long long ops)
{
	unsigned long long first = ops < READ_DEPTH ? ops : READ_DEPTH, issued = first, completed = 0;
	for (unsigned slot = 0; slot < first; slot++)
		queue_read(ring, slot);
	while (completed < ops) {
		need(io_uring_submit_and_wait(ring, 1), "io_uring_submit_and_wait");
		uint64_t idle = 0;
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(ring, head, cqe) {
			uint64_t slot = cqe->user_data, got;
			if (cqe->res != BLOCK || slot >= READ_DEPTH)
				fail("read of 4096 bytes into a known slot", cqe->res, slot);
			memcpy(&got, bufs + slot * BLOCK, 8);
			if (got != block_of[slot])
				fail("block starts with its number", (long)got, block_of[slot]);
			idle |= 1ull << slot;
			seen++;
		}
		io_uring_cq_advance(ring, seen);
		completed += seen;
		while (idle && issued < ops) {
			unsigned slot = __builtin_ctzll(idle);
			idle &= idle - 1;
			queue_read(ring, slot);
			issued++;
		}
	}
}

int main(int argc, char **argv)
{
	const char *lib = NULL, *workload = NULL;
	unsigned long long ops = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--lib"))
			lib = argv[i + 1];
		else if (!strcmp(argv[i], "--workload"))
			workload = argv[i + 1];
		else if (!strcmp(argv[i], "--ops"))
			ops = strtoull(argv[i + 1], NULL, 10);
	}
	if (!lib || strcmp(lib, "liburing") || !workload || !ops) {
		fprintf(stderr, "usage: bench-liburing --lib liburing --workload WORKLOAD --ops N\n");
		return 2;
	}
	struct io_uring ring;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	int kind;
	if (!strcmp(workload, "nop-batch")) {
		kind = 0;
		need(io_uring_queue_init(NOP_BATCH_RING, &ring, 0), "ring setup");
	} else if (!strcmp(workload, "nop-single")) {
		kind = 1;
		need(io_uring_queue_init(NOP_SINGLE_RING, &ring, 0), "ring setup");
	} else if (!strcmp(workload, "read-4k")) {
		kind = 2;
		char path[4096];
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/io-uring-bench-read-4k.dat", tmp && *tmp ? tmp : "/tmp");
		read_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (read_fd < 0) {
			fprintf(stderr, "bench-liburing: %s: %s (bench-one creates it)\n", path, strerror(errno));
			return 1;
		}
		if (posix_memalign((void **)&bufs, 4096, (size_t)READ_DEPTH * BLOCK))
			return 1;
		need(io_uring_queue_init(READ_DEPTH, &ring, 0), "ring setup");
	} else if (!strcmp(workload, "sqpoll-nop")) {
		kind = 3;
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = SQPOLL_IDLE_MS;
		need(io_uring_queue_init_params(SQPOLL_RING, &ring, &p), "SQPOLL ring setup");
	} else {
		fprintf(stderr, "bench-liburing: unknown workload %s\n", workload);
		return 2;
	}
	double u0, s0, u1, s1;
	cpu_ns(&u0, &s0);
	double t0 = now_ns();
	switch (kind) {
	case 0: nop_batch(&ring, NOP_BATCH, ops); break;
	case 1: nop_single(&ring, ops); break;
	case 2: read_4k(&ring, ops); break;
	case 3: nop_batch(&ring, SQPOLL_BATCH, ops); break;
	}
	double t1 = now_ns();
	cpu_ns(&u1, &s1);
	printf("liburing %s %llu %.2f\n", workload, ops, (t1 - t0) / ops);
	fprintf(stderr, "# cpu user_ns_per_op %.2f sys_ns_per_op %.2f\n", (u1 - u0) / ops, (s1 - s0) / ops);
	io_uring_queue_exit(&ring);
	return 0;
}
