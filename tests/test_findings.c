/*
 * The bottleneck analysis (findings.c) on hand-made facts: each rule fires at its
 * threshold and not just below it, grades LOW/MEDIUM/HIGH at the table's values,
 * carries its share, value and thresholds, keeps the reports' order, and the
 * public names and thresholds agree with the findings. The runs in test_api and
 * the golden reports in tests/cli check the facts a result and a profile gather.
 */
#define _GNU_SOURCE /* open_memstream */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "test_util.h"

/* A quiet run: 1 s on 4 workers, every figure below every threshold. */
static amz__facts_t quiet(void) {
  return (amz__facts_t){.wall_s = 1.0, .workers = 4, .threads = 4,
                        .chunk = 8, .run_chunks = 100, .contention = 1.0, .cpu_ratio = 1.0,
                        .serial_pred_s = 4.0, .predicted_s = 1.0};
}

/* The findings of f (the list is freed by the caller). */
static amz__findings_t judge(const amz__facts_t *f) {
  amz__findings_t l = {0};
  CU_ASSERT_EQUAL_FATAL(amz__findings_judge(f, &l), 0);
  return l;
}

/* The first finding of kind k, or NULL. */
static const amz_finding_t *find(const amz__findings_t *l, amz_finding_kind_t k) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].kind == k) return &l->v[i];
  return NULL;
}

static void test_quiet_run_has_no_finding(void) {
  amz__facts_t f = quiet();
  amz__findings_t l = judge(&f);
  CU_ASSERT_EQUAL(l.n, 0);
  char *text = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  amz__findings_print(o, &l);
  fclose(o);
  CU_ASSERT_STRING_EQUAL(text, "\nBottlenecks\n  none: no overhead above its threshold.\n");
  free(text);
  amz__findings_free(&l);
}

/* Each share rule: below LOW nothing; at each threshold that severity, with the
 * share as value and the thresholds of amz_finding_thresholds(). */
