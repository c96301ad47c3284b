/*
 * Internal declarations shared by the core modules. Nothing here is installed.
 * Internal non-static functions are prefixed amz__.
 */
#ifndef AMORSIZE_INTERNAL_H
#define AMORSIZE_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "amorsize.h"
#include "common.h"
#include "findings.h"
#include "probe.h"
#include "topology.h"

/* Internal functions are hidden from users but visible to the project's own MPI
 * library (libamorsize_mpi), which links libamorsize: they appear in its dynamic
 * symbol table with the amz__ prefix and carry no ABI promise. */
#pragma GCC visibility push(default)

/* ---- thread pool (pool.c) ------------------------------------------------ */

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

int amz__pool_init(amz__pool_t *p, int n_helpers);
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
void amz__pool_destroy(amz__pool_t *p);
/* The calling thread's slot while it runs a watched job, outside the user's
 * kernel calls, else NULL (a kernel that runs another plan does not see it). */
amz__watch_slot_t *amz__watch_current(void);
/* Around one call of the user's kernel made by a library wrapper (MPI sampling,
 * map mode), whose own code is then not counted as the kernel's: publishes the
 * call in `s` (from amz__watch_current()), and ends the thread instead of going
 * on when its run was given up (before the call, or when it returns). */
void amz__watch_enter(amz__watch_slot_t *s, uint64_t b, uint64_t e);
void amz__watch_leave(amz__watch_slot_t *s);
/* Parses AMZ_TIMEOUT ("off", or a comma list of SECONDS[s], FACTORx, error, abort)
 * into *seconds, *factor and *abort_job. Returns 0 or -1. */
int amz__timeout_parse(const char *v, double *seconds, double *factor, int *abort_job);
/* Seconds a factor-only timeout waits at least (short calls vary a lot). */
#define AMZ__TIMEOUT_FLOOR_S 10.0
/* The largest seconds or factor accepted (about 31 years). */
#define AMZ__TIMEOUT_MAX_S 1e9

/* (probe.c) Median per-chunk critical-path cost of `kind` with 1-item chunks and an empty
 * kernel over n items, minus `fixed` seconds of fork-join. */
double amz__probe_chunk_cost(amz__pool_t *pool, amz_schedule_t kind, int workers, uint64_t n,
                             double fixed);

/* ---- schedules (schedule.c) ---------------------------------------------- */

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
int amz__sim_costs_create(const struct amz_sim_workload *w, uint64_t max_blocks,
                          struct amz_sim_costs **out);
uint64_t amz__sim_items(const struct amz_sim_costs *c);

/* AWF chunk for a worker of relative speed weight (mean 1) with remaining items. */
uint64_t amz__sched_awf_size(const amz__sched_t *s, uint64_t remaining,
                             double weight);

/* ---- sorted disjoint item ranges (ranges.c) ------------------------------ */

typedef struct amz__range {
  uint64_t begin, end;
  int code; /* failure code; 0 for plain ranges */
} amz__range_t;

typedef struct amz__rangeset {
  amz__range_t *v;
  size_t n, cap;
} amz__rangeset_t;

int amz__rangeset_add(amz__rangeset_t *s, uint64_t begin, uint64_t end, int code);
void amz__rangeset_sort(amz__rangeset_t *s);
/* Index of the first range with end > x in a sorted set (n if none). */
size_t amz__rangeset_lower(const amz__rangeset_t *s, uint64_t x);
uint64_t amz__rangeset_items(const amz__rangeset_t *s);
/* 1 when [begin, end) overlaps a range of the sorted set. */
int amz__rangeset_overlaps(const amz__rangeset_t *s, uint64_t begin, uint64_t end);
void amz__rangeset_free(amz__rangeset_t *s);
/* Sorts and merges overlapping or adjacent ranges (codes are dropped: for sets of
 * completed items). */
void amz__rangeset_normalize(amz__rangeset_t *s);
/* out = a ∪ b, normalized. Returns 0 or AMZ_ENOMEM. */
int amz__rangeset_union(const amz__rangeset_t *a, const amz__rangeset_t *b, amz__rangeset_t *out);

