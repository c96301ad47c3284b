/**
 * @file amorsize_sim.h
 * @brief Simulating a run at a scale that cannot be launched: how long a loop takes
 *        on N nodes x R ranks x T threads with each schedule, before the job is
 *        submitted.
 *
 * The simulator is deterministic and discrete-event. It drives the library's own
 * chunk sequences and its own distribution rules (the batches of weighted
 * factoring that nodes take from rank 0, the refill mark, the first round dealt
 * without messages, the node-shared counter) against modelled item costs, and
 * charges every step what it costs on the modelled machine: the node counter's
 * operations (serialised on its cache line), a refill's round trip to rank 0 and
 * rank 0's handling of it, the collectives that start and end a run, and each
 * node's speed. It is the same code path amz_mpi_run takes, with time simulated.
 *
 * Everything here is local (no MPI) and reentrant: distinct calls may run on
 * distinct threads. Results are a pure function of the inputs (the workload's seed
 * included): the same inputs give bit-identical results on every run.
 *
 * docs/SCALING.md describes the model and its validation against real runs.
 */
#ifndef AMORSIZE_SIM_H
#define AMORSIZE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "amorsize.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Shapes of modelled item costs. */
typedef enum amz_sim_shape {
  AMZ_SIM_UNIFORM = 0, /**< every item costs mean_s (cv adds random variation) */
  AMZ_SIM_INCREASING,  /**< cost grows linearly from 0 at item 0 to 2 x mean_s at item N */
  AMZ_SIM_LOGNORMAL,   /**< independent lognormal costs, coefficient of variation cv
                            (default 1) */
  AMZ_SIM_MANDELBROT,  /**< the pixels of a 256 x 256 Mandelbrot image in row order,
                            each costing its escape iterations (the set's rows are costly,
                            the edges cheap; spread over [0, N) in 65536 equal bins) */
  AMZ_SIM_BIMODAL,     /**< a fraction (default 0.1) of items at random places cost
                            ratio (default 10) times the others */
  AMZ_SIM_TABLE        /**< per-item costs given piecewise (segments), for instance from
                            the chunks of a recorded profile */
} amz_sim_shape_t;

/** @brief Number of shapes. */
#define AMZ_SIM_SHAPE_COUNT 6

/** @brief Lower-case name of a shape ("uniform", ...); "unknown" when out of range.
 *  Returns a static string. Thread-safe. */
AMZ_API const char *amz_sim_shape_name(amz_sim_shape_t shape);

/**
 * @brief Parses a shape name as amz_sim_shape_name writes it (case-insensitive).
 * @return AMZ_OK, or AMZ_EINVAL for NULL arguments or an unknown name (the message
 *         lists the names). Thread-safe.
 */
AMZ_API int amz_sim_shape_parse(const char *name, amz_sim_shape_t *out);

/** @brief Modelled item costs. Fill with amz_sim_workload_defaults, then adjust. */
typedef struct amz_sim_workload {
  amz_sim_shape_t shape;   /**< the shape of the costs */
  uint64_t n_items;        /**< items of the loop, [0, n_items) */
  double mean_s;           /**< mean cost of one item on a node of speed 1, seconds (> 0) */
  double cv;               /**< random item-to-item variation (sd / mean) on top of the
                                shape, from 0 to 10; negative = the shape's default
                                (lognormal 1, others 0) */
  double bimodal_fraction; /**< AMZ_SIM_BIMODAL: share of costly items, (0, 1) */
  double bimodal_ratio;    /**< AMZ_SIM_BIMODAL: costly / cheap item cost, >= 1 */
  size_t segments;         /**< AMZ_SIM_TABLE: entries of the two arrays below */
  const uint64_t *segment_end;   /**< AMZ_SIM_TABLE: increasing ends; the last is
                                      n_items; segment i is [end[i-1], end[i]).
                                      Borrowed: must outlive the calls using it */
  const double *segment_item_s;  /**< AMZ_SIM_TABLE: per-item cost of each segment, s */
  uint64_t seed;           /**< random variation is a pure function of (seed, items) */
} amz_sim_workload_t;

