/*
 * Porting pattern 4: a kernel that runs OpenMP threads of its own (docs/PORTING.md).
 *
 *   OMP_NUM_THREADS=T mpirun -np R ./openmp_kernel_mpi [ITEMS] [--check] [--explain]
 *
 * Each item is an OpenMP parallel loop (an integer reduction, so its result is the
 * same whatever the threads); items cost 1 to 8 units. The library samples the
 * kernel as it is: on blocks that run alone it sees the process use more CPU than the
 * calling thread, counts each kernel call as that many cores, and chooses the workers
 * per rank so that workers x OpenMP threads fit the cores it finds. --explain prints
 * the run's explanation on rank 0 (its [INFO] line names the cores per call);
 * --check recomputes every item serially on rank 0 and compares.
 */
#include <errno.h>
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_mpi.h"

enum { UNIT = 400000 }; /* inner iterations per cost unit (0.4 ms on one core here) */

/* Item i: how many of its hashed values are divisible by 7. Integer arithmetic, so the
 * OpenMP reduction gives the same count in any order. */
static uint64_t item(uint64_t i) {
  uint64_t m = UNIT * (1 + i % 8), count = 0;
#pragma omp parallel for reduction(+ : count) schedule(static)
  for (uint64_t k = 0; k < m; k++) {
    uint64_t z = (i << 32 ^ k) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 29)) * 0xbf58476d1ce4e5b9ULL;
    count += (z ^ (z >> 32)) % 7 == 0;
  }
  return count;
}

static int kernel(uint64_t begin, uint64_t end, void *arg) {
  uint64_t *out = arg; /* this rank's full-size output array */
  for (uint64_t i = begin; i < end; i++) out[i] = item(i);
  return 0;
}

static void die(int rank, const char *what, int rc) {
  fprintf(stderr, "rank %d: %s: %s: %s\n", rank, what, amz_error_name(rc), amz_last_error());
  MPI_Abort(MPI_COMM_WORLD, 1);
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  uint64_t n = 400;
  int check = 0, explain = 0, pos = 0;
  for (int i = 1; i < argc; i++) {
    char *end;
    if (strcmp(argv[i], "--check") == 0) {
      check = 1;
    } else if (strcmp(argv[i], "--explain") == 0) {
      explain = 1;
    } else if (pos++ == 0 && argv[i][0] != '-' && (errno = 0, n = strtoull(argv[i], &end, 10),
                                                   !errno && *end == 0 && n > 0)) {
      continue;
    } else {
      if (rank == 0)
        fprintf(stderr, "openmp_kernel_mpi: bad argument '%s': expected ITEMS (a positive "
                        "count), --check or --explain\n", argv[i]);
      MPI_Finalize();
      return 2;
    }
  }
  uint64_t *out = calloc(n, sizeof *out);
  if (!out) {
    fprintf(stderr, "rank %d: cannot allocate %llu items\n", rank, (unsigned long long)n);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  amz_task_t task = {"openmp kernel", n, kernel, out};
  amz_result_t *res = NULL;
  int rc = amz_mpi_for(MPI_COMM_WORLD, &task, NULL, &res);
  if (rc != 0) die(rank, "amz_mpi_for", rc);
  rc = amz_mpi_gather_items(MPI_COMM_WORLD, res, out, sizeof *out, 0);
  if (rc != 0) die(rank, "amz_mpi_gather_items", rc);
  if (rank == 0) {
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++) total += out[i];
    printf("openmp kernel: %llu items, %d OpenMP threads per call, %d of %d ranks x %d "
           "workers, %.3f s (%.3f s probing, sampling, planning); total %llu\n",
           (unsigned long long)n, omp_get_max_threads(), amz_result_ranks(res), size,
           amz_result_workers(res), amz_result_seconds(res), amz_result_setup_seconds(res),
           (unsigned long long)total);
    if (explain) amz_result_explain(res, stdout);
    if (check) {
      uint64_t bad = 0;
      for (uint64_t i = 0; i < n; i++) bad += item(i) != out[i];
      printf("serial check: %s\n", bad ? "DIFFERENT" : "identical");
      if (bad) rc = 1;
    }
  }
  int all = 0;
  if (amz_mpi_allreduce(MPI_COMM_WORLD, &rc, &all, 1, MPI_INT, MPI_MAX) != 0) all = 1;
  amz_result_destroy(res);
  free(out);
  MPI_Finalize();
  return all == 0 ? 0 : 1;
}
