/*
 * The internal interface of the schedules and the distribution of chunks over
 * nodes (schedule.c). Not installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_SCHEDULE_H
#define AMORSIZE_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"

/* The chunk sequence of a schedule, shared by the executor, the sampler-free model
 * and (later) the simulator and MPI distribution: no schedule is implemented twice. */
typedef struct amz__sched {
  amz_schedule_t kind;
  uint64_t n;        /* items in [0, n) */
  int workers;
  uint64_t chunk;    /* CYCLIC/DYNAMIC size; GUIDED/FACTORING/AWF minimum; STATIC 0 */
  uint64_t n_chunks; /* known in advance for all but AWF (0 there) */
  uint64_t *bounds;  /* GUIDED/FACTORING: n_chunks + 1 chunk boundaries */
} amz__sched_t;

int amz__sched_init(amz__sched_t *s, amz_schedule_t kind, uint64_t n, int workers,
                    uint64_t chunk);
void amz__sched_free(amz__sched_t *s);
/* Chunk k (k < n_chunks) of a non-AWF schedule. */
void amz__sched_chunk(const amz__sched_t *s, uint64_t k, uint64_t *begin,
                      uint64_t *end);
/* Pre-assigned schedules: STATIC and CYCLIC give chunk k to worker k % workers. */
static inline int amz__sched_preassigned(amz_schedule_t k) {
  return k == AMZ_SCHED_STATIC || k == AMZ_SCHED_CYCLIC;
}
/* Chunk index that contains item x (x < s->n) of a dynamic-family schedule. */
uint64_t amz__sched_chunk_of(const amz__sched_t *s, uint64_t x);

/* Distribution of one global chunk sequence over nodes in batches (the MPI run in
 * mpi/mpi_run.c and the simulator in simulate.c both use exactly these rules).
 * Every batch but the last has at least n_chunks / AMZ__MAX_BATCHES + 1 chunks. */
#define AMZ__MAX_BATCHES 2048
/* Worst case wait of rank 0's progress thread between two polls. */
#define AMZ__SERVER_POLL_S 200e-6
/* A node's weight from its speed and the sum over the `known` nodes that reported
 * one: mine / mean, clamped to [0.1, 10]; 1 while unknown. */
double amz__node_weight(double mine, double sum, int known);
/* Chunks in the batch that starts at global chunk pos for a node of that weight:
 * half of the remaining items shared among the nodes (weighted factoring, Hummel,
 * Schmidt, Uma & Wein 1996), whole chunks, at least min_batch. 0 = none left. */
uint64_t amz__batch_chunks(const amz__sched_t *s, uint64_t pos, int nodes, double weight,
                           uint64_t min_batch);
/* A run's smallest batch and node `node`'s refill mark (the node asks for its next
 * batch when this few of its chunks are unclaimed), from the mean chunk time and
 * the latency between nodes. Node 0 takes batches synchronously: its mark is 0. */
void amz__dist_params(uint64_t n_chunks, double chunk_s, double lat_net_s, uint64_t node_workers,
                      int node, uint64_t *min_batch, uint64_t *low_water);
/* Deals batches round-robin over the nodes from chunk 0 (weights 1: no speeds are
 * known yet), all of them or only the first round; calls take for each. One node
 * takes the whole sequence as one batch. Returns the next undealt chunk. */
uint64_t amz__deal(const amz__sched_t *s, int nodes, uint64_t min_batch, int first_round_only,
                   void (*take)(void *ctx, int node, uint64_t first, uint64_t n), void *ctx);

/* Simulated item costs (sim_costs.c): their mean per item and their count. */
struct amz_sim_costs;
double amz__sim_mean(const struct amz_sim_costs *c);
/* As amz_sim_costs_create with at most max_blocks noise blocks (cheaper to build;
 * the MPI planner uses 2^16). */
struct amz_sim_workload;
AMZ__EXT int amz__sim_costs_create(const struct amz_sim_workload *w, uint64_t max_blocks,
                          struct amz_sim_costs **out);
uint64_t amz__sim_items(const struct amz_sim_costs *c);

/* AWF chunk for a worker of relative speed weight (mean 1) with remaining items. */
uint64_t amz__sched_awf_size(const amz__sched_t *s, uint64_t remaining,
                             double weight);

/* A binary min-heap of worker finish times, ties by worker id (the cost model's
 * list scheduling and amz__steal_sim take the workers in a deterministic order). */
typedef struct amz__heap {
  double *t;
  int *w;
  int n;
} amz__heap_t;
void amz__heap_down(amz__heap_t *h, int i); /* restores the heap below i */
void amz__heap_up(amz__heap_t *h, int i);   /* restores the heap above i */

/* Static blocks with a way out (the executor, the cost model and the simulator
 * follow these rules, written once here). Each worker owns its balanced block and
 * takes it in pieces from the front, each 1/AMZ__STEAL_PIECES of what is left of it
 * (rounded up): the piece in flight is small when the block runs out. A worker
 * whose range is empty takes the back half (rounded up) of the unclaimed items of
 * the range with the most, and goes on with it as its own, so it can be taken from
 * in turn. Workers at one speed on even costs each run just their own block. A
 * worker alone (one worker, an MPI rank of one thread) runs its block as one
 * piece: nobody could take from it. */
#define AMZ__STEAL_PIECES 8
static inline uint64_t amz__steal_piece(uint64_t left) {
  return left / AMZ__STEAL_PIECES + (left % AMZ__STEAL_PIECES != 0);
}
static inline uint64_t amz__steal_take(uint64_t left) { return left - left / 2; }
/* Pieces an owner takes to run a range of this many items alone. */
uint64_t amz__steal_pieces(uint64_t items);
/* Cost of items [b, e) in seconds at speed 1. */
typedef double (*amz__range_cost_fn)(const void *ctx, uint64_t b, uint64_t e);
/* Simulates static blocks with a way out in time: W workers start at t0[w] (NULL:
 * 0) with their blocks [begin[w], end[w]); a piece costs h + cost(piece) /
 * speed[w] (speed NULL: 1). Writes each worker's finish time and pieces taken.
 * Deterministic (ties by worker). Blocks that cost the same within one item's
 * cost, at one speed and start, run as their own pieces (nobody takes anything
 * worth counting); above AMZ__STEAL_SIM_MAX workers the result is the fluid limit
 * (the work shared in proportion to speed, all ending together, plus the largest
 * block's pieces): each take scans every range, so the full simulation costs
 * O(W^2) (a second at 32768 workers). Returns 0, AMZ_EINVAL (W < 1) or AMZ_ENOMEM. */
#define AMZ__STEAL_SIM_MAX 64
int amz__steal_sim(int W, const uint64_t *begin, const uint64_t *end, const double *t0,
                   const double *speed, double h, amz__range_cost_fn cost, const void *ctx,
                   double *finish, double *pieces);

#endif /* AMORSIZE_SCHEDULE_H */