static void test_share_rules_grade_at_their_thresholds(void) {
  const amz_finding_kind_t kinds[] = {AMZ_FINDING_STARTUP, AMZ_FINDING_DISPATCH,
                                      AMZ_FINDING_IMBALANCE, AMZ_FINDING_DATA,
                                      AMZ_FINDING_SERIAL};
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    double th[3];
    CU_ASSERT_EQUAL_FATAL(amz_finding_thresholds(kinds[k], th), 0);
    CU_ASSERT(th[0] > 0 && th[0] < th[1] && th[1] < th[2] && th[2] < 1);
    const double shares[4] = {th[0] * 0.99, th[0], th[1], th[2]};
    const amz_severity_t want[4] = {AMZ_SEVERITY_INFO, AMZ_SEVERITY_LOW, AMZ_SEVERITY_MEDIUM,
                                    AMZ_SEVERITY_HIGH};
    for (int s = 0; s < 4; s++) {
      amz__facts_t f = quiet();
      f.wall_s = 2.0;
      double part = shares[s] * f.wall_s;
      switch (kinds[k]) {
        case AMZ_FINDING_STARTUP: f.startup_s = part; break;
        case AMZ_FINDING_DISPATCH: f.dispatch_s = part; break;
        case AMZ_FINDING_IMBALANCE: f.imbalance_s = part; break;
        case AMZ_FINDING_DATA: f.data_s = part; break;
        default: f.serial_s = part; break;
      }
      f.predicted_s = f.wall_s;
      amz__findings_t l = judge(&f);
      const amz_finding_t *x = find(&l, kinds[k]);
      if (want[s] == AMZ_SEVERITY_INFO) {
        CU_ASSERT_PTR_NULL(x);
        CU_ASSERT_EQUAL(l.n, 0);
      } else {
        CU_ASSERT_EQUAL(l.n, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(x);
        CU_ASSERT_EQUAL(x->severity, want[s]);
        CU_ASSERT_DOUBLE_EQUAL(x->share, shares[s], 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(x->value, shares[s], 1e-12);
        CU_ASSERT_EQUAL(memcmp(x->thresholds, th, sizeof th), 0);
        /* The text starts with the kind's name, as the reports print it. */
        const char *name = amz_finding_kind_name(kinds[k]);
        CU_ASSERT_EQUAL(strncmp(x->text, name, strlen(name)), 0);
        CU_ASSERT_EQUAL(x->reserved[0], 0.0);
      }
      amz__findings_free(&l);
    }
  }
}

static void test_advice_follows_the_schedule(void) {
  amz__facts_t f = quiet();
  f.imbalance_s = 0.3;
  f.fixed_schedule = 1;
  amz__findings_t l = judge(&f);
  CU_ASSERT_PTR_NOT_NULL(strstr(l.v[0].text, "a dynamic schedule (factoring, guided)"));
  amz__findings_free(&l);
  f.fixed_schedule = 0;
  l = judge(&f);
  CU_ASSERT_PTR_NOT_NULL(strstr(l.v[0].text, "smaller (minimum) chunk"));
  amz__findings_free(&l);
}

static void test_failures_quote_the_profile_or_the_api(void) {
  amz__facts_t f = quiet();
  f.items_failed = 7;
  f.failed_ranges = 2;
  amz__findings_t l = judge(&f);
  CU_ASSERT_EQUAL_FATAL(l.n, 1);
  CU_ASSERT_EQUAL(l.v[0].kind, AMZ_FINDING_FAILURES);
  CU_ASSERT_EQUAL(l.v[0].severity, AMZ_SEVERITY_HIGH);
  CU_ASSERT(isnan(l.v[0].share));
  CU_ASSERT_EQUAL(l.v[0].value, 7.0);
  CU_ASSERT(isnan(l.v[0].thresholds[0]));
  CU_ASSERT_PTR_NOT_NULL(strstr(l.v[0].text, "7 items failed in 2 range(s)"));
  CU_ASSERT_PTR_NOT_NULL(strstr(l.v[0].text, "amz_result_failure()"));
  amz__findings_free(&l);
  f.failures_path = "run.h5";
  l = judge(&f);
  CU_ASSERT_PTR_NOT_NULL(strstr(l.v[0].text, "'amorsize chunks run.h5'"));
  amz__findings_free(&l);
}

static void test_ranks_rule_needs_two_ranks(void) {
  amz__facts_t f = quiet();
  f.ranks_ended = 1;
  f.rank_end_last_s = 1.0;
  f.rank_end_mean_s = 0.5;
  amz__findings_t l = judge(&f);
  CU_ASSERT_EQUAL(l.n, 0);
  amz__findings_free(&l);
  f.ranks_ended = 2;
  l = judge(&f);
  CU_ASSERT_EQUAL_FATAL(l.n, 1);
  CU_ASSERT_EQUAL(l.v[0].kind, AMZ_FINDING_RANKS);
  CU_ASSERT_EQUAL(l.v[0].severity, AMZ_SEVERITY_HIGH); /* 50% >= 25% */
  CU_ASSERT_DOUBLE_EQUAL(l.v[0].value, 0.5, 1e-12);
  CU_ASSERT_PTR_NOT_NULL(strstr(l.v[0].text, "end 50% before the last one"));
  amz__findings_free(&l);
}

static void test_contention_compares_run_with_sample(void) {
  amz__facts_t f = quiet();
  f.mean_item_s = 1e-3;
  f.contention = 1.2; /* expected 1.2 ms per item with all workers busy */
  f.run_items = 1000;
  f.busy_total_s = 1000 * 1.2e-3 * 1.6; /* 1.6 times slower than expected */
  amz__findings_t l = judge(&f);
  const amz_finding_t *x = find(&l, AMZ_FINDING_CONTENTION);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_EQUAL(x->severity, AMZ_SEVERITY_MEDIUM); /* 0.6: >= 0.5, < 1.0 */
  CU_ASSERT_DOUBLE_EQUAL(x->value, 0.6, 1e-9);
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "x1.60 slower than sampled"));
  /* contention 1.2 is also a memory finding: x1.2 is LOW (0.15 <= 0.2 < 0.3). */
  x = find(&l, AMZ_FINDING_MEMORY);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_EQUAL(x->severity, AMZ_SEVERITY_LOW);
  amz__findings_free(&l);
}

/* Chunks of a uniform loop (1 us per item over a 64-bin profile): each worker gets
 * `per` chunks of 10 items, worker w taking time x speed_div[w]; a deterministic
 * jitter of +-`jit` (relative) on every chunk. */
static size_t slow_chunks(amz__chunk_obs_t *c, int workers, size_t per, const double *div,
                          double jit) {
  size_t n = 0;
  uint64_t b = 0;
  for (size_t i = 0; i < per; i++)
    for (int w = 0; w < workers; w++, b += 10) {
      double j = 1.0 + jit * (((double)((n * 7919) % 101) / 50.0) - 1.0);
      c[n++] = (amz__chunk_obs_t){w, b, b + 10, 10e-6 * div[w] * j};
    }
  return n;
}

