/**
 * @file amorsize.h
 * @brief Amorsize: measured planning and execution of loops of independent items.
 *
 * Given a loop of N independent items and the user's kernel, Amorsize probes the
 * machine, samples the real kernel on items spread over the whole index range,
 * models the makespan of every candidate (workers, schedule, chunk), chooses the
 * fastest, runs the loop that way on a persistent thread pool and explains the
 * decision and what really happened.
 *
 * Conventions used by every call:
 * - Fallible calls return 0 on success or a negative `AMZ_E*` code. A human-readable
 *   detail for the most recent failure on the calling thread ("AMZ_CHUNK must be a
 *   positive integer, got 'abc'") is returned by amz_last_error().
 * - The caller owns what it passes in. Objects created for the caller have a
 *   `*_destroy` function that accepts NULL. Strings returned by the library are owned
 *   by the library.
 * - This header never includes `<mpi.h>`; the MPI entry points live in
 *   `amorsize_mpi.h`.
 *
 * Growth (how the public structs stay binary-compatible within a major version):
 * - Structs the library fills for the caller (amz_terms_t, amz_candidate_t,
 *   amz_workload_info_t, amz_worker_stats_t, amz_finding_t, amz_rank_stats_t,
 *   amz_sim_result_t, amz_sim_choice_t) end with `uint64_t reserved[4]`, which the library sets to zero.
 *   A later minor version may turn reserved words into fields; the size does not
 *   change, so a program built against an older header keeps working.
 * - Structs the library hands out by pointer to one object (amz_progress_t, the
 *   profile's amz_profile_info_t and amz_profile_model_t) may grow at their end:
 *   never copy them by value into storage of your own size expectations.
 * - Fixed-layout records never change within a major version: amz_chunk_info_t
 *   (given to hooks on every chunk and stored per chunk) and the profile's table
 *   rows (handed out as arrays, amz_profile_chunk_t, ...); new per-row data comes
 *   through new accessors.
 * - Structs the caller fills for the library (amz_task_t, amz_hooks_t,
 *   amz_map_task_t, amz_sim_workload_t, amz_sim_machine_t) never grow: new inputs
 *   come through new options setters or new functions.
 *
 * Minimal use:
 * @code
 *   static int kernel(uint64_t begin, uint64_t end, void *arg) { ...; return 0; }
 *   amz_task_t task = { "my loop", n, kernel, &data };
 *   amz_result_t *res = NULL;
 *   int rc = amz_for(&task, NULL, &res);
 *   amz_result_explain(res, stdout);
 *   amz_result_destroy(res);
 * @endcode
 */
#ifndef AMORSIZE_H
#define AMORSIZE_H

#include <stdint.h>
#include <stdio.h>

#include "amorsize_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a symbol exported from the shared library (built with hidden visibility). */
#if defined(AMORSIZE_BUILDING) && defined(__GNUC__)
#define AMZ_API __attribute__((visibility("default")))
#else
#define AMZ_API
#endif

/* ------------------------------------------------------------------------- */
/* Errors                                                                    */
/* ------------------------------------------------------------------------- */

/**
 * The error list: name, value, message. Values are never renumbered once released;
 * new codes are appended with the next free value.
 */
#define AMZ_ERROR_MAP(XX)                                                           \
  XX(EINVAL, -1, "invalid argument")                                               \
  XX(ENOMEM, -2, "out of memory")                                                  \
  XX(EENV, -3, "malformed environment variable")                                   \
  XX(ESCHED, -4, "unknown or unusable schedule")                                   \
  XX(ESYS, -5, "system call failed")                                               \
  XX(ETOPO, -6, "topology probe failed")                                           \
  XX(EITEMS, -7, "some items failed (the kernel returned non-zero)")               \
  XX(EBUSY, -8, "the plan is already running")                                     \
  XX(ECONFLICT, -9, "contradictory options")                                       \
  XX(EMPI, -10, "MPI call failed")                                                 \
  XX(EIO, -11, "file input/output failed")                                         \
  XX(ERANGE, -12, "index out of range")                                            \
  XX(EEXIST, -13, "file exists (not overwritten unless asked)")                    \
  XX(EFORMAT, -14, "not a valid Amorsize profile or checkpoint")                   \
  XX(EMISMATCH, -15, "the checkpoint belongs to another task or item count")       \
  XX(ETIMEOUT, -16, "a kernel call ran past the timeout")                          \
  XX(ENOTSUP, -17, "not available in this build")

/** Error codes; every fallible call returns 0 or one of these. */
typedef enum amz_error {
  AMZ_OK = 0,
#define AMZ__ERR_ENUM(name, value, msg) AMZ_##name = (value),
  AMZ_ERROR_MAP(AMZ__ERR_ENUM)
#undef AMZ__ERR_ENUM
} amz_error_t;

/**
 * @brief Short static message for an error code ("invalid argument").
 * @return A library-owned string; "unknown error" for codes not in the list. Local,
 *         thread-safe.
 */
AMZ_API const char *amz_strerror(int code);

/**
 * @brief The symbolic name of an error code ("AMZ_EINVAL"), or "AMZ_UNKNOWN".
 */
AMZ_API const char *amz_error_name(int code);

/**
 * @brief Detail of the most recent failure on the calling thread.
 *
 * Names the bad value and what was expected, e.g. "AMZ_WORKERS must be an integer
 * >= 0, got '-2'". The text is thread-local, owned by the library and valid until
 * the next failing call on the same thread. Returns "" when nothing failed yet.
 */
AMZ_API const char *amz_last_error(void);

/** @brief The library version as "MAJOR.MINOR.PATCH". Library-owned, static. */
AMZ_API const char *amz_version_string(void);

/**
 * @brief The version of the library loaded at run time, as one number:
 *        MAJOR * 10000 + MINOR * 100 + PATCH (0.1.0 is 100).
 *
 * Compare it with AMZ_VERSION_NUMBER, the version of the headers a program was
 * compiled with, to detect a program run against another library (the soname
 * changes only with MAJOR). Local, thread-safe, never fails.
 */
