/*
 * Internal declarations of the MPI layer (libamorsize_mpi). Built on the core's
 * extension interface (src/run/extension.h) and nothing else of the core; nothing
 * here is installed.
 */
#ifndef AMORSIZE_MPI_INTERNAL_H
#define AMORSIZE_MPI_INTERNAL_H

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>

#include "amorsize_mpi.h"
#include "extension.h"

/* The MPI layer's internal functions are exported for the project's own white-box
 * tests and benchmarks (test_mpi, bench_profile), without ABI promise. */
#pragma GCC visibility push(default)

/* Message tags on the library's own duplicated communicators. */
enum {
  AMZ__TAG_REFILL = 0x4a10, /* node -> rank 0: a batch of chunks, please */
  AMZ__TAG_BATCH,           /* rank 0 -> node: {first chunk, count}; count 0 = no more */
  AMZ__TAG_DATA_REQ,        /* rank r -> rank 0: inputs of [b, e), reply tag */
  AMZ__TAG_DATA_OUT,        /* rank r -> rank 0: {k, body tag, b1, e1, ...}; the outputs
                               follow with the body tag, received in place */
  AMZ__TAG_DONE,            /* rank r -> rank 0: no more data requests this phase */
  AMZ__TAG_PING,
  AMZ__TAG_TOTALS,          /* run's rank 0 -> an excluded rank: the run's totals */
  AMZ__TAG_DATA_IN = 0x5000,  /* + thread slot: rank 0 -> rank r, inputs */
  AMZ__TAG_DATA_BODY0 = 0x6000 /* + thread slot: rank r -> rank 0, outputs (the thread's
                                  own tag: threads of a rank must not interleave) */
};

/* ---- comm and topology (mpi_topology.c) ---------------------------------- */

typedef struct amz__rankinfo {
  int node;          /* node index, nodes numbered by their lowest rank */
  int node_rank;     /* rank within its node */
  int usable_cores;  /* cores this rank's binding and quota allow */
  int machine_pus;   /* processing units of the whole node (hwloc) */
  uint64_t cpumask[AMZ__CPUMASK_BITS / 64];
  char host[64];
} amz__rankinfo_t;

typedef struct amz__nodeinfo {
  int ranks;         /* launched ranks on the node */
  int cores;         /* distinct cores the node's ranks may use together */
  int shared;        /* 1 when the ranks' bindings overlap (they share cores) */
  int pus;           /* processing units of the node */
  int pus_bound;     /* of them, in at least one rank's binding */
  int first_rank;    /* lowest launched rank on the node */
  char host[64];
} amz__nodeinfo_t;

/* Measured communication costs, one-way, in seconds and bytes per second. */
typedef struct amz__net {
  double lat_shm_s, bw_shm;   /* between ranks of one node; 0 = not measured */
  double lat_net_s, bw_net;   /* between node leaders; 0 = one node */
  double atomic_s;            /* node-shared counter, all of a node's ranks at once */
  int from_cache;
  char cache_path[512];
} amz__net_t;

/* Per-run shared structure of a node, in an MPI_Win_allocate_shared window owned
 * by the node's first running rank. C11 atomics on it are address-free (lock-free
 * 64-bit types on the platforms MPI runs on), so processes share them directly:
 * no MPI call on the hot path. */
typedef struct amz__batch {
  uint64_t local_start; /* first local position of the batch */
  uint64_t first;       /* first global chunk index */
  uint64_t n;           /* chunks */
} amz__batch_t;

typedef struct amz__node_shm {
  _Alignas(64) _Atomic uint64_t claim;     /* local positions handed out */
  _Alignas(64) _Atomic uint64_t published; /* local positions that map to chunks */
  _Atomic uint64_t nbatches;
  _Atomic int final;                       /* no batch will be added */
  _Atomic int refill;                      /* a refill is in flight */
  _Alignas(64) _Atomic uint64_t global_next; /* node 0: next global chunk */
  /* Node speed, for weighted batches: the expected cost of the chunks done (the
   * sampled cost profile, ns) over the time they took (ns). */
  _Alignas(64) _Atomic uint64_t work_ns;
  _Atomic uint64_t busy_ns;
  _Atomic uint64_t refills;                  /* batches this node obtained */
  _Atomic uint64_t wait_ns;                  /* time workers waited for a batch */
  uint64_t cap;                              /* batch table entries */
  /* node 0 only: nodes' last reported speeds (expected seconds of work per second,
   * as double bits) */
  _Alignas(64) _Atomic uint64_t rate_bits[];
} amz__node_shm_t;