static int obs_at(const void *ctx, size_t i, amz__chunk_obs_t *out) {
  *out = ((const amz__chunk_obs_t *)ctx)[i];
  return 1;
}

/* amz__slowest_worker over chunks c[0..n), against a 64-bin profile of n_items. */
static int slowest(const double *density, uint64_t n_items, const amz__chunk_obs_t *c,
                   size_t n, int workers, int fixed, amz__slow_t *s) {
  amz__workload_t wl;
  CU_ASSERT_EQUAL_FATAL(amz__workload_from_density(&wl, n_items, 64, density), 0);
  return amz__slowest_worker(&wl, obs_at, c, n, workers, fixed, s);
}

static void test_slowest_worker(void) {
  double density[64];
  for (int i = 0; i < 64; i++) density[i] = 1e-6;
  amz__chunk_obs_t c[4 * 64];
  amz__slow_t s;
  /* Worker 2 of 4 at half speed, self-scheduled: it stands out at 0.5; the run
   * lost 1 - (1 + 1 + 0.5 + 1) / 4 = 12.5%. */
  const double half[4] = {1.0, 1.0, 2.0, 1.0};
  size_t n = slow_chunks(c, 4, 64, half, 0.05);
  CU_ASSERT_EQUAL(slowest(density, n * 10, c, n, 4, 0, &s), 0);
  CU_ASSERT_EQUAL(s.worker, 2);
  CU_ASSERT_DOUBLE_EQUAL(s.speed, 0.5, 0.03);
  CU_ASSERT_DOUBLE_EQUAL(s.expected, 0.5, 0.03);
  CU_ASSERT_DOUBLE_EQUAL(s.lost_share, 0.125, 0.01);
  /* Every worker at half the profile's speed, worker 2 at a quarter: half the
   * others' speed, a quarter of its expected one. */
  const double slower[4] = {2.0, 2.0, 4.0, 2.0};
  n = slow_chunks(c, 4, 64, slower, 0.05);
  CU_ASSERT_EQUAL(slowest(density, n * 10, c, n, 4, 0, &s), 0);
  CU_ASSERT_EQUAL(s.worker, 2);
  CU_ASSERT_DOUBLE_EQUAL(s.speed, 0.5, 0.03);
  CU_ASSERT_DOUBLE_EQUAL(s.expected, 0.25, 0.015);
  n = slow_chunks(c, 4, 64, half, 0.05);
  /* Fixed schedule: its block sets the end: half the run. */
  CU_ASSERT_EQUAL(slowest(density, n * 10, c, n, 4, 1, &s), 0);
  CU_ASSERT_DOUBLE_EQUAL(s.lost_share, 0.5, 0.03);
  /* Equal speeds with a 30% jitter: nobody stands out. */
  const double same[4] = {1.0, 1.0, 1.0, 1.0};
  n = slow_chunks(c, 4, 64, same, 0.3);
  CU_ASSERT_EQUAL(slowest(density, n * 10, c, n, 4, 0, &s), 0);
  CU_ASSERT_EQUAL(s.worker, -1);
  CU_ASSERT_DOUBLE_EQUAL(s.speed, 1.0, 0.0);
  /* A slight lag within the chunks' own noise: not a finding (4 standard errors). */
  const double lag[4] = {1.0, 1.0, 1.03, 1.0};
  n = slow_chunks(c, 4, 16, lag, 0.3);
  CU_ASSERT_EQUAL(slowest(density, n * 10, c, n, 4, 0, &s), 0);
  CU_ASSERT_EQUAL(s.worker, -1);
  /* Costly items do not make a worker slow: worker 0's chunks all fall in a bin
   * the profile says costs 20x, and take 20x the time. */
  for (int i = 0; i < 32; i++) density[i] = 20e-6;
  amz__chunk_obs_t d[2 * 32];
  for (size_t i = 0; i < 32; i++) {
    d[2 * i] = (amz__chunk_obs_t){0, i * 10, i * 10 + 10, 200e-6};
    d[2 * i + 1] = (amz__chunk_obs_t){1, 320 + i * 10, 330 + i * 10, 10e-6};
  }
  CU_ASSERT_EQUAL(slowest(density, 640, d, 64, 2, 0, &s), 0);
  CU_ASSERT_EQUAL(s.worker, -1);
  /* Too few chunks to tell, or one worker: nothing. */
  n = slow_chunks(c, 4, 8, half, 0.0);
  CU_ASSERT_EQUAL(slowest(density, n * 10, c, n, 4, 0, &s), 0);
  CU_ASSERT_EQUAL(s.worker, -1);
  CU_ASSERT_EQUAL(slowest(density, 640, d, 64, 1, 0, &s), 0);
  CU_ASSERT_EQUAL(s.worker, -1);
}