AMZ_API int amz_version(void);

/* ------------------------------------------------------------------------- */
/* Task, schedules, options                                                  */
/* ------------------------------------------------------------------------- */

/**
 * @brief The user's kernel: process items [begin, end).
 *
 * Called concurrently from several threads on disjoint ranges; it must be
 * thread-safe for disjoint ranges. Every item in [0, n_items) is passed exactly once
 * per run (or reported as failed). Return 0 on success; any non-zero value marks
 * the whole range [begin, end) as failed with that code and the run goes on.
 *
 * The kernel must return: without a timeout (amz_options_set_timeout(),
 * AMZ_TIMEOUT) nothing bounds a call that never does (the run, and under MPI every
 * rank, waits for it); with one, the call is reported and the run returns
 * AMZ_ETIMEOUT or the job ends. It must not leave by longjmp() or a C++
 * exception: the plan then stays marked as running (amz_run() answers AMZ_EBUSY)
 * and its threads wait for the lost call, so it can neither run again nor be
 * destroyed cleanly. A process may fork() between runs: the child runs a plan it
 * inherited on threads of its own (the parent's stay with the parent). A child
 * forked by a kernel during a run must not use the plan.
 */
typedef int (*amz_range_fn)(uint64_t begin, uint64_t end, void *arg);

/** @brief A loop of independent items. Its four fields are fixed forever (see
 *         "Growth" in the file's description): per-task settings go in the options. */
typedef struct amz_task {
  const char *name; /**< Label used in explanations and profiles; may be NULL. */
  uint64_t n_items; /**< Number of items; 0 is valid (nothing to do). */
  amz_range_fn fn;  /**< The kernel; must not be NULL. */
  void *arg;        /**< Passed unchanged to fn. */
} amz_task_t;

/**
 * @brief How items are cut into chunks and handed to workers.
 *
 * - STATIC: one contiguous block per worker, with a way out: each worker runs its
 *   block in pieces from the front (1/8 of what is left of it at a time), and a
 *   worker that has finished takes the back half of the largest unclaimed rest,
 *   so a slower core or a costly stretch does not hold the run. At one speed on
 *   even costs every worker runs just its own block; one worker alone runs it as
 *   one chunk. Across MPI ranks the blocks stay put (the threads of a rank take
 *   from each other); in MPI map mode a rank other than 0 keeps its blocks fixed.
 * - CYCLIC: chunks of `chunk` items dealt round-robin (worker w gets chunks w, w+P, ...),
 *   fixed: a worker's chunks wait for it.
 * - DYNAMIC: self-scheduling, fixed chunks of `chunk` items from a shared counter.
 * - GUIDED: chunk = max(chunk, ceil(remaining / P)) (Polychronopoulos & Kuck 1987).
 * - FACTORING: FAC2 batches of P chunks of ceil(remaining / 2P), at least `chunk`
 *   (Hummel, Schonberg & Flynn 1992).
 * - AWF: adaptive weighted factoring: FAC2 batches re-weighted by each worker's
 *   measured rate (Banicescu & Velusamy 2002), at least `chunk`.
 */
typedef enum amz_schedule {
  AMZ_SCHED_AUTO = 0, /**< Let the planner choose. */
  AMZ_SCHED_STATIC,
  AMZ_SCHED_CYCLIC,
  AMZ_SCHED_DYNAMIC,
  AMZ_SCHED_GUIDED,
  AMZ_SCHED_FACTORING,
  AMZ_SCHED_AWF
} amz_schedule_t;

/** @brief Number of values of amz_schedule_t, AUTO included. */
#define AMZ_SCHED_COUNT 7

/** @brief Lower-case name of a schedule ("dynamic"), or "invalid". Static string. */
AMZ_API const char *amz_schedule_name(amz_schedule_t schedule);

/**
 * @brief Parse a schedule name (case-insensitive: auto, static, cyclic, dynamic,
 *        guided, factoring, awf).
 * @return 0, or AMZ_ESCHED for an unknown name, AMZ_EINVAL for NULL arguments.
 */
AMZ_API int amz_schedule_parse(const char *name, amz_schedule_t *out);

/** @brief Opaque options; NULL options everywhere mean "all defaults". */
typedef struct amz_options amz_options_t;
/** @brief Opaque plan: a chosen way to run one task, runnable many times. */
typedef struct amz_plan amz_plan_t;
/** @brief Opaque result of one run. */
typedef struct amz_result amz_result_t;

/** @brief One executed chunk, as given to hooks and read back from a result. */
typedef struct amz_chunk_info {
  uint64_t begin;  /**< First item. */
  uint64_t end;    /**< One past the last item. */
  int worker;      /**< Worker (thread) index; 0 = the calling thread, except with a
                        timeout (amz_options_set_timeout()): all are helper threads. */
  int status;      /**< 0, or the kernel's first non-zero return in the chunk. */
  double t_start;  /**< Seconds since the start of the run. */
  double t_end;    /**< Seconds since the start of the run. */
} amz_chunk_info_t;

/** @brief Progress snapshot given to the progress hook. */
typedef struct amz_progress {
  uint64_t items_done;  /**< Items finished so far in this run (failed included). */
  uint64_t items_total; /**< Items this run executes. */
  double elapsed_s;     /**< Seconds since the start of the run. */
  double items_per_s;   /**< Mean throughput so far. */
  double eta_s;         /**< Estimated seconds to completion, from throughput. */
} amz_progress_t;

/**
 * @brief Callbacks for live monitoring. Any member may be NULL.
 *
 * Thread safety: on_plan_ready and on_finish run on the thread that called
 * amz_plan_create / amz_run. on_chunk_done and on_error run on worker threads,
 * concurrently with each other: they must be thread-safe and should be short, since
 * they add to the chunk's dispatch time. on_progress runs on a worker thread too, but
 * never concurrently with itself, at most once per progress interval (see
 * amz_options_set_progress_interval) and once more at the end of the run.
 * Hooks must not call amz_run on the plan that is running.
 */
