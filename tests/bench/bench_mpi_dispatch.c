/*
 * Per-chunk cost of the MPI layer's intra-node hand-out: chunks of one item of an
 * empty kernel taken from the node-shared counter (MPI_Win_allocate_shared window,
 * C11 atomics), by every rank of the node at once, one thread each.
 *
 *   mpirun -np P bench_mpi_dispatch [chunks]     wall-clock ns per chunk per worker
 *   mpirun -np 1 valgrind --tool=callgrind --toggle-collect=worker_main \
 *       bench_mpi_dispatch --once CHUNKS RUNS    (scripts/callgrind_dispatch.sh)
 *
 * --once makes the plan and runs it RUNS times (1 or 2): the first run cuts the
 * sampled items out of its chunks, so the script takes the difference between 2
 * runs and 1 run as the count of one plain run.
 *
 * The timed mode reports the median of 5 runs of a re-used plan: (run time x
 * workers) / chunks, i.e. what each chunk costs its worker, hand-out, clock reads
 * and record included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amorsize_mpi.h"

static int empty(uint64_t b, uint64_t e, void *arg) {
  (void)b;
  (void)e;
  (void)arg;
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int once = argc == 4 && strcmp(argv[1], "--once") == 0;
  int runs = once ? atoi(argv[3]) : 0;
  uint64_t n = once ? strtoull(argv[2], NULL, 10) : (argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000);
  if (n == 0) {
    if (rank == 0) fprintf(stderr, "usage: %s [chunks > 0] | --once CHUNKS\n", argv[0]);
    MPI_Finalize();
    return 2;
  }
  amz_options_t *o;
  amz_options_create(&o);
  amz_options_set_use_env(o, 0);
  amz_options_set_ranks(o, size);
  amz_options_set_workers(o, 1);
  amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC);
  amz_options_set_chunk(o, 1);
  amz_task_t task = {"dispatch", n, empty, NULL};
  amz_plan_t *p = NULL;
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &p);
  if (rc != 0) {
    fprintf(stderr, "rank %d: %s: %s\n", rank, amz_strerror(rc), amz_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  amz_result_t *r = NULL;
  amz_mpi_run(p, &r); /* first run: the sampled items are cut out */
  amz_result_destroy(r);
  if (!once) {
    double t[5];
    for (int k = 0; k < 5; k++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = now();
      amz_mpi_run(p, &r);
      t[k] = now() - t0;
      amz_result_destroy(r);
    }
    for (int i = 1; i < 5; i++)
      for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
        double x = t[j];
        t[j] = t[j - 1];
        t[j - 1] = x;
      }
    double mx;
    MPI_Allreduce(&t[2], &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
      printf("node-shared counter, %d rank%s x 1 thread, %llu one-item chunks: %.1f ns per chunk "
             "per worker (median of 5 runs)\n",
             size, size == 1 ? "" : "s", (unsigned long long)n, mx * size / (double)n * 1e9);
  } else if (runs > 1) {
    amz_mpi_run(p, &r);
    amz_result_destroy(r);
  }
  amz_plan_destroy(p);
  amz_options_destroy(o);
  MPI_Finalize();
  return 0;
}
