/*
 * The program the kill -9 tests run and kill: a loop with a checkpoint whose kernel
 * logs every call it starts and finishes, so that a checker can tell afterwards
 * which items ran how often and which chunks were in flight when the process died.
 *
 *   ckpt_worker [--mpi] N ITEM_US LOGDIR CHECKPOINT
 *
 * Each process appends fixed 32-byte events to LOGDIR/events.<pid> with one write()
 * per event (O_APPEND: what was written survives SIGKILL):
 *   u32 kind ('S' start, 'E' end), u32 thread id, u64 begin, u64 end, u64 sequence.
 * Its pid goes to LOGDIR/pid.<rank> before the loop starts; at the end it prints
 * "ckpt_worker: done D failed F resumed R of N" (rank 0).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "amorsize.h"
#ifdef AMZ_WITH_MPI
#include "amorsize_mpi.h"
#endif

typedef struct ev {
  uint32_t kind, tid;
  uint64_t begin, end, seq;
} ev_t;

static int log_fd = -1;
static _Atomic uint64_t seq;
static double item_us;

static void emit(uint32_t kind, uint64_t b, uint64_t e) {
  ev_t v = {kind, (uint32_t)syscall(SYS_gettid), b, e, atomic_fetch_add(&seq, 1)};
  if (write(log_fd, &v, sizeof v) != (ssize_t)sizeof v) abort();
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int kernel(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  emit('S', b, e);
  /* Spin, not sleep: a compute kernel, so the plan uses the cores. */
  double until = now() + item_us * 1e-6 * (double)(e - b);
  volatile uint64_t x = b;
  while (now() < until) x = x * 6364136223846793005ULL + 1;
  emit('E', b, e);
  return 0;
}

int main(int argc, char **argv) {
  int use_mpi = argc > 1 && strcmp(argv[1], "--mpi") == 0;
  if (argc != 5 + use_mpi) {
    fprintf(stderr, "usage: %s [--mpi] N ITEM_US LOGDIR CHECKPOINT\n", argv[0]);
    return 64;
  }
  char **a = argv + 1 + use_mpi;
  uint64_t n = strtoull(a[0], NULL, 10);
  item_us = atof(a[1]);
  int rank = 0;
#ifdef AMZ_WITH_MPI
  if (use_mpi) {
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  }
#else
  if (use_mpi) {
    fprintf(stderr, "ckpt_worker: built without MPI\n");
    return 77;
  }
#endif
  char path[4096];
  snprintf(path, sizeof path, "%s/events.%ld", a[2], (long)getpid());
  log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  snprintf(path, sizeof path, "%s/pid.%d", a[2], rank);
  FILE *pf = fopen(path, "w");
  if (log_fd < 0 || !pf) {
    perror("ckpt_worker: log files");
    return 1;
  }
  fprintf(pf, "%ld\n", (long)getpid());
  fclose(pf);

  amz_options_t *o;
  amz_options_create(&o);
  amz_options_set_checkpoint(o, a[3]);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  amz_task_t task = {"kill-test", n, kernel, NULL};
  amz_result_t *r = NULL;
  int rc;
#ifdef AMZ_WITH_MPI
  if (use_mpi)
    rc = amz_mpi_for(MPI_COMM_WORLD, &task, o, &r);
  else
#endif
    rc = amz_for(&task, o, &r);
  if (rc != 0) {
    fprintf(stderr, "ckpt_worker: rank %d: %s: %s\n", rank, amz_error_name(rc), amz_last_error());
  } else if (rank == 0) {
    printf("ckpt_worker: done %llu failed %llu resumed %llu of %llu\n",
           (unsigned long long)amz_result_items_done(r),
           (unsigned long long)amz_result_items_failed(r),
           (unsigned long long)amz_result_items_resumed(r), (unsigned long long)n);
  }
  amz_result_destroy(r);
  amz_options_destroy(o);
  close(log_fd);
#ifdef AMZ_WITH_MPI
  if (use_mpi) MPI_Finalize();
#endif
  return rc == 0 ? 0 : 1;
}