typedef struct amz_hooks {
  /** The plan is made (before amz_plan_create returns). */
  void (*on_plan_ready)(const amz_plan_t *plan, void *user);
  /** A chunk ended, on the worker that ran it (every chunk: keep it cheap). */
  void (*on_chunk_done)(const amz_chunk_info_t *chunk, void *user);
  /** Progress, at most once per progress interval and once at the end. */
  void (*on_progress)(const amz_progress_t *progress, void *user);
  /** The run is over and its result complete (before amz_run returns). */
  void (*on_finish)(const amz_result_t *result, void *user);
  /** A range failed: the kernel returned `code` for [begin, end) on `worker`. */
  void (*on_error)(uint64_t begin, uint64_t end, int code, int worker, void *user);
} amz_hooks_t;

/**
 * @brief Create options with every value "choose for me".
 * @param[out] opts receives the new object; destroy with amz_options_destroy().
 * @return 0, AMZ_EINVAL (opts NULL), AMZ_ENOMEM.
 */
AMZ_API int amz_options_create(amz_options_t **opts);

/** @brief Destroy options; NULL is accepted. Plans made from them stay valid. */
AMZ_API void amz_options_destroy(amz_options_t *opts);

/**
 * @brief Fix the number of workers (threads); 0 = let the planner choose.
 *
 * For MPI plans this is the number of threads in each rank.
 * Environment: AMZ_WORKERS (when amz_options_set_use_env is on, the default).
 * @return 0, or AMZ_EINVAL for NULL opts or workers < 0 or > 4096.
 */
AMZ_API int amz_options_set_workers(amz_options_t *opts, int workers);

/**
 * @brief MPI plans: fix how many of the launched ranks run the loop; 0 = let the
 *        planner choose. Ignored by amz_plan_create(). A value above the ranks
 *        launched makes amz_mpi_plan_create() fail with AMZ_EINVAL.
 *
 * Environment: AMZ_RANKS. Local; not thread-safe on the same options object.
 * @return 0, or AMZ_EINVAL for NULL opts or ranks < 0.
 */
AMZ_API int amz_options_set_ranks(amz_options_t *opts, int ranks);

/**
 * @brief Fix the schedule; AMZ_SCHED_AUTO = let the planner choose.
 * @return 0, AMZ_EINVAL (NULL opts), AMZ_ESCHED (value out of the enum).
 */
AMZ_API int amz_options_set_schedule(amz_options_t *opts, amz_schedule_t schedule);

/**
 * @brief Fix the chunk parameter in items; 0 = let the planner choose.
 *
 * For CYCLIC and DYNAMIC it is the chunk size; for GUIDED, FACTORING and AWF the
 * minimum chunk size. STATIC takes no chunk: a plan combining STATIC with a chunk
 * fails with AMZ_ECONFLICT.
 * @return 0, AMZ_EINVAL (NULL opts).
 */
AMZ_API int amz_options_set_chunk(amz_options_t *opts, uint64_t items);

/**
 * @brief Bound the sampling phase.
 * @param max_seconds wall-time budget for sampling (default 0.25 s); in (0, 3600].
 * @param rel_error stop once the relative standard error of the mean item cost is
 *        at most this (default 0.03); in (0, 1).
 * @return 0, AMZ_EINVAL (NULL opts or a value out of range).
 */
AMZ_API int amz_options_set_sampling(amz_options_t *opts, double max_seconds,
                                     double rel_error);

/**
 * @brief Install monitoring hooks (copied) and their user pointer.
 * @param hooks may be NULL to remove all hooks.
 * @return 0, AMZ_EINVAL (NULL opts).
 */
AMZ_API int amz_options_set_hooks(amz_options_t *opts, const amz_hooks_t *hooks,
                                  void *user);

/**
 * @brief Minimum seconds between two progress hook calls (default 0.5).
 * @return 0, AMZ_EINVAL (NULL opts or seconds < 0).
 */
AMZ_API int amz_options_set_progress_interval(amz_options_t *opts, double seconds);

/**
 * @brief Where measured machine costs and the machine's description are cached
 * between runs.
 *
 * Default: $AMZ_CACHE_DIR, else $XDG_CACHE_HOME/amorsize, else $HOME/.cache/amorsize.
 * NULL or "" disables the cache (every plan probes, and every process loads hwloc).
 * @return 0, AMZ_EINVAL (NULL opts), AMZ_ENOMEM.
 */
AMZ_API int amz_options_set_cache_dir(amz_options_t *opts, const char *dir);

/** Progress line modes for amz_options_set_progress_line(). */
enum {
  AMZ_PROGRESS_AUTO = 0, /**< on when stderr is a terminal and $CI is unset (default) */
  AMZ_PROGRESS_ON = 1,   /**< always (rank 0 only under MPI) */
  AMZ_PROGRESS_OFF = 2   /**< never */
};

/**
 * @brief A throttled progress line on stderr while a run goes on, on the calling
 *        process (rank 0 only under MPI): percent done, items per second, elapsed
 *        time, and the time left from the model and from the rate so far.
 *
 * Runs shorter than a second print nothing; longer ones end with one line,
 * "amorsize: TASK done in 2.31 s". Updates come at the progress interval
 * (amz_options_set_progress_interval, default 0.5 s). The user's own hooks still
 * run, with their own argument. `AMZ_PROGRESS=auto|on|off` overrides this when the
 * environment is used. Not thread-safe on one opts.
 * @return 0, AMZ_EINVAL (NULL opts; mode not one of AMZ_PROGRESS_AUTO, _ON, _OFF).
 */
AMZ_API int amz_options_set_progress_line(amz_options_t *opts, int mode);

