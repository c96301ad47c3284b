/**
 * @file amorsize_profile.h
 * @brief Reading Amorsize HDF5 profiles back (schema version 1).
 *
 * A run writes a profile when amz_options_set_profile() or `AMZ_PROFILE` names a file
 * (see amorsize.h). This header reads such a file into memory and hands out its
 * tables as plain C arrays; the `amorsize` command-line tool is built on it. The
 * layout of the file itself, field by field with units, is in docs/PROFILE_FORMAT.md,
 * for readers in other languages (h5py, pandas, h5dump, HDFView).
 *
 * Conventions (as in amorsize.h):
 * - Calls return 0 or a negative `AMZ_E*` code; amz_last_error() gives the detail,
 *   which names the file and what was wrong with it ("run.h5: truncated: 4096 of
 *   81920 bytes").
 * - A profile handle is read-only after amz_profile_open(): the accessors may be
 *   called from any number of threads at once. Every pointer they return is owned
 *   by the handle and valid until amz_profile_close().
 * - All calls are local: reading needs no MPI and no running plan.
 *
 * Integrity: the writer seals each file with a 512-byte text header (an HDF5 user
 * block, which HDF5 tools skip) holding the schema version, the file's length and a
 * CRC-32 of everything after the header. amz_profile_open() checks it before HDF5
 * parses anything, so a truncated or damaged file is refused with AMZ_EFORMAT instead
 * of reaching the HDF5 library's parser. Then every dataset and attribute is checked
 * for its type, shape and value ranges. (A file crafted to pass the checksum reaches
 * HDF5, whose own metadata checksums catch most damage; the fuzz tests run such
 * files, docs/PROFILE_FORMAT.md says what they found.)
 */
#ifndef AMORSIZE_PROFILE_H
#define AMORSIZE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "amorsize.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The schema version this library writes and the newest it reads. */
#define AMZ_PROFILE_SCHEMA_VERSION 1

/** A profile read into memory (opaque). */
typedef struct amz_profile amz_profile_t;

/** amz_profile_open() flag: skip the CRC-32 check. Only for files changed on purpose
 *  after writing (an attribute added with h5py, say); a damaged file then reaches
 *  the HDF5 parser, which is not hardened against hostile input. */
#define AMZ_PROFILE_NO_VERIFY 1u

/**
 * @brief Reads and checks a profile.
 * @param path  file to read.
 * @param flags 0 or AMZ_PROFILE_NO_VERIFY.
 * @param out   receives the handle; NULL on failure. Close it with amz_profile_close().
 * @return 0; AMZ_EINVAL (NULL path or out, unknown flag); AMZ_EIO (cannot open or
 *         read the file: the detail has the system's reason); AMZ_EFORMAT (not an
 *         Amorsize profile: foreign or plain HDF5 file, truncated or damaged file,
 *         schema newer than AMZ_PROFILE_SCHEMA_VERSION, a missing or mistyped field,
 *         a value out of range); AMZ_ENOMEM; AMZ_ENOTSUP (a build configured with
 *         AMORSIZE_PROFILE=OFF, which reads no profiles, or libamorsize_profile,
 *         which libamorsize loads from its own directory on the first call, missing
 *         there or of another version: the detail names the file).
 */
AMZ_API int amz_profile_open(const char *path, unsigned flags, amz_profile_t **out);

/** @brief Frees the handle and everything it handed out. Accepts NULL. */
AMZ_API void amz_profile_close(amz_profile_t *profile);

/** The root attributes: what ran, how, and how long it took. Strings are never NULL
 *  ("" when absent). */
