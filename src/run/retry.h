/*
 * The internal interface of failure isolation (retry.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_RETRY_H
#define AMORSIZE_RETRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"
#include "pool.h"
#include "checkpoint.h"

/* Where a run of items reports: failed items (for good), and counters. */
typedef struct amz__sink {
  void (*fail)(void *ctx, uint64_t b, uint64_t e, int code);
  void *ctx;
  uint64_t retry_calls; /* kernel calls made after a failure */
  uint64_t recovered;   /* items that failed once and then succeeded */
  amz__watch_slot_t *watch; /* the worker's slot in a watched run, else NULL */
} amz__sink_t;

/* [b, e) failed with code rc: with retries > 0 the range is split in halves, each
 * run again, failing halves split further down to single items, and a single item
 * that fails is run up to `retries` more times. Completed pieces are logged to ck
 * (may be NULL); items failed for good go to the sink. Returns the code of the
 * first item that failed for good, or 0 when everything was recovered. */
AMZ__EXT int amz__run_failed(const amz_task_t *t, int retries, amz__ckpt_t *ck, uint64_t b, uint64_t e,
                    int rc, amz__sink_t *sink);

/* One kernel call on a watched worker (pool.c): published in `slot` while it runs;
 * the thread ends instead of going on when its run was given up (before the call,
 * or when the call returns). */
AMZ__EXT int amz__watch_call(const amz_task_t *t, uint64_t b, uint64_t e, amz__watch_slot_t *slot);

/* One kernel call, watched when the sink (may be NULL) carries a slot. */
static inline int amz__kernel_call(const amz_task_t *t, uint64_t b, uint64_t e,
                                   amz__sink_t *sink) {
  amz__watch_slot_t *slot = sink ? sink->watch : NULL;
  return slot ? amz__watch_call(t, b, e, slot) : t->fn(b, e, t->arg);
}

/* Runs [b, e) through the kernel: the one entry of every execution path. */
static inline int amz__run_items(const amz_task_t *t, int retries, amz__ckpt_t *ck, uint64_t b,
                                 uint64_t e, amz__sink_t *sink) {
  amz__watch_slot_t *slot = sink->watch; /* sink: never NULL here */
  int rc = slot ? amz__watch_call(t, b, e, slot) : t->fn(b, e, t->arg);
  if (rc == 0) {
    if (ck) amz__ckpt_log(ck, b, e);
    return 0;
  }
  return amz__run_failed(t, retries, ck, b, e, rc, sink);
}

#endif /* AMORSIZE_RETRY_H */
