/*
 * The internal interface of the thread pool and the watchdog (pool.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_POOL_H
#define AMORSIZE_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "amorsize.h"
#include "common.h"

typedef void (*amz__job_fn)(void *ctx, int worker);

/* The watchdog (AMZ_TIMEOUT): what a watched run checks and how it ends. */
typedef struct amz__watch {
  double seconds;  /* a kernel call longer than this is stuck (> 0) */
  double factor;   /* > 0: ... and longer than factor x its predicted time */
  const struct amz__workload *wl; /* the cost profile; NULL while unknown (sampling) */
  int abort_job;   /* 1: end the process (or the MPI job) instead of returning */
  const char *task; /* the task's name, for the diagnosis */
  int rank;        /* MPI rank in the diagnosis; -1 without MPI */
  /* abort_job: called with the diagnosis instead of abort() (MPI: MPI_Abort). */
  void (*abort_fn)(void *ctx, const char *why);
  void *abort_ctx;
} amz__watch_t;

/* A worker's kernel call as the watchdog sees it. One per helper thread. */
typedef struct amz__watch_slot {
  _Atomic int state;         /* AMZ__SLOT_* */
  _Atomic unsigned seq;      /* odd while b, e, t0 are being written (a seqlock) */
  _Atomic double t0;         /* CLOCK_MONOTONIC seconds when the call began */
  _Atomic uint64_t b, e;     /* its items */
  _Atomic long tid;          /* the helper's thread id (gettid), for the diagnosis */
  _Atomic int *abandoned;    /* the pool's: set when a run gave up on its workers */
  char pad[12];
} amz__watch_slot_t;
/* OUT: not in a job; WAITING: given a job, not started; LIB: in the library's
 * code of the job; KERNEL: in a kernel call; EXITED: ended its thread. */
enum { AMZ__SLOT_OUT, AMZ__SLOT_WAITING, AMZ__SLOT_LIB, AMZ__SLOT_KERNEL, AMZ__SLOT_EXITED };

typedef struct amz__pool {
  int n_helpers; /* threads besides the caller; worker ids 1..n_helpers */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t cv_start;
  pthread_cond_t cv_done;
  uint64_t generation;
  int job_workers;  /* workers taking part in the current job, caller included */
  int job_base;     /* 1 in a watched job (helper i is worker i - 1), else 0 */
  int pending;      /* helpers that have not finished the current job */
  int shutdown;
  amz__job_fn job;
  void *ctx;
  pid_t pid;        /* the process whose threads these are (fork() leaves them behind) */
  /* Watched jobs: one slot per helper (index = helper id), and the flag a lost run
   * sets. Heap memory that a lost pool never frees: a stuck thread still reads it. */
  amz__watch_slot_t *slots;
  _Atomic int *abandoned;
  char lost[512];   /* non-empty once a watched job gave up: the diagnosis */
} amz__pool_t;

AMZ__EXT int amz__pool_init(amz__pool_t *p, int n_helpers);
/* CPU seconds the pool's helper threads have used so far (their thread clocks);
 * call while the pool runs no job. The sampler leaves them out of a solo block's
 * "other threads": waking, finishing a job and going back to sleep is the pool's
 * work, not the kernel's. */
double amz__pool_helpers_cpu(const amz__pool_t *p);
/* CPU seconds threads[0..n) have used so far (their thread clocks); a thread whose
 * clock cannot be read counts 0. */
double amz__threads_cpu(const pthread_t *threads, int n);
/* Grows the pool to at least n_helpers threads. */
int amz__pool_grow(amz__pool_t *p, int n_helpers);
/* Runs job(ctx, w) for w in [0, workers): w = 0 on the caller; returns when all end. */
void amz__pool_run(amz__pool_t *p, int workers, amz__job_fn job, void *ctx);
/* Runs job(ctx, w) for w in [0, workers); with w NULL exactly as amz__pool_run
 * (returns 0). Otherwise on helper threads (grown as needed) while the caller
 * watches their kernel calls (made through amz__run_items). A call past
 * its limit is reported on stderr; with w->abort_job the process then ends
 * (w->abort_fn or abort()), otherwise the run is given up: workers stop at their
 * next kernel call, the stuck ones are left running and end their thread when
 * their call returns, and AMZ_ETIMEOUT is returned (naming worker and items). The
 * pool is then lost: every later run answers AMZ_ETIMEOUT. Also AMZ_ENOMEM or
 * AMZ_ESYS when the pool could not grow. */
int amz__pool_run_watched(amz__pool_t *p, int workers, amz__job_fn job, void *ctx,
                          const amz__watch_t *w);
/* AMZ_ETIMEOUT with the diagnosis when a watched run gave up on this pool, else 0. */
int amz__pool_check(const amz__pool_t *p, const char *what);
/* Joins the helpers; those still stuck in a kernel call are detached and the
 * memory they may read is left to the process. */
AMZ__EXT void amz__pool_destroy(amz__pool_t *p);
/* The calling thread's slot while it runs a watched job, outside the user's
 * kernel calls, else NULL (a kernel that runs another plan does not see it). */
AMZ__EXT amz__watch_slot_t *amz__watch_current(void);
/* Around one call of the user's kernel made by a library wrapper (MPI sampling,
 * map mode), whose own code is then not counted as the kernel's: publishes the
 * call in `s` (from amz__watch_current()), and ends the thread instead of going
 * on when its run was given up (before the call, or when it returns). */
AMZ__EXT void amz__watch_enter(amz__watch_slot_t *s, uint64_t b, uint64_t e);
AMZ__EXT void amz__watch_leave(amz__watch_slot_t *s);
/* Parses AMZ_TIMEOUT ("off", or a comma list of SECONDS[s], FACTORx, error, abort)
 * into *seconds, *factor and *abort_job. Returns 0 or -1. */
int amz__timeout_parse(const char *v, double *seconds, double *factor, int *abort_job);
/* Seconds a factor-only timeout waits at least (short calls vary a lot). */
#define AMZ__TIMEOUT_FLOOR_S 10.0
/* The largest seconds or factor accepted (about 31 years). */
#define AMZ__TIMEOUT_MAX_S 1e9

/* (probe.c) Median per-chunk critical-path cost of `kind` with 1-item chunks and an empty
 * kernel over n items, minus `fixed` seconds of fork-join. */
double amz__probe_chunk_cost(amz__pool_t *pool, amz_schedule_t kind, int workers,
                                        uint64_t n, double fixed);

#endif /* AMORSIZE_POOL_H */
