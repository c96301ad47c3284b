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
  /* Workers busy at once on the fullest node, at most its cores (MPI); 0: the
   * workers share one machine. Contention grows with the workers of one node. */
  int node_workers;
} amz__machine_t;

/* Predicts the terms of running items [0, n) of wl with the candidate. remaining is
 * the fraction of each range still to execute (1 - sampled fraction on a first run).
 * first_run adds growing the pool. Returns 0 or AMZ_ENOMEM. */
int amz__model_predict(const amz__workload_t *wl, const amz__machine_t *m,
                       int workers, amz_schedule_t sched, uint64_t chunk,
                       double remaining, int pool_threads, amz_terms_t *out);
/* As amz__model_predict, with static blocks taken from each other only inside
 * groups of `group` consecutive workers (an MPI rank's threads; 1: fixed blocks).
 * amz__model_predict is group = workers. */
int amz__model_predict_grouped(const amz__workload_t *wl, const amz__machine_t *m,
                               int workers, int group, amz_schedule_t sched, uint64_t chunk,
                               double remaining, int pool_threads, amz_terms_t *out);
/* A prediction's interval and what it is made of. Nominally 90%: the measured time
 * falls inside it unless the run meets what neither the sample nor the earlier runs
 * showed (an item unlike any sampled, a machine that changed). */
typedef struct amz__interval {
  double lo_s, hi_s;
  double sampling;  /* relative half-width from the sampled cost level's error */
  double noise;     /* relative half-width: run-to-run variation (floor, or this
                       plan's own recent misses) */
  double load;      /* relative width above: other processes on the cores */
  double tail_s;    /* seconds added above: the longest item seen, coming last */
  const char *widest; /* the largest part, in words */
} amz__interval_t;

/* Run-to-run variation the interval allows at least: reruns of computing kernels
 * on the reference machines fell within 10% of their predictions
 * (docs/PREDICTIONS.md). */
#define AMZ__NOISE_FLOOR 0.10
/* Earlier misses a plan remembers for its interval (its latest reruns): with 8, a
 * ninth run exceeds the largest of them 1 time in 9 when the misses are random. */
#define AMZ__RUN_ERRORS 8

/* The interval of a prediction t of wl's items. slow: the per-item slowdown of the
 * run's workers (amz__model_slowdown). sampled: 1 while the cost level is the
 * sample's (before the first run), 0 once a run measured it. err: the relative
 * errors ((measured - predicted) / predicted) of the plan's latest n_err reruns. */
void amz__model_interval(const amz__workload_t *wl, const amz_terms_t *t, double slow,
                         int sampled, const double *err, int n_err, amz__interval_t *out);
/* The largest share of its time a sampling thread is taken to have waited for a CPU
 * between its blocks (the load model and the interval's load part): beyond it the
 * measure says more about the sampling's own placement than about the machine. */
#define AMZ__LOAD_MAX 0.5
/* Other processes' runnable threads per core, as the sampling met them: its threads
 * waited for a CPU between their blocks a share q of their time (wl->load_share),
 * not counted in the blocks' cost. With the sampled demand d (cores wanted per core,
 * at least 1), fair sharing gives q / (1 - q) x d. 0 for a kernel that waits. */
double amz__model_foreign_load(const amz__workload_t *wl);
/* Slowdown factor of per-item cost with w workers (contention, time-slicing, the
 * other processes' load). */
double amz__model_slowdown(const amz__workload_t *wl, const amz__machine_t *m, int w);
/* Per-chunk dispatch cost of a schedule with w workers. */
double amz__model_chunk_cost(const amz__machine_t *m, amz_schedule_t s, int w);

#endif /* AMORSIZE_COST_MODEL_H */
