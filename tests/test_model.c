/*
 * The cost model (cost_model.c) on synthetic machines and workloads: each term is
 * checked against what its definition gives by hand, and the comparisons between
 * candidates that the planner relies on are checked as orderings.
 */
#include <math.h>
#include <string.h>

#include "test_util.h"

#define REL_NEAR(a, b, rel) CU_ASSERT_DOUBLE_EQUAL((a), (b), fabs(b) * (rel))

static const amz_schedule_t k_kinds[] = {AMZ_SCHED_STATIC, AMZ_SCHED_CYCLIC,
                                         AMZ_SCHED_DYNAMIC, AMZ_SCHED_GUIDED,
                                         AMZ_SCHED_FACTORING, AMZ_SCHED_AWF};
#define N_KINDS (sizeof k_kinds / sizeof k_kinds[0])

static double term_sum(const amz_terms_t *t) {
  return t->startup + t->compute + t->dispatch + t->imbalance + t->serial;
}

/* A workload whose cost rises linearly from c0 at index 0 to c0 (1 + a) at n, built
 * the way the sampler builds it: from 64 sample blocks of 10 items spread evenly. */
static amz__workload_t ramp_workload(uint64_t n, double c0, double a) {
  enum { NB = 64 };
  amz__sample_t s[NB];
  for (size_t j = 0; j < NB; j++) {
    uint64_t b = (uint64_t)j * n / NB;
    double w = 0.0;
    for (uint64_t i = b; i < b + 10; i++) w += c0 * (1.0 + a * (double)i / (double)n);
    s[j] = (amz__sample_t){.begin = b, .end = b + 10, .wall_s = w, .cpu_s = w};
  }
  amz__workload_t wl;
  amz__workload_from_samples(&wl, n, s, NB);
  return wl;
}

static void test_terms_add_up_and_are_nonnegative(void) {
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wls[3] = {amz_test_uniform_workload(10000, 1e-6, 0.0),
                            amz_test_uniform_workload(777, 5e-5, 1e-4),
                            ramp_workload(50000, 2e-7, 5.0)};
  static const int workers[] = {1, 2, 3, 4, 8, 64};
  static const uint64_t chunks[] = {0, 1, 7, 1000};
  int bad = 0;
  for (int w = 0; w < 3; w++)
    for (size_t k = 0; k < N_KINDS; k++)
      for (size_t p = 0; p < sizeof workers / sizeof workers[0]; p++)
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
          amz_terms_t t;
          int rc = amz__model_predict(&wls[w], &m, workers[p], k_kinds[k], chunks[c], 1.0, 0, &t);
          double sum = term_sum(&t);
          int ok = rc == 0 && isfinite(t.total) && t.startup >= 0 && t.compute >= 0 &&
                   t.dispatch >= 0 && t.imbalance >= 0 && t.serial >= 0 &&
                   fabs(t.total - sum) <= 1e-12 * sum;
          if (!ok && bad++ < 5)
            fprintf(stderr, "\n  workload %d %s W=%d chunk=%llu: rc=%d total %g, terms sum %g", w,
                    amz_schedule_name(k_kinds[k]), workers[p], (unsigned long long)chunks[c], rc,
                    t.total, sum);
        }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_compute_is_work_over_workers_for_uniform(void) {
  /* Without contention and with no more workers than cores, items do not slow down:
   * compute is exactly the work divided by the workers, for every schedule. */
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(10000, 1e-6, 0.0);
  for (size_t k = 0; k < N_KINDS; k++)
    for (int W = 1; W <= 4; W++) {
      amz_terms_t t;
      CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, W, k_kinds[k], 100, 1.0, 0, &t), 0);
      REL_NEAR(t.compute, 1e-2 / W, 1e-12);
    }
}

