/*
 * The simulator (amorsize_sim.h, src/sim/simulate.c, src/sim/sim_costs.c): costs, exact
 * cases with a known answer, conservation (every chunk of the schedule simulated
 * once), the distribution rules shared with the MPI run, the hot-spot bound,
 * determinism, and errors.
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_sim.h"
#include "internal.h"
#include "test_util.h"

static amz_sim_costs_t *costs(amz_sim_shape_t shape, uint64_t n, double mean, double cv) {
  amz_sim_workload_t w;
  amz_sim_workload_defaults(&w, shape, n, mean);
  if (cv >= 0) w.cv = cv;
  amz_sim_costs_t *c = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_sim_costs_create(&w, &c), AMZ_OK);
  return c;
}

/* A machine whose communication is free, so that exact answers are known. */
static amz_sim_machine_t free_machine(int nodes, int rpn) {
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, nodes, rpn);
  m.latency_s = m.latency_node_s = m.chunk_s = m.counter_s = m.serve_s = m.poll_s = 0;
  return m;
}

static void test_costs_of_each_shape(void) {
  const uint64_t N = 1000000;
  for (int s = AMZ_SIM_UNIFORM; s <= AMZ_SIM_BIMODAL; s++) {
    amz_sim_costs_t *c = costs((amz_sim_shape_t)s, N, 1e-4, -1);
    /* The mean per item is the workload's, within the randomness of 10^6 items. */
    double total = 0;
    for (uint64_t b = 0; b < N; b += 1000) total += amz_sim_range_cost(c, b, b + 1000);
    CU_ASSERT_DOUBLE_EQUAL(total / N, 1e-4, 0.02e-4);
    /* Short ranges are the sum of their items' own draws. */
    for (uint64_t b = 0; b < N; b += 99991) {
      double sum = 0;
      for (uint64_t i = b; i < b + 16; i++) sum += amz_sim_range_cost(c, i, i + 1);
      CU_ASSERT_DOUBLE_EQUAL(amz_sim_range_cost(c, b, b + 16), sum, 1e-12);
    }
    /* Deterministic, and empty or out-of-range intervals cost nothing. */
    CU_ASSERT_EQUAL(amz_sim_range_cost(c, 5, 777), amz_sim_range_cost(c, 5, 777));
    CU_ASSERT_EQUAL(amz_sim_range_cost(c, 9, 9), 0.0);
    CU_ASSERT_EQUAL(amz_sim_range_cost(c, N, N + 5), 0.0);
    amz_sim_costs_destroy(c);
  }
}

