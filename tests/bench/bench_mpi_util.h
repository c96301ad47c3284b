/*
 * The MPI contenders that bench_mpi and bench_robust_mpi share (static functions
 * only; include from a program linked with MPI): static blocks and a fixed-chunk
 * counter, each timed from a common start to the last rank's end.
 */
#ifndef AMZ_BENCH_MPI_UTIL_H
#define AMZ_BENCH_MPI_UTIL_H

#include <mpi.h>
#include <stdint.h>

#include "amorsize.h"
#include "bench_util.h"

/* Seconds from the earliest rank's t0 to the latest rank's t1 (collective). Both are
 * bench_now() readings: CLOCK_MONOTONIC is one clock for every process of a machine,
 * whereas Open MPI's MPI_Wtime counts from each process's own start. */
static inline double bench_mpi_span(double t0, double t1) {
  double mx = 0, mn = 0;
  MPI_Allreduce(&t0, &mn, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&t1, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return mx - mn;
}

/* Static blocks: rank r of P runs [rN/P, (r+1)N/P) (collective). */
static inline double bench_mpi_static(uint64_t n, amz_range_fn fn, void *arg) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = bench_now();
  fn(n * (uint64_t)rank / (uint64_t)size, n * (uint64_t)(rank + 1) / (uint64_t)size, arg);
  return bench_mpi_span(t0, bench_now());
}

/* Fixed-chunk self-scheduling: chunks of `chunk` items from a one-sided
 * MPI_Fetch_and_op counter on rank 0, passive target, as textbook MPI codes do
 * (collective). */
static inline double bench_mpi_counter(uint64_t n, amz_range_fn fn, void *arg, long chunk) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Win win;
  long *base;
  MPI_Win_allocate(rank == 0 ? sizeof(long) : 0, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                   &base, &win);
  if (rank == 0) *base = 0;
  MPI_Win_lock_all(0, win);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = bench_now();
  for (;;) {
    long one = chunk, pos;
    MPI_Fetch_and_op(&one, &pos, MPI_LONG, 0, 0, MPI_SUM, win);
    MPI_Win_flush(0, win);
    if ((uint64_t)pos >= n) break;
    uint64_t e = (uint64_t)(pos + chunk) > n ? n : (uint64_t)(pos + chunk);
    fn((uint64_t)pos, e, arg);
  }
  double t1 = bench_now();
  MPI_Win_unlock_all(win);
  double t = bench_mpi_span(t0, t1);
  MPI_Win_free(&win);
  return t;
}

#endif