static void test_remaining_fraction_scales_compute(void) {
  /* On a first run the sampled items are done already: half remaining, half work. */
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(10000, 1e-6, 0.0);
  amz_terms_t full, half, none;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 3, &full), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 0.5, 3, &half), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 0.0, 3, &none), 0);
  REL_NEAR(half.compute, 0.5 * full.compute, 1e-12);
  CU_ASSERT(half.total < full.total);
  /* Nothing left to run costs only the fixed parts. */
  CU_ASSERT_DOUBLE_EQUAL(none.compute, 0.0, 0.0);
  REL_NEAR(none.total, none.startup + none.serial, 1e-12);
}

static void test_static_uniform_runs_its_pieces_and_no_imbalance(void) {
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(10000, 1e-6, 0.0);
  amz_terms_t t;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 3, &t), 0);
  /* Even costs, even speeds: every worker runs just its own block of 2500, in pieces
   * of 1/8 of what is left of it. */
  REL_NEAR(t.dispatch, (double)amz__steal_pieces(2500) * m.costs.chunk_atomic_s, 1e-12);
  CU_ASSERT(amz__steal_pieces(2500) > 40 && amz__steal_pieces(2500) < 80);
  CU_ASSERT_DOUBLE_EQUAL(t.imbalance, 0.0, 1e-15);
  REL_NEAR(t.serial, m.costs.run_serial_s, 1e-12);
}

static void test_dispatch_grows_with_the_number_of_chunks(void) {
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(10000, 1e-6, 0.0);
  amz_terms_t fine, coarse;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_DYNAMIC, 1, 1.0, 3, &fine), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_DYNAMIC, 1000, 1.0, 3, &coarse),
                        0);
  /* 10000 chunks over 4 workers: about 2500 contended hand-outs on the critical
   * worker; 10 chunks of 1000: 3 on the busiest worker. */
  REL_NEAR(fine.dispatch, 2500 * m.costs.chunk_contended_s, 0.05);
  REL_NEAR(coarse.dispatch, 3 * m.costs.chunk_contended_s, 1e-9);
  CU_ASSERT(fine.dispatch > 100 * coarse.dispatch);
  /* Dispatch grows monotonically as chunks get smaller. */
  double prev = 0.0;
  static const uint64_t chunks[] = {2500, 500, 100, 20, 4, 1};
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
    amz_terms_t t;
    CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_DYNAMIC, chunks[i], 1.0, 3, &t),
                          0);
    CU_ASSERT(t.dispatch > prev);
    prev = t.dispatch;
  }
}

static void test_chunk_cost_per_schedule(void) {
  amz__machine_t m = amz_test_machine(4);
  /* Cyclic chunks need no shared counter; a static piece locks the worker's own
   * range, uncontended unless another worker takes from it. */
  CU_ASSERT_DOUBLE_EQUAL(amz__model_chunk_cost(&m, AMZ_SCHED_STATIC, 4), m.costs.chunk_atomic_s,
                         0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__model_chunk_cost(&m, AMZ_SCHED_CYCLIC, 4), m.costs.chunk_static_s,
                         0.0);
  /* A shared counter is uncontended with one worker, contended with more. */
  CU_ASSERT_DOUBLE_EQUAL(amz__model_chunk_cost(&m, AMZ_SCHED_DYNAMIC, 1), m.costs.chunk_atomic_s,
                         0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__model_chunk_cost(&m, AMZ_SCHED_DYNAMIC, 4), m.costs.chunk_contended_s,
                         0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__model_chunk_cost(&m, AMZ_SCHED_GUIDED, 4), m.costs.chunk_contended_s,
                         0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__model_chunk_cost(&m, AMZ_SCHED_FACTORING, 4),
                         m.costs.chunk_contended_s, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__model_chunk_cost(&m, AMZ_SCHED_AWF, 4), m.costs.chunk_awf_s, 0.0);
}