static void test_shapes_have_their_form(void) {
  const uint64_t N = 65536 * 4;
  /* increasing: the last quarter costs 7x the first (integral of a line). */
  amz_sim_costs_t *c = costs(AMZ_SIM_INCREASING, N, 1e-4, -1);
  double q1 = amz_sim_range_cost(c, 0, N / 4), q4 = amz_sim_range_cost(c, 3 * N / 4, N);
  CU_ASSERT_DOUBLE_EQUAL(q4 / q1, 7.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(amz_sim_range_cost(c, 0, N), 1e-4 * N, 1e-9);
  amz_sim_costs_destroy(c);
  /* mandelbrot: the middle rows (the set) cost far more than the top rows. */
  c = costs(AMZ_SIM_MANDELBROT, N, 1e-4, -1);
  double top = amz_sim_range_cost(c, 0, N / 16), mid = amz_sim_range_cost(c, N / 2 - N / 32, N / 2 + N / 32);
  CU_ASSERT(mid > 10 * top);
  CU_ASSERT_DOUBLE_EQUAL(amz_sim_range_cost(c, 0, N), 1e-4 * N, 1e-9);
  amz_sim_costs_destroy(c);
  /* bimodal: single items take one of two values, ratio 10, about 10% costly. */
  c = costs(AMZ_SIM_BIMODAL, N, 1e-4, -1);
  int heavy = 0;
  double lo = 1e9, hi = 0;
  for (uint64_t i = 0; i < 10000; i++) {
    double v = amz_sim_range_cost(c, i, i + 1);
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    heavy += v > 2e-4;
  }
  CU_ASSERT_DOUBLE_EQUAL(hi / lo, 10.0, 1e-9);
  CU_ASSERT(heavy > 850 && heavy < 1150);
  amz_sim_costs_destroy(c);
  /* table: a segment costs its length times its per-item cost. */
  uint64_t ends[3] = {10, 10, 30};
  double item[3] = {1.0, 5.0, 2.0};
  amz_sim_workload_t w;
  amz_sim_workload_defaults(&w, AMZ_SIM_TABLE, 30, 0);
  w.segments = 3;
  w.segment_end = ends;
  w.segment_item_s = item;
  CU_ASSERT_EQUAL_FATAL(amz_sim_costs_create(&w, &c), AMZ_OK);
  CU_ASSERT_DOUBLE_EQUAL(amz_sim_range_cost(c, 0, 30), 50.0, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(amz_sim_range_cost(c, 5, 12), 9.0, 1e-12);
  amz_sim_costs_destroy(c);
}

static void test_exact_makespans_without_overheads(void) {
  /* 4 ranks x 1000 items of 1 ms, free communication: 1 s for every schedule. */
  amz_sim_costs_t *c = costs(AMZ_SIM_UNIFORM, 4000, 1e-3, 0);
  amz_sim_machine_t m = free_machine(1, 4);
  for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++) {
    amz_sim_result_t r;
    CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, (amz_schedule_t)s, 10, NULL, &r), AMZ_OK);
    if (s <= AMZ_SCHED_DYNAMIC) {
      CU_ASSERT_DOUBLE_EQUAL(r.makespan_s, 1.0, 1e-9);
      CU_ASSERT_DOUBLE_EQUAL(r.efficiency, 1.0, 1e-9);
    } else { /* decreasing chunks: off by at most one minimum chunk (10 ms) */
      CU_ASSERT(r.makespan_s >= 1.0 - 1e-9 && r.makespan_s <= 1.01 + 1e-9);
    }
    CU_ASSERT_DOUBLE_EQUAL(r.work_s, 4.0, 1e-9);
  }
  /* One worker, dynamic chunks of 10: each chunk pays its record and a counter
   * operation, nothing else. */
  m = free_machine(1, 1);
  m.chunk_s = 1e-6;
  m.counter_s = 2e-6;
  amz_sim_result_t r;
  CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, AMZ_SCHED_DYNAMIC, 10, NULL, &r), AMZ_OK);
  CU_ASSERT_EQUAL(r.chunks, 400);
  /* 400 chunks plus the claim that finds nothing left. */
  CU_ASSERT_DOUBLE_EQUAL(r.makespan_s, 4.0 + 400 * 3e-6 + 2e-6, 1e-9);
  CU_ASSERT_EQUAL(r.counter_ops_max, 401);
  amz_sim_costs_destroy(c);
}

/* Every chunk of the schedule is simulated exactly once: the work the simulator
 * charged equals the sum over the schedule's own chunk sequence, for every
 * schedule, over one and many nodes, with refills and dealt ahead. */
static void test_every_chunk_runs_once(void) {
  const uint64_t N = 200000;
  amz_sim_costs_t *c = costs(AMZ_SIM_LOGNORMAL, N, 1e-5, -1);
  int shapes[3][2] = {{1, 8}, {16, 4}, {64, 2}};
  for (int k = 0; k < 3; k++)
    for (int ahead = 0; ahead < 2; ahead++)
      for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++) {
        amz_sim_machine_t m;
        amz_sim_machine_defaults(&m, shapes[k][0], shapes[k][1]);
        m.dealt_ahead = ahead;
        m.speed_spread = 0.3;
        amz_sim_result_t r;
        CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, (amz_schedule_t)s, 3, NULL, &r), AMZ_OK);
        amz__sched_t sch;
        int W = shapes[k][0] * shapes[k][1];
        CU_ASSERT_EQUAL_FATAL(amz__sched_init(&sch, (amz_schedule_t)s, N, W, 3), 0);
        double want = 0;
        for (uint64_t q = 0; q < sch.n_chunks; q++) {
          uint64_t b, e;
          amz__sched_chunk(&sch, q, &b, &e);
          want += amz_sim_range_cost(c, b, e);
        }
        if (s == AMZ_SCHED_STATIC) { /* blocks run in pieces, at least one each */
          CU_ASSERT(r.chunks >= sch.n_chunks && r.chunks <= sch.n_chunks * 200);
        } else {
          CU_ASSERT_EQUAL(r.chunks, sch.n_chunks);
        }
        CU_ASSERT_DOUBLE_EQUAL(r.work_s, want, want * 1e-12);
        /* Costs are additive: every schedule and chunk runs the same total work. */
        CU_ASSERT_DOUBLE_EQUAL(r.work_s, amz_sim_range_cost(c, 0, N), want * 1e-9);
        CU_ASSERT(r.efficiency > 0 && r.efficiency <= 1.0 + 1e-12);
        CU_ASSERT(r.makespan_s >= r.ideal_s);
        amz__sched_free(&sch);
      }
  amz_sim_costs_destroy(c);
}

