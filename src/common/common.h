/*
 * The common layer: limits, errors, clocks, statistics, hashing, formatting and
 * parsing that every other part (core modules, the MPI layer, the profile library,
 * the tool) may use. It depends on nothing of Amorsize but the public header.
 */
#ifndef AMORSIZE_COMMON_H
#define AMORSIZE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "amorsize.h"

/* Every component is compiled with hidden symbols. The core (libamorsize) exports,
 * besides the public API, only the functions its extension interface marks AMZ__EXT
 * (extension.h); everything else stays inside the component that links it. */
#define AMZ__EXT __attribute__((visibility("default")))

#define AMZ__MAX_WORKERS 4096
#define AMZ__MAX_RETRIES 100
#define AMZ__PATH_MAX 4096

/* ---- errors (error.c) ---------------------------------------------------- */

/* Records a printf-style detail for amz_last_error() and returns code. */
AMZ__EXT int amz__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- clock (clock.c) ----------------------------------------------------- */

/* An injectable clock in seconds: tests drive planner and executor with fake time. */
typedef struct amz__clock {
  double (*now)(void *ctx);
  void *ctx;
  /* CPU time of the calling thread; NULL = the wall clock above (a fake clock then
   * describes a compute-bound kernel: CPU/wall = 1). */
  double (*cpu_now)(void *ctx);
  /* CPU time of the whole process; NULL = cpu_now above (one thread per kernel
   * call). The sampler compares it with the thread's own CPU time on blocks that
   * run alone, to see kernels that run threads of their own (OpenMP, BLAS). */
  double (*proc_cpu_now)(void *ctx);
  /* Seconds the calling thread has spent runnable but not running (waiting on a run
   * queue while other threads or processes had its cores); NULL = never (fake
   * clocks). The sampler tells a kernel that waits (I/O, sleep) from one that other
   * processes keep off its core. */
  double (*runq_now)(void *ctx);
} amz__clock_t;

AMZ__EXT double amz__monotonic_now(void *ctx);    /* CLOCK_MONOTONIC seconds */
AMZ__EXT double amz__thread_cpu_now(void *ctx);   /* CLOCK_THREAD_CPUTIME_ID seconds */
double amz__process_cpu_now(void *ctx);  /* CLOCK_PROCESS_CPUTIME_ID seconds */
/* The calling thread's run-queue delay in seconds (/proc/thread-self/schedstat);
 * 0 where Linux does not expose it. */
double amz__thread_runq_now(void *ctx);
/* Seconds a kernel wrapper spent inside the kernel call on work that is not the
 * kernel's own (the MPI map mode moving a block's data). The sampler subtracts
 * what accumulates here during a block from the block's time: the model counts
 * data movement in its own term. Per thread; only ever grows. */
AMZ__EXT extern _Thread_local double amz__tls_excluded_s;
/* The thread CPU time spent in that excluded work (MPI's polling while waiting). */
AMZ__EXT extern _Thread_local double amz__tls_excluded_cpu_s;
AMZ__EXT extern const amz__clock_t amz__real_clock;

static inline double amz__clock_now(const amz__clock_t *c) { return c->now(c->ctx); }
static inline double amz__clock_cpu(const amz__clock_t *c) {
  return c->cpu_now ? c->cpu_now(c->ctx) : c->now(c->ctx);
}
static inline double amz__clock_proc_cpu(const amz__clock_t *c) {
  return c->proc_cpu_now ? c->proc_cpu_now(c->ctx) : amz__clock_cpu(c);
}
static inline double amz__clock_runq(const amz__clock_t *c) {
  return c->runq_now ? c->runq_now(c->ctx) : 0.0;
}

/* ---- statistics (stats.c) ------------------------------------------------ */

double amz__median(const double *x, size_t n);          /* 0 for n == 0 */
double amz__mad(const double *x, size_t n);             /* median |x - median| */
double amz__trimmed_mean(const double *x, size_t n, double trim); /* trim per side */
double amz__mean(const double *x, size_t n);
double amz__stddev(const double *x, size_t n);          /* sample sd, 0 for n < 2 */
/* Least-squares slope and intercept of y on x; returns 0, or -1 if x is constant. */
int amz__linear_fit(const double *x, const double *y, size_t n, double *slope,
                    double *intercept);
/* von Neumann successive-difference sd of a sequence: robust to smooth trends. */
double amz__successive_sd(const double *x, size_t n);
/* Expected maximum of k independent standard normal variables. */
double amz__expected_max_normal(int k);

/* ---- formatting, hashing, parsing (util.c) ----------------------------------- */

/* Seconds with a unit that keeps 3 significant digits ("14.5 ms"); returns buf. */
const char *amz__fmt_seconds(char *buf, size_t len, double s);
/* Bytes in KiB, MiB or GiB ("1.5 GiB"; "none" for 0); returns buf. */
const char *amz__fmt_bytes(char *buf, size_t len, uint64_t b);
/* The default cache directory (env based) into buf; "" if none. */
void amz__default_cache_dir(char *buf, size_t len);
/* Writes text to path in the cache directory dir (created as needed), through a
 * temporary file renamed into place, so that readers never see half a file.
 * Returns 0, or -1 (the cache is then simply not written). */
int amz__cache_publish(const char *dir, const char *path, const char *text);
/* 64-bit FNV-1a hash of len bytes, continuing from h (start with AMZ__FNV_BASIS). */
#define AMZ__FNV_BASIS 14695981039346656037ULL
uint64_t amz__fnv1a(uint64_t h, const void *data, size_t len);
/* Strict integer / double parse of a whole string. Returns 0 or -1. */
int amz__parse_u64(const char *s, uint64_t *out);

#endif /* AMORSIZE_COMMON_H */