/* ---- checkpoint log (checkpoint.c) --------------------------------------- */

#define AMZ__CKPT_VERSION 1
#define AMZ__CKPT_HEADER 4096
#define AMZ__CKPT_EXTENT 65536
#define AMZ__CKPT_RECORD 32
#define AMZ__CKPT_NAME_MAX 255
#define AMZ__CKPT_SYNC_S 1.0 /* least seconds between two fdatasync() */
#define AMZ__CKPT_CHUNK_S 1.0 /* with a checkpoint, no chunk planned longer than this */

typedef struct amz__ckpt_info {
  uint64_t n_items;      /* from the header */
  char task[3 * AMZ__CKPT_NAME_MAX + 8]; /* escaped, from the header */
  uint64_t records;      /* valid records */
  uint64_t damaged;      /* torn or overwritten slots, skipped */
  uint64_t completed;    /* items covered by the valid records */
  int created;           /* 1 when this open created the file */
} amz__ckpt_info_t;

typedef struct amz__ckpt {
  int fd;
  char *path;
  uint32_t writer, writers; /* this process's index and the processes writing */
  uint64_t base;            /* first extent of this session */
  _Alignas(64) _Atomic uint64_t slots; /* records claimed by this process */
  _Atomic int64_t next_sync_ns;
  atomic_flag syncing;
  _Atomic int err;          /* errno of the first failed write or sync */
  double interval_s;
  double write_cost_s;      /* measured per record at open (lead) */
} amz__ckpt_t;

/* Opens (lead: creates, locks, validates and reads) the checkpoint. lead fills done
 * with the completed ranges (normalized) and info; a non-lead process only opens
 * the file and gets its place from amz__ckpt_set_writer(). Errors: AMZ_EIO,
 * AMZ_EFORMAT (not a checkpoint or corrupt), AMZ_EMISMATCH (another task or N),
 * AMZ_EBUSY (locked by another process), AMZ_ENOMEM. Close with amz__ckpt_close()
 * also after a failure. */
int amz__ckpt_open(amz__ckpt_t *ck, const char *path, const char *task, uint64_t n, int lead,
                   amz__rangeset_t *done, amz__ckpt_info_t *info);
void amz__ckpt_set_writer(amz__ckpt_t *ck, int writer, int writers, uint64_t base);
/* Records [b, e) as completed: one pwrite(), and an fdatasync() when the interval
 * has passed. Thread-safe. A write error stops logging; amz__ckpt_flush reports it. */
void amz__ckpt_log(amz__ckpt_t *ck, uint64_t b, uint64_t e);
/* fdatasync(); AMZ_EIO when this or any earlier write failed. */
int amz__ckpt_flush(amz__ckpt_t *ck);
void amz__ckpt_close(amz__ckpt_t *ck);
/* Reads a checkpoint without opening it for writing (tools, tests). */
int amz__ckpt_read(const char *path, amz__rangeset_t *done, amz__ckpt_info_t *info);
/* The parser's parts, for the fuzz target: the 4096-byte header, and a block of
 * records found at byte offset `offset` of the file. */
int amz__ckpt_parse_header(const unsigned char *buf, size_t len, amz__ckpt_info_t *info);
int amz__ckpt_parse_records(const unsigned char *buf, size_t len, uint64_t offset,
                            uint64_t n_items, amz__rangeset_t *done, amz__ckpt_info_t *info);

/* ---- failure isolation (retry.c) ----------------------------------------- */

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
int amz__run_failed(const amz_task_t *t, int retries, amz__ckpt_t *ck, uint64_t b, uint64_t e,
                    int rc, amz__sink_t *sink);

/* One kernel call on a watched worker (pool.c): published in `slot` while it runs;
 * the thread ends instead of going on when its run was given up (before the call,
 * or when the call returns). */
int amz__watch_call(const amz_task_t *t, uint64_t b, uint64_t e, amz__watch_slot_t *slot);

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

/* ---- executor (executor.c) ----------------------------------------------- */

