/*
 * The internal interface of the planner (planner.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_PLANNER_H
#define AMORSIZE_PLANNER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"
#include "workload.h"
#include "cost_model.h"

typedef struct amz__constraints {
  int workers;             /* 0 = choose */
  int ranks;               /* MPI plans; 0 = choose */
  const char *ranks_from;
  amz_schedule_t schedule; /* AUTO = choose */
  uint64_t chunk;          /* 0 = choose */
  const char *workers_from, *schedule_from, *chunk_from; /* "option", "AMZ_WORKERS" */
  int retries;             /* extra attempts for a failing item (0 = none) */
  const char *retries_from;
  double max_chunk_s;      /* > 0 with a checkpoint: longest chunk the plan may choose */
  /* The watchdog: off when timeout_s is 0 (resolved: a factor alone gets the floor). */
  double timeout_s, timeout_factor;
  int timeout_abort;
  const char *timeout_from;
} amz__constraints_t;

/* (planner.c) 1 when the schedule's largest chunk on `workers` workers in all would
 * take longer than c->max_chunk_s (a kill loses the chunks in flight). Never for a
 * chunk of one item, nor when the user fixed the schedule or the chunk. */
int amz__planner_chunk_too_long(const amz__constraints_t *c, const amz__workload_t *wl,
                                amz_schedule_t s, uint64_t workers, uint64_t chunk);

/* (planner.c) 1 when a search that chooses the schedule need not try `s` for one
 * worker in all: every schedule is then the same loop and static has no dispatch.
 * 0 for static, and for every schedule when static's one block is too long for a
 * checkpoint (then chunked schedules are the only candidates). */
int amz__planner_one_worker_skips(const amz__constraints_t *c, const amz__workload_t *wl,
                                  amz_schedule_t s);

typedef struct amz__decision {
  amz_candidate_t *cands; /* sorted by predicted time */
  size_t n_cands;
  size_t chosen;          /* index in cands */
  int max_workers;        /* largest worker count considered */
  int serial_best;        /* 1 when the plan runs serially because parallel does not pay */
  char why[256];          /* one-line reason for the choice */
} amz__decision_t;

int amz__plan_search(const amz__workload_t *wl, const amz__machine_t *m,
                     const amz__constraints_t *c, int pool_threads,
                     amz__decision_t *d);
void amz__decision_free(amz__decision_t *d);
/* A growing list of candidates without duplicates (same ranks, workers, schedule,
 * chunk). push returns 0 or AMZ_ENOMEM. choose sorts the list and picks: the
 * fastest, then within 2% the fewest workers in all (then ranks) -> *fewer, then
 * within 0.5% static blocks of that size when prefer_static (a run has confirmed the
 * cost profile: a sample alone cannot rule out a costly item in one block), else
 * within 1% the self-scheduled
 * candidate of that size that commits the fewest items at once (of n_items; any
 * count up to 1/64 of a worker's share counts as equally few) -> *best. */
typedef struct amz__cand_list {
  amz_candidate_t *v;
  size_t n, cap;
} amz__cand_list_t;
int amz__cand_list_push(amz__cand_list_t *l, const amz_candidate_t *c);
/* Counts to try: 1 .. min(dense, max), then steps of 1.5x, then max (at most cap). */
int amz__count_list(int dense, int max, int *out, int cap);
void amz__cand_list_choose(amz__cand_list_t *l, uint64_t n_items, int prefer_static,
                           size_t *fewer, size_t *best);
/* Items a candidate commits to one worker at once, of n_items: its largest chunk,
 * or a worker's whole share for the pre-assigned schedules. An item far costlier
 * than the sample showed can only be balanced around by the rest. */
uint64_t amz__cand_exposure(const amz_candidate_t *c, uint64_t n_items);
/* Chunk parameters worth trying for schedule s with W workers (at most max). */
size_t amz__planner_chunk_grid(const amz__workload_t *wl, const amz__machine_t *m,
                               amz_schedule_t s, int W, uint64_t *out, size_t max);
/* Largest worker count worth considering for this workload on this machine. */
int amz__planner_max_workers(const amz__workload_t *wl, const amz__machine_t *m);
/* The choice rule of both planners (planner.c, mpi_planner.c): within PREFER_FEWER of
 * the fastest, the fewest workers (cheaper for the machine, less exposed to noise);
 * static blocks within PREFER_STATIC of the choice (few pieces, each worker on its
 * own block unless it falls behind, which keeps caches and NUMA pages warm across
 * runs). */
#define AMZ__PREFER_FEWER 1.02
#define AMZ__PREFER_STATIC 1.005
/* Among candidates of the chosen size within PREFER_ROBUST of it, the one that
 * commits the fewest items at once (static blocks and cyclic chunks: a worker's
 * whole share), unless static blocks won the preference above: a sample cannot rule out a rare item
 * far costlier than the rest (one item with 40% of the work, 1% of the items with
 * half), and a first chunk of half the loop then holds one worker while the others
 * idle. The model sees no difference within this margin. */
#define AMZ__PREFER_ROBUST 1.01

#endif /* AMORSIZE_PLANNER_H */
