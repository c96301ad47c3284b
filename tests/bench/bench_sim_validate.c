/*
 * The simulator (amorsize_sim.h) against real runs on this machine (issue 5), run
 * under mpirun:
 *
 *   mpirun -np R bench_sim_validate [--kernel spin|sleep] [--reps K] [--item-us U]
 *                                   [--run-s S] [--shape NAME] [--sched NAME] [--pingpong]
 *                                   [--verbose] [--trace]
 *   scripts/emulated_run.sh .../bench_sim_validate --kernel sleep     (2 nodes x 2 ranks)
 *
 * Workloads: the five synthetic shapes of the simulator (uniform, increasing,
 * lognormal, mandelbrot, bimodal) with the same parameters on both sides: N = S x R
 * / U items of U microseconds mean (default 200 us, S = 0.4 s: a run of about S
 * seconds on R ranks). The kernel of the real run burns, for a chunk [b, e),
 * exactly amz_sim_range_cost(b, e) seconds, the cost the simulator charges that
 * chunk: --kernel spin busy-waits on CLOCK_MONOTONIC; --kernel sleep sleeps until an
 * absolute deadline (clock_nanosleep, timer slack 1 ns), so that more ranks than
 * cores (the emulated 2 nodes x 2 ranks on 2 cores) still run side by side.
 *
 * Real: for each shape x schedule, a plan with the schedule and a fixed chunk, one
 * thread per rank, all ranks; one run to get past the sampled items, then --reps
 * timed runs (default 3): the median of amz_result_seconds().
 * Simulated: amz_simulate_costs on the same costs, with a machine of the launch's
 * nodes x ranks per node (MPI_Comm_split_type), one thread, and this machine's
 * measured costs: the latencies, bandwidth, counter and per-chunk costs from the
 * profile of a run (amorsize_profile.h: /model), and startup_s, the fixed cost of a
 * run measured as the median wall time of runs of the same schedule over R items
 * of no cost (minus the little the simulator charges for such a run). Every input
 * is printed with its source, and beside the latencies this benchmark's own
 * ping-pong, measured while the other ranks sleep (--pingpong simulates with those:
 * the library's probe lets the ranks outside a ping-pong spin in MPI, which on more
 * ranks than cores can make every message wait for a scheduler tick, 4 ms).
 *
 * Prints one table (shape, schedule, chunk, chunks, real median and range,
 * simulated, signed error; then how late the kernel returned per chunk, and the
 * simulation with that lateness added to chunk_s) and a summary: the largest
 * |error| and the cells within 10%. Only rank 0 prints.
 * Exit status: 0, or 1 when a call fails; errors over 10% are reported, not failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "amorsize_mpi.h"
#include "amorsize_profile.h"
#include "amorsize_sim.h"
#include "bench_util.h"

#define MAX_REPS 15
#define WITHIN 0.10

static int rank, size;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the kernel: burn the simulator's cost of each chunk ------------------------ */

typedef struct burn {
  const amz_sim_costs_t *costs; /* NULL: items of no cost */
  int sleep;
  _Atomic uint64_t late_ns, calls; /* how far past its deadline each call returned */
} burn_t;

static int k_burn(uint64_t b, uint64_t e, void *arg) {
  burn_t *k = arg;
  if (!k->costs) return 0;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  /* The deadline counts from the call's start: the cost's own computation is part
   * of the burn. */
  double c = amz_sim_range_cost(k->costs, b, e);
  long long dl = (long long)t.tv_sec * 1000000000LL + t.tv_nsec + (long long)llround(c * 1e9);
  struct timespec d = {(time_t)(dl / 1000000000LL), (long)(dl % 1000000000LL)};
  if (k->sleep) {
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) == EINTR) {
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
  } else {
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while (t.tv_sec < d.tv_sec || (t.tv_sec == d.tv_sec && t.tv_nsec < d.tv_nsec));
  }
  long long late = (long long)t.tv_sec * 1000000000LL + t.tv_nsec - dl;
  atomic_fetch_add_explicit(&k->late_ns, (uint64_t)(late > 0 ? late : 0), memory_order_relaxed);
  atomic_fetch_add_explicit(&k->calls, 1, memory_order_relaxed);
  return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static int failed(const char *what, int rc) {
  fprintf(stderr, "bench_sim_validate: rank %d: %s: %s (%s)\n", rank, what, amz_strerror(rc),
          amz_last_error());
  return 1;
}