typedef struct amz__chunk_rec {
  uint64_t begin, end;
  double t_start, t_end; /* seconds since run start */
  int status;
} amz__chunk_rec_t;

typedef struct amz__worker_rec {
  amz__chunk_rec_t *chunks;
  size_t n_chunks, cap;
  uint64_t items, failures;
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

int amz__execute(const amz__exec_params_t *p, amz__exec_out_t *out);
void amz__exec_out_free(amz__exec_out_t *o);

/* ---- workload statistics from sampling (sampler.c) ----------------------- */

#define AMZ__PROFILE_BINS 64

typedef struct amz__workload {
  uint64_t n_items;
  uint64_t sampled_items;
  size_t sampled_blocks;
  uint64_t block_items;   /* items per sample block */
  double mean_s;          /* per item, trimmed mean over blocks */
  double median_s, mad_s; /* per item */
  double trimmed_mean_s;  /* per item, 10% trimmed each side: the typical item */
  double cv;              /* sd / mean of per-item block costs */
  double sigma_item_s;    /* random (trend-free) sd of one item's cost */
  double max_item_s;      /* largest per-item cost seen */
  double trend;           /* relative cost change from index 0 to N (slope * N / mean) */
  double cpu_ratio;       /* CPU time / wall time inside the kernel: below 1 it waits;
                             above 1 it runs threads of its own (cores per call) */
  double contention;      /* per-item time with all workers busy / alone; >= 1 */
  double contention_raw;  /* the measured median ratio before clamping at 1 */
  int contention_workers; /* workers busy when contention was measured */
  int sample_workers;     /* threads used by the concurrent sampling rounds */
  double rel_error;       /* relative standard error of mean_s at stop */
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
} amz__sample_t;

void amz__workload_from_samples(amz__workload_t *wl, uint64_t n_items,
                                const amz__sample_t *s, size_t n);
/* Expected cost (seconds) of items [b, e) from the profile. */
double amz__workload_range_cost(const amz__workload_t *wl, uint64_t b, uint64_t e);
/* Scales the cost level by f (a run measured f times the predicted kernel time):
 * profile, mean, median, spread and the costliest item; the shape stays. */
void amz__workload_rescale(amz__workload_t *wl, double f);

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
} amz__sampler_params_t;

/* The slowdown of items when all workers run, from the log ratios (concurrent over
 * solo per-item time) of k pairs of adjacent blocks: exp(mean) when the mean stands
 * beyond Student's t 99.9% two-sided quantile of its standard error, else 1 (also
 * for k < 3). May be below 1 (the caller keeps that for the report only). */
double amz__contention_from_pairs(const double *log_ratio, size_t k);

/* Samples the kernel. done receives the executed ranges (sorted), failed the failed
 * ones with codes, records the blocks as chunks for the first run's result. */
int amz__sample(const amz__sampler_params_t *p, amz__workload_t *wl,
                amz__rangeset_t *done, amz__rangeset_t *failed,
                amz__chunk_rec_t **recs, size_t *n_recs, int **rec_workers);

/* ---- cost model (cost_model.c) ------------------------------------------- */

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

/* ---- planner (planner.c) ------------------------------------------------- */

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
 * within 0.5% static blocks of that size -> *best. */
typedef struct amz__cand_list {
  amz_candidate_t *v;
  size_t n, cap;
} amz__cand_list_t;
int amz__cand_list_push(amz__cand_list_t *l, const amz_candidate_t *c);
/* Counts to try: 1 .. min(dense, max), then steps of 1.5x, then max (at most cap). */
int amz__count_list(int dense, int max, int *out, int cap);
void amz__cand_list_choose(amz__cand_list_t *l, size_t *fewer, size_t *best);
/* Chunk parameters worth trying for schedule s with W workers (at most max). */
size_t amz__planner_chunk_grid(const amz__workload_t *wl, const amz__machine_t *m,
                               amz_schedule_t s, int W, uint64_t *out, size_t max);
