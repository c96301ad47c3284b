/*
 * The internal interface of the cost model (cost_model.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_COST_MODEL_H
#define AMORSIZE_COST_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"
#include "probe.h"
#include "topology.h"
#include "workload.h"

typedef struct amz__machine {
  amz__topology_t topo;
  amz__costs_t costs;
} amz__machine_t;

/* Predicts the terms of running items [0, n) of wl with the candidate. remaining is
 * the fraction of each range still to execute (1 - sampled fraction on a first run).
 * first_run adds growing the pool. Returns 0 or AMZ_ENOMEM. */
int amz__model_predict(const amz__workload_t *wl, const amz__machine_t *m,
                       int workers, amz_schedule_t sched, uint64_t chunk,
                       double remaining, int pool_threads, amz_terms_t *out);
/* Slowdown factor of per-item cost with w workers (contention, time-slicing). */
double amz__model_slowdown(const amz__workload_t *wl, const amz__machine_t *m, int w);
/* Per-chunk dispatch cost of a schedule with w workers. */
double amz__model_chunk_cost(const amz__machine_t *m, amz_schedule_t s, int w);

#endif /* AMORSIZE_COST_MODEL_H */