static void count_take(void *ctx, int node, uint64_t first, uint64_t n) {
  (void)node, (void)first, (void)n;
  (*(uint64_t *)ctx)++;
}

/* The batches are the MPI run's: dealt ahead, the simulator hands out exactly the
 * batches amz__deal computes; with refills, rank 0 answers each with two messages
 * and their count stays under the run's bound. */
static void test_batches_follow_the_run_rules(void) {
  const uint64_t N = 1000000;
  amz_sim_costs_t *c = costs(AMZ_SIM_UNIFORM, N, 1e-5, 0.5);
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, 256, 4);
  for (int s = AMZ_SCHED_DYNAMIC; s <= AMZ_SCHED_FACTORING; s++) {
    amz__sched_t sch;
    CU_ASSERT_EQUAL_FATAL(amz__sched_init(&sch, (amz_schedule_t)s, N, 1024, 2), 0);
    uint64_t min_batch = sch.n_chunks / AMZ__MAX_BATCHES + 1, want = 0;
    amz__deal(&sch, 256, min_batch, 0, count_take, &want);
    m.dealt_ahead = 1;
    amz_sim_result_t r;
    CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, (amz_schedule_t)s, 2, NULL, &r), AMZ_OK);
    CU_ASSERT_EQUAL(r.batches, want);
    CU_ASSERT_EQUAL(r.refills, 0);
    CU_ASSERT_EQUAL(r.messages, 0);
    m.dealt_ahead = 0;
    CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, (amz_schedule_t)s, 2, NULL, &r), AMZ_OK);
    CU_ASSERT(r.refills > 0);
    CU_ASSERT(r.batches <= AMZ__MAX_BATCHES + 256 + 3);
    CU_ASSERT_EQUAL(r.messages, 2 * r.refills);
    /* Rank 0 serves every refill and holds the global counter and node 0's. */
    CU_ASSERT_EQUAL(r.busiest_rank, 0);
    CU_ASSERT(r.busiest_ops >= 2 * r.refills);
    amz__sched_free(&sch);
  }
  amz_sim_costs_destroy(c);
}

/* The node counter is a queue: with items far cheaper than a counter operation, a
 * node runs no faster than one chunk per counter_s, and the result says so. */
static void test_counter_bound_shows(void) {
  amz_sim_costs_t *c = costs(AMZ_SIM_UNIFORM, 100000, 1e-9, 0);
  amz_sim_machine_t m = free_machine(1, 16);
  m.counter_s = 1e-6;
  amz_sim_result_t r;
  CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, AMZ_SCHED_DYNAMIC, 1, NULL, &r), AMZ_OK);
  CU_ASSERT(r.makespan_s >= 100000 * 1e-6);
  CU_ASSERT(r.counter_busy > 0.95);
  CU_ASSERT(r.efficiency < 0.01);
  amz_sim_costs_destroy(c);
}

/* Uneven nodes: static blocks wait for the slowest node; the dynamic family's
 * weighted batches keep everyone busy. */