/* Largest worker count worth considering for this workload on this machine. */
int amz__planner_max_workers(const amz__workload_t *wl, const amz__machine_t *m);
/* The choice rule of both planners (planner.c, mpi_planner.c): within PREFER_FEWER of
 * the fastest, the fewest workers (cheaper for the machine, less exposed to noise);
 * static blocks within PREFER_STATIC of the choice (no dispatch, a fixed placement
 * that keeps caches and NUMA pages warm across runs). */
#define AMZ__PREFER_FEWER 1.02
#define AMZ__PREFER_STATIC 1.005

/* ---- options (options.c) ------------------------------------------------- */

struct amz_options {
  int workers;
  int ranks;               /* MPI plans: ranks to use; 0 = choose */
  amz_schedule_t schedule;
  uint64_t chunk;
  double sample_seconds;
  double sample_rel_error;
  amz_hooks_t hooks;
  void *hooks_user;
  int has_hooks;
  double progress_interval;
  char *cache_dir; /* NULL = default location */
  int cache_set;   /* 1 once set explicitly (NULL then means disabled) */
  char *profile;   /* profile path pattern; NULL = none (AMZ_PROFILE may set one) */
  int profile_overwrite;
  int progress_line;       /* AMZ_PROGRESS_AUTO, _ON or _OFF */
  double progress_delay;   /* seconds of silence before the line shows (1) */
  FILE *progress_out;      /* tests: where the line goes; NULL = stderr */
  int use_env;
  int retries;             /* extra attempts for a failing item; -1 = not set */
  double timeout_s, timeout_factor; /* the watchdog; both 0 = off */
  int timeout_abort;
  char *checkpoint;        /* checkpoint path; NULL = none (AMZ_CHECKPOINT may set one) */
  int checkpoint_set;      /* 1 once set explicitly ("" then means none) */
  const amz__clock_t *clock;      /* tests: fake clock; NULL = real */
  const amz__machine_t *machine;  /* tests: synthetic machine; NULL = probe */
};

void amz__options_defaults(amz_options_t *o);
/* Resolves constraints from options and, when enabled, the environment. */
int amz__constraints_resolve(const amz_options_t *o, amz__constraints_t *c);
/* ---- plan and result objects (plan.c, result.c) -------------------------- */

/* A plan made by an extension (the MPI layer): it owns ext, adds its part of the
 * explanation, and runs the plan itself (amz_run refuses such plans). */
typedef struct amz__plan_ext_ops {
  const char *kind;        /* "MPI" */
  const char *run_with;    /* the call that runs such plans, for amz_run's error */
  void (*destroy)(void *ext);
  int (*explain)(const amz_plan_t *plan, FILE *out);
} amz__plan_ext_ops_t;

struct amz_plan {
  amz_task_t task;
  char *name;
  amz_options_t opts;      /* copy; cache_dir duplicated */
  amz__constraints_t cons;
  amz__machine_t machine;
  amz__workload_t wl;
  amz__decision_t dec;
  amz__pool_t pool;
  int pool_ready;
  amz__watch_t watch;      /* the watchdog's settings (amz__plan_watch) */
  amz__rangeset_t sampled;        /* items executed while sampling */
  amz__rangeset_t sampled_failed; /* failed sampled ranges, with codes */
  amz__chunk_rec_t *sample_recs;
  int *sample_rec_workers;
  uint64_t sample_retry_calls, sample_recovered; /* failure isolation while sampling */
  size_t n_sample_recs;
  int runs;                /* completed runs */
  atomic_int running;
  double setup_s;
  int workers;             /* threads (per rank for MPI plans) */
  int ranks;               /* MPI plans: ranks used; 1 otherwise */
  amz_schedule_t schedule;
  uint64_t chunk;
  amz_terms_t next_terms;  /* predicted for the next run */
  amz_terms_t full_terms;  /* predicted for a run of all N items */
  double serial_pred_s;    /* predicted serial time of all N items */
  double search_s;         /* wall time of the last candidate search */
  char *profile;           /* profile path pattern (options or AMZ_PROFILE); NULL = none */
  int profile_overwrite;
  char *profile_last;      /* the last file this plan wrote: its own, replaced freely */
  char *ckpt_path;         /* resolved checkpoint path; NULL = none */
  const char *ckpt_from;
  amz__ckpt_t ckpt;        /* open while the first run has not finished */
  int ckpt_open;
  amz__ckpt_info_t ckpt_info;
  amz__rangeset_t resumed; /* items completed by earlier jobs (checkpoint) */
  amz__rangeset_t skip_first; /* sampled ∪ resumed: what the first run skips */
  const amz__plan_ext_ops_t *ext_ops; /* NULL for plans of amz_plan_create */
  void *ext;
};

