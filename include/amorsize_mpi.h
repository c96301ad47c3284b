/**
 * @file amorsize_mpi.h
 * @brief Amorsize across MPI ranks and nodes (library target amorsize::mpi).
 *
 * The same pipeline as amorsize.h (probe, sample, model, plan, run), extended to a
 * cluster: the plan chooses how many of the launched ranks to use, threads per
 * rank, and the schedule and chunk of the items across nodes.
 *
 * - Ranks are grouped into nodes with MPI_Comm_split_type(MPI_COMM_TYPE_SHARED).
 * - Sampling runs on all ranks at once, each on its share of stratified items; the
 *   statistics are exchanged so that every rank computes the same plan (the plan's
 *   fingerprint is compared across ranks; a mismatch is an AMZ_EMPI error).
 * - Static and cyclic schedules run with no messages. Dynamic ones (dynamic,
 *   guided, factoring; awf maps to factoring chunks) take chunks from a node-local
 *   shared counter and refill nodes in batches over two-sided messages, sized by
 *   weighted factoring from each node's measured speed. Refills across nodes are
 *   served by a sleeping progress thread on rank 0, so a computing rank never
 *   starves another node; this needs MPI_THREAD_MULTIPLE. With a lower thread
 *   level, batches are dealt to nodes round-robin in advance (no messages).
 *
 * Rules: the library never calls MPI_Init or MPI_Finalize; MPI must be initialized
 * before any call here. It duplicates the communicator it is given. It prints
 * nothing. Every collective call returns the same status on every rank that takes
 * part; MPI failures are reported as AMZ_EMPI with the MPI error string in
 * amz_last_error().
 *
 * Plans made here are destroyed with amz_plan_destroy(), which is then *collective*
 * over the plan's communicator (it frees communicators and a shared window).
 * amz_run() refuses them with AMZ_EINVAL: run them with amz_mpi_run().
 */
#ifndef AMORSIZE_MPI_H
#define AMORSIZE_MPI_H

#include <mpi.h>