/**
 * @brief Write an HDF5 profile of each run to `path` (NULL or "" = none, the default).
 *
 * The profile holds the decision (candidates, model inputs), the prediction beside
 * what was measured (per term), every chunk with its worker and times, the workers'
 * totals, the nodes and the failures; `amorsize report FILE` explains it and
 * docs/PROFILE_FORMAT.md documents it field by field. MPI runs write one file
 * collectively (parallel HDF5), every rank its own rows.
 *
 * The file is written in a private directory beside it (`path.tmp.XXXXXX`, mode
 * 0700) and renamed once complete and sealed, so a crash never leaves a partial
 * file under `path` and no one can redirect the write with a symlink. An
 * existing file is not replaced (amz_plan_create() refuses early with AMZ_EEXIST)
 * unless amz_options_set_profile_overwrite() allows it; a plan's later runs replace
 * the file its own earlier run wrote. Placeholders: `%r` run index (1, 2, ...),
 * `%j` $SLURM_JOB_ID (else "nojob"), `%%` a percent sign.
 *
 * `AMZ_PROFILE=path` overrides this when the environment is used
 * (amz_options_set_use_env(); `AMZ_PROFILE=` with an empty value turns it off), and
 * `AMZ_PROFILE_OVERWRITE=0|1` the overwrite setting. Not thread-safe on one opts.
 *
 * A run whose profile cannot be written still completes: amz_run() hands out its
 * result and returns the profile's error (AMZ_EIO, AMZ_EEXIST).
 * In a build configured with AMORSIZE_PROFILE=OFF (no HDF5) a path is refused with
 * AMZ_ENOTSUP, and a plan asked for a profile by `AMZ_PROFILE` fails with it. The
 * profile writer is libamorsize_profile, which libamorsize loads from its own
 * directory when a plan asks for a profile: amz_plan_create() fails with
 * AMZ_ENOTSUP, naming the file, when it is not installed there.
 * @return 0, AMZ_EINVAL (NULL opts; an unknown `%` placeholder), AMZ_ENOMEM,
 *         AMZ_ENOTSUP (a path, in a build without profiles).
 */
AMZ_API int amz_options_set_profile(amz_options_t *opts, const char *path);

/**
 * @brief Allow the profile to replace an existing file (default 0: refuse).
 * @return 0, AMZ_EINVAL (NULL opts).
 */
AMZ_API int amz_options_set_profile_overwrite(amz_options_t *opts, int overwrite);

/**
 * @brief Give a failing item `retries` more attempts before it is reported failed
 *        (default 0: a range whose kernel call fails is reported as it is).
 *
 * A kernel returns one code for a whole range, so with retries > 0 a failed range
 * is split in halves and each half run again; a half that fails again is split
 * further, down to single items, and a single item that fails is run up to
 * `retries` more times. What succeeds counts as done; what still fails is reported
 * item by item with its last code (amz_result_failure(), the profile's /failures),
 * and done + failed = N still holds. The kernel must tolerate running an item
 * again after a failed call. Cost for an item that always fails, in a chunk of C
 * items: 1 + ceil(log2 C) + retries kernel calls. `AMZ_RETRIES=n` overrides this
 * when the environment is used. Local; not thread-safe on one opts.
 * @param retries 0 ... 100.
 * @return 0, AMZ_EINVAL (NULL opts; retries out of [0, 100]).
 */
AMZ_API int amz_options_set_retries(amz_options_t *opts, int retries);

/**
 * @brief Log completed items to a checkpoint file so that a killed job, started
 *        again with the same task name and N, runs only what was not completed
 *        (NULL or "" = none, the default).
 *
 * The plan's first run (sampling included: amz_for() as a whole) writes one 32-byte
 * record per completed chunk, with one pwrite() before its worker takes the next
 * chunk, and syncs the file at most once a second (batched; the model counts the
 * record in each chunk's cost). The records of a job killed at any moment
 * (SIGKILL, walltime) are in the file: the next job with the same path reads them
 * and skips those items (amz_result_items_resumed()). Items of chunks that were
 * running at the kill run again: the kernel must tolerate that. Failed items are
 * not recorded, so a rerun tries them again. After a power loss of the node, at
 * most the last second of records is lost (those items run again).
 *
 * A file of another task name or another N is refused with AMZ_EMISMATCH, a file
 * that is not a checkpoint with AMZ_EFORMAT (it is never modified), a file in use
 * by another running job with AMZ_EBUSY, a file that cannot be locked at all
 * (a file system without locks) with AMZ_EIO unless `AMZ_CHECKPOINT_NOLOCK=1`
 * says that one job at a time uses it. The file's mode is 0666 less the umask.
 * Under MPI every rank writes its own
 * records into the one file (rank 0's path counts). The file is kept after the run:
 * a job rerun after completing runs nothing; delete the file to start afresh. Later
 * runs of the same plan run all items and write no records. Not combinable with
 * MPI map mode (the outputs of earlier jobs are gone). `AMZ_CHECKPOINT=path`
 * overrides this when the environment is used (`AMZ_CHECKPOINT=` turns it off).
 * Local; not thread-safe on one opts.
 * @return 0, AMZ_EINVAL (NULL opts; a path of 4096 bytes or more), AMZ_ENOMEM.
 */
AMZ_API int amz_options_set_checkpoint(amz_options_t *opts, const char *path);

/** What a run does when a kernel call passes the timeout. */
typedef enum amz_timeout_action {
  AMZ_TIMEOUT_ERROR = 0, /**< give up the run and return AMZ_ETIMEOUT (the default) */
  AMZ_TIMEOUT_ABORT = 1  /**< end the process (abort()) or the MPI job (MPI_Abort) */
} amz_timeout_action_t;