static void test_slow_worker_rule(void) {
  amz__facts_t f = quiet();
  f.slow = (amz__slow_t){.worker = 3, .speed = 0.6, .expected = 0.55, .lost_share = 0.1};
  amz__findings_t l = judge(&f);
  const amz_finding_t *x = find(&l, AMZ_FINDING_SLOW_WORKER);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_EQUAL(x->severity, AMZ_SEVERITY_MEDIUM); /* 0.4: >= 0.3, < 0.5 */
  CU_ASSERT_DOUBLE_EQUAL(x->value, 0.4, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(x->share, 0.1, 1e-12);
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "slow worker: thread 3 ran its items at 60% of the "
                                         "other workers' median speed and at 55% of the "
                                         "speed its items' cost profile expected"));
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "lost about 100 ms (10%) to the slower workers, the "
                                         "others taking over its items."));
  amz__findings_free(&l);
  /* MPI: rank and thread; a fixed schedule's advice. */
  f.mpi = 1;
  f.threads = 2;
  f.fixed_schedule = 1;
  l = judge(&f);
  x = find(&l, AMZ_FINDING_SLOW_WORKER);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "rank 1, thread 1 ran"));
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "to the slower workers: its blocks waited for it"));
  CU_ASSERT_PTR_NULL(strstr(x->text, "taking over"));
  amz__findings_free(&l);
  /* Below LOW (0.9: 0.1 < 0.15), or not known (speed 0): nothing. */
  f.slow.speed = 0.9;
  l = judge(&f);
  CU_ASSERT_PTR_NULL(find(&l, AMZ_FINDING_SLOW_WORKER));
  amz__findings_free(&l);
  f.slow = (amz__slow_t){0};
  l = judge(&f);
  CU_ASSERT_PTR_NULL(find(&l, AMZ_FINDING_SLOW_WORKER));
  amz__findings_free(&l);
}

static void test_blocks_fixed(void) {
  /* Threads of one rank take from each other's static blocks; ranks do not. */
  CU_ASSERT_FALSE(amz__blocks_fixed(AMZ_SCHED_STATIC, 1));
  CU_ASSERT_TRUE(amz__blocks_fixed(AMZ_SCHED_STATIC, 2));
  CU_ASSERT_TRUE(amz__blocks_fixed(AMZ_SCHED_CYCLIC, 1));
  CU_ASSERT_FALSE(amz__blocks_fixed(AMZ_SCHED_DYNAMIC, 4));
  CU_ASSERT_FALSE(amz__blocks_fixed(AMZ_SCHED_FACTORING, 1));
}

static void test_too_little_work_grades_downwards(void) {
  const double s[3] = {2e-3, 5e-4, 5e-5};
  const int n[3] = {0, 1, 1};
  const amz_severity_t want[3] = {AMZ_SEVERITY_INFO, AMZ_SEVERITY_MEDIUM, AMZ_SEVERITY_HIGH};
  for (int i = 0; i < 3; i++) {
    amz__facts_t f = quiet();
    f.serial_pred_s = s[i];
    amz__findings_t l = judge(&f);
    CU_ASSERT_EQUAL(l.n, (size_t)n[i]);
    if (l.n) {
      CU_ASSERT_EQUAL(l.v[0].kind, AMZ_FINDING_TOO_LITTLE_WORK);
      CU_ASSERT_EQUAL(l.v[0].severity, want[i]);
      CU_ASSERT_EQUAL(l.v[0].value, s[i]);
    }
    amz__findings_free(&l);
  }
}