/** @brief Fills w with a shape's defaults for n_items of mean cost mean_s. Local. */
AMZ_API void amz_sim_workload_defaults(amz_sim_workload_t *w, amz_sim_shape_t shape,
                                       uint64_t n_items, double mean_s);

/** @brief Prepared item costs (tables built once): opaque. */
typedef struct amz_sim_costs amz_sim_costs_t;

/**
 * @brief Checks a workload and prepares its costs.
 * @param[out] out  Owned by the caller; free with amz_sim_costs_destroy. The
 *                  workload's arrays are copied.
 * @return AMZ_OK; AMZ_EINVAL naming the bad field and the value expected;
 *         AMZ_ENOMEM.
 */
AMZ_API int amz_sim_costs_create(const amz_sim_workload_t *w, amz_sim_costs_t **out);

/** @brief Frees prepared costs; NULL is a no-op. */
AMZ_API void amz_sim_costs_destroy(amz_sim_costs_t *c);

/**
 * @brief Cost in seconds (speed 1) of items [begin, end), exactly as the simulator
 *        charges that chunk. Costs are additive ([a, b) plus [b, c) is [a, c)), so
 *        every schedule runs the same total work: the random part is drawn once per
 *        block of consecutive items (single items up to 2^20 items; at most 2^20
 *        blocks beyond), and items inside a block share its draw in proportion to
 *        their expected costs. Deterministic in the seed. Thread-safe on a shared
 *        handle. Returns 0 for an empty or out-of-range interval (end is clamped to
 *        n_items).
 */
AMZ_API double amz_sim_range_cost(const amz_sim_costs_t *c, uint64_t begin, uint64_t end);

/** @brief The modelled machine and its communication costs. Fill with
 *         amz_sim_machine_defaults, then adjust. Times in seconds. */
typedef struct amz_sim_machine {
  int nodes;              /**< >= 1 */
  int ranks_per_node;     /**< >= 1 */
  int threads_per_rank;   /**< >= 1 */
  double latency_s;       /**< one-way message latency between nodes (default 2 us) */
  double bandwidth;       /**< bytes/s between nodes (default 10e9) */
  double latency_node_s;  /**< one-way latency inside a node (default 0.5 us) */
  double speed_spread;    /**< node speeds spread evenly over [1 - s, 1 + s], in [0, 0.9]
                               (default 0: equal nodes) */
  double chunk_s;         /**< per chunk on its worker: clock reads, record (default 60 ns) */
  double counter_s;       /**< one operation on a node-shared counter, which holds its
                               cache line meanwhile: operations queue (default 100 ns) */
  double serve_s;         /**< rank 0's progress thread handling one refill (default 2 us) */
  double poll_s;          /**< expected wait until the progress thread sees a request
                               (default 100 us: half its polling interval) */
  double startup_s;       /**< fixed cost of a run outside the loop: pool wake-up, set-up,
                               assembly (default 0) */
  int dealt_ahead;        /**< 1: all batches dealt at the start, no refills between nodes
                               (what a run does without MPI_THREAD_MULTIPLE); default 0 */
} amz_sim_machine_t;

/** @brief Fills m with defaults for nodes x ranks_per_node ranks of one thread. */
AMZ_API void amz_sim_machine_defaults(amz_sim_machine_t *m, int nodes, int ranks_per_node);