/**
 * @brief Watch kernel calls and stop a run whose call does not return (default:
 *        off, nothing is watched).
 *
 * A kernel call is stuck when it has run longer than `seconds` and, with a factor,
 * also longer than `factor` times its predicted time (its items times the sampled
 * cost per item; while sampling, before any cost is known, the seconds alone
 * count). A factor without seconds waits at least 10 s. The stuck call is reported
 * on stderr at once: task, rank, host and process (under MPI), worker index, the
 * thread's id (for a debugger) and its items. Then, by `action`:
 * - AMZ_TIMEOUT_ERROR: the run is given up. Workers start no new kernel call;
 *   calls in flight on other workers are waited for, each up to its own limit.
 *   Only calls past their limit are left running, and their threads end when the
 *   calls return (their results are dropped, not recorded in a checkpoint, so a
 *   resumed job runs them again). The run returns AMZ_ETIMEOUT with the
 *   diagnosis; under MPI every rank returns it, with the stuck rank's diagnosis.
 *   The plan is lost: its later runs return AMZ_ETIMEOUT, and amz_plan_destroy()
 *   leaves to the process what a stuck thread may still use (64 bytes per pool
 *   thread, the thread's stack, and in MPI map mode its staging buffer). The
 *   kernel's data must stay valid while a stuck call may still use it.
 * - AMZ_TIMEOUT_ABORT: the process calls abort() (a core file shows the stuck
 *   call), or under MPI MPI_Abort() on the plan's communicator with error code 124,
 *   so that the job ends instead of holding its allocation to the wall-clock limit.
 *
 * With a timeout every worker runs on a helper thread and the calling thread
 * watches (it sleeps, waking at most every 0.25 s). Sampling and every run of the
 * plan are watched; the user's kernel calls are, the library's own work between
 * them is not (hooks, checkpoint writes, MPI data movement), and a run given up
 * waits for it. A call's prediction is its items' cost in the sampled profile
 * times the measured contention. `AMZ_TIMEOUT` overrides this when the environment is used:
 * `off`, or a comma list of `SECONDS` (or `SECONDSs`), `FACTORx` and one of
 * `error`, `abort`: `AMZ_TIMEOUT=600`, `AMZ_TIMEOUT=20x,60s,abort`. Under MPI every
 * rank must pass the same timeout (else AMZ_ECONFLICT). Local; not thread-safe on
 * one opts.
 * @param seconds 0 (no seconds bound) or a bound in (0, 1e9].
 * @param factor 0 (no factor) or a factor in [1, 1e9].
 * @param action AMZ_TIMEOUT_ERROR or AMZ_TIMEOUT_ABORT.
 * @return 0, AMZ_EINVAL (NULL opts; a value out of range, NaN; an unknown action).
 */
AMZ_API int amz_options_set_timeout(amz_options_t *opts, double seconds, double factor,
                                    amz_timeout_action_t action);

/**
 * @brief Whether the environment overrides the options (default 1: it does, so
 *        operators can steer a binary without rebuilding it).
 *
 * When on, these variables, when set, win over what the options say: AMZ_WORKERS,
 * AMZ_RANKS, AMZ_SCHEDULE, AMZ_CHUNK, AMZ_RETRIES, AMZ_TIMEOUT, AMZ_CHECKPOINT,
 * AMZ_PROFILE, AMZ_PROFILE_OVERWRITE and AMZ_PROGRESS; a malformed value is
 * AMZ_EENV. When off, none of them is read. Two variables are read either way:
 * AMZ_CACHE_DIR is only the default of amz_options_set_cache_dir() (an explicit
 * cache directory wins), and AMZ_CHECKPOINT_NOLOCK=1 accepts a checkpoint on a
 * file system without locks.
 * @return 0, AMZ_EINVAL (NULL opts).
 */
AMZ_API int amz_options_set_use_env(amz_options_t *opts, int use_env);

/* ------------------------------------------------------------------------- */
/* Plan                                                                      */
/* ------------------------------------------------------------------------- */

/**
 * @brief Probe the machine, sample the kernel, model and choose how to run the task.
 *
 * Sampling executes real items (spread over the whole index range, in parallel):
 * they count as done, and the first amz_run of the plan skips them. The task is
 * copied except for `arg`, which must stay valid while the plan lives. The
 * environment's overrides (amz_options_set_use_env()) are read here.
 *
 * Local (no communication); not thread-safe with respect to the same task data only
 * in the sense that the kernel is called from several threads.
 * @param task the loop; task->fn must not be NULL.
 * @param opts may be NULL (defaults).
 * @param[out] plan receives the plan; destroy with amz_plan_destroy().
 * @return 0; AMZ_EINVAL (NULL task, fn or plan; options out of range), AMZ_EENV
 *   (malformed environment variable), AMZ_ECONFLICT (contradictory options),
 *   AMZ_ETOPO (hwloc failed), AMZ_ESYS (threads could not start), AMZ_ENOMEM,
 *   AMZ_EEXIST (the profile file exists and overwriting was not allowed), AMZ_EIO
 *   (the profile's directory is missing or not writable, or the checkpoint cannot
 *   be opened), AMZ_EFORMAT (the checkpoint file is not a checkpoint or is
 *   corrupt), AMZ_EMISMATCH (the checkpoint belongs to another task or N),
 *   AMZ_EBUSY (the checkpoint is in use by another process), AMZ_ETIMEOUT (with a
 *   timeout, a kernel call made while sampling did not return in time; see
 *   amz_options_set_timeout()), AMZ_ENOTSUP (a profile is asked for, but this
 *   build writes none or libamorsize_profile is not installed beside libamorsize).
 *   Kernel failures during sampling are not errors here: they are kept and
 *   reported by the first run.
 */
AMZ_API int amz_plan_create(const amz_task_t *task, const amz_options_t *opts,
                            amz_plan_t **plan);

/** @brief Workers (threads) the plan uses; 0 for a NULL plan. Local. */
AMZ_API int amz_plan_workers(const amz_plan_t *plan);
/** @brief Schedule the plan uses (never AUTO); AMZ_SCHED_AUTO for NULL. Local. */
AMZ_API amz_schedule_t amz_plan_schedule(const amz_plan_t *plan);
/**
 * @brief Chunk parameter of the plan (see amz_options_set_chunk); for STATIC the
 *        block size ceil(N / workers). 0 for NULL.
 */
