/*
 * The simulator at scale (issue 5): what amz_sim_choose picks for the five
 * synthetic shapes on machines that cannot be launched here, and what the run's
 * hot spots carry.
 *
 *   bench_sim_scale [--quick] [--shape NAME] [--max-ranks R]
 *
 * Cells: each shape (uniform, increasing, lognormal, mandelbrot, bimodal) with items
 * of 100 us mean cost, 64 ranks of one thread per node, the default machine of
 * amz_sim_machine_defaults (2 us between nodes, 10 GB/s, 0.1 us per counter
 * operation, rank 0's progress thread 2 us per refill and 100 us expected poll):
 *  - N = 10^7 items on R = 64, 256, 1024, 4096, 16384, 65536 ranks (R / 64 nodes);
 *  - N = 10^6 items on R = 64 ... 4096.
 * For each cell amz_sim_choose searches every schedule's chunk grid; the table shows
 * each schedule's best efficiency (ideal / makespan), the chosen plan, whether it is
 * within 5% of the fastest schedule's makespan, the refill messages rank 0 handled,
 * the busiest rank's operations per second (messages and counter operations in its
 * memory), the busiest node counter's operations per second and busy share (the
 * share of the makespan its cache line was held), and the simulation's wall time.
 *
 * Then three claims, each checked over the cells:
 *  (a) the chosen plan is within 5% of the best schedule's makespan in every cell;
 *  (b) at 4096 ranks the chosen plan's efficiency is >= 0.90 for every shape with
 *      10^7 items (2441 items per rank);
 *  (c) rank 0 handles at most 2 x (AMZ__MAX_BATCHES + nodes + 3) refill messages per
 *      run (AMZ__MAX_BATCHES = 2048, src/internal.h): a request and a reply per
 *      batch asked over messages; cells whose busiest counter is held more than half
 *      of the run are flagged.
 * Last, one amz_simulate of the worst case, dynamic chunks of 1 item, 10^7 items on
 * 65,536 ranks, timed (the bound is 60 s).
 *
 * --quick runs 10^6 items on 64, 256 and 1024 ranks and a smaller worst case (10^6
 * items on 4096 ranks) for a smoke test (a few seconds). The claims depend only on
 * the simulation, which is deterministic; only the wall times depend on this machine.
 * Exit status: 0, or 1 when a call fails (the claims are reported, not enforced).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amorsize_sim.h"

#define ITEM_S 100e-6
#define RANKS_PER_NODE 64
#define MAX_BATCHES 2048 /* AMZ__MAX_BATCHES, src/internal.h */
#define NEAR_BEST 1.05
#define EFF_CLAIM 0.90
#define BUSY_FLAG 0.5
#define WORST_BOUND_S 60.0

static const amz_sim_shape_t shapes[] = {AMZ_SIM_UNIFORM, AMZ_SIM_INCREASING, AMZ_SIM_LOGNORMAL,
                                         AMZ_SIM_MANDELBROT, AMZ_SIM_BIMODAL};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What one cell found, for the claims. */
typedef struct cell {
  amz_sim_shape_t shape;
  uint64_t n;
  int ranks, nodes;
  amz_sim_choice_t best, per[AMZ_SCHED_COUNT];
  double best_s;      /* the fastest schedule's makespan */
  uint64_t msgs_max;  /* refill messages, the most over the schedules' bests */
  uint64_t msgs_bound;
  double wall_s;
} cell_t;

static int fail(const char *what, int rc) {
  fprintf(stderr, "bench_sim_scale: %s: %s (%s)\n", what, amz_strerror(rc), amz_last_error());
  return 1;
}

static int run_cell(amz_sim_shape_t shape, uint64_t n, int ranks, cell_t *c) {
  memset(c, 0, sizeof *c);
  c->shape = shape;
  c->n = n;
  c->ranks = ranks;
  c->nodes = ranks / RANKS_PER_NODE;
  amz_sim_workload_t w;
  amz_sim_workload_defaults(&w, shape, n, ITEM_S);
  w.seed = 5;
  amz_sim_costs_t *costs = NULL;
  int rc = amz_sim_costs_create(&w, &costs);
  if (rc != 0) return fail("amz_sim_costs_create", rc);
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, c->nodes, RANKS_PER_NODE);
  double t0 = now();
  rc = amz_sim_choose(costs, &m, AMZ_SCHED_AUTO, &c->best, c->per);
  c->wall_s = now() - t0;
  amz_sim_costs_destroy(costs);
  if (rc != 0) return fail("amz_sim_choose", rc);
  c->best_s = -1;
  for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++) {
    const amz_sim_result_t *r = &c->per[s].result;
    if (c->per[s].schedule == AMZ_SCHED_AUTO) continue;
    if (c->best_s < 0 || r->makespan_s < c->best_s) c->best_s = r->makespan_s;
    if (r->messages > c->msgs_max) c->msgs_max = r->messages;
  }
  c->msgs_bound = 2 * ((uint64_t)MAX_BATCHES + (uint64_t)c->nodes + 3);
  return 0;
}