static void test_uneven_nodes(void) {
  amz_sim_costs_t *c = costs(AMZ_SIM_UNIFORM, 1000000, 1e-5, 0);
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, 8, 4);
  m.speed_spread = 0.5;
  amz_sim_result_t st, dy;
  double idle[32];
  CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, AMZ_SCHED_STATIC, 0, idle, &st), AMZ_OK);
  CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, AMZ_SCHED_DYNAMIC, 100, NULL, &dy), AMZ_OK);
  /* The slowest node runs at 1 - 0.5 * (1 - 1/8)... well under full speed. */
  CU_ASSERT(st.efficiency < 0.75);
  CU_ASSERT(dy.efficiency > 0.95);
  /* Per-rank idle: the fast nodes' ranks idle, the slowest node's not at all. */
  double sum = 0, mn = 1e9;
  for (int r = 0; r < 32; r++) {
    sum += idle[r];
    mn = idle[r] < mn ? idle[r] : mn;
  }
  CU_ASSERT_DOUBLE_EQUAL(sum / 32, st.idle_mean_s, 1e-12);
  CU_ASSERT(mn < 1e-9);
  CU_ASSERT(st.idle_max_s > 0.3 * st.makespan_s);
  amz_sim_costs_destroy(c);
}

static void test_deterministic(void) {
  amz_sim_costs_t *c = costs(AMZ_SIM_MANDELBROT, 300000, 1e-5, 0.3);
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, 32, 8);
  m.speed_spread = 0.2;
  amz_sim_result_t a, b;
  CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, AMZ_SCHED_FACTORING, 2, NULL, &a), AMZ_OK);
  CU_ASSERT_EQUAL_FATAL(amz_simulate_costs(c, &m, AMZ_SCHED_FACTORING, 2, NULL, &b), AMZ_OK);
  a.wall_s = b.wall_s = 0;
  CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
  amz_sim_costs_destroy(c);
}

static void test_choose_takes_the_fastest(void) {
  amz_sim_costs_t *c = costs(AMZ_SIM_INCREASING, 500000, 1e-5, 0);
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, 16, 8);
  amz_sim_choice_t best, per[AMZ_SCHED_COUNT];
  /* Over garbage, the reserved words come back zero (Growth, amorsize.h). */
  memset(&best, 0xAB, sizeof best);
  memset(per, 0xAB, sizeof per);
  CU_ASSERT_EQUAL_FATAL(amz_sim_choose(c, &m, AMZ_SCHED_AUTO, &best, per), AMZ_OK);
  for (int k = 0; k < 4; k++) {
    CU_ASSERT(best.reserved[k] == 0 && best.result.reserved[k] == 0);
    for (int s = 0; s < AMZ_SCHED_COUNT; s++)
      CU_ASSERT(per[s].reserved[k] == 0 && per[s].result.reserved[k] == 0);
  }
  for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++) {
    CU_ASSERT_EQUAL(per[s].schedule, s);
    CU_ASSERT(best.result.makespan_s <= per[s].result.makespan_s * 1.005 + 1e-12);
  }
  CU_ASSERT_EQUAL(per[AMZ_SCHED_AWF].schedule, AMZ_SCHED_AUTO);
  /* Increasing costs: static blocks leave the first ranks idle half the time. */
  CU_ASSERT(per[AMZ_SCHED_STATIC].result.efficiency < 0.6);
  CU_ASSERT(best.result.efficiency > 0.95);
  /* One schedule: its chunk is tuned. */
  amz_sim_choice_t dyn;
  CU_ASSERT_EQUAL_FATAL(amz_sim_choose(c, &m, AMZ_SCHED_DYNAMIC, &dyn, NULL), AMZ_OK);
  CU_ASSERT_EQUAL(dyn.schedule, AMZ_SCHED_DYNAMIC);
  CU_ASSERT_EQUAL(dyn.chunk, per[AMZ_SCHED_DYNAMIC].chunk);
  amz_sim_costs_destroy(c);
}