AMZ_API uint64_t amz_plan_chunk(const amz_plan_t *plan);
/** @brief Predicted wall seconds of the next amz_run; -1 for NULL. */
AMZ_API double amz_plan_predicted_seconds(const amz_plan_t *plan);
/**
 * @brief The interval around amz_plan_predicted_seconds(): the next run's time falls
 *        inside [*lo_s, *hi_s] about 9 times in 10.
 *
 * It is made of the sampled cost level's standard error (with Student's quantile for
 * the blocks sampled; first runs only), the run-to-run variation (10%, or the plan's
 * own largest miss of its latest 8 reruns), the load of other processes seen while
 * sampling, and, above, the longest item seen coming last on a worker (first runs
 * only). It does not cover an item unlike any the sample saw, nor a machine that
 * changed between runs; docs/PREDICTIONS.md has the measured coverage.
 * Local; thread-safe against other readers, not against a running amz_run.
 * @return 0, or AMZ_EINVAL when an argument is NULL (nothing written).
 */
AMZ_API int amz_plan_predicted_interval(const amz_plan_t *plan, double *lo_s, double *hi_s);
/** @brief Predicted serial time / predicted time for all N items; -1 for NULL. */
AMZ_API double amz_plan_predicted_speedup(const amz_plan_t *plan);
/** @brief Items executed while sampling (done before the first run). */
AMZ_API uint64_t amz_plan_sampled_items(const amz_plan_t *plan);
/** @brief Wall seconds spent in probe + sample + plan. */
AMZ_API double amz_plan_setup_seconds(const amz_plan_t *plan);

/**
 * @brief What sampling measured of the kernel: the model's inputs, as the plan's
 *        explanation prints them under "Workload" (and a profile's /model holds).
 *        After a run, the cost figures are those the run refined.
 */
typedef struct amz_workload_info {
  uint64_t sampled_items;  /**< items run while sampling */
  double mean_item_s;      /**< mean cost of one item alone, seconds */
  double median_item_s;    /**< median cost of one item, seconds */
  double max_item_s;       /**< the costliest item seen, seconds */
  double cv;               /**< sd / mean of the sampled blocks' per-item costs */
  double rel_error;        /**< relative standard error of the mean when sampling stopped */
  double trend;            /**< relative cost change from item 0 to item N */
  double cpu_ratio;        /**< kernel CPU time / wall time: below 0.5 it waits, above 1.25
                                it runs threads of its own */
  double contention;       /**< per-item slowdown with all workers busy (>= 1) */
  int contention_workers;  /**< workers busy when the contention was measured */
  uint64_t reserved[4];    /**< Zero: room for later fields (see "Growth" above). */
} amz_workload_info_t;

/**
 * @brief The plan's measured workload. Local (an MPI plan's is the same on every
 *        rank); do not call it while the plan runs.
 * @return 0, AMZ_EINVAL (NULL argument).
 */
AMZ_API int amz_plan_workload(const amz_plan_t *plan, amz_workload_info_t *out);

/** @brief The modelled terms of a makespan, in seconds. */
typedef struct amz_terms {
  double startup;   /**< Waking the pool / starting threads. */
  double compute;   /**< Work divided by effective parallelism (contention included). */
  double dispatch;  /**< Chunk hand-out and recording on the critical worker. */
  double imbalance; /**< Tail: the last worker finishing after the mean. */
  double serial;    /**< Setup and result assembly outside the parallel region. */
  double total;     /**< Sum of all terms, data included. */
  /** Moving items' inputs and outputs between ranks (MPI map mode: bytes over the
   *  measured bandwidth plus messages times latency); 0 for threads in one process.
   *  Placed last so that code written for the five terms above keeps compiling. */
  double data;
  uint64_t reserved[4]; /**< Zero: room for later fields (see "Growth" above). */
} amz_terms_t;

/**
 * @brief Predicted terms of the next run.
 * @return 0, AMZ_EINVAL (NULL argument).
 */
AMZ_API int amz_plan_terms(const amz_plan_t *plan, amz_terms_t *out);

/** @brief One evaluated alternative of the plan search. */
typedef struct amz_candidate {
  int workers;              /**< Threads (per rank for MPI plans). */
  amz_schedule_t schedule;  /**< Schedule. */
  uint64_t chunk;           /**< Chunk parameter, items (size or minimum; 0 for static). */
  double predicted_s; /**< Predicted time of a full run of all N items. */
  amz_terms_t terms;        /**< The predicted terms of that run. */
  /** MPI plans: ranks used, each running `workers` threads; 1 for plans made by
   *  amz_plan_create(). */
  int ranks;
  uint64_t reserved[4]; /**< Zero: room for later fields (see "Growth" above). */
} amz_candidate_t;

/** @brief Number of candidates evaluated (the chosen one included). */
AMZ_API size_t amz_plan_candidate_count(const amz_plan_t *plan);
/**
 * @brief Candidate i, sorted by predicted time (fastest first).
 * @return 0, AMZ_EINVAL (NULL), AMZ_ERANGE (i >= count).
 */
AMZ_API int amz_plan_candidate(const amz_plan_t *plan, size_t i, amz_candidate_t *out);

/**
 * @brief Print the explanation of the decision: workload, resources, decision,
 *        prediction with the overhead breakdown, best rejected alternatives and why,
 *        constraints, recommendations.
 * @return 0, AMZ_EINVAL (NULL plan or out), AMZ_EIO (write failed).
 */
AMZ_API int amz_plan_explain(const amz_plan_t *plan, FILE *out);

/** @brief Destroy a plan and its thread pool; NULL accepted. Not while running. */
AMZ_API void amz_plan_destroy(amz_plan_t *plan);

/* ------------------------------------------------------------------------- */
/* Run                                                                       */
/* ------------------------------------------------------------------------- */

/**
 * @brief Run the task as planned.
 *
 * The first run executes every item not executed while sampling; later runs execute
 * all items, and each run refines the plan's cost model from what it measured (the
 * plan's choice may change for the next run unless fixed by options).
 * Not thread-safe on the same plan (AMZ_EBUSY if called concurrently).
 * @param[out] result receives the result (also when AMZ_EITEMS, AMZ_EIO or AMZ_EEXIST
 *             is returned); destroy with amz_result_destroy().
 * @return 0; AMZ_EITEMS (some ranges failed; the result lists them); AMZ_EIO or
 *   AMZ_EEXIST (the run completed but its profile could not be written: the
 *   result is valid, amz_last_error() says why; AMZ_EIO also when the checkpoint
 *   records could not all be written); AMZ_EINVAL (NULL argument);
 *   AMZ_ETIMEOUT (with a timeout, a kernel call did not return in time, now or in
 *   an earlier run of this plan: no result; see amz_options_set_timeout());
 *   AMZ_EBUSY; AMZ_ESYS; AMZ_ENOMEM.
 */