static void test_static_blocks_even_out_a_ramp(void) {
  /* Cost rising 1 -> 4 with the index: the last static block holds the costliest
   * quarter, (0.25 + 3 * 0.4375 / 2) / (2.5 / 4) = 1.45 times the mean block. Fixed
   * blocks would leave a tail of 45% of compute; the workers on the cheap blocks
   * take from the costly ones instead, as small dynamic chunks would balance it. */
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = ramp_workload(10000, 1e-6, 3.0);
  amz_terms_t st, dy, cy;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 3, &st), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_DYNAMIC, 16, 1.0, 3, &dy), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_CYCLIC, 2500, 1.0, 3, &cy), 0);
  CU_ASSERT(st.imbalance < 0.02 * st.compute);
  CU_ASSERT(st.total < 1.02 * dy.total);
  /* Cyclic chunks of a worker's share are fixed blocks: no way out. */
  CU_ASSERT(cy.imbalance > 0.35 * cy.compute && cy.imbalance < 0.55 * cy.compute);
  /* Two ranks of 2 threads: each rank evens out its own half only; the costly half
   * is 3.25 / 2.5 = 1.3 times the mean. */
  amz_terms_t gr;
  CU_ASSERT_EQUAL_FATAL(
      amz__model_predict_grouped(&wl, &m, 4, 2, AMZ_SCHED_STATIC, 0, 1.0, 3, &gr), 0);
  CU_ASSERT(gr.imbalance > 0.25 * gr.compute && gr.imbalance < 0.35 * gr.compute);
  /* Same work, whatever the schedule. */
  REL_NEAR(st.compute, dy.compute, 1e-12);
}

static void test_random_spread_adds_a_tail(void) {
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t calm = amz_test_uniform_workload(10000, 1e-5, 0.0);
  amz__workload_t noisy = amz_test_uniform_workload(10000, 1e-5, 2e-5);
  for (size_t k = 0; k < N_KINDS; k++) {
    amz_terms_t a, b;
    CU_ASSERT_EQUAL_FATAL(amz__model_predict(&calm, &m, 4, k_kinds[k], 8, 1.0, 3, &a), 0);
    CU_ASSERT_EQUAL_FATAL(amz__model_predict(&noisy, &m, 4, k_kinds[k], 8, 1.0, 3, &b), 0);
    CU_ASSERT(b.imbalance > a.imbalance);
  }
  /* Fixed blocks' random spread accumulates over all their items (cyclic chunks of
   * a worker's share); a dynamic tail chunk's over 8 items only, and static blocks,
   * whose workers take from each other, down to single items. */
  amz_terms_t st, dy, cy;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&noisy, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 3, &st), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&noisy, &m, 4, AMZ_SCHED_DYNAMIC, 8, 1.0, 3, &dy), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&noisy, &m, 4, AMZ_SCHED_CYCLIC, 2500, 1.0, 3, &cy), 0);
  CU_ASSERT(cy.imbalance > 5.0 * dy.imbalance);
  CU_ASSERT(st.imbalance < dy.imbalance);
}

static void test_longest_item_bounds_the_makespan(void) {
  /* One item may take far longer than the mean (a heavy tail): no schedule can
   * finish before it does. */
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(100, 1e-4, 0.0);
  wl.max_item_s = 0.5;
  for (size_t k = 0; k < N_KINDS; k++) {
    amz_terms_t t;
    CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, k_kinds[k], 1, 1.0, 3, &t), 0);
    CU_ASSERT(t.compute + t.dispatch + t.imbalance >= 0.5);
  }
}

static void test_zero_items_gives_only_startup_and_serial(void) {
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(0, 1e-6, 0.0);
  for (size_t k = 0; k < N_KINDS; k++) {
    amz_terms_t one, four;
    CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 1, k_kinds[k], 0, 1.0, 0, &one), 0);
    CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, k_kinds[k], 0, 1.0, 0, &four), 0);
    CU_ASSERT_DOUBLE_EQUAL(one.compute + one.dispatch + one.imbalance, 0.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(four.compute + four.dispatch + four.imbalance, 0.0, 0.0);
    /* One worker wakes nobody. */
    CU_ASSERT_DOUBLE_EQUAL(one.startup, 0.0, 0.0);
    REL_NEAR(one.total, m.costs.run_serial_s, 1e-12);
    /* Four workers on an empty pool: wake 3 helpers and create 3 threads. */
    REL_NEAR(four.startup, m.costs.pool_wake_s + 3 * m.costs.thread_start_s, 1e-12);
    REL_NEAR(four.total, four.startup + m.costs.run_serial_s, 1e-12);
  }
}