/* The MPI part of a plan (plan->ext). */
typedef struct amz__mpi {
  MPI_Comm comm; /* duplicate of the user's communicator: all launched ranks */
  int rank, size, thread_level;
  int nodes;
  amz__rankinfo_t *ri;   /* size entries */
  amz__nodeinfo_t *ni;   /* nodes entries */
  int *order;            /* launched ranks, node by node: the plan uses a prefix */
  amz__net_t net;
  /* map mode */
  int map;
  amz_map_task_t mt;
  _Atomic uint64_t map_pieces, map_bytes, map_moved_ns; /* this rank's data path */
  double piece_s;        /* measured per-piece exchange cost beyond the bytes; 0 = none */
  /* sampling */
  int sample_ranks;      /* ranks that sampled */
  int sample_threads;    /* threads per sampling rank */
  double sample_rel_error;
  char stop_reason[128];     /* why sampling stopped, for the explanation */
  uint64_t local_sampled;    /* items this rank sampled */
  uint64_t local_sampled_failed;
  MPI_Comm data_comm;        /* map mode: the comm of the current phase */
  amz__rangeset_t local_sampled_ranges;
  /* decision */
  int ranks;             /* used */
  int threads;           /* per used rank */
  int used;              /* this rank runs */
  char why[512];         /* ranks decision, for explain and excluded results */
  /* The run totals the run's first rank sent to each excluded rank (there) and this
   * excluded rank received; a rank that skipped amz_mpi_run receives the rest when
   * the plan is destroyed, so no message outlives the plan's communicator. */
  uint64_t totals_sent, totals_got;
  int totals_armed;      /* 1 once the plan was made on every rank */
  int ranks_best_all;    /* best candidate index using all ranks, or -1 */
  uint64_t fingerprint;  /* of the decision; equal on every rank (checked) */
  /* run communicators and node window (used ranks only) */
  MPI_Comm run, run_node;
  int run_rank, run_size, run_nodes, run_node_id, run_node_rank, run_node_size;
  int *run_node_of;      /* run rank -> run node */
  int *run_node_threads; /* run node -> threads on it */
  MPI_Win win;
  amz__node_shm_t *shm;  /* this node's */
  amz__batch_t *batches; /* this node's batch table (in the window) */
  uint64_t batch_cap;
  uint64_t min_batch;    /* chunks */
  uint64_t low_water;    /* refill when this few chunks are left on the node */
  int cross_node;        /* 1: refills over messages (MULTIPLE); 0: dealt ahead */
} amz__mpi_t;

/* Returns AMZ_EMPI with the MPI error string when rc is not MPI_SUCCESS. */
int amz__mpi_check(int rc, const char *what);
/* Waits for a request without spinning a core (Open MPI's blocking calls poll):
 * tests, then sleeps with a growing pause up to 200 us. */
int amz__mpi_wait_polite(MPI_Request *req, MPI_Status *st);
/* The same for a wait that may last a whole run: the pause grows to 1% of the time
 * waited so far (at least 200 us, at most 10 ms), so a long wait wakes less often
 * and ends at most about 1% late. */
int amz__mpi_wait_long(MPI_Request *req, MPI_Status *st);
/* Collective over m->comm, at plan destruction: an excluded rank receives the run
 * totals of the runs it skipped. A message left unreceived would outlive the
 * communicator, and Open MPI, which reuses communicator ids, may match it in a later
 * one. Nothing to do for a plan without excluded ranks, or not made everywhere. */
void amz__mpi_drain_totals(amz__mpi_t *m);
/* Agree on a status: the most severe (lowest) code of all ranks of comm. */
int amz__mpi_agree(MPI_Comm comm, int rc);
/* 0 when comm can carry the library's collectives; AMZ_EINVAL naming fn for
 * MPI_COMM_NULL or an intercommunicator (whose collectives join two groups and
 * would hang). Local: every rank of such a communicator sees the same. */
int amz__mpi_intracomm(MPI_Comm comm, const char *fn);
/* Replaces *s (malloc'ed or NULL) on every rank by rank 0's copy. Collective; every
 * rank returns the same status. `what` names the string in errors. */
int amz__mpi_bcast_str(MPI_Comm comm, int rank, char **s, const char *what);

/* Groups ranks into nodes, fills ri/ni/order. Collective over m->comm. */
int amz__mpi_topology(amz__mpi_t *m, const amz__topology_t *topo);
/* Threads a rank may run when `used` ranks of node n run: its share of the cores. */
int amz__mpi_threads_cap(const amz__mpi_t *m, int node, int used);
/* Measures (or reads cached) latency, bandwidth and the shared counter's cost.
 * Collective over m->comm. */
int amz__mpi_net_probe(amz__mpi_t *m, const char *cache_dir);