/** @brief What a simulated run did. */
typedef struct amz_sim_result {
  double makespan_s;      /**< start to end of the run, collectives included */
  double ideal_s;         /**< total work / total speed of all workers: no overhead,
                               perfect balance */
  double efficiency;      /**< ideal_s / makespan_s, in (0, 1]: the kernel time over the
                               workers and the time, as `amorsize report` defines it */
  double work_s;          /**< sum of all item costs at speed 1 */
  double serial_s;        /**< the collectives and fixed cost that start and end a run */
  double idle_mean_s;     /**< mean over ranks of the time a rank's threads had no chunk */
  double idle_max_s;      /**< the idlest rank's idle time */
  int idle_max_rank;      /**< that rank */
  int busiest_rank;       /**< the rank that handles the most messages and shared-counter
                               operations in its memory (rank 0: it serves the refills and
                               holds the global counter) */
  uint64_t busiest_ops;   /**< its operations */
  double busiest_ops_per_s; /**< busiest_ops / makespan_s */
  uint64_t counter_ops_max; /**< operations on the busiest node-shared counter */
  double counter_ops_per_s; /**< those per second of makespan */
  double counter_busy;    /**< share of the makespan that counter's cache line was held,
                               in [0, 1]: near 1 means the counter is the bottleneck */
  uint64_t chunks;        /**< chunks run */
  uint64_t batches;       /**< batches handed to nodes (dealt or refilled) */
  uint64_t refills;       /**< batches asked of rank 0 over messages */
  uint64_t messages;      /**< point-to-point messages of the run (refills: 2 each) */
  double wait_s;          /**< total time workers waited for a batch */
  uint64_t events;        /**< simulated events */
  double wall_s;          /**< the simulation's own time */
  uint64_t reserved[4];   /**< zero: room for later fields (see "Growth" in amorsize.h) */
} amz_sim_result_t;

/**
 * @brief Simulates one run of the workload on the machine with a schedule and chunk
 *        (the chunk as amz_options_set_chunk: 0 = the schedule's default). AWF runs
 *        as factoring, as under MPI.
 * @param rank_idle_s  Optional (NULL): nodes x ranks_per_node entries receive each
 *                     rank's idle time.
 * @return AMZ_OK; AMZ_EINVAL naming the bad field (workload, machine, AUTO schedule,
 *         or over 2^31 workers); AMZ_ESCHED for an unknown schedule; AMZ_ENOMEM.
 *         Local, thread-safe.
 */
AMZ_API int amz_simulate(const amz_sim_workload_t *w, const amz_sim_machine_t *m,
                         amz_schedule_t schedule, uint64_t chunk, double *rank_idle_s,
                         amz_sim_result_t *out);

/** @brief As amz_simulate with costs already prepared (for repeated simulations). */
AMZ_API int amz_simulate_costs(const amz_sim_costs_t *c, const amz_sim_machine_t *m,
                               amz_schedule_t schedule, uint64_t chunk, double *rank_idle_s,
                               amz_sim_result_t *out);

/** @brief A simulated candidate plan. */
typedef struct amz_sim_choice {
  amz_schedule_t schedule;  /**< the schedule (AMZ_SCHED_AUTO: not simulated) */
  uint64_t chunk;           /**< items per chunk (GUIDED/FACTORING: the minimum; STATIC 0) */
  amz_sim_result_t result;  /**< its simulated run */
  uint64_t reserved[4];     /**< zero: room for later fields (see "Growth" in amorsize.h) */
} amz_sim_choice_t;

/**
 * @brief Chooses schedule and chunk for the machine by simulating the candidates:
 *        each schedule over a grid of chunk sizes (from one chunk per worker to
 *        thousands), the fastest wins; within 0.5% the one with fewer chunks.
 * @param schedule      AMZ_SCHED_AUTO to search all, or one schedule to tune its chunk.
 * @param best          Receives the chosen plan.
 * @param per_schedule  Optional: AMZ_SCHED_COUNT entries; entry s receives schedule
 *                      s's best (chunk and result; schedule AMZ_SCHED_AUTO where it
 *                      was not simulated).
 * @return as amz_simulate. Local, thread-safe.
 */
AMZ_API int amz_sim_choose(const amz_sim_costs_t *c, const amz_sim_machine_t *m,
                           amz_schedule_t schedule, amz_sim_choice_t *best,
                           amz_sim_choice_t *per_schedule);

#ifdef __cplusplus
}
#endif

#endif /* AMORSIZE_SIM_H */