static void test_prediction_is_signed_and_names_the_worst_term(void) {
  amz__facts_t f = quiet();
  f.predicted_s = 2.0; /* the run took half: -50% */
  f.worst_term = "compute";
  f.worst_gap_s = 0.9;
  amz__findings_t l = judge(&f);
  const amz_finding_t *x = find(&l, AMZ_FINDING_PREDICTION);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_EQUAL(x->severity, AMZ_SEVERITY_MEDIUM);
  CU_ASSERT_DOUBLE_EQUAL(x->value, -0.5, 1e-12);
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "took -50% against the prediction; the compute term"));
  amz__findings_free(&l);
}

static void test_nodes_oversubscription_and_binding(void) {
  amz_profile_node_t nodes[2] = {
      {.node = 0, .host = "a", .ranks = 2, .ranks_used = 2, .cores = 8, .pus = 16, .pus_bound = 4},
      {.node = 1, .host = "b", .ranks = 4, .ranks_used = 4, .cores = 4, .pus = 4, .pus_bound = 4},
  };
  amz__facts_t f = quiet();
  f.threads = 2;
  f.nodes = nodes;
  f.n_nodes = 2;
  f.mpi = 1;
  amz__findings_t l = judge(&f);
  /* Node 1 runs 8 workers on 4 cores; node 0 leaves 12 of 16 CPUs idle (75%: HIGH). */
  const amz_finding_t *x = find(&l, AMZ_FINDING_OVERSUBSCRIPTION);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_DOUBLE_EQUAL(x->value, 2.0, 1e-12);
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "node 1 (b) runs 8 workers on 4 cores"));
  x = find(&l, AMZ_FINDING_BINDING);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_EQUAL(x->severity, AMZ_SEVERITY_HIGH);
  CU_ASSERT_DOUBLE_EQUAL(x->value, 0.75, 1e-12);
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "--bind-to none"));
  amz__findings_free(&l);
  /* Overlapping bindings: a fixed LOW, without thresholds. */
  nodes[1] = (amz_profile_node_t){.node = 1, .host = "b", .ranks = 2, .ranks_used = 2,
                                  .cores = 8, .pus = 8, .pus_bound = 8, .shared = 1};
  f.n_nodes = 2;
  nodes[0].pus_bound = 16;
  l = judge(&f);
  CU_ASSERT_EQUAL_FATAL(l.n, 1);
  CU_ASSERT_EQUAL(l.v[0].kind, AMZ_FINDING_BINDING);
  CU_ASSERT_EQUAL(l.v[0].severity, AMZ_SEVERITY_LOW);
  CU_ASSERT(isnan(l.v[0].value) && isnan(l.v[0].thresholds[0]) && isnan(l.v[0].thresholds[2]));
  CU_ASSERT_PTR_NOT_NULL(strstr(l.v[0].text, "the CPU sets of node 1's ranks overlap"));
  amz__findings_free(&l);
  nodes[0].pus_bound = 4;
  f.mpi = 0;
  f.n_nodes = 1;
  l = judge(&f);
  x = find(&l, AMZ_FINDING_BINDING);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_PTR_NOT_NULL(strstr(x->text, "the process is bound to 4 of the machine's 16 CPUs"));
  amz__findings_free(&l);
}

/* Notes come last, do not count as bottlenecks, and the order is the reports'. */
static void test_order_and_notes(void) {
  amz__facts_t f = quiet();
  f.items_failed = 1;
  f.failed_ranges = 1;
  f.dispatch_s = 0.5;
  f.startup_s = 0.2;
  f.chunks_dropped = 3;
  f.cpu_ratio = 0.2;
  amz__findings_t l = judge(&f);
  const amz_finding_kind_t want[] = {AMZ_FINDING_FAILURES, AMZ_FINDING_STARTUP,
                                     AMZ_FINDING_DISPATCH, AMZ_FINDING_RECORD_BOUND,
                                     AMZ_FINDING_WAITING_KERNEL};
  CU_ASSERT_EQUAL_FATAL(l.n, sizeof want / sizeof *want);
  for (size_t i = 0; i < l.n; i++) CU_ASSERT_EQUAL(l.v[i].kind, want[i]);
  CU_ASSERT_EQUAL(l.v[3].severity, AMZ_SEVERITY_INFO);
  CU_ASSERT_EQUAL(l.v[4].severity, AMZ_SEVERITY_INFO);
  amz__findings_free(&l);
  /* Only notes: the "none" line is printed after them. */
  f = quiet();
  f.cpu_ratio = 3.0;
  l = judge(&f);
  CU_ASSERT_EQUAL_FATAL(l.n, 1);
  CU_ASSERT_EQUAL(l.v[0].kind, AMZ_FINDING_THREADED_KERNEL);
  char *text = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  amz__findings_print(o, &l);
  fclose(o);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "  [INFO] the kernel runs threads of its own (CPU/wall 3.00"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "  none: no overhead above its threshold.\n"));
  free(text);
  amz__findings_free(&l);
}

