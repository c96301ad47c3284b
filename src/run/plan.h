/*
 * The internal interface of the plan and result objects (plan.c, result.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_PLAN_H
#define AMORSIZE_PLAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"
#include "pool.h"
#include "ranges.h"
#include "checkpoint.h"
#include "executor.h"
#include "findings.h"
#include "workload.h"
#include "cost_model.h"
#include "planner.h"
#include "options.h"

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
  amz__interval_t next_iv; /* the interval of next_terms.total (amz__plan_interval) */
  double run_err[AMZ__RUN_ERRORS]; /* latest reruns' (measured - predicted) / predicted */
  int n_run_err;
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
  amz__interval_t predicted_iv; /* the interval of predicted.total */
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
  amz__slow_t slow;        /* threads-only runs: the slowest worker (amz__result_slowest) */
};

/* (explain.c) The Workload section of a plan explanation. */
AMZ__EXT void amz__explain_workload(const amz_plan_t *p, FILE *o);
/* (explain.c) The interval lines of the explanation's Prediction section. */
AMZ__EXT void amz__explain_interval(const amz_plan_t *p, FILE *o);
/* (result.c) The slowest worker of a threads-only result (r->slow), against wl, the
 * cost profile the run was planned with. */
void amz__result_slowest(amz_result_t *r, const amz__workload_t *wl);
/* (result.c) Judges a finished run's findings into r->findings (findings.c's
 * rules). Returns 0 or AMZ_ENOMEM. */
int amz__result_judge(amz_result_t *r);

/* (plan.c) The interval of the next run's prediction into p->next_iv, from the
 * workload, the predicted terms and the plan's latest misses. The core calls it
 * after every decide and predict step, for both kinds of plans. */
void amz__plan_interval(amz_plan_t *p);
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
AMZ__EXT int amz__plan_ckpt_end(amz_plan_t *p);

/* (plan.c) Fills a new plan's options (copied; defaults for NULL; the real clock
 * unless a test injected one), task and name. Returns 0 or AMZ_ENOMEM. */
AMZ__EXT int amz__plan_init(amz_plan_t *p, const amz_task_t *task, const amz_options_t *opts);

/* (plan.c) Resolves the plan's profile path (options, then AMZ_PROFILE and
 * AMZ_PROFILE_OVERWRITE when the environment is used). Returns 0, AMZ_EENV or
 * AMZ_ENOMEM. */
int amz__plan_profile_resolve(amz_plan_t *p, const amz_options_t *opts);

/* (plan.c) The watchdog for the plan's next sampling or run, from its constraints
 * and its current cost per item (0 before sampling); NULL when no timeout is set. */
AMZ__EXT const amz__watch_t *amz__plan_watch(amz_plan_t *p);
/* (plan.c) Ends the creation of a plan of either kind: destroys p when rc != 0
 * (the failure's detail is recorded), else records the setup time since t0, calls
 * on_plan_ready and hands p out. Returns rc. */
int amz__plan_created(amz_plan_t *p, int rc, double t0, amz_plan_t **plan);
/* (plan.c) Ends a run of either kind: releases the plan, destroys res on error, else
 * judges its findings, calls on_finish, hands res out and returns 0 or AMZ_EITEMS
 * when items failed. */
int amz__run_finish(amz_plan_t *p, int rc, amz_result_t *res, amz_result_t **result);

/* The steps of creating a plan that differ between a threads-only plan (plan.c)
 * and an extension's (the MPI layer, mpi_plan.c), plugged into the one creation of
 * amz__plan_make: constraints, probe, pool, sampling, the sampled items' skip
 * set, search. */
typedef struct amz__create_ops {
  /* Optional. The status the extension's processes agree on (identity if NULL):
   * every step that can fail on one process alone goes through it. */
  int (*agree)(void *ext, int rc);
  /* After the constraints, whatever rc: the extension's checks and agreements,
   * the profile's precheck and the checkpoint's opening. Returns the status. */
  int (*open)(void *ext, amz_plan_t *p, int rc);
  /* Fills p->machine: the caller's (p->opts.machine) or probed, the measured
   * costs cached in cache_dir ("" = no cache). */
  int (*probe)(void *ext, amz_plan_t *p, const char *cache_dir);
  /* Samples the kernel on p->pool into p->wl and the sampling records. */
  int (*sample)(void *ext, amz_plan_t *p);
  /* Searches the candidates and installs the choice. */
  int (*decide)(void *ext, amz_plan_t *p);
  /* Optional. After the choice: what the extension's runs need. */
  int (*ready)(void *ext, amz_plan_t *p);
} amz__create_ops_t;