/* A forced plan: the schedule and chunk, one thread per rank, every rank, a short
 * sampling phase (its items are done before the timed runs). */
static amz_options_t *forced(amz_schedule_t s, uint64_t chunk) {
  amz_options_t *o = bench_quiet_options();
  if (!o) return NULL;
  amz_options_set_ranks(o, size);
  amz_options_set_workers(o, 1);
  amz_options_set_schedule(o, s);
  if (s != AMZ_SCHED_STATIC) amz_options_set_chunk(o, chunk);
  amz_options_set_sampling(o, 0.02, 0.05);
  return o;
}

/* Median wall time (amz_result_seconds) of `reps` runs of a plan after one untimed
 * run; also the mean kernel lateness per chunk of the timed runs (all ranks). */
typedef struct timing {
  double wall_s, late_s, min_s, max_s;
  uint64_t chunks;
  amz_terms_t terms; /* the last run's measured terms (this rank's view) */
} timing_t;

static int rank_of_world(void) {
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

static int trace; /* --trace: every rank prints the last timed run's chunks */

/* The chunks of run r on this rank, one line each, ranks in turn. */
static void print_trace(const amz_result_t *r) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int q = 0; q < size; q++) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (q != rank) continue;
    size_t n = amz_result_chunk_count(r);
    for (size_t i = 0; i < n; i++) {
      amz_chunk_info_t c;
      if (amz_result_chunk(r, i, &c) == 0 && c.t_start >= 0)
        printf("trace rank %d worker %d items [%llu, %llu) %.6f to %.6f s\n", rank, c.worker,
               (unsigned long long)c.begin, (unsigned long long)c.end, c.t_start, c.t_end);
    }
    fflush(stdout);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

static int time_plan(const amz_task_t *task, amz_schedule_t s, uint64_t chunk, int reps,
                     burn_t *k, timing_t *out) {
  memset(out, 0, sizeof *out);
  amz_options_t *o = forced(s, chunk);
  if (!o) return failed("amz_options_create", AMZ_ENOMEM);
  amz_plan_t *p = NULL;
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, task, o, &p);
  amz_options_destroy(o);
  if (rc != 0) return failed("amz_mpi_plan_create", rc);
  amz_result_t *r = NULL;
  rc = amz_mpi_run(p, &r);
  amz_result_destroy(r);
  if (rc != 0) {
    amz_plan_destroy(p);
    return failed("amz_mpi_run (first)", rc);
  }
  double w[MAX_REPS];
  uint64_t late = 0, calls = 0;
  for (int i = 0; i < reps && rc == 0; i++) {
    atomic_store(&k->late_ns, 0);
    atomic_store(&k->calls, 0);
    MPI_Barrier(MPI_COMM_WORLD);
    rc = amz_mpi_run(p, &r);
    if (rc == 0) {
      w[i] = amz_result_seconds(r);
      amz_result_terms(r, &out->terms);
      if (trace) {
        if (rank_of_world() == 0) printf("trace: run %d of %d, %.4f s\n", i + 1, reps, w[i]);
        print_trace(r);
      }
    }
    amz_result_destroy(r);
    late += atomic_load(&k->late_ns);
    calls += atomic_load(&k->calls);
  }
  if (rc == 0 && (amz_plan_schedule(p) != s || (s != AMZ_SCHED_STATIC && amz_plan_chunk(p) != chunk))) {
    fprintf(stderr, "bench_sim_validate: the plan changed to %s/%llu\n",
            amz_schedule_name(amz_plan_schedule(p)), (unsigned long long)amz_plan_chunk(p));
    rc = AMZ_ECONFLICT;
  }
  amz_plan_destroy(p);
  if (rc != 0) return failed("amz_mpi_run", rc);
  uint64_t mine[2] = {late, calls}, all[2];
  MPI_Allreduce(mine, all, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  out->wall_s = bench_median(w, reps); /* sorts w */
  out->min_s = w[0];
  out->max_s = w[reps - 1];
  out->late_s = all[1] ? 1e-9 * (double)all[0] / (double)all[1] : 0;
  out->chunks = all[1] / (uint64_t)reps;
  return 0;
}