typedef struct amz_profile_info {
  int schema_version;          /**< 1 */
  const char *library_version; /**< Amorsize version that wrote the file, "0.1.0" */
  const char *created;         /**< UTC time the file was written, ISO 8601 */
  const char *task;            /**< the task's name */
  const char *kind;            /**< "threads" (amz_run) or "mpi" (amz_mpi_run) */
  const char *mode;            /**< "range" or "map" (MPI map mode) */
  const char *schedule;        /**< schedule name, amz_schedule_name() */
  const char *command_line;    /**< the program's arguments, space-separated */
  const char *host;            /**< host name of rank 0 */
  const char *slurm_job_id;    /**< SLURM_JOB_ID, "" when not under Slurm */
  const char *plan_why;        /**< the planner's one-line reason for its choice */
  uint64_t n_items;            /**< N */
  uint64_t chunk;              /**< chunk parameter (size or minimum; 0 for static) */
  uint64_t items_done;         /**< all ranks, sampled items included */
  uint64_t items_failed;       /**< all ranks */
  uint64_t sampled_items;      /**< executed while sampling (first run only) */
  uint64_t chunks_total;       /**< chunks the run executed (sampling blocks not included) */
  uint64_t chunks_dropped;     /**< of those, chunks beyond the record bound: not in the
                                    chunk table (0 unless a rank ran over 2^20 chunks) */
  int run_index;               /**< 1 = first run of its plan */
  int ranks_launched;          /**< ranks in the communicator (1 without MPI) */
  int ranks_used;              /**< ranks that ran (1 without MPI) */
  int nodes;                   /**< nodes the used ranks span */
  int threads;                 /**< threads per rank */
  double wall_s;               /**< measured run time, seconds */
  double predicted_s;          /**< predicted run time, seconds */
  double predicted_serial_s;   /**< predicted time of all N items on one thread */
  double setup_s;              /**< probe + sampling + planning before the first run */
  double mean_item_s;          /**< sampled mean cost of one item alone, seconds */
  const char *slurm;           /**< the job's SLURM_* variables as "NAME=value" lines
                                    (job name, partition, nodes, tasks, CPUs per task,
                                    binding, memory, array ids); "" when absent */
  uint64_t items_resumed;      /**< completed by earlier jobs (read from the checkpoint,
                                    not run again; counted in items_done) */
  uint64_t items_recovered;    /**< failed once, then succeeded when run again (retries) */
  uint64_t retry_calls;        /**< kernel calls made to isolate and retry failures */
  const char *checkpoint;      /**< checkpoint file of the run, "" when none */
  const char *mpi_library;     /**< the MPI library that ran: the first line of
                                    MPI_Get_library_version() and the MPI standard
                                    version, "Open MPI v4.1.4, ... (MPI 3.1)"; "" for
                                    threads-only runs and files written before it */
  double predicted_lo_s;       /**< the prediction's interval, low end, seconds; 0 with
                                    predicted_hi_s 0 in files written before intervals */
  double predicted_hi_s;       /**< the interval's high end, seconds (9 runs in 10 are
                                    meant to fall inside) */
  const char *predicted_widest; /**< the interval's widest part in words ("sampling
                                    error", ...); "" in files written before it */
} amz_profile_info_t;

/** @brief The root attributes. NULL only for a NULL handle. */
AMZ_API const amz_profile_info_t *amz_profile_info(const amz_profile_t *profile);

/** One executed chunk (a row of /chunks). Sampling blocks have negative times: they
 *  ran before the run started. */
typedef struct amz_profile_chunk {
  int rank;       /**< rank in the plan's communicator (0 without MPI) */
  int thread;     /**< thread within the rank; 0 = the calling thread (with a timeout,
                       a helper thread too) */
  int node;       /**< node index of the rank */
  int status;     /**< 0, or the kernel's first non-zero code in the chunk */
  int sampled;    /**< 1 for a block run while sampling (before the run) */
  uint64_t begin; /**< first item */
  uint64_t end;   /**< one past the last item */
  double t_start; /**< seconds since the run started */
  double t_end;   /**< seconds since the run started */
} amz_profile_chunk_t;

/** @brief The chunk table, ordered by rank, thread, then start time.
 *  @param rows receives the rows (may be NULL to count only).
 *  @return the number of rows; 0 for a NULL handle. */
AMZ_API size_t amz_profile_chunks(const amz_profile_t *profile, const amz_profile_chunk_t **rows);

/** One worker (a thread of a rank; a row of /workers). */
typedef struct amz_profile_worker {
  int rank;           /**< rank in the plan's communicator (0 without MPI) */
  int thread;         /**< thread within the rank */
  int node;           /**< node index: a row of amz_profile_nodes() */
  uint64_t items;     /**< items executed in the run (sampling not included) */
  uint64_t chunks;    /**< chunks executed */
  uint64_t failures;  /**< failed ranges */
  double busy_s;      /**< inside the kernel */
  double dispatch_s;  /**< between chunks: hand-out, recording, hooks */
  double idle_s;      /**< waiting: start-up delay and the end-of-run tail */
  double data_s;      /**< moving data inside kernel calls (MPI map mode) */
  uint64_t taken;     /**< of items, those run from other workers' static blocks, which
                           this worker took once its own was done (static schedule; 0
                           otherwise and in files written before the field existed) */
} amz_profile_worker_t;

/** @brief The worker table, ordered by rank then thread. @return the row count. */
AMZ_API size_t amz_profile_workers(const amz_profile_t *profile,
                                   const amz_profile_worker_t **rows);

/** One candidate plan the planner considered (a row of /plan/candidates). */
typedef struct amz_profile_candidate {
  int ranks;            /**< ranks used */
  int threads;          /**< threads per rank */
  const char *schedule; /**< schedule name */
  uint64_t chunk;       /**< chunk parameter, items */
  double predicted_s;   /**< predicted time of a full run of all N items */
  amz_terms_t terms;    /**< its predicted terms */
  int chosen;           /**< 1 for the plan that ran */
} amz_profile_candidate_t;

/** @brief The candidates, fastest first. @return the row count. */
AMZ_API size_t amz_profile_candidates(const amz_profile_t *profile,
                                      const amz_profile_candidate_t **rows);

/** One term of the cost model (a row of /overheads): what the model predicted for
 *  this run and what was measured. */