/* What an extension's run adds to a result (the MPI layer: global totals). */
typedef struct amz__result_ext {
  int ranks, rank;           /* ranks that ran; this rank in the plan's comm */
  int excluded;              /* 1 when this rank took no part in the run */
  char why[512];             /* reason for the exclusion */
  uint64_t local_done, local_failed;
  double local_wall_s;
  amz__rangeset_t local_ranges; /* item ranges this rank executed, sampled included */
  uint64_t ranges_lost;      /* chunks not recorded (beyond the record bound): the
                                ranges above are then incomplete */
  int nodes;
  int threads;               /* threads per rank */
  struct amz__rank_row *per_rank; /* ranks entries, in run-rank order (malloc'ed) */
} amz__result_ext_t;

/* One running rank's part of an MPI run, the same on every rank (exchanged). */
typedef struct amz__rank_row {
  int rank, node, threads;   /* rank in the plan's communicator, run node */
  uint64_t items, chunks;    /* this run's (sampled items not included) */
  double busy_s, dispatch_s, data_s, wall_s;
} amz__rank_row_t;

struct amz_result {
  char *task_name;
  uint64_t n_items;
  int workers;
  amz_schedule_t schedule;
  uint64_t chunk;
  int run_index;           /* 1 = first run of its plan */
  double wall_s;
  double setup_s;
  amz_terms_t predicted;
  amz_terms_t measured;
  uint64_t items_done, items_failed, sampled_items;
  uint64_t items_resumed;  /* done by earlier jobs (checkpoint), counted in items_done */
  uint64_t retry_calls, items_recovered;
  char *checkpoint_path;   /* the checkpoint this run logged to; NULL = none */
  amz_chunk_info_t *chunks;
  size_t n_chunks;
  amz_worker_stats_t *wstats;
  amz__rangeset_t failures;
  /* model inputs for the bottleneck analysis */
  double mean_item_s;      /* sampled, per item alone */
  double contention;
  double cpu_ratio;
  double serial_pred_s;
  int usable_cores;
  amz__result_ext_t *ext;  /* MPI runs; NULL otherwise */
  double *wdata_s;         /* per worker: data time (MPI map mode); NULL = none */
  char *profile_path;      /* the profile this run wrote; NULL = none */
  int profile_rc;          /* 0, or why the profile could not be written */
  amz__findings_t findings; /* the bottleneck analysis (amz__result_judge) */
};

/* (explain.c) The Workload section of a plan explanation. */
void amz__explain_workload(const amz_plan_t *p, FILE *o);
/* (result.c) Judges a finished run's findings into r->findings (findings.c's
 * rules). Returns 0 or AMZ_ENOMEM. */
int amz__result_judge(amz_result_t *r);

/* (plan.c) Resolves the checkpoint path (options, AMZ_CHECKPOINT) into p->ckpt_path. */
int amz__plan_ckpt_resolve(amz_plan_t *p, const amz_options_t *opts);
/* (plan.c) After sampling: skip_first = sampled ∪ resumed. */
int amz__plan_skip_first(amz_plan_t *p);
/* (plan.c) The re-plan rule of threads and MPI plans alike, after run `runs` (1 =
 * the first): search again after runs 1, 2, 4, 8, ... or when the run missed its
 * prediction by more than 20%; else only predict the next run. */
int amz__should_replan(int runs, double measured, double predicted);
/* (plan.c) Ends checkpointing after a plan's first run: sync, close; the error of a
 * failed write (AMZ_EIO) or 0. */
int amz__plan_ckpt_end(amz_plan_t *p);

