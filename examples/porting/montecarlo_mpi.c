/*
 * Porting pattern 1: a Monte Carlo reduction (docs/PORTING.md).
 *
 *   mpirun -np 4 ./montecarlo_mpi [ITEMS] [SAMPLES_PER_ITEM] [--ranks R]
 *
 * Estimates pi from ITEMS x SAMPLES_PER_ITEM random points in the unit square. Each
 * item draws its points from its own seed (a counter-based generator keyed by the
 * item index), so the hit count is the same whatever the schedule, the chunks, the
 * number of ranks and threads, and whether an item ran while sampling: the printed
 * count is reproducible to the last digit. The kernel adds each chunk's hits to
 * this rank's partial count (atomically: it runs on several threads), and every
 * rank, excluded ones included, combines the partial counts with
 * amz_mpi_allreduce(). `--ranks R` makes the plan use R ranks only, to show that
 * the excluded ranks' sampled items are counted.
 */
#include <mpi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_mpi.h"

typedef struct {
  uint64_t samples; /* points per item */
  _Atomic uint64_t hits; /* this rank's partial result */
} mc_t;

/* SplitMix64: a tiny counter-based generator; item i's stream starts from i. */
static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static int kernel(uint64_t begin, uint64_t end, void *arg) {
  mc_t *mc = arg;
  uint64_t hits = 0;
  for (uint64_t i = begin; i < end; i++) {
    uint64_t s = i * 0x632be59bd9b4e019ULL; /* the item's own seed */
    for (uint64_t k = 0; k < mc->samples; k++) {
      double x = (double)(splitmix64(&s) >> 11) * 0x1p-53;
      double y = (double)(splitmix64(&s) >> 11) * 0x1p-53;
      hits += x * x + y * y < 1.0;
    }
  }
  atomic_fetch_add_explicit(&mc->hits, hits, memory_order_relaxed);
  return 0;
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  uint64_t items = 20000;
  mc_t mc = {.samples = 2000};
  int ranks = 0, pos = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--ranks") == 0 && i + 1 < argc) ranks = atoi(argv[++i]);
    else if (pos == 0 && ++pos) items = strtoull(argv[i], NULL, 10);
    else if (pos == 1 && ++pos) mc.samples = strtoull(argv[i], NULL, 10);
    else {
      if (rank == 0)
        fprintf(stderr, "usage: montecarlo_mpi [ITEMS] [SAMPLES_PER_ITEM] [--ranks R]\n");
      MPI_Finalize();
      return 2;
    }
  }

  amz_options_t *opts;
  amz_options_create(&opts);
  if (ranks > 0) amz_options_set_ranks(opts, ranks);
  amz_task_t task = {"montecarlo-pi", items, kernel, &mc};
  amz_result_t *result = NULL;
  int rc = amz_mpi_for(MPI_COMM_WORLD, &task, opts, &result);
  if (rc != 0) {
    fprintf(stderr, "rank %d: %s: %s\n", rank, amz_error_name(rc), amz_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  /* Every rank, excluded ones too: they hold the items they sampled. */
  uint64_t mine = atomic_load(&mc.hits), hits = 0;
  rc = amz_mpi_allreduce(MPI_COMM_WORLD, &mine, &hits, 1, MPI_UINT64_T, MPI_SUM);
  if (rc != 0) {
    fprintf(stderr, "rank %d: %s: %s\n", rank, amz_error_name(rc), amz_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  uint64_t points = items * mc.samples;
  if (amz_result_mpi_excluded(result))
    printf("rank %d: excluded (%s); it sampled items worth %llu hits\n", rank,
           amz_result_mpi_why(result), (unsigned long long)mine);
  fflush(stdout);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0)
    printf("pi ~ %.6f: %llu hits of %llu points, %d of %d ranks ran, %.3f s\n",
           4.0 * (double)hits / (double)points, (unsigned long long)hits,
           (unsigned long long)points, amz_result_ranks(result), size,
           amz_result_seconds(result));
  amz_result_destroy(result);
  amz_options_destroy(opts);
  MPI_Finalize();
  return 0;
}