typedef struct amz_profile_term {
  const char *name;   /**< "startup", "compute", "dispatch", "imbalance", "serial",
                           "data", "total" */
  double predicted_s; /**< predicted for this run, seconds */
  double measured_s;  /**< measured (per-worker mean), seconds */
} amz_profile_term_t;

/** @brief The terms, in the order above. @return the row count (7). */
AMZ_API size_t amz_profile_terms(const amz_profile_t *profile, const amz_profile_term_t **rows);

/** One node (a row of /system). */
typedef struct amz_profile_node {
  int node;             /**< node index (nodes numbered by their lowest rank) */
  const char *host;     /**< host name */
  const char *cpu_model; /**< CPU model, as probed by rank 0 */
  int ranks;            /**< ranks launched on the node */
  int ranks_used;       /**< ranks of the run on the node */
  int cores;            /**< cores the node's ranks may use together */
  int pus;              /**< processing units of the machine */
  int numa_nodes;       /**< NUMA nodes (rank 0's machine) */
  int shared;           /**< 1 when ranks' bindings overlap (oversubscribed) */
  uint64_t mem_bytes;   /**< RAM (or the cgroup limit when lower) */
  int pus_bound;        /**< processing units in at least one of the node's ranks'
                             bindings (threads: the process's); below `pus`, the
                             launcher left CPUs to no rank. 0 when not recorded
                             (files written before this field) */
} amz_profile_node_t;

/** @brief The node table. @return the row count. */
AMZ_API size_t amz_profile_nodes(const amz_profile_t *profile, const amz_profile_node_t **rows);

/** One failed range (a row of /failures). */
typedef struct amz_profile_failure {
  uint64_t begin;       /**< first failed item */
  uint64_t end;         /**< one past the last */
  int code;             /**< the kernel's return value */
} amz_profile_failure_t;

/** @brief The failed ranges, sorted. @return the row count. */
AMZ_API size_t amz_profile_failures(const amz_profile_t *profile,
                                    const amz_profile_failure_t **rows);

/**
 * @brief Number of findings of the profiled run: the bottleneck analysis that
 *        `amorsize report` prints, judged when the profile was opened by the same
 *        rules and thresholds as amz_result_finding() (see amz_finding_t). 0 for NULL.
 */
AMZ_API size_t amz_profile_finding_count(const amz_profile_t *profile);

/**
 * @brief Finding i, in the report's order. Its text lives until amz_profile_close();
 *        a failures finding quotes the path the profile was opened with.
 * @return 0, AMZ_EINVAL (NULL profile or out), AMZ_ERANGE (i >= the count).
 */
AMZ_API int amz_profile_finding(const amz_profile_t *profile, size_t i, amz_finding_t *out);

/** The model's inputs (/model): sample statistics and the measured machine costs. */
typedef struct amz_profile_model {
  uint64_t sampled_items; /**< items run while sampling */
  uint64_t sample_blocks; /**< blocks they ran in */
  uint64_t block_items;   /**< items per block */
  double mean_s;         /**< mean cost of one item alone, seconds */
  double median_s;       /**< median cost of one item, seconds */
  double mad_s;          /**< median absolute deviation of the item cost, seconds */
  double cv;             /**< sd / mean of per-item block costs */
  double max_item_s;     /**< the costliest sampled item (per-item cost of its block) */
  double trend;          /**< relative cost change from item 0 to item N */
  double cpu_ratio;      /**< kernel CPU time / wall time */
  double contention;     /**< per-item slowdown with all workers busy; >= 1 */
  double rel_error;      /**< relative standard error of mean_s when sampling stopped */
  double sample_wall_s;  /**< wall time of sampling */
  const char *stop_reason; /**< why sampling stopped */
  double thread_start_s; /**< measured: start and join one thread, seconds */
  double pool_wake_s;    /**< measured: wake the thread pool, seconds */
  double chunk_static_s; /**< measured per chunk: preassigned schedules */
  double chunk_atomic_s; /**< measured per chunk: shared counter, alone */
  double chunk_contended_s; /**< measured per chunk: shared counter, all workers */
  double chunk_awf_s;    /**< measured per chunk: AWF */
  double latency_shm_s;  /**< MPI: latency inside a node, seconds; 0 = n/a */
  double bandwidth_shm;  /**< MPI: bandwidth inside a node, bytes/s; 0 = n/a */
  double latency_net_s;  /**< MPI: latency between nodes, seconds; 0 = one node */
  double bandwidth_net;  /**< MPI: bandwidth between nodes, bytes/s; 0 = one node */
  double counter_s;                    /**< MPI: node-shared counter operation */
  size_t bins;                         /**< entries of cost_profile */
  const double *cost_profile; /**< per-item cost (s) in equal bins over [0, N) */
} amz_profile_model_t;

/** @brief The model's inputs. NULL only for a NULL handle. */
AMZ_API const amz_profile_model_t *amz_profile_model(const amz_profile_t *profile);

#ifdef __cplusplus
}
#endif

#endif /* AMORSIZE_PROFILE_H */
