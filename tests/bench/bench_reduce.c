/*
 * What an excluded rank's wait costs the ranks still running.
 *
 *   mpirun -np 2 bench_reduce [--reps R] [--items N] [--item-us U]
 *
 * A plan over rank 0 only (2 threads: every core of this machine), the other ranks
 * excluded. After each run every rank reduces its partial sum, either with a plain
 * MPI_Allreduce (Open MPI polls while it waits) or with amz_mpi_allreduce (sleeps
 * while it waits). Excluded ranks wait for the run's end inside amz_mpi_run, asleep,
 * so both reductions should cost the same; an excluded rank that reached the
 * reduction while rank 0 still ran would show as CPU time here. The two alternate R times on one plan. Rank 0 times from a barrier to
 * the reduced value; the excluded ranks measure the CPU time their process used
 * over the same span (what their wait takes from the node). Medians and ratios.
 * One program, one kernel.
 */
#include <mpi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_mpi.h"
#include "bench_util.h"

static double item_us = 2.0;

static double process_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int kernel(uint64_t b, uint64_t e, void *arg) {
  _Atomic uint64_t *sum = arg;
  bench_spin_items(b, e, item_us);
  uint64_t s = 0;
  for (uint64_t i = b; i < e; i++) s += i;
  atomic_fetch_add(sum, s);
  return 0;
}

int main(int argc, char **argv) {
  int provided, rank, size, reps = 7;
  uint64_t n = 200000;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--items") == 0 && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--item-us") == 0 && i + 1 < argc) item_us = atof(argv[++i]);
    else {
      if (rank == 0) fprintf(stderr, "usage: bench_reduce [--reps R] [--items N] [--item-us U]\n");
      MPI_Finalize();
      return 2;
    }
  }
  if (reps < 1 || reps > 64 || size < 2) {
    if (rank == 0) fprintf(stderr, "bench_reduce: reps in [1, 64], at least 2 ranks\n");
    MPI_Finalize();
    return 2;
  }
  _Atomic uint64_t partial = 0;
  amz_options_t *o = bench_quiet_options();
  amz_options_set_ranks(o, 1);
  amz_options_set_workers(o, 2);
  amz_task_t task = {"bench-reduce", n, kernel, &partial};
  amz_plan_t *p = NULL;
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &p);
  amz_result_t *r = NULL;
  if (rc == 0) rc = amz_mpi_run(p, &r); /* the first run: sampled items left out */
  amz_result_destroy(r);
  if (rc != 0) {
    fprintf(stderr, "bench_reduce: %s: %s\n", amz_error_name(rc), amz_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  double t[2][64], cpu[2][64];
  const uint64_t want = n * (n - 1) / 2;
  for (int k = 0; k < reps; k++)
    for (int polite = 0; polite < 2; polite++) {
      atomic_store(&partial, 0);
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = bench_now(), c0 = process_cpu();
      rc = amz_mpi_run(p, &r);
      amz_result_destroy(r);
      uint64_t mine = atomic_load(&partial), total = 0;
      if (polite)
        rc |= amz_mpi_allreduce(MPI_COMM_WORLD, &mine, &total, 1, MPI_UINT64_T, MPI_SUM);
      else
        rc |= MPI_Allreduce(&mine, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
      t[polite][k] = bench_now() - t0;
      /* The busiest excluded rank's CPU seconds over its wait. */
      double c = rank == 0 ? 0.0 : process_cpu() - c0;
      MPI_Reduce(&c, &cpu[polite][k], 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
      if (rc != 0 || total != want) {
        fprintf(stderr, "bench_reduce: rank %d: rc %d, total %llu, expected %llu\n", rank, rc,
                (unsigned long long)total, (unsigned long long)want);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
    }
  if (rank == 0) {
    double a = bench_median(t[0], reps), b = bench_median(t[1], reps);
    double ca = bench_median(cpu[0], reps), cb = bench_median(cpu[1], reps);
    printf("Excluded ranks waiting for a reduction: %d ranks, the plan on rank 0 (2 threads),\n"
           "%llu items of %.2f us, %d alternating reps, medians, run + reduction on rank 0\n\n",
           size, (unsigned long long)n, item_us, reps);
    printf("%-28s %16s %22s\n", "the excluded ranks wait in", "rank 0: seconds",
           "excluded rank: CPU s");
    printf("%-28s %15.4fs %21.4fs\n", "MPI_Allreduce (polls)", a, ca);
    printf("%-28s %15.4fs %21.4fs\n", "amz_mpi_allreduce (sleeps)", b, cb);
    printf("%-28s %16.3f\n", "ratio", a / b);
  }
  amz_plan_destroy(p);
  amz_options_destroy(o);
  MPI_Finalize();
  return 0;
}