/* (plan.c) Creates a plan that amz__plan_init filled (rc: its status; t0: when
 * creation began): resolves the constraints, runs ops->open, ops->probe, sets the
 * checkpoint's cost, starts the pool, runs ops->sample, makes the first run's skip
 * set, runs ops->decide and ops->ready, and ends in amz__plan_created. opts: the
 * caller's options (their cache directory), or NULL. Returns what
 * amz__plan_created returns. */
AMZ__EXT int amz__plan_make(amz_plan_t *p, const amz__create_ops_t *ops, void *ext,
                            const amz_options_t *opts, int rc, double t0, amz_plan_t **plan);

/* One run of a plan, as amz__plan_run sees it; the operations read it. */
typedef struct amz__run_state {
  double t0;                /* the run's start (the plan's clock) */
  int first;                /* 1 on the plan's first run */
  const amz__exec_out_t *ex; /* this process's executor output (zeroed if it did not run) */
  double local_wall_s;      /* this process's wall time, up to the executor's end */
  int ckpt_rc;              /* the first run's checkpoint: 0, or why its writes failed */
  char ckpt_msg[1024];      /* ... and the detail */
} amz__run_state_t;

/* The steps of a run that differ between a threads-only plan (plan.c) and an
 * extension's (the MPI layer, mpi_run.c), plugged into the one run of
 * amz__plan_run: pool, executor, progress line, checkpoint, result, profile,
 * refinement, re-plan rule, findings. rc in: the status so far; an extension
 * whose processes run together returns the status they agree on, so that all of
 * them take the same path, and takes part in each step even after a failure. */
typedef struct amz__run_ops {
  const char *fn; /* the public call, for errors ("amz_mpi_run") */
  /* Optional. Before the executor: sets the chunk source and what goes with it in
   * ep (source, source_ctx, progress_scale, track_moved, kernel_wrapped) and
   * starts the extension's helpers. The executor runs when it returns 0. */
  int (*prepare)(void *run, amz_plan_t *p, int rc, amz__exec_params_t *ep);
  /* Optional. After the executor (or instead of it, rc != 0): ends the helpers'
   * part of the run; returns the status. */
  int (*executed)(void *run, amz_plan_t *p, int rc);
  /* Builds the run's result into *res: measured terms, totals (merged over the
   * extension's processes). On failure returns the code, with *res NULL, or with
   * *res set when the steps below must still run (they see rc != 0). */
  int (*build)(void *run, amz_plan_t *p, int rc, const amz__run_state_t *st,
               amz_result_t **res);
  /* Writes the run's profile (res->profile_rc); returns the status. */
  int (*record)(void *run, amz_plan_t *p, int rc, const amz__run_state_t *st,
                amz_result_t *res);
  /* Refines the workload model from the run (rc == 0 only). */
  void (*refine)(void *run, amz_plan_t *p, const amz__run_state_t *st,
                 const amz_result_t *res);
  /* Searches again and installs the choice / predicts the installed choice's next
   * run (amz__should_replan picks). Return 0 or an error. */
  int (*decide)(amz_plan_t *p);
  int (*predict)(amz_plan_t *p);
  /* Optional. Frees the run's state, whatever the status. */
  void (*cleanup)(void *run);
} amz__run_ops_t;

/* (plan.c) Runs a plan whose running flag the caller set: checks and grows the
 * pool, runs ops->prepare, the executor under the progress line (shown when
 * shows_progress), ops->executed, ends the first run's checkpoint, then
 * ops->build, ops->record, ops->refine, counts the run, re-plans or predicts, and
 * ends in amz__run_finish. Returns what amz__run_finish returns. */
AMZ__EXT int amz__plan_run(amz_plan_t *p, const amz__run_ops_t *ops, void *run,
                           int shows_progress, amz_result_t **result);

/* Builds a result from an executor run (and the sampling records on a first run). */
AMZ__EXT int amz__result_build(amz_plan_t *plan, const amz__exec_out_t *ex, int first_run,
                      amz_result_t **out);

#endif /* AMORSIZE_PLAN_H */