static void test_startup_counts_only_threads_the_pool_lacks(void) {
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(1000, 1e-6, 0.0);
  amz_terms_t warm, cold, part;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 3, &warm), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 0, &cold), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 1, &part), 0);
  /* pool_wake_s was measured with probe_workers (4) workers: 3 helpers woken. */
  REL_NEAR(warm.startup, m.costs.pool_wake_s, 1e-12);
  REL_NEAR(cold.startup, m.costs.pool_wake_s + 3 * m.costs.thread_start_s, 1e-12);
  REL_NEAR(part.startup, m.costs.pool_wake_s + 2 * m.costs.thread_start_s, 1e-12);
  /* Waking fewer helpers costs proportionally less. */
  amz_terms_t two;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 2, AMZ_SCHED_STATIC, 0, 1.0, 3, &two), 0);
  REL_NEAR(two.startup, m.costs.pool_wake_s / 3.0, 1e-12);
}

static void test_slowdown_exceeds_one_under_contention(void) {
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(1000, 1e-6, 0.0);
  wl.contention = wl.contention_raw = 1.5;
  wl.contention_workers = 4;
  /* Alone there is nothing to contend with; with the measured 4 workers the measured
   * factor applies; in between it is interpolated. */
  CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, 1), 1.0, 1e-12);
  double s2 = amz__model_slowdown(&wl, &m, 2), s3 = amz__model_slowdown(&wl, &m, 3);
  CU_ASSERT(s2 > 1.0 && s2 < s3);
  CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, 4), 1.5, 1e-12);
  /* The compute term carries the slowdown. */
  amz_terms_t t;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 3, &t), 0);
  REL_NEAR(t.compute, 1.5 * 1e-3 / 4, 1e-12);
  /* No contention: no slowdown up to the cores. */
  amz__workload_t calm = amz_test_uniform_workload(1000, 1e-6, 0.0);
  for (int w = 1; w <= 4; w++)
    CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&calm, &m, w), 1.0, 1e-12);
}

/* Contention is a node's: 8 workers on 2 nodes of 4 cores meet what 4 workers of
 * one node met while sampling, not an extrapolation to 8. */
static void test_contention_is_a_nodes(void) {
  amz__machine_t m = amz_test_machine(8);
  amz__workload_t wl = amz_test_uniform_workload(1000, 1e-6, 0.0);
  wl.contention = wl.contention_raw = 1.5;
  wl.contention_workers = 4;
  /* One machine of 8 cores: interpolated beyond the measured 4 busy workers. */
  CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, 8), 1.0 + 0.5 * 7.0 / 3.0, 1e-12);
  /* Two nodes of 4: each node has its 4 workers busy. */
  m.node_workers = 4;
  CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, 8), 1.5, 1e-12);
  /* Two nodes with 2 workers each: half-way. */
  m.node_workers = 2;
  CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, 4), 1.0 + 0.5 / 3.0, 1e-12);
  /* One worker per node contends with nobody. */
  m.node_workers = 1;
  CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, 2), 1.0, 1e-12);
}

static void test_cpu_bound_oversubscription_gains_nothing(void) {
  /* 8 CPU-bound threads on 4 cores time-slice: each item takes twice as long, so
   * compute with 8 workers equals compute with 4. */
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(8000, 1e-6, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, 8), 2.0, 1e-12);
  amz_terms_t four, eight;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 7, &four), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 8, AMZ_SCHED_STATIC, 0, 1.0, 7, &eight), 0);
  REL_NEAR(eight.compute, four.compute, 1e-12);
  CU_ASSERT(eight.total > four.total);
}