static void print_header(void) {
  printf("| shape | N | ranks | nodes | items/rank | static | cyclic | dynamic | guided | "
         "factoring | chosen | eff | within 5%% | msgs (bound) | busiest ops/s | "
         "counter ops/s | counter busy | sim wall s |\n");
  printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|---:|---:|"
         "---:|\n");
}

static void print_cell(const cell_t *c) {
  const amz_sim_result_t *b = &c->best.result;
  printf("| %s | %.0e | %d | %d | %llu |", amz_sim_shape_name(c->shape), (double)c->n,
         c->ranks, c->nodes, (unsigned long long)(c->n / (uint64_t)c->ranks));
  for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++) {
    if (c->per[s].schedule == AMZ_SCHED_AUTO) printf(" - |");
    else if (s == AMZ_SCHED_STATIC) printf(" %.3f |", c->per[s].result.efficiency);
    else
      printf(" %.3f /%llu |", c->per[s].result.efficiency,
             (unsigned long long)c->per[s].chunk);
  }
  printf(" %s/%llu | %.3f | %s | %llu (%llu) | %.3g | %.3g | %.3f%s | %.2f |\n",
         amz_schedule_name(c->best.schedule), (unsigned long long)c->best.chunk, b->efficiency,
         b->makespan_s <= NEAR_BEST * c->best_s ? "yes" : "NO",
         (unsigned long long)c->msgs_max, (unsigned long long)c->msgs_bound,
         b->busiest_ops_per_s, b->counter_ops_per_s, b->counter_busy,
         b->counter_busy > BUSY_FLAG ? " HOT" : "", c->wall_s);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int quick = 0, max_ranks = 65536;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--max-ranks") && i + 1 < argc) max_ranks = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--quick] [--shape NAME] [--max-ranks R]\n", argv[0]);
      return 2;
    }
  }
  amz_sim_shape_t only_shape = AMZ_SIM_UNIFORM;
  if (only && amz_sim_shape_parse(only, &only_shape) != 0) {
    fprintf(stderr, "bench_sim_scale: %s\n", amz_last_error());
    return 2;
  }
  /* Two sweeps: (items, largest rank count). */
  struct {
    uint64_t n;
    int max_r;
  } sweeps[2] = {{10000000, 65536}, {1000000, 4096}};
  int nsweeps = 2;
  if (quick) {
    sweeps[0].n = 1000000;
    sweeps[0].max_r = 1024;
    nsweeps = 1;
  }
  printf("bench_sim_scale: %s; items of %.0f us mean, %d ranks x 1 thread per node, default "
         "machine (amz_sim_machine_defaults)\n\n",
         quick ? "quick" : "full", ITEM_S * 1e6, RANKS_PER_NODE);
  size_t cap = 2 * NSHAPES * 6, nc = 0;
  cell_t *cells = calloc(cap, sizeof *cells);
  if (!cells) return 1;
  print_header();
  double t_all = now();
  for (int sw = 0; sw < nsweeps; sw++)
    for (size_t k = 0; k < NSHAPES; k++) {
      if (only && shapes[k] != only_shape) continue;
      for (int r = RANKS_PER_NODE; r <= sweeps[sw].max_r && r <= max_ranks; r *= 4) {
        if (run_cell(shapes[k], sweeps[sw].n, r, &cells[nc]) != 0) return 1;
        print_cell(&cells[nc]);
        nc++;
      }
    }
  printf("\n%zu cells simulated in %.1f s of wall time\n\n", nc, now() - t_all);

  /* (a) The choice against the fastest schedule of its cell. */
  size_t near = 0;
  double worst_ratio = 0;
  for (size_t i = 0; i < nc; i++) {
    double ratio = cells[i].best.result.makespan_s / cells[i].best_s;
    if (ratio <= NEAR_BEST) near++;
    if (ratio > worst_ratio) worst_ratio = ratio;
  }
  printf("claim (a): chosen within 5%% of the best schedule in %zu of %zu cells (worst: "
         "%.4f x the best): %s\n",
         near, nc, worst_ratio, near == nc ? "holds" : "FAILS");

  /* (b) Efficiency at 4096 ranks with enough items per rank. */
  size_t b_cells = 0, b_ok = 0;
  for (size_t i = 0; i < nc; i++) {
    if (cells[i].ranks != 4096) continue;
    const cell_t *c = &cells[i];
    int counts = c->n >= 10000000;
    printf("  4096 ranks, %s, N = %.0e (%llu items per rank): chosen %s/%llu, efficiency "
           "%.3f%s\n",
           amz_sim_shape_name(c->shape), (double)c->n,
           (unsigned long long)(c->n / (uint64_t)c->ranks), amz_schedule_name(c->best.schedule),
           (unsigned long long)c->best.chunk, c->best.result.efficiency,
           counts ? "" : " (not part of the claim: too few items per rank)");
    if (counts) {
      b_cells++;
      b_ok += c->best.result.efficiency >= EFF_CLAIM;
    }
  }
  if (b_cells)
    printf("claim (b): efficiency >= %.2f at 4096 ranks with 10^7 items in %zu of %zu shapes: "
           "%s\n",
           EFF_CLAIM, b_ok, b_cells, b_ok == b_cells ? "holds" : "FAILS");
  else
    printf("claim (b): not evaluated (no cell of 4096 ranks with 10^7 items in this run)\n");

  /* (c) Refill messages at rank 0, and the counters' load. */
  size_t c_ok = 0, hot = 0;
  const cell_t *most = NULL, *busiest = NULL, *hottest = NULL;
  for (size_t i = 0; i < nc; i++) {
    const cell_t *c = &cells[i];
    if (c->msgs_max <= c->msgs_bound) c_ok++;
    if (!most || c->msgs_max > most->msgs_max) most = c;
    if (!busiest || c->best.result.busiest_ops_per_s > busiest->best.result.busiest_ops_per_s)
      busiest = c;
    if (!hottest || c->best.result.counter_busy > hottest->best.result.counter_busy) hottest = c;
    if (c->best.result.counter_busy > BUSY_FLAG) {
      hot++;
      printf("  HOT counter: %s N = %.0e on %d ranks: busy share %.3f\n",
             amz_sim_shape_name(c->shape), (double)c->n, c->ranks,
             c->best.result.counter_busy);
    }
  }
  if (nc) {
    printf("claim (c): refill messages at rank 0 within 2 x (%d + nodes + 3) in %zu of %zu "
           "cells: %s\n",
           MAX_BATCHES, c_ok, nc, c_ok == nc ? "holds" : "FAILS");
    printf("  most messages: %llu (bound %llu), %s N = %.0e on %d ranks (%d nodes)\n",
           (unsigned long long)most->msgs_max, (unsigned long long)most->msgs_bound,
           amz_sim_shape_name(most->shape), (double)most->n, most->ranks, most->nodes);
    printf("  busiest rank (chosen plans): %.3g operations/s (rank %d), %s N = %.0e on %d "
           "ranks\n",
           busiest->best.result.busiest_ops_per_s, busiest->best.result.busiest_rank,
           amz_sim_shape_name(busiest->shape), (double)busiest->n, busiest->ranks);
    printf("  busiest node counter (chosen plans): busy share %.3f, %.3g operations/s, %s N = "
           "%.0e on %d ranks; cells over %.1f: %zu\n",
           hottest->best.result.counter_busy, hottest->best.result.counter_ops_per_s,
           amz_sim_shape_name(hottest->shape), (double)hottest->n, hottest->ranks, BUSY_FLAG,
           hot);
  }
  free(cells);

  /* The worst case for the simulator: one event per item on the most ranks. */
  uint64_t wn = quick ? 1000000 : 10000000;
  int wr = quick ? 4096 : 65536;
  if (wr > max_ranks) wr = max_ranks < RANKS_PER_NODE ? RANKS_PER_NODE : max_ranks;
  amz_sim_workload_t w;
  amz_sim_workload_defaults(&w, only ? only_shape : AMZ_SIM_UNIFORM, wn, ITEM_S);
  w.seed = 5;
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, wr / RANKS_PER_NODE, RANKS_PER_NODE);
  amz_sim_result_t r;
  double t0 = now();
  int rc = amz_simulate(&w, &m, AMZ_SCHED_DYNAMIC, 1, NULL, &r);
  double wall = now() - t0;
  if (rc != 0) return fail("amz_simulate (worst case)", rc);
  printf("\nworst case: amz_simulate of %s, %.0e items, %d ranks, dynamic chunk 1: %.2f s of "
         "wall time (bound %.0f s: %s); %llu chunks, %llu events, %llu refill messages, "
         "efficiency %.3f, busiest counter busy %.3f\n",
         amz_sim_shape_name(w.shape), (double)wn, wr, wall, WORST_BOUND_S,
         wall < WORST_BOUND_S ? "within" : "OVER", (unsigned long long)r.chunks,
         (unsigned long long)r.events, (unsigned long long)r.messages, r.efficiency,
         r.counter_busy);
  printf("bench_sim_scale: done\n");
  return 0;
}
