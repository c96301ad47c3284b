/*
 * Helpers shared by the benchmark programs (each is a standalone program; this
 * header holds only static functions).
 */
#ifndef AMZ_BENCH_UTIL_H
#define AMZ_BENCH_UTIL_H

#include <stdlib.h>

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

#endif