AMZ_API int amz_run(amz_plan_t *plan, amz_result_t **result);

/**
 * @brief amz_plan_create + amz_run + amz_plan_destroy in one call.
 *
 * The result covers all N items, sampled ones included; its setup time is the plan's.
 * @return as amz_plan_create and amz_run.
 */
AMZ_API int amz_for(const amz_task_t *task, const amz_options_t *opts,
                    amz_result_t **result);

/* ------------------------------------------------------------------------- */
/* Result                                                                    */
/* ------------------------------------------------------------------------- */

/** @brief Wall seconds of the run (probe/sample/plan excluded); -1 for NULL. */
AMZ_API double amz_result_seconds(const amz_result_t *result);
/** @brief Predicted wall seconds for this run; -1 for NULL. */
AMZ_API double amz_result_predicted_seconds(const amz_result_t *result);
/**
 * @brief The interval the plan gave this run's prediction (see
 *        amz_plan_predicted_interval()): whether amz_result_seconds() fell inside it
 *        says whether the run went as the measurements promised.
 * Local; thread-safe (the result is not changed).
 * @return 0, or AMZ_EINVAL when an argument is NULL (nothing written).
 */
AMZ_API int amz_result_predicted_interval(const amz_result_t *result, double *lo_s,
                                          double *hi_s);
/** @brief Seconds of probe + sample + plan included in this result (amz_for, or a
 *         plan's first run), else 0. */
AMZ_API double amz_result_setup_seconds(const amz_result_t *result);
/** @brief Items completed successfully (sampled ones included on a first run). */
AMZ_API uint64_t amz_result_items_done(const amz_result_t *result);
/** @brief Items in failed ranges. done + failed = N on every run. */
AMZ_API uint64_t amz_result_items_failed(const amz_result_t *result);
/** @brief Workers used by the run. */
AMZ_API int amz_result_workers(const amz_result_t *result);
/** @brief Items an earlier job completed, read from the checkpoint and not run
 *         again (counted in amz_result_items_done()); 0 without a checkpoint or for
 *         NULL. MPI: global. */
AMZ_API uint64_t amz_result_items_resumed(const amz_result_t *result);
/** @brief Items that failed once and succeeded when run again (retries); 0 for
 *         NULL. MPI: global. */
AMZ_API uint64_t amz_result_items_recovered(const amz_result_t *result);
/** @brief Kernel calls made to isolate and retry failures; 0 for NULL. MPI: global. */
AMZ_API uint64_t amz_result_retry_calls(const amz_result_t *result);

/** @brief Number of failed ranges. */
AMZ_API size_t amz_result_failure_count(const amz_result_t *result);
/**
 * @brief Failed range i (sorted by begin) and the kernel's code.
 * @param[out] begin, end, code receive the range and the code; each may be NULL
 *             when not wanted.
 * @return 0, AMZ_EINVAL (NULL result), AMZ_ERANGE (i >= count).
 */
AMZ_API int amz_result_failure(const amz_result_t *result, size_t i, uint64_t *begin,
                               uint64_t *end, int *code);

/**
 * @brief Number of recorded chunks (sampling blocks of a first run included).
 *
 * Sampling blocks have negative times (they ran before the run started) and may name
 * a worker index up to the number of workers used for sampling, which can exceed
 * amz_result_workers(). At most 2^20 chunks are recorded per run; per-worker totals
 * (amz_result_worker) always count every chunk.
 */
AMZ_API size_t amz_result_chunk_count(const amz_result_t *result);
/**
 * @brief Recorded chunk i (ordered by worker, then by time).
 * @return 0, AMZ_EINVAL, AMZ_ERANGE.
 */
AMZ_API int amz_result_chunk(const amz_result_t *result, size_t i,
                             amz_chunk_info_t *out);

/** @brief Per-worker totals of a run. */
typedef struct amz_worker_stats {
  uint64_t items;    /**< Items executed (failed included). */
  uint64_t chunks;   /**< Chunks executed. */
  uint64_t failures; /**< Failed ranges. */
  double busy_s;     /**< Time inside the kernel. */
  double dispatch_s; /**< Time between chunks: hand-out, recording, hooks. */
  double idle_s;     /**< Time waiting: start-up delay and the end-of-run tail. */
  /** Items this worker ran from other workers' static blocks (AMZ_SCHED_STATIC: a
   *  worker that has finished its own takes the back half of the largest
   *  unclaimed rest); at most `items`, each item counted once over the workers; 0
   *  for other schedules and for fixed blocks. */
  uint64_t taken;
  uint64_t reserved[3]; /**< Zero: room for later fields (see "Growth" above). */
} amz_worker_stats_t;

/** @brief Per-worker totals of worker w. @return 0, AMZ_EINVAL, AMZ_ERANGE. */
AMZ_API int amz_result_worker(const amz_result_t *result, int w,
                              amz_worker_stats_t *out);

/**
 * @brief Measured terms of the run, comparable with amz_plan_terms().
 * @return 0, AMZ_EINVAL.
 */
AMZ_API int amz_result_terms(const amz_result_t *result, amz_terms_t *out);

/**
 * @brief Print actual vs. predicted per term, the per-worker (and, MPI, per-rank)
 *        tables and the run's findings ("Bottlenecks": failures, ranks, start-up,
 *        dispatch, imbalance, data movement, serial part, memory, contention, too
 *        little work, prediction, with severities and advice; the same findings as
 *        amz_result_finding()).
 * @return 0, AMZ_EINVAL (NULL), AMZ_EIO (write failed).
 */
AMZ_API int amz_result_explain(const amz_result_t *result, FILE *out);