static void test_waiting_kernel_does_not_slow_down_until_cores_saturate(void) {
  /* A kernel that computes 5% of its time (I/O, sleeps): 4 cores serve 4 / 0.05 = 80
   * such threads before any of them has to wait for a core. */
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(8000, 1e-3, 0.0);
  wl.cpu_ratio = 0.05;
  for (int w = 1; w <= 80; w++) CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, w), 1.0, 1e-12);
  /* 160 threads want 8 cores: the CPU half of each item doubles, 0.05 * 2 + 0.95. */
  CU_ASSERT_DOUBLE_EQUAL(amz__model_slowdown(&wl, &m, 160), 1.05, 1e-12);
  CU_ASSERT(amz__model_slowdown(&wl, &m, 81) > 1.0);
  /* So 40 workers really compute 10 times faster than 4. */
  amz_terms_t four, forty;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_STATIC, 0, 1.0, 63, &four), 0);
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 40, AMZ_SCHED_STATIC, 0, 1.0, 63, &forty), 0);
  REL_NEAR(forty.compute, four.compute / 10.0, 1e-12);
  CU_ASSERT(forty.total < four.total);
}

static void test_huge_n_is_simulated_in_groups_accurately(void) {
  /* 10^9 one-item chunks cannot be list-scheduled one by one; grouping them must
   * keep the balance and the dispatch count of the real sequence. */
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(1000000000ULL, 1e-9, 0.0);
  amz_terms_t t;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_DYNAMIC, 1, 1.0, 3, &t), 0);
  REL_NEAR(t.compute, 0.25, 1e-9);
  REL_NEAR(t.dispatch, 2.5e8 * m.costs.chunk_contended_s, 0.01);
  CU_ASSERT(t.imbalance < 0.01 * (t.compute + t.dispatch));
  /* CYCLIC with more chunks than it simulates one by one is interleaved evenly. */
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_CYCLIC, 1, 1.0, 3, &t), 0);
  REL_NEAR(t.dispatch, 2.5e8 * m.costs.chunk_static_s, 1e-9);
  CU_ASSERT(t.imbalance < 0.01 * t.compute);
}