/* (plan.c) Fills a new plan's options (copied; defaults for NULL; the real clock
 * unless a test injected one), task and name. Returns 0 or AMZ_ENOMEM. */
int amz__plan_init(amz_plan_t *p, const amz_task_t *task, const amz_options_t *opts);

/* (plan.c) Resolves the plan's profile path (options, then AMZ_PROFILE and
 * AMZ_PROFILE_OVERWRITE when the environment is used). Returns 0, AMZ_EENV or
 * AMZ_ENOMEM. */
int amz__plan_profile_resolve(amz_plan_t *p, const amz_options_t *opts);
/* ---- the progress line (progress.c) --------------------------------------- */

typedef struct amz__progress_line {
  int active, shown;
  const amz_hooks_t *user; /* the user's hooks, called first */
  void *user_arg;
  amz_hooks_t hooks;       /* what the executor calls while the line is active */
  const char *task;
  double predicted_s, delay_s;
  FILE *out;
} amz__progress_line_t;

/* The progress mode from the options and, when used, AMZ_PROGRESS. */
int amz__progress_mode_resolve(const amz_options_t *o, int *mode);
/* Decides whether this run shows the line (owner: rank 0, or the process) and sets
 * the hooks the executor gets. Returns 0 or AMZ_EENV. */
int amz__progress_line_begin(amz__progress_line_t *pl, const amz_plan_t *p, int owner,
                             const amz_hooks_t **hooks, void **hooks_user);
/* Ends the line with the run's time when it was shown. */
void amz__progress_line_end(amz__progress_line_t *pl, double wall_s, int rc);

/* ---- profile paths (profile_path.c; the HDF5 side is in profile.h) -------- */

/* The path a run writes: the pattern with %r (run index), %j (SLURM_JOB_ID, else
 * "nojob") and %% expanded. Returns 0, or AMZ_EINVAL naming an unknown '%x' or a
 * path longer than len. */
int amz__profile_expand(const char *pattern, int run, char *out, size_t len);
/* Creates the private directory a profile is written in, PATH.tmp.XXXXXX (mode
 * 0700, random name), and names the file in it: dir and tmp. Returns 0, AMZ_EINVAL
 * (path too long) or AMZ_EIO. */
int amz__profile_tmp_create(const char *path, char *dir, size_t dlen, char *tmp, size_t tlen);
/* Removes what is left of it: tmp if present, then dir. Nothing when dir is "". */
void amz__profile_tmp_remove(const char *dir, const char *tmp);
/* Moves tmp to path; refuses to replace an existing file unless overwrite is set.
 * Returns 0, AMZ_EEXIST or AMZ_EIO; tmp is removed on failure. */
int amz__profile_commit(const char *tmp, const char *path, int overwrite);
/* Checks at plan creation that the first run's profile can be written: the
 * directory exists and is writable, and the file does not exist unless overwrite
 * is set. Returns 0, AMZ_EEXIST or AMZ_EIO. */
int amz__profile_precheck(const amz_plan_t *plan);
/* (profile_write.c) Serial runs (amz_run): writes, seals and commits the profile of res when the plan
 * asks for one; records the path in res. Returns 0 or the profile's error; the
 * result is valid either way. */
int amz__profile_after_run(amz_plan_t *plan, amz_result_t *res);

/* (plan.c) Ends a run of either kind: releases the plan, destroys res on error, else
 * calls on_finish, hands res out and returns 0 or AMZ_EITEMS when items failed. */
/* The watchdog for the plan's next sampling or run, from its constraints and its
 * current cost per item (0 before sampling); NULL when no timeout is set. */
const amz__watch_t *amz__plan_watch(amz_plan_t *p);
int amz__run_finish(amz_plan_t *p, int rc, amz_result_t *res, amz_result_t **result);

/* Builds a result from an executor run (and the sampling records on a first run). */
int amz__result_build(amz_plan_t *plan, const amz__exec_out_t *ex, int first_run,
                      amz_result_t **out);

#pragma GCC visibility pop

#endif /* AMORSIZE_INTERNAL_H */
