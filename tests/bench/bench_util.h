/*
 * Helpers shared by the benchmark programs (each is a standalone program; this
 * header holds only static functions).
 */
#ifndef AMZ_BENCH_UTIL_H
#define AMZ_BENCH_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "amorsize.h"

/* Options for a benchmark: the environment ignored (a benchmark states every setting
 * it compares) and no progress line. NULL when out of memory. */
static inline amz_options_t *bench_quiet_options(void) {
  amz_options_t *o = NULL;
  if (amz_options_create(&o) != 0) return NULL;
  amz_options_set_use_env(o, 0);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  return o;
}

/* Monotonic seconds. */
static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A compute kernel's stand-in: spins (no sleep, so a core is busy) for `us`
 * microseconds per item of [b, e). */
static inline void bench_spin_items(uint64_t b, uint64_t e, double us) {
  double until = bench_now() + us * 1e-6 * (double)(e - b);
  volatile uint64_t x = b;
  while (bench_now() < until) x = x * 6364136223846793005ULL + 1;
}

static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of v[0..n), n >= 1 (the mean of the middle two when n is even).
 * Sorts v in place: after the call v[0] and v[n - 1] are the minimum and maximum. */
static inline double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Whether a run's time fell inside its predicted interval. */
static inline int bench_inside(const amz_result_t *r) {
  double lo, hi, s = amz_result_seconds(r);
  return amz_result_predicted_interval(r, &lo, &hi) == 0 && s >= lo && s <= hi;
}

/* The median of e[0..n) and the value of largest magnitude, n <= 64 (e unchanged). */
static inline void bench_median_worst(const double *e, int n, double *med, double *worst) {
  double a[64];
  *worst = 0;
  for (int i = 0; i < n; i++) {
    a[i] = e[i];
    if (fabs(e[i]) > fabs(*worst)) *worst = e[i];
  }
  *med = bench_median(a, n);
}

#endif