/* ---- the machine's measured costs ------------------------------------------------ */

typedef struct measured {
  double lat_shm, lat_net, bw_net, counter_raw, chunk_static;
  int cores; /* of rank 0's node, from the profile's node table */
  int ok;
} measured_t;

/* Writes the profile of one run of a dynamic plan over items of no cost, reads its
 * model back on rank 0 and shares it. */
static int profile_costs(measured_t *me) {
  memset(me, 0, sizeof *me);
  char path[128];
  long pid = (long)getpid();
  MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  snprintf(path, sizeof path, "/tmp/bench_sim_validate.%ld.h5", pid);
  burn_t k = {0};
  amz_task_t task = {"sim-validate-profile", (uint64_t)size * 64, k_burn, &k};
  amz_options_t *o = forced(AMZ_SCHED_DYNAMIC, 1);
  if (!o) return failed("amz_options_create", AMZ_ENOMEM);
  amz_options_set_profile(o, path);
  amz_options_set_profile_overwrite(o, 1);
  amz_result_t *r = NULL;
  int rc = amz_mpi_for(MPI_COMM_WORLD, &task, o, &r);
  amz_options_destroy(o);
  amz_result_destroy(r);
  if (rc != 0) return failed("amz_mpi_for (profile)", rc);
  double v[7] = {0};
  if (rank == 0) {
    amz_profile_t *pf = NULL;
    rc = amz_profile_open(path, 0, &pf);
    if (rc == 0) {
      const amz_profile_model_t *m = amz_profile_model(pf);
      const amz_profile_node_t *nodes = NULL;
      size_t nn = amz_profile_nodes(pf, &nodes);
      v[0] = m->latency_shm_s;
      v[1] = m->latency_net_s;
      v[2] = m->bandwidth_net;
      v[3] = m->counter_s;
      v[4] = m->chunk_static_s;
      v[5] = nn > 0 ? nodes[0].cores : 0;
      v[6] = 1;
      amz_profile_close(pf);
    } else {
      failed("amz_profile_open", rc);
    }
    unlink(path);
  }
  MPI_Bcast(v, 7, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  *me = (measured_t){v[0], v[1], v[2], v[3], v[4], (int)v[5], v[6] != 0};
  return me->ok ? 0 : 1;
}

/* Waits for the other ranks without taking a core (they may be more than cores). */
static void polite_barrier(void) {
  MPI_Request r;
  MPI_Ibarrier(MPI_COMM_WORLD, &r);
  for (int f = 0;;) {
    MPI_Test(&r, &f, MPI_STATUS_IGNORE);
    if (f) return;
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
}

/* One-way latency of 8-byte messages between rank 0 and rank b: half the median of
 * 200 round trips, while every other rank waits asleep in a barrier. */
static double polite_pingpong(int b) {
  double t[200], lat = 0;
  char buf[8] = {0};
  polite_barrier();
  if (rank == 0 || rank == b) {
    int peer = rank == 0 ? b : 0;
    for (int i = -20; i < 200; i++) {
      double t0 = MPI_Wtime();
      if (rank == 0) {
        MPI_Send(buf, 8, MPI_BYTE, peer, 7, MPI_COMM_WORLD);
        MPI_Recv(buf, 8, MPI_BYTE, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else {
        MPI_Recv(buf, 8, MPI_BYTE, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buf, 8, MPI_BYTE, peer, 7, MPI_COMM_WORLD);
      }
      if (i >= 0) t[i] = MPI_Wtime() - t0;
    }
    lat = bench_median(t, 200) / 2;
  }
  polite_barrier();
  MPI_Bcast(&lat, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return lat;
}

/* How far past its deadline clock_nanosleep wakes, median of 200 naps of 100 us. */
static double sleep_overshoot(void) {
  double v[200];
  for (int i = 0; i < 200; i++) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double d = (double)t.tv_sec + 1e-9 * (double)t.tv_nsec + 100e-6;
    t.tv_nsec += 100000;
    if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
    v[i] = now() - d;
  }
  return bench_median(v, 200);
}

/* ---- main ------------------------------------------------------------------------ */

static const amz_sim_shape_t shapes[] = {AMZ_SIM_UNIFORM, AMZ_SIM_INCREASING, AMZ_SIM_LOGNORMAL,
                                         AMZ_SIM_MANDELBROT, AMZ_SIM_BIMODAL};
#define NSHAPES (sizeof shapes / sizeof shapes[0])
#define NSCHED (AMZ_SCHED_FACTORING - AMZ_SCHED_STATIC + 1)
/* Fixed chunks: dynamic and cyclic 4 items, guided and factoring at least 2 (800 and
 * 400 us at the default mean: chunks long against the dispatch and a sleep's
 * wake-up, short enough for hundreds of chunks per rank). */
static const uint64_t chunk_of[AMZ_SCHED_COUNT] = {0, 0, 4, 4, 2, 2, 0};

int main(int argc, char **argv) {
  int sleep_kernel = 0, reps = 3, verbose = 0, own_latency = 0;
  double item_us = 200, run_s = 0.4;
  const char *only_shape = NULL, *only_sched = NULL;
  int bad = 0;
  for (int i = 1; i < argc && !bad; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--verbose")) verbose = 1;
    else if (!strcmp(a, "--pingpong")) own_latency = 1;
    else if (!strcmp(a, "--trace")) trace = 1;
    else if (!v) bad = 1;
    else if (!strcmp(a, "--kernel")) {
      sleep_kernel = !strcmp(v, "sleep");
      bad = !sleep_kernel && strcmp(v, "spin") != 0;
      i++;
    } else if (!strcmp(a, "--reps")) reps = atoi(argv[++i]);
    else if (!strcmp(a, "--item-us")) item_us = atof(argv[++i]);
    else if (!strcmp(a, "--run-s")) run_s = atof(argv[++i]);
    else if (!strcmp(a, "--shape")) only_shape = argv[++i];
    else if (!strcmp(a, "--sched")) only_sched = argv[++i];
    else bad = 1;
  }
  if (bad || reps < 1 || reps > MAX_REPS || !(item_us >= 1) || !(run_s > 0)) {
    fprintf(stderr, "usage: %s [--kernel spin|sleep] [--reps K (1-%d)] [--item-us U] "
                    "[--run-s S] [--shape NAME] [--sched NAME] [--pingpong] [--verbose] [--trace]\n",
            argv[0], MAX_REPS);
    return 2;
  }
  /* Before MPI and the library start threads: they inherit the slack. */
  if (sleep_kernel) prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int status = 0;

  /* The launch's nodes: shared-memory groups. */
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
  int node_rank, node_size, leader = rank;
  MPI_Comm_rank(node, &node_rank);
  MPI_Comm_size(node, &node_size);
  MPI_Allreduce(&rank, &leader, 1, MPI_INT, MPI_MIN, node);
  MPI_Comm_free(&node);
  /* Peers for the ping-pongs: another rank of rank 0's node, the first of another. */
  int *leaders = malloc((size_t)size * sizeof *leaders);
  if (!leaders) MPI_Abort(MPI_COMM_WORLD, 1);
  MPI_Allgather(&leader, 1, MPI_INT, leaders, 1, MPI_INT, MPI_COMM_WORLD);
  int peer_shm = -1, peer_net = -1;
  for (int r = size - 1; r > 0; r--) {
    if (leaders[r] == 0) peer_shm = r;
    if (leaders[r] == r) peer_net = r;
  }
  free(leaders);
  int lead = node_rank == 0, nodes = 0, rpn_min = 0, rpn_max = 0;
  MPI_Allreduce(&lead, &nodes, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(&node_size, &rpn_min, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&node_size, &rpn_max, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rpn_min != rpn_max) {
    if (rank == 0)
      fprintf(stderr, "bench_sim_validate: nodes of %d to %d ranks: the simulated machine needs "
                      "equal nodes\n", rpn_min, rpn_max);
    MPI_Finalize();
    return 1;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  const double item_s = item_us * 1e-6;
  const uint64_t N = (uint64_t)llround(run_s * size / item_s);

  measured_t me;
  if (profile_costs(&me) != 0) {
    MPI_Finalize();
    return 1;
  }
  /* This benchmark's own latencies, with the ranks not in the ping-pong asleep. */
  double pp_shm = peer_shm > 0 ? polite_pingpong(peer_shm) : 0;
  double pp_net = peer_net > 0 ? polite_pingpong(peer_net) : 0;
  double overshoot = sleep_kernel ? sleep_overshoot() : 0;
  MPI_Bcast(&overshoot, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);

  /* The machine: this launch, with the measured costs. The profile's counter cost
   * is one fetch-and-add while min(ranks, cores) ranks of node 0 hammer it; the
   * simulator wants the time one operation holds the line, so it is divided by the
   * hammering ranks (as mpi/mpi_planner.c does). */
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, nodes, rpn_max);
  int hammer = me.cores > 0 && me.cores < rpn_max ? me.cores : rpn_max;
  if (me.lat_shm > 0) m.latency_node_s = me.lat_shm;
  if (me.lat_net > 0) m.latency_s = me.lat_net;
  if (own_latency && pp_shm > 0) m.latency_node_s = pp_shm;
  if (own_latency && pp_net > 0) m.latency_s = pp_net;
  if (me.bw_net > 0) m.bandwidth = me.bw_net;
  if (me.counter_raw > 0) m.counter_s = me.counter_raw / hammer;
  if (me.chunk_static > 0) m.chunk_s = me.chunk_static;
  m.dealt_ahead = provided < MPI_THREAD_MULTIPLE;

  /* The fixed cost of a run, per schedule: R items of no cost. */
  double startup[AMZ_SCHED_COUNT] = {0}, empty_real[AMZ_SCHED_COUNT] = {0},
         empty_sim[AMZ_SCHED_COUNT] = {0};
  {
    burn_t k0 = {0};
    amz_task_t t0 = {"sim-validate-empty", (uint64_t)size, k_burn, &k0};
    amz_sim_workload_t w0;
    amz_sim_workload_defaults(&w0, AMZ_SIM_UNIFORM, (uint64_t)size, 1e-12);
    for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING && !status; s++) {
      timing_t tm;
      if (time_plan(&t0, (amz_schedule_t)s, 1, reps < 5 ? 5 : reps, &k0, &tm) != 0) {
        status = 1;
        break;
      }
      amz_sim_machine_t m0 = m;
      m0.startup_s = 0;
      amz_sim_result_t r0;
      int rc = amz_simulate(&w0, &m0, (amz_schedule_t)s, s == AMZ_SCHED_STATIC ? 0 : 1, NULL, &r0);
      if (rc != 0) {
        status = failed("amz_simulate (empty run)", rc);
        break;
      }
      empty_real[s] = tm.wall_s;
      empty_sim[s] = r0.makespan_s;
      startup[s] = tm.wall_s > r0.makespan_s ? tm.wall_s - r0.makespan_s : 0;
    }
  }
  if (status) {
    MPI_Finalize();
    return 1;
  }

  if (rank == 0) {
    printf("bench_sim_validate: %d ranks = %d node%s x %d ranks, 1 thread each, on %ld cores; "
           "MPI thread level %d; kernel %s; %d timed runs (median) after one untimed\n",
           size, nodes, nodes > 1 ? "s" : "", rpn_max, cores, provided,
           sleep_kernel ? "sleep" : "spin", reps);
    if (sleep_kernel)
      printf("kernel sleep: clock_nanosleep to an absolute deadline, timer slack 1 ns (set "
             "before MPI_Init: inherited by every thread); sleeping ranks take no core, so "
             "more ranks than cores run side by side, as on real nodes. A 100 us sleep wakes "
             "%.1f us late (median of 200)\n", overshoot * 1e6);
    else if ((long)rpn_max > cores)
      printf("WARNING: kernel spin with more ranks per node than cores: the real times include "
             "time slicing, which the simulator does not model; use --kernel sleep\n");
    printf("workload: N = %llu items (%.2f s of work / %d ranks = %.2f s), mean item %.0f us, "
           "seed 7; chunks: cyclic %llu, dynamic %llu items; guided, factoring at least %llu "
           "items (mean chunk %.0f, %.0f us)\n",
           (unsigned long long)N, (double)N * item_s, size, (double)N * item_s / size, item_us,
           (unsigned long long)chunk_of[AMZ_SCHED_CYCLIC],
           (unsigned long long)chunk_of[AMZ_SCHED_DYNAMIC],
           (unsigned long long)chunk_of[AMZ_SCHED_GUIDED],
           (double)chunk_of[AMZ_SCHED_DYNAMIC] * item_us,
           (double)chunk_of[AMZ_SCHED_GUIDED] * item_us);
    printf("simulated machine (input: value, source):\n");
    printf("  nodes x ranks_per_node x threads: %d x %d x 1  (MPI_Comm_split_type of the launch)\n",
           m.nodes, m.ranks_per_node);
    char pp[2][96] = {"", ""};
    if (pp_shm > 0)
      snprintf(pp[0], sizeof pp[0], "; this benchmark's ping-pong, the other ranks asleep: "
               "%.3g us", pp_shm * 1e6);
    if (pp_net > 0)
      snprintf(pp[1], sizeof pp[1], "; this benchmark's ping-pong, the other ranks asleep: "
               "%.3g us", pp_net * 1e6);
    printf("  latency_node_s: %.3g us  (%s%s)\n", m.latency_node_s * 1e6,
           own_latency && pp_shm > 0 ? "--pingpong: this benchmark's ping-pong"
           : me.lat_shm > 0          ? "profile /model latency_shm_s: ping-pong inside node 0"
                                     : "default: one rank per node, not measured",
           pp[0]);
    printf("  latency_s:      %.3g us  (%s%s)\n", m.latency_s * 1e6,
           own_latency && pp_net > 0 ? "--pingpong: this benchmark's ping-pong"
           : me.lat_net > 0          ? "profile /model latency_net_s: ping-pong between nodes"
                                     : "default; unused on one node",
           pp[1]);
    if (own_latency)
      printf("  (--pingpong: the real runs still size their refill mark with the profile's "
             "latency, %.3g us)\n", me.lat_net * 1e6);
    printf("  bandwidth:      %.3g GB/s  (%s)\n", m.bandwidth * 1e-9,
           me.bw_net > 0 ? "profile /model bandwidth_net" : "default; unused on one node");
    printf("  counter_s:      %.3g ns  (profile /model counter_s %.3g ns / %d hammering ranks)\n",
           m.counter_s * 1e9, me.counter_raw * 1e9, hammer);
    printf("  chunk_s:        %.3g ns  (%s)\n", m.chunk_s * 1e9,
           me.chunk_static > 0 ? "profile /model chunk_static_s" : "default");
    printf("  serve_s:        %.3g us  (default: not measured)\n", m.serve_s * 1e6);
    printf("  poll_s:         %.3g us  (default: half of AMZ__SERVER_POLL_S)\n", m.poll_s * 1e6);
    printf("  dealt_ahead:    %d  (MPI thread level %s MPI_THREAD_MULTIPLE)\n", m.dealt_ahead,
           m.dealt_ahead ? "below" : "at");
    printf("  startup_s:      measured per schedule: median wall of %d runs over %d items of no "
           "cost, minus the simulated makespan of that run without startup:\n",
           reps < 5 ? 5 : reps, size);
    for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++)
      printf("    %-9s %7.1f us  (real %.1f us - simulated %.1f us)\n",
             amz_schedule_name((amz_schedule_t)s), startup[s] * 1e6, empty_real[s] * 1e6,
             empty_sim[s] * 1e6);
    printf("\nlate/chunk: how long after its deadline the kernel returned, mean over the "
           "timed runs' chunks (preemption for spin, wake-up for sleep); sim+late: simulated "
           "with that added to chunk_s\n");
    printf("\n| shape | schedule | chunk | chunks | real s | real range s | simulated s | "
           "error %% | late/chunk us | sim+late s | error %% |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);
  }

  double max_err = 0, max_err_l = 0;
  int cells = 0, within = 0, within_l = 0;
  const char *worst = "";
  char worst_buf[64] = "";
  for (size_t k = 0; k < NSHAPES && !status; k++) {
    if (only_shape && strcmp(only_shape, amz_sim_shape_name(shapes[k])) != 0) continue;
    amz_sim_workload_t w;
    amz_sim_workload_defaults(&w, shapes[k], N, item_s);
    w.seed = 7;
    amz_sim_costs_t *costs = NULL;
    int rc = amz_sim_costs_create(&w, &costs);
    if (rc != 0) {
      status = failed("amz_sim_costs_create", rc);
      break;
    }
    burn_t kern = {.costs = costs, .sleep = sleep_kernel};
    amz_task_t task = {amz_sim_shape_name(shapes[k]), N, k_burn, &kern};
    for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING && !status; s++) {
      if (only_sched && strcmp(only_sched, amz_schedule_name((amz_schedule_t)s)) != 0) continue;
      timing_t tm;
      if (time_plan(&task, (amz_schedule_t)s, chunk_of[s], reps, &kern, &tm) != 0) {
        status = 1;
        break;
      }
      amz_sim_machine_t ms = m;
      ms.startup_s = startup[s];
      amz_sim_result_t sr;
      rc = amz_simulate_costs(costs, &ms, (amz_schedule_t)s, chunk_of[s], NULL, &sr);
      if (rc != 0) {
        status = failed("amz_simulate_costs", rc);
        break;
      }
      /* The same with the kernel's measured lateness added to every chunk: what the
       * simulator would say if it knew how late this machine's kernel returns. */
      ms.chunk_s += tm.late_s;
      amz_sim_result_t sl;
      rc = amz_simulate_costs(costs, &ms, (amz_schedule_t)s, chunk_of[s], NULL, &sl);
      if (rc != 0) {
        status = failed("amz_simulate_costs", rc);
        break;
      }
      double err = (sr.makespan_s - tm.wall_s) / tm.wall_s;
      double err_l = (sl.makespan_s - tm.wall_s) / tm.wall_s;
      cells++;
      within += fabs(err) <= WITHIN;
      within_l += fabs(err_l) <= WITHIN;
      if (fabs(err_l) > max_err_l) max_err_l = fabs(err_l);
      if (fabs(err) > max_err) {
        max_err = fabs(err);
        snprintf(worst_buf, sizeof worst_buf, "%s/%s", amz_sim_shape_name(shapes[k]),
                 amz_schedule_name((amz_schedule_t)s));
        worst = worst_buf;
      }
      if (rank == 0) {
        printf("| %s | %s | %llu | %llu | %.4f | %.4f-%.4f | %.4f | %+.1f | %.1f | %.4f | %+.1f |\n",
               amz_sim_shape_name(shapes[k]), amz_schedule_name((amz_schedule_t)s),
               (unsigned long long)chunk_of[s], (unsigned long long)sr.chunks, tm.wall_s,
               tm.min_s, tm.max_s, sr.makespan_s, 100 * err, tm.late_s * 1e6, sl.makespan_s,
               100 * err_l);
        if (verbose)
          printf("|   | sim: ideal %.4f, idle max %.4f (rank %d) mean %.4f, wait %.4f, "
                 "refills %llu, batches %llu; real runs %.4f to %.4f, chunks %llu, terms (rank 0): "
                 "startup %.4f, dispatch %.4f, imbalance %.4f, serial %.4f | | | | | | | | | |\n",
                 sr.ideal_s, sr.idle_max_s, sr.idle_max_rank, sr.idle_mean_s, sr.wait_s,
                 (unsigned long long)sr.refills, (unsigned long long)sr.batches, tm.min_s,
                 tm.max_s, (unsigned long long)tm.chunks, tm.terms.startup, tm.terms.dispatch,
                 tm.terms.imbalance, tm.terms.serial);
        fflush(stdout);
      }
    }
    amz_sim_costs_destroy(costs);
  }
  if (rank == 0 && !status)
    printf("\nsummary: %d ranks (%d x %d), kernel %s: max |error| %.1f%% (%s); %d of %d cells "
           "within %.0f%%; with the kernel's lateness: max |error| %.1f%%, %d of %d within "
           "%.0f%%\n",
           size, nodes, rpn_max, sleep_kernel ? "sleep" : "spin", 100 * max_err, worst, within,
           cells, 100 * WITHIN, 100 * max_err_l, within_l, cells, 100 * WITHIN);
  MPI_Finalize();
  return status;
}
