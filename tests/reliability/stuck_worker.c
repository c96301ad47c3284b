/*
 * The program the watchdog tests run: a loop whose kernel never returns on one
 * rank (or in the one process), watched as AMZ_TIMEOUT says.
 *
 *   stuck_worker [--mpi STUCK_RANK]
 *
 * Items are cheap until sampling is over; then the first call on the stuck rank
 * blocks. Prints "stuck_worker: rank R rc NAME: MESSAGE" when the run returns
 * (AMZ_TIMEOUT=...,error); with abort the process (or the job) ends before.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amorsize.h"
#ifdef AMZ_WITH_MPI
#include "amorsize_mpi.h"
#endif

static atomic_int armed;
static int me, stuck_rank;

static int kernel(uint64_t b, uint64_t e, void *arg) {
  (void)b;
  (void)e;
  (void)arg;
  if (atomic_load(&armed) && me == stuck_rank)
    for (;;) {
      struct timespec ts = {0, 10000000};
      nanosleep(&ts, NULL);
    }
  return 0;
}

int main(int argc, char **argv) {
  int mpi = argc == 3 && strcmp(argv[1], "--mpi") == 0;
  if (!mpi && argc != 1) {
    fprintf(stderr, "usage: stuck_worker [--mpi STUCK_RANK]\n");
    return 2;
  }
  amz_options_t *o = NULL;
  amz_options_create(&o);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  amz_options_set_sampling(o, 0.02, 0.05);
  amz_task_t task = {"stuck", 1000, kernel, NULL};
  amz_plan_t *p = NULL;
  amz_result_t *r = NULL;
  int rc;
#ifdef AMZ_WITH_MPI
  if (mpi) {
    int provided, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    stuck_rank = atoi(argv[2]);
    amz_options_set_ranks(o, size);
    amz_options_set_schedule(o, AMZ_SCHED_STATIC);
    rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &p);
    atomic_store(&armed, 1);
    if (rc == 0) rc = amz_mpi_run(p, &r);
  } else
#endif
  {
    if (mpi) {
      fprintf(stderr, "stuck_worker: built without MPI\n");
      return 77;
    }
    rc = amz_plan_create(&task, o, &p);
    atomic_store(&armed, 1);
    if (rc == 0) rc = amz_run(p, &r);
  }
  printf("stuck_worker: rank %d rc %s: %s\n", me, amz_error_name(rc), amz_last_error());
  fflush(stdout);
  amz_result_destroy(r);
  /* The stuck call never returns: its thread is left in it when the plan goes
   * (and ends with the process). */
  amz_plan_destroy(p);
#ifdef AMZ_WITH_MPI
  if (mpi) MPI_Finalize();
#endif
  amz_options_destroy(o);
  return 0;
}