static void test_errors_name_the_value(void) {
  amz_sim_workload_t w;
  amz_sim_costs_t *c = NULL;
  amz_sim_workload_defaults(&w, AMZ_SIM_UNIFORM, 100, -2.0);
  CU_ASSERT_EQUAL(amz_sim_costs_create(&w, &c), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "-2"));
  CU_ASSERT_PTR_NULL(c);
  amz_sim_workload_defaults(&w, AMZ_SIM_BIMODAL, 100, 1e-3);
  w.bimodal_fraction = 1.5;
  CU_ASSERT_EQUAL(amz_sim_costs_create(&w, &c), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "1.5"));
  uint64_t ends[2] = {10, 20};
  double item[2] = {1, 1};
  amz_sim_workload_defaults(&w, AMZ_SIM_TABLE, 25, 0);
  w.segments = 2;
  w.segment_end = ends;
  w.segment_item_s = item;
  CU_ASSERT_EQUAL(amz_sim_costs_create(&w, &c), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "20"));
  amz_sim_shape_t sh;
  CU_ASSERT_EQUAL(amz_sim_shape_parse("gaussian", &sh), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "gaussian"));
  CU_ASSERT_EQUAL(amz_sim_shape_parse("Mandelbrot", &sh), AMZ_OK);
  CU_ASSERT_EQUAL(sh, AMZ_SIM_MANDELBROT);
  CU_ASSERT_STRING_EQUAL(amz_sim_shape_name(AMZ_SIM_BIMODAL), "bimodal");

  c = costs(AMZ_SIM_UNIFORM, 100, 1e-3, 0);
  amz_sim_machine_t m;
  amz_sim_result_t r;
  amz_sim_machine_defaults(&m, 0, 4);
  CU_ASSERT_EQUAL(amz_simulate_costs(c, &m, AMZ_SCHED_STATIC, 0, NULL, &r), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "0 nodes"));
  amz_sim_machine_defaults(&m, 2, 4);
  m.latency_s = -1e-6;
  CU_ASSERT_EQUAL(amz_simulate_costs(c, &m, AMZ_SCHED_STATIC, 0, NULL, &r), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "latency_s"));
  amz_sim_machine_defaults(&m, 2, 4);
  m.bandwidth = 0;
  CU_ASSERT_EQUAL(amz_simulate_costs(c, &m, AMZ_SCHED_STATIC, 0, NULL, &r), AMZ_EINVAL);
  amz_sim_machine_defaults(&m, 65536, 65536);
  CU_ASSERT_EQUAL(amz_simulate_costs(c, &m, AMZ_SCHED_STATIC, 0, NULL, &r), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "2^31"));
  amz_sim_machine_defaults(&m, 2, 4);
  CU_ASSERT_EQUAL(amz_simulate_costs(c, &m, AMZ_SCHED_AUTO, 0, NULL, &r), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_simulate_costs(c, &m, (amz_schedule_t)42, 0, NULL, &r), AMZ_ESCHED);
  CU_ASSERT_EQUAL(amz_simulate_costs(NULL, &m, AMZ_SCHED_STATIC, 0, NULL, &r), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_simulate_costs(c, &m, AMZ_SCHED_STATIC, 0, NULL, NULL), AMZ_EINVAL);
  /* An empty loop: only the collectives. */
  amz_sim_costs_destroy(c);
  c = costs(AMZ_SIM_UNIFORM, 0, 1e-3, 0);
  CU_ASSERT_EQUAL(amz_simulate_costs(c, &m, AMZ_SCHED_DYNAMIC, 0, NULL, &r), AMZ_OK);
  CU_ASSERT_EQUAL(r.chunks, 0);
  /* (each worker's claim that finds nothing; a node's one refill asking rank 0) */
  CU_ASSERT(r.makespan_s >= r.serial_s && r.makespan_s <= r.serial_s + 1e-3);
  CU_ASSERT(r.work_s == 0 && r.efficiency == 0);
  amz_sim_costs_destroy(c);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("simulate", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "costs of each shape: mean, short ranges exact, deterministic",
              test_costs_of_each_shape);
  CU_add_test(s, "shapes have their form", test_shapes_have_their_form);
  CU_add_test(s, "exact makespans without overheads", test_exact_makespans_without_overheads);
  CU_add_test(s, "every chunk of the schedule runs once", test_every_chunk_runs_once);
  CU_add_test(s, "batches follow the run's rules", test_batches_follow_the_run_rules);
  CU_add_test(s, "the counter's throughput bound shows", test_counter_bound_shows);
  CU_add_test(s, "uneven nodes: static waits, dynamic adapts", test_uneven_nodes);
  CU_add_test(s, "deterministic", test_deterministic);
  CU_add_test(s, "choose takes the fastest", test_choose_takes_the_fastest);
  CU_add_test(s, "errors name the value", test_errors_name_the_value);
  return amz_test_run();
}