/* ---- planning (mpi_planner.c) -------------------------------------------- */

typedef struct amz__mpi_model {
  const amz__workload_t *wl;
  const amz__machine_t *machine; /* rank 0's thread costs */
  const amz__mpi_t *m;
  double bytes_per_item;         /* map mode: in + out */
  int simulate;                  /* 1: candidates at scale are predicted by the simulator */
} amz__mpi_model_t;

/* Predicts a candidate (ranks R, threads T, schedule, chunk): the core model over
 * the R*T workers with the cores those ranks really have, plus the terms of the
 * distribution (collectives, refills, data). With mm->simulate, a candidate over
 * several nodes or at least AMZ__SIM_MIN_WORKERS workers (not map mode) is run
 * through the simulator (simulate.c) and its imbalance term absorbs the difference:
 * the total is the simulated makespan. */
#define AMZ__SIM_MIN_WORKERS 64
int amz__mpi_predict(const amz__mpi_model_t *mm, int R, int T, amz_schedule_t s,
                     uint64_t chunk, double remaining, amz_terms_t *out);
/* Searches ranks x threads x schedule x chunk; d->cands carry ranks. */
int amz__mpi_search(const amz__mpi_model_t *mm, const amz__constraints_t *c,
                    amz__decision_t *d, char *why, size_t why_len);

/* ---- running (mpi_run.c) ------------------------------------------------- */

/* Builds the run communicators and the node window for the decision. Collective. */
int amz__mpi_setup_run(amz_plan_t *p);
void amz__mpi_free(void *ext);
int amz__mpi_explain(const amz_plan_t *p, FILE *o);

/* ---- profiles (mpi_profile.c) ------------------------------------------------ */

/* At plan creation: every rank takes rank 0's profile path and overwrite setting,
 * and rank 0 checks that the file can be written. Collective over comm. */
int amz__mpi_profile_sync(amz_plan_t *p, MPI_Comm comm, int rank);
/* Writes the run's profile collectively over m->run (every running rank calls it,
 * with the same agreed status): rows of this rank's chunks and threads, the shared
 * tables from run rank 0. dropped = this rank's chunks beyond the record bound.
 * Returns the same status on every rank. */
int amz__mpi_profile(amz_plan_t *p, amz__mpi_t *m, amz_result_t *r, uint64_t dropped);

/* ---- map mode data service (mpi_map.c) ----------------------------------- */

typedef struct amz__map_server amz__map_server_t;
/* Wrapper kernel for map tasks (task.arg = the plan's amz__mpi_t). */
int amz__map_kernel(uint64_t b, uint64_t e, void *arg);
/* The progress thread on rank 0 of comm: serves data requests (map mode) and
 * batch refills (remote nodes) until every other rank of comm said DONE and every
 * remote node got its last batch. batches NULL = data only. */
typedef struct amz__server_params {
  amz__mpi_t *m;
  MPI_Comm comm;
  int peers;            /* ranks that will send DONE */
  int refill_nodes;     /* remote nodes that will ask for batches until told no more */
  const amz__sched_t *sched;
  int run_nodes;
  amz__node_shm_t *node0;  /* node 0's shared structure (the global counter) */
  uint64_t min_batch;
  _Atomic int *stop;       /* set when the run failed: stop without waiting; may be NULL */
} amz__server_params_t;
int amz__server_start(amz__server_params_t *sp, pthread_t *th);
int amz__server_join(pthread_t th);
/* Map mode on ranks other than 0, called by the chunk source: flush sends the
 * outputs of the thread's previous chunk; prefetch flushes, then fetches the inputs
 * of [b, e) so that the kernel's pieces of the chunk need no exchange. */
int amz__map_prefetch(amz__mpi_t *m, uint64_t b, uint64_t e);
int amz__map_flush(amz__mpi_t *m);
/* Sends DONE to rank 0 of comm (map mode, remote ranks). */
int amz__map_done(MPI_Comm comm);

/* (mpi_plan.c) */
int amz__mpi_decide(amz_plan_t *p);
int amz__mpi_repredict(amz_plan_t *p);
int amz__mpi_replan(amz_plan_t *p);
int amz__mpi_is_plan(const amz_plan_t *p);

/* Takes the next batch of global chunks for node `node` from the node-0 counter
 * (weighted factoring over the nodes' measured speeds). Returns the count (0 = no
 * more) and the first chunk in *first. Thread- and process-safe. */
uint64_t amz__take_batch(amz__node_shm_t *node0, const amz__sched_t *s, int nodes, int node,
                         uint64_t min_batch, uint64_t *first);

#pragma GCC visibility pop

#endif /* AMORSIZE_MPI_INTERNAL_H */
