/*
 * The OpenMP contenders that bench_openmp and bench_robust share (static functions
 * only; include from a program built with OpenMP).
 */
#ifndef AMZ_BENCH_OMP_H
#define AMZ_BENCH_OMP_H

#include <omp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "amorsize.h"
#include "bench_util.h"

/* Idle OpenMP threads must sleep, not spin, after each loop, or they take the cores
 * of the contender that runs next. libgomp reads OMP_WAIT_POLICY when it loads,
 * before main: unless the caller set it, set it and start the program again. */
static inline void bench_omp_passive(char **argv) {
  if (getenv("OMP_WAIT_POLICY")) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);
  perror("bench: cannot restart with OMP_WAIT_POLICY=passive (/proc/self/exe)");
}

/* Seconds of an OpenMP loop over n items, the kernel called per item, with the
 * given schedule kind and chunk, on `threads` threads. */
static inline double bench_omp_loop(uint64_t n_items, amz_range_fn fn, int threads,
                                    omp_sched_t kind, int chunk) {
  omp_set_schedule(kind, chunk);
  const int64_t n = (int64_t)n_items;
  double t0 = bench_now();
#pragma omp parallel for schedule(runtime) num_threads(threads)
  for (int64_t i = 0; i < n; i++) fn((uint64_t)i, (uint64_t)i + 1, NULL);
  return bench_now() - t0;
}

/* Seconds of an atomic counter handing out chunks of `chunk` items. */
static inline double bench_counter_loop(uint64_t n, amz_range_fn fn, int threads,
                                        uint64_t chunk) {
  _Atomic uint64_t next = 0;
  double t0 = bench_now();
#pragma omp parallel num_threads(threads)
  for (;;) {
    uint64_t b = atomic_fetch_add_explicit(&next, chunk, memory_order_relaxed);
    if (b >= n) break;
    fn(b, b + chunk < n ? b + chunk : n, NULL);
  }
  return bench_now() - t0;
}

#endif