/* The prediction's interval (amz__model_interval): each part by hand. */
static void test_interval_parts(void) {
  amz__workload_t wl = amz_test_uniform_workload(10000, 1e-4, 0.0);
  wl.sampled_blocks = 64;
  wl.rel_error = 0.08;
  wl.max_item_s = 2e-3;
  wl.runq_share = 0.0;
  amz_terms_t t = {.startup = 1e-4, .compute = 0.25, .dispatch = 1e-3, .imbalance = 1e-3,
                   .serial = 2e-4};
  t.total = term_sum(&t);
  amz__interval_t iv;
  /* A first run: 8 random groups (7 degrees of freedom, t = 1.895) on the
   * work-proportional terms; 5% run-to-run; the longest item coming last. */
  amz__model_interval(&wl, &t, 1.0, 1, NULL, 0, &iv);
  REL_NEAR(iv.sampling, 1.895 * 0.08 * (t.compute + t.imbalance) / t.total, 1e-9);
  REL_NEAR(iv.noise, AMZ__NOISE_FLOOR, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(iv.load, 0.0, 0.0);
  REL_NEAR(iv.tail_s, 2e-3 - 1e-3, 1e-9);
  double rel = sqrt(iv.sampling * iv.sampling + iv.noise * iv.noise);
  REL_NEAR(iv.lo_s, t.total * (1.0 - rel), 1e-9);
  REL_NEAR(iv.hi_s, t.total * (1.0 + rel) + iv.tail_s, 1e-9);
  CU_ASSERT(iv.lo_s < t.total && t.total < iv.hi_s);
  CU_ASSERT_STRING_EQUAL(iv.widest, "sampling error");
  /* Few blocks: their own degrees of freedom, a wider quantile. */
  wl.sampled_blocks = 4;
  amz__interval_t few;
  amz__model_interval(&wl, &t, 1.0, 1, NULL, 0, &few);
  REL_NEAR(few.sampling, 2.353 * 0.08 * (t.compute + t.imbalance) / t.total, 1e-9);
  CU_ASSERT(few.hi_s > iv.hi_s && few.lo_s < iv.lo_s);
  /* A rerun: the level was measured, no sampling part and no tail; the plan's own
   * misses widen it when larger than the floor. */
  double err[2] = {-0.02, AMZ__NOISE_FLOOR + 0.07};
  amz__model_interval(&wl, &t, 1.0, 0, err, 2, &iv);
  CU_ASSERT_DOUBLE_EQUAL(iv.sampling, 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(iv.tail_s, 0.0, 0.0);
  REL_NEAR(iv.noise, AMZ__NOISE_FLOOR + 0.07, 1e-12);
  REL_NEAR(iv.hi_s, t.total * (1.0 + AMZ__NOISE_FLOOR + 0.07), 1e-9);
  CU_ASSERT_STRING_EQUAL(iv.widest, "this plan's latest misses");
  /* Load seen while sampling: a share q waiting for a CPU gives q / (1 - q) above
   * and q below (the prediction counts it; the run may meet more, or none). */
  wl.runq_share = 0.2;
  wl.load_share = 0.15;
  amz__model_interval(&wl, &t, 1.0, 0, NULL, 0, &iv);
  REL_NEAR(iv.load, 0.25, 1e-12);
  const double f = AMZ__NOISE_FLOOR;
  REL_NEAR(iv.hi_s, t.total * (1.0 + sqrt(f * f + 0.25 * 0.25)), 1e-9);
  REL_NEAR(iv.lo_s, t.total * (1.0 - sqrt(f * f + 0.2 * 0.2)), 1e-9);
  CU_ASSERT_STRING_EQUAL(iv.widest, "load from other processes");
  /* Never below the run's own set-up, and never inverted. */
  double huge[1] = {5.0};
  amz__model_interval(&wl, &t, 1.0, 0, huge, 1, &iv);
  CU_ASSERT_DOUBLE_EQUAL(iv.lo_s, t.startup + t.serial, 1e-15);
  CU_ASSERT(iv.hi_s >= t.total);
  /* Nothing predicted: an empty interval at 0. */
  amz_terms_t zero = {0};
  amz__model_interval(&wl, &zero, 1.0, 1, NULL, 0, &iv);
  CU_ASSERT_DOUBLE_EQUAL(iv.lo_s, 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(iv.hi_s, 0.0, 0.0);
}

/* Other processes' load (amz__model_foreign_load): the sampling threads' wait for a
 * CPU between their blocks adds to the cores wanted, fair-shared. */
static void test_foreign_load(void) {
  amz__machine_t m = amz_test_machine(2);
  amz__workload_t wl = amz_test_uniform_workload(1000, 1e-4, 0.0);
  wl.cpu_ratio = 1.0;
  wl.sample_workers = 2;
  wl.sample_cores = 2;
  CU_ASSERT_DOUBLE_EQUAL(amz__model_foreign_load(&wl), 0.0, 0.0);
  REL_NEAR(amz__model_slowdown(&wl, &m, 2), 1.0, 1e-12);
  /* One process spinning on one of two cores: the two workers together got 1.5 of
   * them, a quarter of their time waiting: a load of 1/3 per core, 4/3 slower. */
  wl.load_share = 0.25;
  wl.runq_share = 0.25;
  REL_NEAR(amz__model_foreign_load(&wl), 1.0 / 3.0, 1e-12);
  REL_NEAR(amz__model_slowdown(&wl, &m, 2), 4.0 / 3.0, 1e-12);
  /* One worker finds a free core; four time-share with the load (4 + 2/3 on 2). */
  REL_NEAR(amz__model_slowdown(&wl, &m, 1), 1.0, 1e-12);
  REL_NEAR(amz__model_slowdown(&wl, &m, 4), (4.0 / 2.0 + 1.0 / 3.0), 1e-12);
  /* Sampled with twice the threads of the cores: the same wait means twice the load. */
  wl.sample_workers = 4;
  REL_NEAR(amz__model_foreign_load(&wl), 2.0 / 3.0, 1e-12);
  /* Capped at AMZ__LOAD_MAX; none for a kernel that waits (its threads queue after
   * their own wake-ups). */
  wl.sample_workers = 2;
  wl.load_share = 0.9;
  REL_NEAR(amz__model_foreign_load(&wl), AMZ__LOAD_MAX / (1.0 - AMZ__LOAD_MAX), 1e-12);
  wl.cpu_ratio = 0.1;
  wl.load_share = 0.0; /* what the workload sets for a waiting kernel */
  CU_ASSERT_DOUBLE_EQUAL(amz__model_foreign_load(&wl), 0.0, 0.0);
  /* The prediction carries it in the compute term. */
  wl = amz_test_uniform_workload(1000, 1e-4, 0.0);
  amz_terms_t a, b;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 2, AMZ_SCHED_STATIC, 0, 1.0, 1, &a), 0);
  wl.cpu_ratio = 1.0;
  wl.sample_workers = 2;
  wl.sample_cores = 2;
  wl.load_share = wl.runq_share = 0.25;
  CU_ASSERT_EQUAL_FATAL(amz__model_predict(&wl, &m, 2, AMZ_SCHED_STATIC, 0, 1.0, 1, &b), 0);
  REL_NEAR(b.compute, a.compute * 4.0 / 3.0, 1e-9);
}

static void test_auto_is_not_a_schedule_to_predict(void) {
  amz__machine_t m = amz_test_machine(4);
  amz__workload_t wl = amz_test_uniform_workload(100, 1e-6, 0.0);
  amz_terms_t t;
  CU_ASSERT_EQUAL(amz__model_predict(&wl, &m, 4, AMZ_SCHED_AUTO, 0, 1.0, 3, &t), AMZ_ESCHED);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("cost_model", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "terms add up to total and are non-negative",
              test_terms_add_up_and_are_nonnegative);
  CU_add_test(s, "other processes' load, fair-shared", test_foreign_load);
  CU_add_test(s, "compute is work / workers for a uniform workload",
              test_compute_is_work_over_workers_for_uniform);
  CU_add_test(s, "remaining fraction scales compute", test_remaining_fraction_scales_compute);
  CU_add_test(s, "static uniform: its pieces, no imbalance",
              test_static_uniform_runs_its_pieces_and_no_imbalance);
  CU_add_test(s, "dispatch grows with the number of chunks",
              test_dispatch_grows_with_the_number_of_chunks);
  CU_add_test(s, "chunk cost per schedule", test_chunk_cost_per_schedule);
  CU_add_test(s, "static blocks even out a ramp; cyclic blocks do not",
              test_static_blocks_even_out_a_ramp);
  CU_add_test(s, "random spread adds a tail", test_random_spread_adds_a_tail);
  CU_add_test(s, "the longest item bounds the makespan", test_longest_item_bounds_the_makespan);
  CU_add_test(s, "zero items gives only startup and serial",
              test_zero_items_gives_only_startup_and_serial);
  CU_add_test(s, "startup counts only threads the pool lacks",
              test_startup_counts_only_threads_the_pool_lacks);
  CU_add_test(s, "slowdown exceeds 1 under contention", test_slowdown_exceeds_one_under_contention);
  CU_add_test(s, "contention is a node's", test_contention_is_a_nodes);
  CU_add_test(s, "CPU-bound oversubscription gains nothing",
              test_cpu_bound_oversubscription_gains_nothing);
  CU_add_test(s, "waiting kernel: no slowdown until cores saturate",
              test_waiting_kernel_does_not_slow_down_until_cores_saturate);
  CU_add_test(s, "huge n is simulated in groups accurately",
              test_huge_n_is_simulated_in_groups_accurately);
  CU_add_test(s, "AUTO is not a schedule to predict", test_auto_is_not_a_schedule_to_predict);
  CU_add_test(s, "the prediction's interval, part by part", test_interval_parts);
  return amz_test_run();
}
