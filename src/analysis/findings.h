/*
 * The bottleneck analysis (findings.c): one set of rules, thresholds and advice that
 * turns the facts of a run into findings. A run's result (amz_result_explain(),
 * amz_result_finding()) and a profile (amz_profile_finding(), `amorsize report`,
 * `amorsize html`) each gather their facts and call amz__findings_judge(); nothing
 * else rates a run. src/python/amorsize/findings.py mirrors the rules for the Python
 * reader, and tests/python/test_summary.py checks that both print the same.
 */
#ifndef AMORSIZE_FINDINGS_H
#define AMORSIZE_FINDINGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "amorsize_profile.h"
#include "common.h"

/* Below this CPU/wall ratio a kernel "mostly waits": it is sampled and planned with
 * more threads than cores. Memory-bound kernels stall on the CPU and stay near 1. */
#define AMZ__WAITING_CPU_RATIO 0.5
/* A kernel call that keeps more than this share of a core busy on other threads of
 * the process, beyond its own, runs threads of its own (OpenMP, BLAS). */
#define AMZ__OWN_THREADS_MIN_CORES 0.25
/* What fixes a launcher's binding that leaves CPUs of a node to no rank, as the MPI
 * plan's explanation (mpi/mpi_explain.c) and the binding finding say it. */
#define AMZ__BINDING_FIX                                                              \
  "Bind each rank to more cores, or not at all: Open MPI mpirun --bind-to none (or " \
  "--map-by slot:PE=N), MPICH mpiexec -bind-to none (or -bind-to core:N), Slurm srun -c N."

/* One executed chunk, as the slow-worker rule reads it. */
typedef struct amz__chunk_obs {
  int worker;
  uint64_t begin, end;
  double seconds;
} amz__chunk_obs_t;

/* The slowest worker of a run, and what it cost. */
typedef struct amz__slow {
  int worker;        /* -1: none stands out (or too few chunks to tell) */
  double speed;      /* its speed over the other workers' median speed (< 1) */
  double expected;   /* its speed over the one the cost profile expected (1: as
                      * sampled and as earlier runs went) */
  double lost_share; /* of the run's time, what the slower workers cost it */
} amz__slow_t;

/* Whether a run's blocks stay where they were dealt: cyclic chunks; static blocks
 * across ranks (inside a rank the threads take from each other's blocks). */
static inline int amz__blocks_fixed(amz_schedule_t s, int ranks) {
  return s == AMZ_SCHED_CYCLIC || (s == AMZ_SCHED_STATIC && ranks > 1);
}

struct amz__workload;

/* A worker's speed is the median, over its chunks, of log(the chunk's cost in the
 * cost profile (amz__workload_range_cost) / its measured time): the item costs
 * cancel, what remains is how fast the worker ran them. The slowest worker of those
 * with at least 16 chunks stands out when its median lies below the other workers'
 * median by more than 4 standard errors of its own (1.858 x MAD / sqrt(chunks)) and
 * by more than 0.05 (5% slower); its median alone, exp(median), is its speed over
 * the cost profile's. The run lost 1 - the slowest's speed (fixed blocks,
 * amz__blocks_fixed: its block sets the end), else 1 - the mean of min(1, speed)
 * over the workers (the others took over its share). Chunk i of nc comes
 * from get (which returns 0 to skip one); at most M = 4096 + 64 x workers chunks
 * are read, every ceil(nc / M)-th: bounded time and memory.
 * src/python/amorsize/findings.py mirrors it. */
typedef int (*amz__chunk_get_fn)(const void *ctx, size_t i, amz__chunk_obs_t *out);
int amz__slowest_worker(const struct amz__workload *wl, amz__chunk_get_fn get,
                        const void *ctx, size_t nc, int workers, int fixed,
                        amz__slow_t *out);

/* The figures the rules judge. Zero means "not known" unless said otherwise; a
 * result and a profile fill what they have. */
typedef struct amz__facts {
  double wall_s;
  /* Measured terms, means over the workers (they add up to the wall time). */
  double startup_s, dispatch_s, imbalance_s, data_s, serial_s;
  double predicted_s;         /* the run's predicted total; 0 = none */
  /* The term that missed the prediction most, and by how much (seconds). */
  const char *worst_term;
  double worst_gap_s;
  int fixed_schedule;         /* amz__blocks_fixed: no balancing during the run */
  int workers;                /* workers of the run over all ranks */
  uint64_t chunk;             /* the plan's (minimum) chunk */
  uint64_t run_chunks;        /* chunks of the run (sampling excluded) */
  double dispatch_total_s;    /* dispatch time summed over the workers */
  double busy_total_s;        /* kernel time summed over the workers */
  uint64_t run_items;         /* items of the run (sampling excluded) */
  uint64_t items_failed;
  size_t failed_ranges;
  const char *failures_path;  /* the profile to quote for the failures; NULL = none */
  int ranks_ended;            /* ranks that ran chunks (2+ for the ranks rule) */
  double rank_end_mean_s, rank_end_last_s;
  double mean_item_s;         /* sampled cost of an item alone */
  double contention;          /* sampled slowdown with all workers busy (1 = none) */
  double serial_pred_s;       /* the whole loop on one worker, predicted */
  double cpu_ratio;           /* CPU/wall of the kernel; 0 = not measured */
  uint64_t chunks_dropped;    /* chunks beyond the record bound */
  int mpi;                    /* an MPI run (the binding advice differs) */
  /* Nodes, for the oversubscription and binding rules (profiles only). */
  const amz_profile_node_t *nodes;
  size_t n_nodes;
  int threads;                /* threads per rank */
  amz__slow_t slow;           /* the slowest worker (worker -1: none or not known) */
} amz__facts_t;

/* A run's findings: n entries whose texts the list owns. */
typedef struct amz__findings {
  amz_finding_t *v;
  size_t n, cap;
} amz__findings_t;

/* The profile component (libamorsize_profile) judges profiles with these: they are
 * exported, without ABI promise, like internal.h's. */

/* Judges the facts into *out (emptied first). Returns 0 or AMZ_ENOMEM (then *out
 * holds what was judged before). */
int amz__findings_judge(const amz__facts_t *f, amz__findings_t *out);
void amz__findings_free(amz__findings_t *l);

/* Prints "Bottlenecks" and one "  [SEVERITY] text" line per finding, or the "none"
 * line when no finding is above its threshold (INFO ones do not count). */
void amz__findings_print(FILE *o, const amz__findings_t *l);

/* The accessor behind amz_result_finding() and amz_profile_finding(): copies entry i
 * or fails with AMZ_EINVAL/AMZ_ERANGE naming `who`. */
int amz__findings_get(const amz__findings_t *l, size_t i, amz_finding_t *out, const char *who);

#endif /* AMORSIZE_FINDINGS_H */
