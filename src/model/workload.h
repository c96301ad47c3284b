/*
 * The internal interface of the workload statistics from sampling (sampler.c, workload.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_WORKLOAD_H
#define AMORSIZE_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"
#include "pool.h"
#include "ranges.h"
#include "checkpoint.h"
#include "executor.h"

#define AMZ__PROFILE_BINS 64

/* The sampler's stop reason for a loop too short to sample beyond its calibration
 * blocks (the explanation words its advice on it). */
#define AMZ__STOP_TINY "whole loop under 2 ms: calibration blocks only"
#define AMZ__STOP_LINGERED "error target reached, went on while other ranks finished"
#define AMZ__STOP_LINGERED_LIMIT \
  "sampled fraction limit reached, went on while other ranks finished"

typedef struct amz__workload {
  uint64_t n_items;
  uint64_t sampled_items;
  size_t sampled_blocks;
  uint64_t block_items;   /* items per sample block */
  double mean_s;          /* per item: the blocks' total time over their items (ratio
                             estimator, alone-equivalent) */
  double median_s, mad_s; /* per item */
  double trimmed_mean_s;  /* per item, 10% trimmed each side: the typical item */
  double cv;              /* sd / mean of per-item block costs */
  double sigma_item_s;    /* random (trend-free) sd of one item's cost */
  double max_item_s;      /* largest per-item cost seen */
  double trend;           /* relative cost change from index 0 to N (slope * N / mean) */
  double cpu_ratio;       /* CPU time / time inside the kernel not spent waiting for a
                             CPU: below 1 it waits (I/O, sleep); above 1 it runs threads
                             of its own (cores per call) */
  double runq_share;      /* of the kernel's wall time (its blocks and the waits between
                             them), the share it was runnable but waited for a CPU (a
                             loaded machine); 0 = none or unknown */
  double load_share;      /* of that, the part between blocks (not in the blocks' measured
                             cost); 0 for a waiting kernel */
  double contention;      /* per-item time with all workers busy / alone; >= 1 */
  double contention_raw;  /* the measured ratio (geometric mean of the pairs) before
                             clamping at 1 */
  int contention_workers; /* workers busy when contention was measured: the process's,
                             or under MPI those of a node's sampling ranks together */
  int sample_workers;     /* threads used by the concurrent sampling rounds */
  int sample_cores;       /* cores those threads could use (all ranks' under MPI); 0 =
                             unknown (taken as one per sampling thread) */
  double rel_error;       /* relative standard error of mean_s at stop */
  int shape_runs;         /* runs whose chunk times reshaped the cost profile; 0 = the
                             profile is the sample's (static blocks are not preferred) */
  double sample_wall_s;
  double sample_work_s;   /* sum of kernel wall time of sampled blocks */
  const char *stop_reason;
  /* Cost profile: per-item cost density in AMZ__PROFILE_BINS equal index bins and
   * its cumulative sum, so the cost of any range is O(1). */
  int bins;
  double density[AMZ__PROFILE_BINS];
  double cumulative[AMZ__PROFILE_BINS + 1];
} amz__workload_t;

/* Builds the profile, cumulative sums and derived stats from per-block samples. */
typedef struct amz__sample {
  uint64_t begin, end;
  double wall_s, cpu_s; /* cpu_s: the calling thread's */
  int concurrent; /* 1 when run while all workers were busy */
  /* Blocks that ran alone: CPU time the process's other threads used meanwhile (the
   * kernel's own threads: OpenMP, BLAS); 0 for concurrent blocks. */
  double own_cpu_s;
  /* Of wall_s, the time the calling thread was runnable but waited for a CPU (other
   * threads or processes on its core): neither the kernel's work nor its waiting. */
  double runq_s;
  /* Outside wall_s: the thread's wait for a CPU between its blocks, attributed to
   * this block by wall time. A short block is seldom preempted inside; a loaded
   * core shows here, as the time the thread could not run at all. */
  double queued_s;
  /* 1 when the block ran with the workers busy at which the contention was
   * measured (the process's, or with the MPI layer's node gate the node's): its
   * times are divided by the contention, to the alone-equivalent. */
  int contended;
} amz__sample_t;

/* CPU/wall of a kernel from its CPU, wall and run-queue seconds: CPU over the time
 * it could run when that shows a computing kernel that only looked as if it waited
 * (a loaded machine), else CPU/wall. The one rule for the sampler and the model. */
double amz__cpu_ratio(double cpu, double wall, double runq);
void amz__workload_from_samples(amz__workload_t *wl, uint64_t n_items,
                                const amz__sample_t *s, size_t n);
/* A workload whose cost profile is `bins` per-item costs over equal index bins of
 * [0, n_items) (a profile file's model/cost_profile); its other figures are 0.
 * Returns 0, or AMZ_EINVAL when bins is 0 or above AMZ__PROFILE_BINS. */
