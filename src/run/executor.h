/*
 * The internal interface of the executor (executor.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_EXECUTOR_H
#define AMORSIZE_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"
#include "pool.h"
#include "ranges.h"
#include "checkpoint.h"
#include "retry.h"

typedef struct amz__chunk_rec {
  uint64_t begin, end;
  double t_start, t_end; /* seconds since run start */
  int status;
} amz__chunk_rec_t;

typedef struct amz__worker_rec {
  amz__chunk_rec_t *chunks;
  size_t n_chunks, cap;
  uint64_t items, failures;
  uint64_t stolen;       /* STATIC: items run from ranges taken from other workers
                          * (each counted once, by the worker that ran it) */
  double busy_s, dispatch_s, t_first, t_last; /* t_* relative to run start */
  double data_s; /* inside kernel calls but moving data (amz__tls_excluded_s) */
  amz__rangeset_t failed;
  uint64_t chunks_total; /* executed, recorded or not */
  amz__sink_t sink;      /* failures for good, retry counters */
  int id;                /* worker index, for the on_error hook */
  const amz_hooks_t *hooks;
  void *hooks_user;
  size_t max_records;
  int oom;
  char pad[64];
} amz__worker_rec_t;

typedef struct amz__exec_params {
  const amz_task_t *task;
  amz_schedule_t schedule;
  int workers;
  uint64_t chunk;
  const amz__rangeset_t *skip; /* sorted items already executed; may be NULL */
  const amz_hooks_t *hooks;    /* may be NULL */
  void *hooks_user;
  double progress_interval;
  const amz__clock_t *clock;
  amz__pool_t *pool;           /* needs workers - 1 helpers */
  double t_origin;             /* clock time chunk times are relative to */
  size_t max_records;          /* chunk records kept in all (totals are always kept) */
  /* Optional chunk source replacing the schedule's own hand-out (the MPI layer's
   * preassigned global workers and node-shared counters). Called by worker w for
   * its j-th chunk; returns 1 with [*b, *e) or 0 when the worker is done. */
  int (*source)(void *ctx, int worker, uint64_t j, uint64_t *b, uint64_t *e);
  void *source_ctx;
  /* STATIC with source NULL: worker w's own block [*b, *e) (an MPI rank's
   * workers' global blocks), which the executor runs with a way out (schedule.h),
   * the workers taking from each other; ignored with one worker (the caller then
   * passes a source). ctx is source_ctx. NULL: the blocks of the schedule over
   * task->n_items. */
  void (*own_block)(void *ctx, int worker, uint64_t *b, uint64_t *e);
  /* Progress of the whole run estimated from this process's part: items done are
   * reported times this factor (the MPI layer: ranks sharing the run); 0 = 1. */
  double progress_scale;
  /* 1 when the kernel or the source moves data and reports it in
   * amz__tls_excluded_s (MPI map mode): it is then counted as data time. */
  int track_moved;
  int retries;        /* failure isolation (retry.c) */
  amz__ckpt_t *ckpt;  /* completed ranges are logged here; may be NULL */
  const amz__watch_t *watch; /* the watchdog; NULL = off */
  int kernel_wrapped;        /* 1: task->fn is a library wrapper that publishes the
                              * user's calls itself (MPI map mode) */
} amz__exec_params_t;

typedef struct amz__exec_out {
  amz__worker_rec_t *w;  /* workers records (owned) */
  int workers;
  double wall_s;         /* run start to end, serial parts included */
  double parallel_s;     /* first worker start to last worker end */
  double t_par_begin;    /* parallel region start, relative to run start */
  double serial_s;       /* wall - parallel region */
  uint64_t items_run;    /* items the run had to execute (skip excluded) */
  uint64_t chunks_run;   /* chunks executed (recorded or not) */
} amz__exec_out_t;

/* Default bound on chunk records kept per run (40 bytes each): 2^20 = 40 MiB. */
#define AMZ__MAX_RECORDS ((size_t)1 << 20)

AMZ__EXT int amz__execute(const amz__exec_params_t *p, amz__exec_out_t *out);
AMZ__EXT void amz__exec_out_free(amz__exec_out_t *o);

#endif /* AMORSIZE_EXECUTOR_H */