/* ------------------------------------------------------------------------- */
/* Findings: the bottleneck analysis as data                                 */
/* ------------------------------------------------------------------------- */

/**
 * @brief What a finding is about. One rule of the bottleneck analysis each (the
 *        binding kind has two: ranks whose CPU sets overlap, and CPUs no rank may
 *        use). amz_finding_kind_name() gives the name the reports print.
 */
typedef enum amz_finding_kind {
  AMZ_FINDING_FAILURES = 0,     /**< items failed; value: failed items */
  AMZ_FINDING_RANKS,            /**< ranks end before the last one; value: mean lead over the last end */
  AMZ_FINDING_STARTUP,          /**< workers started late; value: start-up share of the wall */
  AMZ_FINDING_DISPATCH,         /**< time between chunks; value: its share of the wall */
  AMZ_FINDING_IMBALANCE,        /**< workers idle at the end; value: its share of the wall */
  AMZ_FINDING_DATA,             /**< items' data moved between ranks; value: share of the wall */
  AMZ_FINDING_SERIAL,           /**< time outside the parallel region; value: share of the wall */
  AMZ_FINDING_MEMORY,           /**< items slower with all cores busy; value: contention - 1 */
  AMZ_FINDING_OVERSUBSCRIPTION, /**< more workers than cores on a node; value: workers / cores */
  AMZ_FINDING_BINDING,          /**< a binding wastes or shares CPUs; value: idle CPU share */
  AMZ_FINDING_CONTENTION,       /**< items ran slower than sampled; value: slowdown - 1 */
  AMZ_FINDING_TOO_LITTLE_WORK,  /**< the loop is too short; value: predicted serial seconds */
  AMZ_FINDING_PREDICTION,       /**< the prediction missed; value: (measured - predicted) / predicted */
  AMZ_FINDING_RECORD_BOUND,     /**< chunks beyond the record bound; value: chunks not recorded */
  AMZ_FINDING_WAITING_KERNEL,   /**< the kernel mostly waits; value: its CPU/wall ratio */
  AMZ_FINDING_THREADED_KERNEL,  /**< the kernel runs threads of its own; value: CPU/wall */
  AMZ_FINDING_SLOW_WORKER,      /**< one worker ran its items slower than the others (another
                                     process on its core, a slower core or node); value: 1 -
                                     its speed over the other workers' median; share: the part of the
                                     run the slower workers cost */
  AMZ_FINDING_KIND_COUNT        /**< the number of kinds (not a kind) */
} amz_finding_kind_t;

/** @brief How much a finding costs the run. INFO findings are notes, not bottlenecks. */
typedef enum amz_severity {
  AMZ_SEVERITY_INFO = 0, /**< a note: no threshold, no cost claimed */
  AMZ_SEVERITY_LOW,      /**< above the rule's first threshold */
  AMZ_SEVERITY_MEDIUM,   /**< above its second */
  AMZ_SEVERITY_HIGH      /**< above its third */
} amz_severity_t;

/**
 * @brief One finding of a run's bottleneck analysis, as amz_result_explain() and
 *        `amorsize report` print it ("[SEVERITY] text").
 *
 * The caller owns the struct (amz_result_finding() fills it); `text` belongs to the
 * result (or profile) and lives until it is destroyed. A graded rule has three
 * thresholds of `value` (LOW, MEDIUM, HIGH: the severity is the highest one reached);
 * "too little work" grades downwards (MEDIUM below thresholds[1] seconds, HIGH below
 * thresholds[2]); the two kernel notes have their CPU/wall limit in thresholds[0];
 * unused thresholds are NaN.
 */
typedef struct amz_finding {
  amz_finding_kind_t kind;  /**< the rule */
  amz_severity_t severity;  /**< how much it costs */
  double share;             /**< fraction of the wall time it costs; NaN when not a time share */
  double value;             /**< the measured figure the rule judged (see amz_finding_kind_t) */
  double thresholds[3];     /**< LOW, MEDIUM, HIGH thresholds of value; NaN where none */
  const char *text;         /**< the finding with its advice, one line, no "[SEVERITY] " */
  uint64_t reserved[4]; /**< Zero: room for later fields (see "Growth" above). */
} amz_finding_t;

/**
 * @brief Number of findings of a run, INFO notes included (0 for NULL, for a rank
 *        the MPI plan excluded, and for a run with nothing to report). Local.
 */
AMZ_API size_t amz_result_finding_count(const amz_result_t *result);

/**
 * @brief Finding i of a run, in the order amz_result_explain() prints them (failures
 *        first, notes last). Local; safe from any thread while no one destroys the
 *        result.
 * @return 0, AMZ_EINVAL (NULL result or out), AMZ_ERANGE (i >= the count).
 */
AMZ_API int amz_result_finding(const amz_result_t *result, size_t i, amz_finding_t *out);

/** @brief The name of a kind as the reports print it ("dispatch", "data movement"),
 *         or "unknown". */
AMZ_API const char *amz_finding_kind_name(amz_finding_kind_t kind);

/**
 * @brief The thresholds of a kind's value, as its findings carry them (NaN where the
 *        rule has none), so that a program can say how far a run is from a finding
 *        it did not get. Local; thread-safe.
 * @return 0, AMZ_EINVAL (NULL out, or kind not one of amz_finding_kind_t).
 */
AMZ_API int amz_finding_thresholds(amz_finding_kind_t kind, double out[3]);

/** @brief "INFO", "LOW", "MEDIUM" or "HIGH"; "unknown" for another value. */
AMZ_API const char *amz_severity_name(amz_severity_t severity);

/**
 * @brief The profile file this run wrote (amz_options_set_profile()), or NULL when
 *        none was asked for or it could not be written. Owned by the result. Local.
 */
AMZ_API const char *amz_result_profile_path(const amz_result_t *result);

/** @brief Destroy a result; NULL accepted. */
AMZ_API void amz_result_destroy(amz_result_t *result);

#ifdef __cplusplus
}
#endif

#endif /* AMORSIZE_H */
