/*
 * Writes a profile of a small irregular loop with one failing item, for the tests
 * that read profiles with other tools (h5dump, h5py, the CLI):
 *
 *   mpiexec -n 2 profile_writer OUT.h5 [N [CHUNK]]   one MPI run over all ranks
 *   profile_writer --threads OUT.h5 [N [CHUNK]]      a threaded run (no MPI_Init)
 *   profile_writer --slow OUT.h5 [N [CHUNK]]         a threaded run on 2 workers
 *                                                    whose helper thread runs its
 *                                                    items 3x slower (a core held
 *                                                    by another process)
 *
 * CHUNK > 0 forces a dynamic schedule with chunks of that many items: many chunks
 * make the large tables chunked and compressed (written collectively under MPI).
 * CHUNK `static` forces static blocks: with --slow, the main thread takes items
 * from the helper's block once its own is done (the workers table's `taken`).
 *
 * Item i costs more the larger i is (a rising trend); item N/3 fails with code 5.
 * MPI runs use every rank, so that every rank writes rows.
 * The profile replaces OUT.h5. Exit status 0 when the run completed and the profile
 * was written (the failing item is expected).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_mpi.h"

typedef struct {
  uint64_t n;
  volatile double sink;
  int slow;           /* --slow: threads other than `main_thread` do 3x the work */
  pthread_t main_thread;
} work_t;

static int kernel(uint64_t b, uint64_t e, void *arg) {
  work_t *w = arg;
  int rc = 0;
  uint64_t times = w->slow && !pthread_equal(pthread_self(), w->main_thread) ? 3 : 1;
  for (uint64_t i = b; i < e; i++) {
    double x = 0;
    uint64_t k = times * (2000 + 20000 * i / (w->n ? w->n : 1));
    for (uint64_t j = 0; j < k; j++) x += (double)(j ^ i) * 1e-9;
    w->sink += x;
    if (i == w->n / 3) rc = 5;
  }
  return rc;
}

int main(int argc, char **argv) {
  int slow = argc > 1 && strcmp(argv[1], "--slow") == 0;
  int threads = slow || (argc > 1 && strcmp(argv[1], "--threads") == 0);
  int a = threads ? 2 : 1;
  if (argc <= a) {
    fprintf(stderr, "usage: %s [--threads | --slow] OUT.h5 [N [CHUNK]]\n", argv[0]);
    return 64;
  }
  const char *out = argv[a];
  work_t w = {argc > a + 1 ? strtoull(argv[a + 1], NULL, 10) : 3000, 0, slow, pthread_self()};
  amz_options_t *o = NULL;
  amz_options_create(&o);
  amz_options_set_sampling(o, 0.05, 0.05);
  amz_options_set_profile(o, out);
  amz_options_set_profile_overwrite(o, 1);
  int stat = argc > a + 2 && strcmp(argv[a + 2], "static") == 0;
  uint64_t chunk = argc > a + 2 && !stat ? strtoull(argv[a + 2], NULL, 10) : 0;
  if (stat) amz_options_set_schedule(o, AMZ_SCHED_STATIC);
  if (chunk > 0) {
    amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC);
    amz_options_set_chunk(o, chunk);
  }
  if (slow) amz_options_set_workers(o, 2);
  amz_task_t task = {"profile writer", w.n, kernel, &w};
  amz_result_t *r = NULL;
  int rc, rank = 0;
  if (threads) {
    rc = amz_for(&task, o, &r);
  } else {
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* Every rank writes rows: the plan uses all of them (the loop is small). */
    amz_options_set_ranks(o, size);
    rc = amz_mpi_for(MPI_COMM_WORLD, &task, o, &r);
  }
  if (rc != 0 && rc != AMZ_EITEMS) fprintf(stderr, "rank %d: %s\n", rank, amz_last_error());
  if (rank == 0 && r && amz_result_profile_path(r))
    printf("wrote %s: %llu items done, %llu failed\n", amz_result_profile_path(r),
           (unsigned long long)amz_result_items_done(r),
           (unsigned long long)amz_result_items_failed(r));
  /* Ranks the plan left out return at once and write nothing. */
  int ok = (rc == 0 || rc == AMZ_EITEMS) && r &&
           (amz_result_profile_path(r) || (!threads && amz_result_mpi_excluded(r)));
  amz_result_destroy(r);
  amz_options_destroy(o);
  if (!threads) MPI_Finalize();
  return ok ? 0 : 1;
}
