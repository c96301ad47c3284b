/*
 * What profiles cost.
 *
 *   mpirun -np 2 bench_profile [chunks] [--reps R]
 *
 * 1. Recording, per chunk: the executor runs an empty kernel in chunks of one item
 *    on one thread, once keeping every chunk record (as every run does) and once
 *    with the record bound at 2 (the store skipped after the first two chunks);
 *    the difference over the chunk count is what recording adds to a chunk. The two
 *    variants alternate, R times each; medians. Rank 0 only.
 * 2. Writing: a dynamic run of `chunks` one-item chunks (default 10^6) over all
 *    ranks, one thread each, then its profile written collectively R more times
 *    (each rank its rows, parallel HDF5): median seconds, the file's size and bytes
 *    per chunk. The profile lands in bench_profile.h5 in the working directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mpi_internal.h"
#include "bench_util.h"

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

/* One executor run of n one-item chunks on one thread; seconds. */
static double exec_run(amz__pool_t *pool, uint64_t n, size_t max_records) {
  amz_task_t t = {"record", n, empty, NULL};
  amz__exec_params_t ep = {.task = &t, .schedule = AMZ_SCHED_DYNAMIC, .workers = 1, .chunk = 1,
                           .clock = &amz__real_clock, .pool = pool,
                           .max_records = max_records};
  amz__exec_out_t ex;
  ep.t_origin = now();
  double t0 = now();
  amz__execute(&ep, &ex);
  double dt = now() - t0;
  amz__exec_out_free(&ex);
  return dt;
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  uint64_t chunks = 1000000;
  int reps = 9;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else chunks = strtoull(argv[i], NULL, 10);
  }
  if (reps < 1 || reps > 99 || chunks == 0) {
    if (rank == 0) fprintf(stderr, "usage: %s [chunks > 0] [--reps 1..99]\n", argv[0]);
    MPI_Finalize();
    return 64;
  }

  if (rank == 0) {
    const uint64_t n = 1000000; /* below the record bound (2^20): every chunk is kept */
    amz__pool_t pool;
    amz__pool_init(&pool, 0);
    double with[99], without[99], diff[99];
    exec_run(&pool, n, 0); /* warm up: page in the record arrays */
    for (int r = 0; r < reps; r++) {
      with[r] = exec_run(&pool, n, 0);
      without[r] = exec_run(&pool, n, 2);
      diff[r] = with[r] - without[r]; /* neighbours in time share the machine's state */
    }
    double mw = bench_median(with, reps), mo = bench_median(without, reps);
    double md = bench_median(diff, reps);
    printf("Recording (1 thread, %llu one-item chunks of an empty kernel, median of %d)\n",
           (unsigned long long)n, reps);
    printf("  %-28s %10s\n", "variant", "ns/chunk");
    printf("  %-28s %10.1f\n", "chunks recorded", 1e9 * mw / (double)n);
    printf("  %-28s %10.1f\n", "record store skipped", 1e9 * mo / (double)n);
    printf("  %-28s %10.1f   (median of the paired differences; target: at most 50)\n",
           "recording adds", 1e9 * md / (double)n);
    amz__pool_destroy(&pool);
  }
  MPI_Barrier(MPI_COMM_WORLD);

  amz_options_t *o;
  amz_options_create(&o);
  amz_options_set_use_env(o, 0);
  amz_options_set_ranks(o, size);
  amz_options_set_workers(o, 1);
  amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC);
  amz_options_set_chunk(o, 1);
  amz_options_set_sampling(o, 0.01, 0.5);
  amz_options_set_profile(o, "bench_profile.h5");
  amz_options_set_profile_overwrite(o, 1);
  amz_task_t task = {"profile write", chunks, empty, NULL};
  amz_plan_t *p = NULL;
  amz_result_t *r = NULL;
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &p);
  if (rc == 0) rc = amz_mpi_run(p, &r);
  if (rc != 0) {
    if (rank == 0) fprintf(stderr, "run failed: %s\n", amz_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  /* Write the same run's profile again, timed: everything amz_mpi_run does for it. */
  double t[99];
  uint64_t rows = amz_result_chunk_count(r), all_rows = 0;
  MPI_Allreduce(&rows, &all_rows, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  for (int k = 0; k < reps; k++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    rc = amz__mpi_profile(p, p->ext, r, 0);
    double dt = now() - t0, mx = 0;
    MPI_Allreduce(&dt, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    t[k] = mx;
    if (rc != 0) {
      if (rank == 0) fprintf(stderr, "profile write failed: %s\n", amz_last_error());
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  if (rank == 0) {
    struct stat st;
    stat("bench_profile.h5", &st);
    double m = bench_median(t, reps);
    printf("\nWriting (%d ranks, %llu chunk rows, collective parallel HDF5, median of %d)\n",
           size, (unsigned long long)all_rows, reps);
    printf("  %-28s %10.3f s\n", "write + seal + rename", m);
    printf("  %-28s %10.1f MB\n", "file size", (double)st.st_size / 1e6);
    printf("  %-28s %10.1f\n", "bytes per chunk", (double)st.st_size / (double)all_rows);
    printf("  %-28s %10.2f M rows/s\n", "rate", (double)all_rows / m / 1e6);
    printf("  (run of the chunks itself: %.3f s)\n", amz_result_seconds(r));
  }
  amz_result_destroy(r);
  amz_plan_destroy(p);
  amz_options_destroy(o);
  MPI_Finalize();
  return 0;
}