static void test_names_thresholds_and_errors(void) {
  for (int k = 0; k < AMZ_FINDING_KIND_COUNT; k++) {
    CU_ASSERT_STRING_NOT_EQUAL(amz_finding_kind_name((amz_finding_kind_t)k), "unknown");
    for (int j = 0; j < k; j++)
      CU_ASSERT_STRING_NOT_EQUAL(amz_finding_kind_name((amz_finding_kind_t)k),
                                 amz_finding_kind_name((amz_finding_kind_t)j));
  }
  CU_ASSERT_STRING_EQUAL(amz_finding_kind_name(AMZ_FINDING_KIND_COUNT), "unknown");
  CU_ASSERT_STRING_EQUAL(amz_finding_kind_name(AMZ_FINDING_DATA), "data movement");
  CU_ASSERT_STRING_EQUAL(amz_severity_name(AMZ_SEVERITY_HIGH), "HIGH");
  CU_ASSERT_STRING_EQUAL(amz_severity_name(AMZ_SEVERITY_INFO), "INFO");
  CU_ASSERT_STRING_EQUAL(amz_severity_name((amz_severity_t)4), "unknown");
  double th[3] = {1, 2, 3};
  CU_ASSERT_EQUAL(amz_finding_thresholds(AMZ_FINDING_KIND_COUNT, th), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "kind 17 is not a finding kind"));
  CU_ASSERT_EQUAL(amz_finding_thresholds(AMZ_FINDING_DISPATCH, NULL), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_finding_thresholds(AMZ_FINDING_DISPATCH, th), 0);
  CU_ASSERT_EQUAL(th[0], 0.02);
  CU_ASSERT_EQUAL(amz_finding_thresholds(AMZ_FINDING_WAITING_KERNEL, th), 0);
  CU_ASSERT_EQUAL(th[0], 0.5);
  CU_ASSERT(isnan(th[1]) && isnan(th[2]));
  /* The accessor behind amz_result_finding(): index checks. */
  amz__facts_t f = quiet();
  f.dispatch_s = 0.5;
  amz__findings_t l = judge(&f);
  amz_finding_t out;
  CU_ASSERT_EQUAL(amz__findings_get(&l, 0, &out, "who"), 0);
  CU_ASSERT_EQUAL(out.kind, AMZ_FINDING_DISPATCH);
  CU_ASSERT_EQUAL(amz__findings_get(&l, 1, &out, "who"), AMZ_ERANGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "who: finding index 1 out of range [0, 1)"));
  CU_ASSERT_EQUAL(amz__findings_get(&l, 0, NULL, "who"), AMZ_EINVAL);
  amz__findings_free(&l);
  CU_ASSERT_EQUAL(l.n, 0);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("findings", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "a quiet run has no finding", test_quiet_run_has_no_finding);
  CU_add_test(s, "share rules grade at their thresholds", test_share_rules_grade_at_their_thresholds);
  CU_add_test(s, "advice follows the schedule", test_advice_follows_the_schedule);
  CU_add_test(s, "failures quote the profile or the API", test_failures_quote_the_profile_or_the_api);
  CU_add_test(s, "the ranks rule needs two ranks", test_ranks_rule_needs_two_ranks);
  CU_add_test(s, "contention compares the run with the sample",
              test_contention_compares_run_with_sample);
  CU_add_test(s, "too little work grades downwards", test_too_little_work_grades_downwards);
  CU_add_test(s, "the slowest worker, by its items' cost", test_slowest_worker);
  CU_add_test(s, "the slow-worker rule", test_slow_worker_rule);
  CU_add_test(s, "which blocks stay where they were dealt", test_blocks_fixed);
  CU_add_test(s, "prediction is signed and names the worst term",
              test_prediction_is_signed_and_names_the_worst_term);
  CU_add_test(s, "nodes: oversubscription and binding", test_nodes_oversubscription_and_binding);
  CU_add_test(s, "order, and notes last", test_order_and_notes);
  CU_add_test(s, "names, thresholds and errors", test_names_thresholds_and_errors);
  return amz_test_run();
}