int amz__workload_from_density(amz__workload_t *wl, uint64_t n_items, size_t bins,
                               const double *density);
/* Expected cost (seconds) of items [b, e) from the profile. */
double amz__workload_range_cost(const amz__workload_t *wl, uint64_t b, uint64_t e);
/* Scales the cost level by f (a run measured f times the predicted kernel time):
 * profile, mean, median, spread and the costliest item; the shape stays. */
void amz__workload_rescale(amz__workload_t *wl, double f);
/* Fits the model to measured ranges (begin, end, wall_s of each; disjoint): their
 * total rescales the cost level, and when one range of at least 2% of the work
 * departs from that level by more than min_dev (relative), each profile bin takes
 * the measured factor of the ranges over it (the level where none does). Returns
 * that largest departure (0 when nothing was measured). */
double amz__workload_fit_ranges(amz__workload_t *wl, const amz__sample_t *r, size_t n,
                                double min_dev);

/* The MPI layer's node gate: the sampling ranks of one node take turns so that a
 * rank's contention blocks run alone on the node, then run their busy halves
 * together, every worker of the node at once, as the run will have them. */
typedef struct amz__node_gate {
  /* Returns once this rank's turn has come: the node's other ranks wait. */
  int (*turn)(void *ctx);
  /* Ends this rank's turn and returns once every rank of the node has had its own:
   * they all go on together. Callable again (it then does nothing), and after an
   * error without turn(): the MPI layer calls it after the sampler on every path. */
  int (*all)(void *ctx);
  void *ctx;
  int ranks;        /* sampling ranks of the node, this one included (>= 2) */
  int node_workers; /* their sampling threads together */
} amz__node_gate_t;

/* The contention pairs' log ratios a sampler reports (at most this many), for the
 * MPI layer to pool over the ranks. */
#define AMZ__PAIR_LOG_MAX 32

typedef struct amz__sampler_params {
  const amz_task_t *task;
  int workers;
  double max_seconds;
  double rel_error;
  const amz__clock_t *clock;
  amz__pool_t *pool;
  const amz_hooks_t *hooks;
  void *hooks_user;
  /* Optional: receives the per-block samples as the statistics saw them (concurrent
   * blocks scaled to alone-equivalent), malloc'ed, for the MPI layer to merge. */
  amz__sample_t **samples_out;
  size_t *n_samples_out;
  int retries;                   /* failure isolation (retry.c) */
  amz__ckpt_t *ckpt;             /* completed blocks are logged here; may be NULL */
  const amz__rangeset_t *exclude; /* sorted, normalized: items not to sample */
  uint64_t *retry_calls, *recovered; /* optional counters, added to */
  const amz__watch_t *watch;     /* the watchdog; NULL = off */
  int kernel_wrapped;            /* 1: task->fn is a library wrapper that publishes the
                                  * user's calls itself (amz__watch_enter) */
  /* Optional: asked, from the calling thread, each time the error target is reached;
   * while it returns nonzero the sampler goes on in short rounds (at most the time
   * budget and the sampled fraction), so that a rank that finished early keeps its
   * cores at work while slower ranks finish theirs. */
  int (*linger)(void *ctx);
  void *linger_ctx;
  /* Optional (MPI, two or more sampling ranks on the node): measure contention over
   * the node's workers (amz__node_gate_t); its calls come from worker 0. */
  const amz__node_gate_t *gate;
  /* Optional: receives up to AMZ__PAIR_LOG_MAX of the pairs' log ratios. */
  double *pair_log_out;
  size_t *n_pair_log_out;
  /* Optional: the library's threads that run beside the kernel without being its
   * own (the MPI layer's progress thread serving map mode's data on rank 0). Like
   * the pool's helpers, their CPU time is left out of what a block run alone reads
   * as the kernel's own threads; the wait for a CPU they explain is neither the
   * blocks' cost nor other processes' load. */
  const pthread_t *aux_threads;
  int n_aux_threads;
} amz__sampler_params_t;

/* The slowdown of items when all workers run, from the log ratios (concurrent over
 * solo per-item time) of k pairs of adjacent blocks: exp(mean) when the mean stands
 * beyond Student's t 99.9% two-sided quantile of its standard error, else 1 (also
 * for k < 3). May be below 1 (the caller keeps that for the report only). */
AMZ__EXT double amz__contention_from_pairs(const double *log_ratio, size_t k);

/* Samples the kernel. done receives the executed ranges (sorted), failed the failed
 * ones with codes, records the blocks as chunks for the first run's result. */
AMZ__EXT int amz__sample(const amz__sampler_params_t *p, amz__workload_t *wl,
                amz__rangeset_t *done, amz__rangeset_t *failed,
                amz__chunk_rec_t **recs, size_t *n_recs, int **rec_workers);

#endif /* AMORSIZE_WORKLOAD_H */