#include "amorsize.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Plan a loop over the ranks of comm. *Collective over comm.*
 *
 * Every rank passes the same task (same n_items; fn and arg are each rank's own)
 * and equivalent options: workers, ranks, schedule, chunk, retries and sampling
 * (options or environment) are compared, and a difference makes every rank return
 * AMZ_ECONFLICT naming the option. The profile and checkpoint paths are rank 0's;
 * every rank writes its own records into rank 0's checkpoint file (one file).
 * Ranks the plan does not need are told so by
 * amz_plan_ranks() and amz_mpi_plan_used(); amz_plan_explain() on any rank says why.
 * amz_plan_workers() is the number of threads per rank.
 *
 * Sampled items are real work: each is executed once, on the rank that sampled it,
 * and never again (amz_mpi_gather_items() collects their outputs too).
 *
 * @param comm  a communicator; duplicated, the caller keeps ownership.
 * @param task  the loop; copied (name duplicated).
 * @param opts  may be NULL (all defaults); read, not kept.
 * @param[out] plan receives the plan; destroy with amz_plan_destroy (collective).
 * @return 0; AMZ_EINVAL (NULL argument, NULL task->fn, MPI not initialized or
 *         already finalized, an intercommunicator, ranks option above the ranks
 *         launched, n_items differing between ranks); AMZ_EENV (malformed environment
 *         variable); AMZ_ENOMEM; AMZ_ESYS (threads); AMZ_ETOPO (hwloc); AMZ_EMPI (an
 *         MPI call failed, or the ranks computed different plans); AMZ_ECONFLICT
 *         (options or the task name differ between ranks; a checkpoint in map mode); AMZ_EEXIST or AMZ_EIO (the profile file
 *         exists or cannot be created); AMZ_EIO, AMZ_EFORMAT, AMZ_EMISMATCH or
 *         AMZ_EBUSY (the checkpoint cannot be opened, is not a checkpoint, belongs
 *         to another task or N, or is in use); AMZ_ETIMEOUT (with a timeout, a
 *         kernel call made while sampling did not return in time on some rank).
 *         Every rank returns the same code.
 */
AMZ_API int amz_mpi_plan_create(MPI_Comm comm, const amz_task_t *task,
                                const amz_options_t *opts, amz_plan_t **plan);

/**
 * @brief Run the plan once. *Collective over the plan's communicator.*
 *
 * Ranks the plan excludes wait, asleep, until the run has ended (a message from the
 * run's first rank, tested with a pause growing to 1% of the wait): returning at once
 * would send them into the caller's next blocking MPI call, which in Open MPI polls
 * a core the running ranks use. Their result's amz_result_mpi_excluded() is 1.
 * amz_result_items_done(), amz_result_items_failed() and amz_result_seconds() are
 * global, the same value on every rank, excluded ones included; the
 * amz_result_local_* accessors give this rank's part. An excluded rank
 * (amz_mpi_plan_used() == 0) may skip the call: amz_plan_destroy() then receives
 * the totals it was sent. amz_result_chunk() lists this rank's chunks. Hooks run on each rank for its own
 * chunks; the progress hook's items_done is this rank's count times the ranks
 * running (an estimate of the whole run, exact when the ranks go at one pace).
 *
 * @param plan a plan from amz_mpi_plan_create().
 * @param[out] result receives the result (also on AMZ_EITEMS); destroy with
 *             amz_result_destroy (local).
 * @return 0; AMZ_EINVAL (NULL, or a plan not made by amz_mpi_plan_create);
 *         AMZ_EBUSY (the plan is running on another thread); AMZ_EITEMS (some
 *         ranges failed on some rank: every running rank returns it, with the
 *         same failure list); AMZ_EIO (the run completed but the profile or some
 *         rank's checkpoint records could not be written); AMZ_ETIMEOUT (with a
 *         timeout, a kernel call did not return in time on some rank: every
 *         running rank returns it, with that rank's diagnosis); AMZ_ENOMEM;
 *         AMZ_ESYS; AMZ_EMPI.
 */
AMZ_API int amz_mpi_run(amz_plan_t *plan, amz_result_t **result);

/**
 * @brief Plan and run once, then destroy the plan. *Collective over comm.*
 * @return as amz_mpi_plan_create() and amz_mpi_run(); *result is NULL on errors
 *         other than AMZ_EITEMS.
 */
AMZ_API int amz_mpi_for(MPI_Comm comm, const amz_task_t *task, const amz_options_t *opts,
                        amz_result_t **result);

/** @brief Ranks the plan uses (1 for plans of amz_plan_create); 0 for NULL. *Local.* */
AMZ_API int amz_plan_ranks(const amz_plan_t *plan);

/** @brief 1 when the calling rank takes part in the plan's runs, else 0. *Local.* */
AMZ_API int amz_mpi_plan_used(const amz_plan_t *plan);

/* ------------------------------------------------------------------------- */
/* Map mode: inputs on rank 0 in, outputs to rank 0 out                       */
/* ------------------------------------------------------------------------- */

/**
 * @brief Map kernel: items [begin, end) with their inputs (bytes_in each,
 *        contiguous, item begin first) and room for their outputs (bytes_out each).
 *        Returns 0 or a non-zero failure code, as amz_range_fn.
 */
typedef int (*amz_map_fn)(uint64_t begin, uint64_t end, const void *in, void *out,
                          void *arg);

/**
 * @brief A loop whose item data lives on rank 0.
 *
 * Rank 0 passes `input` (n_items * bytes_in bytes) and `output` (n_items *
 * bytes_out bytes); other ranks pass NULL for both (they are ignored there). The
 * library moves each chunk's inputs to the rank that runs it and its outputs back
 * to rank 0 in item order; the cost model counts those bytes with the measured
 * bandwidth. The outputs of a range whose kernel call failed are not defined
 * (those from other ranks are not copied back; rank 0's own keep what its kernel
 * wrote).
 */
typedef struct amz_map_task {
  const char *name;  /**< Label; may be NULL. */
  uint64_t n_items;  /**< Number of items; the same on every rank. */
  size_t bytes_in;   /**< Input bytes per item (0 = none). */
  size_t bytes_out;  /**< Output bytes per item (0 = none). */
  const void *input; /**< Rank 0: n_items * bytes_in bytes; read only. */
  void *output;      /**< Rank 0: n_items * bytes_out bytes; written. */
  amz_map_fn fn;     /**< The kernel; must not be NULL. */
  void *arg;         /**< Passed unchanged to fn. */
} amz_map_task_t;

/**
 * @brief Plan a map-mode loop. *Collective over comm.* As amz_mpi_plan_create();
 *        with more than one rank it needs MPI_THREAD_MULTIPLE (rank 0 serves data
 *        from a progress thread), else AMZ_EMPI names the thread level found.
 *        The task's buffers must stay valid until the plan is destroyed.
 * @return as amz_mpi_plan_create(); AMZ_EINVAL also for NULL buffers on rank 0 with
 *         non-zero sizes, for bytes_in or bytes_out differing between ranks, and
 *         when some ranks call this and others amz_mpi_plan_create() (every rank
 *         returns it).
 */
AMZ_API int amz_mpi_map_plan_create(MPI_Comm comm, const amz_map_task_t *task,
                                    const amz_options_t *opts, amz_plan_t **plan);

/** @brief Plan, run once and destroy a map-mode loop. *Collective over comm.* */
AMZ_API int amz_mpi_map_for(MPI_Comm comm, const amz_map_task_t *task,
                            const amz_options_t *opts, amz_result_t **result);

/* ------------------------------------------------------------------------- */
/* Results of MPI runs                                                        */
/* ------------------------------------------------------------------------- */

/** @brief Items this rank completed (sampled items included on a first run). *Local.* */
AMZ_API uint64_t amz_result_local_items_done(const amz_result_t *result);
/** @brief Items that failed on this rank. *Local.* */
AMZ_API uint64_t amz_result_local_items_failed(const amz_result_t *result);
/** @brief Seconds this rank spent in the run. *Local.* */
AMZ_API double amz_result_local_seconds(const amz_result_t *result);
/** @brief Number of sorted, disjoint item ranges this rank executed (failed ones
 *         included; on a first run, its sampled blocks too). Complete unless the rank
 *         ran more than 2^20 chunks in the run (see amz_mpi_gather_items). *Local.* */
AMZ_API size_t amz_result_local_range_count(const amz_result_t *result);
/**
 * @brief Range i of this rank's executed ranges. *Local.*
 * @return 0, AMZ_EINVAL (NULL result or a result of amz_run), AMZ_ERANGE.
 */
AMZ_API int amz_result_local_range(const amz_result_t *result, size_t i, uint64_t *begin,
                                   uint64_t *end);
/** @brief Ranks that ran; 1 for results of amz_run. *Local.* */
AMZ_API int amz_result_ranks(const amz_result_t *result);
/** @brief One running rank's part of a run: the same table on every rank that ran. */
typedef struct amz_rank_stats {
  int rank;          /**< Rank in the plan's communicator. */
  int node;          /**< Node index among the nodes that ran (0 = rank 0's). */
  int threads;       /**< Threads it ran. */
  uint64_t items;    /**< Items it ran in this run (not counting sampled items). */
  uint64_t chunks;   /**< Chunks it ran. */
  double busy_s;     /**< Time in the kernel, summed over its threads. */
  double dispatch_s; /**< Time between chunks, summed over its threads. */
  double data_s;     /**< Time moving data (map mode), summed over its threads. */
  double wall_s;     /**< From the run's start to this rank's end. */
  uint64_t reserved[4]; /**< Zero: room for later fields (see "Growth" in amorsize.h). */
} amz_rank_stats_t;

/**
 * @brief Running rank i's part of the run, i in [0, amz_result_ranks()), in the
 *        order of the run's ranks. *Local.*
 * @return 0; AMZ_EINVAL (NULL, a result of amz_run, or an excluded rank's result);
 *         AMZ_ERANGE (i out of range).
 */
AMZ_API int amz_result_rank(const amz_result_t *result, int i, amz_rank_stats_t *out);

/** @brief 1 when this rank was excluded from the run by the plan. *Local.* */
AMZ_API int amz_result_mpi_excluded(const amz_result_t *result);
/** @brief Why this rank was excluded ("" when it ran); owned by the result. *Local.* */
AMZ_API const char *amz_result_mpi_why(const amz_result_t *result);

/** Root value of amz_mpi_gather_items() that gathers to every rank. */
#define AMZ_MPI_ALL (-1)

/**
 * @brief Range mode helper: collect a per-item output array. *Collective over comm,*
 *        which must be the communicator the plan was created on (or a congruent one).
 *
 * Every rank holds `buf` of n_items * item_bytes bytes in which the kernel wrote
 * the items it ran (the ranges amz_result_local_range() lists; excluded ranks pass
 * their result too: they hold their sampled items). After the call, on `root` (or
 * on every rank with AMZ_MPI_ALL) buf holds every item; elsewhere buf is unchanged.
 * Pass the results of every run of the plan one at a time (each run's own ranges).
 *
 * A rank records at most 2^20 chunks per run (the chunk records); a rank that ran
 * more has an incomplete list of ranges, and the call fails with AMZ_ERANGE on
 * every rank: use larger chunks for such loops.
 *
 * @return 0; AMZ_EINVAL (NULL, item_bytes 0, a result of amz_run, root out of
 *         range, an intercommunicator, ranks passing different item_bytes or root,
 *         total bytes over the MPI count limit); AMZ_ERANGE (a rank's ranges are
 *         incomplete, above); AMZ_ENOMEM; AMZ_EMPI. Every rank returns the same code.
 */
AMZ_API int amz_mpi_gather_items(MPI_Comm comm, const amz_result_t *result, void *buf,
                                 size_t item_bytes, int root);

/**
 * @brief Combine every rank's partial result of a loop (a Monte Carlo sum, counts,
 *        a histogram) on every rank: MPI_Allreduce that waits without spinning.
 *        *Collective over comm,* which must be the communicator the plan was
 *        created on (or a congruent one).
 *
 * The pattern for reductions: the kernel adds each item's contribution into the
 * calling rank's partial result (per thread, or atomically: the kernel runs on
 * several threads), and after amz_mpi_run() every rank calls this. Every rank,
 * excluded ones included: the plan samples the kernel on all ranks, so a rank the
 * plan then excluded holds the items it sampled, and a reduction over the running
 * ranks alone would silently lose them. A rank that arrives first sleeps while it
 * waits (MPI_Iallreduce, tested with a pause growing to 200 us), where Open MPI's
 * blocking MPI_Allreduce would poll and take a core from a rank still busy.
 * Items run in any order, some while sampling: the sum of floating-point values
 * can differ in its last bits from one run to the next (docs/PORTING.md).
 *
 * @param sendbuf this rank's `count` elements, or MPI_IN_PLACE (then on every rank)
 *                to reduce recvbuf in place.
 * @param recvbuf receives the combined `count` elements on every rank.
 * @param count elements, >= 0, the same on every rank (0: nothing is moved).
 * @param type an MPI datatype whose size is the same on every rank.
 * @param op a predefined or user operation, the same on every rank (not checked:
 *           MPI gives no portable way to compare operations).
 * @return 0; AMZ_EINVAL (MPI_COMM_NULL or an intercommunicator, count < 0, NULL
 *         buffers with count > 0, MPI_DATATYPE_NULL, MPI_OP_NULL; count, element
 *         size or the use of MPI_IN_PLACE differing between ranks, naming both
 *         values); AMZ_EMPI. Every rank returns the same code.
 */
AMZ_API int amz_mpi_allreduce(MPI_Comm comm, const void *sendbuf, void *recvbuf, int count,
                              MPI_Datatype type, MPI_Op op);

#ifdef __cplusplus
}
#endif

#endif /* AMORSIZE_MPI_H */
