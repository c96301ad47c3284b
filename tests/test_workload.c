/*
 * The workload model (workload.c) built from synthetic sample blocks whose costs
 * are known exactly: per-item statistics, the index trend and the cost profile
 * that the cost model integrates over chunk ranges.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define REL_NEAR(a, b, rel) CU_ASSERT_DOUBLE_EQUAL((a), (b), fabs(b) * (rel))

/* Cost of item i in a workload whose cost rises linearly from c0 at index 0 to
 * c0 * (1 + a) at index n. */
static double ramp_cost(uint64_t i, uint64_t n, double c0, double a) {
  return c0 * (1.0 + a * (double)i / (double)n);
}

/* n_blocks blocks of m items evenly spread over [0, n), each block's wall time the
 * exact sum of ramp_cost over its items, CPU time cpu_share of it. */
static void ramp_samples(amz__sample_t *s, size_t n_blocks, uint64_t m, uint64_t n, double c0,
                         double a, double cpu_share) {
  for (size_t j = 0; j < n_blocks; j++) {
    uint64_t b = (uint64_t)j * n / n_blocks;
    double w = 0.0;
    for (uint64_t i = b; i < b + m; i++) w += ramp_cost(i, n, c0, a);
    s[j] = (amz__sample_t){.begin = b, .end = b + m, .wall_s = w, .cpu_s = w * cpu_share};
  }
}

/* Other processes' load is read where all workers were busy: a block that ran alone
 * may have waited behind a process on its core while another core stood free. */
static void test_load_share_from_busy_blocks(void) {
  enum { NB = 20 };
  amz__sample_t s[NB];
  const uint64_t n = 1000;
  ramp_samples(s, NB, 10, n, 1e-5, 0.0, 1.0);
  for (size_t j = 0; j < NB; j++) {
    s[j].concurrent = j >= 4;
    /* alone: as long again queued; busy: a third of the block's time */
    s[j].queued_s = s[j].concurrent ? s[j].wall_s / 3.0 : s[j].wall_s;
  }
  amz__workload_t wl;
  amz__workload_from_samples(&wl, n, s, NB);
  REL_NEAR(wl.load_share, 0.25, 1e-12);
  /* the whole wait for a CPU still shows in runq_share (4 blocks alone, 16 busy) */
  REL_NEAR(wl.runq_share, (4.0 + 16.0 / 3.0) / (20.0 + 4.0 + 16.0 / 3.0), 1e-12);
  /* No busy block (one worker, or one thread per rank): every block counts. */
  for (size_t j = 0; j < NB; j++) s[j].concurrent = 0;
  amz__workload_from_samples(&wl, n, s, NB);
  REL_NEAR(wl.load_share, wl.runq_share, 1e-12);
}

static void test_uniform_cost_gives_the_mean_everywhere(void) {
  enum { NB = 20 };
  amz__sample_t s[NB];
  const uint64_t n = 1000;
  ramp_samples(s, NB, 10, n, 1e-6, 0.0, 1.0);
  amz__workload_t wl;
  amz__workload_from_samples(&wl, n, s, NB);
  CU_ASSERT_EQUAL(wl.n_items, n);
  CU_ASSERT_EQUAL(wl.sampled_blocks, NB);
  CU_ASSERT_EQUAL(wl.sampled_items, 200);
  CU_ASSERT_EQUAL(wl.block_items, 10);
  REL_NEAR(wl.mean_s, 1e-6, 1e-12);
  REL_NEAR(wl.median_s, 1e-6, 1e-12);
  REL_NEAR(wl.max_item_s, 1e-6, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(wl.mad_s, 0.0, 1e-18);
  CU_ASSERT_DOUBLE_EQUAL(wl.cv, 0.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(wl.sigma_item_s, 0.0, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(wl.trend, 0.0, 1e-9);
  REL_NEAR(wl.sample_work_s, 200e-6, 1e-12);
  /* The whole range costs mean * n, and any range costs its share. */
  REL_NEAR(amz__workload_range_cost(&wl, 0, n), 1e-6 * (double)n, 1e-9);
  REL_NEAR(amz__workload_range_cost(&wl, 0, 1), 1e-6, 1e-9);
  REL_NEAR(amz__workload_range_cost(&wl, 123, 456), 1e-6 * 333, 1e-9);
  REL_NEAR(amz__workload_range_cost(&wl, 999, 1000), 1e-6, 1e-9);
}

static void test_profile_bins_and_cumulative_are_consistent(void) {
  enum { NB = 300 };
  amz__sample_t s[NB];
  const uint64_t n = 100003; /* not a multiple of the bins, to exercise rounding */
  ramp_samples(s, NB, 8, n, 2e-6, 3.0, 1.0);
  amz__workload_t wl;
  amz__workload_from_samples(&wl, n, s, NB);
  /* About two blocks per bin, at most AMZ__PROFILE_BINS. */
  CU_ASSERT_EQUAL(wl.bins, AMZ__PROFILE_BINS);
  CU_ASSERT_DOUBLE_EQUAL(wl.cumulative[0], 0.0, 0.0);
  for (int j = 0; j < wl.bins; j++) {
    CU_ASSERT(wl.density[j] > 0.0);
    CU_ASSERT(wl.cumulative[j + 1] > wl.cumulative[j]);
  }
  /* The profile is rescaled so its total equals the ratio estimate of all work. */
  REL_NEAR(wl.cumulative[wl.bins], wl.mean_s * (double)n, 1e-9);
  REL_NEAR(amz__workload_range_cost(&wl, 0, n), wl.mean_s * (double)n, 1e-9);
  /* Range costs are additive: splitting a range anywhere changes nothing. */
  const uint64_t cuts[] = {1, 777, 50000, 50001, 99999};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
    REL_NEAR(amz__workload_range_cost(&wl, 0, cuts[i]) + amz__workload_range_cost(&wl, cuts[i], n),
             amz__workload_range_cost(&wl, 0, n), 1e-9);
}

static void test_linear_ramp_gives_a_positive_trend_and_heavier_second_half(void) {
  enum { NB = 64 };
  amz__sample_t s[NB];
  const uint64_t n = 64000;
  const double c0 = 1e-6, a = 3.0;
  ramp_samples(s, NB, 10, n, c0, a, 1.0);
  amz__workload_t wl;
  amz__workload_from_samples(&wl, n, s, NB);
  /* The mean is the exact mean of the sampled items (blocks sit at the start of
   * their stretch, so it is 1% under the population's c0 (1 + a / 2) = 2.5 c0). The
   * trend is the relative change over the range, slope a c0 over the mean: near
   * 3 / 2.5 = 1.2. */
  double wall = 0.0;
  for (size_t j = 0; j < NB; j++) wall += s[j].wall_s;
  REL_NEAR(wl.mean_s, wall / (double)(NB * 10), 1e-12);
  REL_NEAR(wl.mean_s, 2.5 * c0, 0.02);
  REL_NEAR(wl.trend, a * c0 / wl.mean_s, 1e-6);
  REL_NEAR(wl.trend, a / (1.0 + a / 2.0), 0.02);
  /* Halves: integral of (1 + 3u) over [0, .5] is 0.875, over [.5, 1] 1.625. */
  double first = amz__workload_range_cost(&wl, 0, n / 2);
  double second = amz__workload_range_cost(&wl, n / 2, n);
  REL_NEAR(second / first, 1.625 / 0.875, 0.02);
  REL_NEAR(first + second, wl.mean_s * (double)n, 1e-9);
  /* Quarters grow steadily too: the profile follows the index, not just halves. */
  double q[4];
  for (int i = 0; i < 4; i++) q[i] = amz__workload_range_cost(&wl, n * i / 4, n * (i + 1) / 4);
  CU_ASSERT(q[0] < q[1] && q[1] < q[2] && q[2] < q[3]);
  /* The ramp is systematic, not random: the item sigma excludes it (what is left is
   * the step between neighbouring blocks, about 4% of the mean here), while the
   * spread of block costs, cv, reports it (sd of a uniform on [1, 4] c0 over 2.5 c0
   * = 0.35). */
  CU_ASSERT(wl.sigma_item_s < 0.1 * wl.mean_s);
  REL_NEAR(wl.cv, 3.0 / sqrt(12.0) / 2.5, 0.05);
  /* The costliest block is the last, items 63000..63009: mean index 63004.5. */
  REL_NEAR(wl.max_item_s, c0 * (1.0 + a * 63004.5 / (double)n), 1e-9);
}

static void test_decreasing_ramp_gives_a_negative_trend(void) {
  enum { NB = 32 };
  amz__sample_t s[NB];
  const uint64_t n = 32000;
  ramp_samples(s, NB, 10, n, 4e-6, -0.75, 1.0);
  amz__workload_t wl;
  amz__workload_from_samples(&wl, n, s, NB);
  CU_ASSERT(wl.trend < -0.5);
  CU_ASSERT(amz__workload_range_cost(&wl, 0, n / 2) > amz__workload_range_cost(&wl, n / 2, n));
}

/* Deterministic approximately standard normal numbers: the sum of 12 uniforms from a
 * fixed LCG minus 6 (Irwin-Hall), so the test is reproducible. */
static double lcg_normal(uint64_t *state) {
  double sum = 0.0;
  for (int i = 0; i < 12; i++) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    sum += (double)(*state >> 11) / 9007199254740992.0;
  }
  return sum - 6.0;
}

static void test_random_item_spread_is_recovered_as_sigma(void) {
  /* Blocks of m items whose item costs have sd sigma have block means with sd
   * sigma / sqrt(m); the model must scale that back to one item. */
  enum { NB = 400 };
  const uint64_t n = 400000, m = 16;
  const double mu = 10e-6, sigma = 2e-6;
  amz__sample_t *s = malloc(NB * sizeof *s);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t rng = 12345;
  for (size_t j = 0; j < NB; j++) {
    uint64_t b = (uint64_t)j * n / NB;
    double per_item = mu + sigma / sqrt((double)m) * lcg_normal(&rng);
    s[j] = (amz__sample_t){
        .begin = b, .end = b + m, .wall_s = per_item * (double)m, .cpu_s = per_item * (double)m};
  }
  amz__workload_t wl;
  amz__workload_from_samples(&wl, n, s, NB);
  REL_NEAR(wl.sigma_item_s, sigma, 0.15);
  REL_NEAR(wl.cv, sigma / sqrt((double)m) / mu, 0.15);
  REL_NEAR(wl.mean_s, mu, 0.02);
  /* No index trend was built in: the fitted trend is small next to the ramp's 1.2. */
  CU_ASSERT(fabs(wl.trend) < 0.05);
  /* For normal data the MAD is about 0.6745 sd of the block means. */
  REL_NEAR(wl.mad_s, 0.6745 * sigma / sqrt((double)m), 0.2);
  free(s);
}

static void test_mean_is_the_ratio_estimator(void) {
  /* Blocks of unequal size: total time over total items (7e-6 * 1 + 1e-6 * 9) / 10,
   * not the mean of the per-item block costs (4e-6). */
  amz__sample_t s[2] = {
      {.begin = 0, .end = 1, .wall_s = 7e-6, .cpu_s = 7e-6},
      {.begin = 50, .end = 59, .wall_s = 9e-6, .cpu_s = 9e-6},
  };
  amz__workload_t wl;
  amz__workload_from_samples(&wl, 100, s, 2);
  REL_NEAR(wl.mean_s, 1.6e-6, 1e-12);
  REL_NEAR(wl.max_item_s, 7e-6, 1e-12);
  REL_NEAR(amz__workload_range_cost(&wl, 0, 100), 1.6e-4, 1e-9);
}

static void test_an_outlier_moves_mean_and_max_but_not_median(void) {
  enum { NB = 21 };
  amz__sample_t s[NB];
  ramp_samples(s, NB, 4, 2100, 1e-6, 0.0, 1.0);
  s[10].wall_s = 4 * 100e-6; /* one block 100 times costlier */
  amz__workload_t wl;
  amz__workload_from_samples(&wl, 2100, s, NB);
  REL_NEAR(wl.median_s, 1e-6, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(wl.mad_s, 0.0, 1e-15);
  REL_NEAR(wl.max_item_s, 100e-6, 1e-9);
  REL_NEAR(wl.mean_s, (20.0 + 100.0) / 21.0 * 1e-6, 1e-9);
}

static void test_cpu_ratio_is_cpu_over_wall_capped_at_one(void) {
  enum { NB = 8 };
  amz__sample_t s[NB];
  amz__workload_t wl;
  ramp_samples(s, NB, 4, 800, 1e-3, 0.0, 0.05);
  amz__workload_from_samples(&wl, 800, s, NB);
  REL_NEAR(wl.cpu_ratio, 0.05, 1e-9);
  /* CPU clocks can read slightly above wall time; that is not a 120% busy kernel. */
  ramp_samples(s, NB, 4, 800, 1e-3, 0.0, 1.2);
  amz__workload_from_samples(&wl, 800, s, NB);
  CU_ASSERT_DOUBLE_EQUAL(wl.cpu_ratio, 1.0, 0.0);
}

/* A kernel with threads of its own: blocks that ran alone carry the CPU time of the
 * process's other threads (2 cores per call here: the caller's 0.3 and 1.7 more);
 * concurrent blocks only the caller's, which says nothing about the other threads. */
static void test_cpu_ratio_counts_the_kernels_own_threads(void) {
  enum { NB = 8 };
  amz__sample_t s[NB];
  amz__workload_t wl;
  ramp_samples(s, NB, 4, 800, 1e-3, 0.0, 0.3); /* the caller waits at the joins */
  for (int i = 0; i < 4; i++) s[i].own_cpu_s = 1.7 * s[i].wall_s;
  for (int i = 4; i < NB; i++) s[i].concurrent = 1;
  amz__workload_from_samples(&wl, 800, s, NB);
  REL_NEAR(wl.cpu_ratio, 2.0, 1e-9);
  /* A little CPU on other threads (an MPI progress thread) is not the kernel's. */
  for (int i = 0; i < 4; i++) s[i].own_cpu_s = 0.1 * s[i].wall_s;
  amz__workload_from_samples(&wl, 800, s, NB);
  REL_NEAR(wl.cpu_ratio, 0.3, 1e-9);
}

static void test_sample_order_does_not_matter(void) {
  enum { NB = 40 };
  amz__sample_t s[NB], r[NB];
  const uint64_t n = 40000;
  ramp_samples(s, NB, 10, n, 1e-6, 2.0, 1.0);
  for (size_t j = 0; j < NB; j++) r[j] = s[(j * 17) % NB]; /* 17 is coprime to 40 */
  amz__sample_t keep[NB];
  memcpy(keep, r, sizeof r);
  amz__workload_t a, b;
  amz__workload_from_samples(&a, n, s, NB);
  amz__workload_from_samples(&b, n, r, NB);
  CU_ASSERT_DOUBLE_EQUAL(a.mean_s, b.mean_s, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(a.trend, b.trend, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(a.sigma_item_s, b.sigma_item_s, 0.0);
  CU_ASSERT_EQUAL(a.bins, b.bins);
  CU_ASSERT_EQUAL(memcmp(a.cumulative, b.cumulative, sizeof a.cumulative), 0);
  /* The caller's samples are read, not sorted in place. */
  CU_ASSERT_EQUAL(memcmp(keep, r, sizeof r), 0);
}

static void test_empty_bins_are_interpolated(void) {
  /* Samples only near both ends of a ramp (8 blocks each side): the bins between
   * them hold no sample and must be filled in between their neighbours, not left at
   * zero cost. */
  enum { NB = 16 };
  amz__sample_t s[NB];
  const uint64_t n = 64000;
  for (size_t j = 0; j < NB; j++) {
    uint64_t b = j < 8 ? j * 100 : n - 800 + (j - 8) * 100;
    double w = 0.0;
    for (uint64_t i = b; i < b + 10; i++) w += ramp_cost(i, n, 1e-6, 1.0);
    s[j] = (amz__sample_t){.begin = b, .end = b + 10, .wall_s = w, .cpu_s = w};
  }
  amz__workload_t wl;
  amz__workload_from_samples(&wl, n, s, NB);
  CU_ASSERT_EQUAL(wl.bins, 8);
  for (int j = 0; j < wl.bins; j++) CU_ASSERT(wl.density[j] > 0.0);
  for (int j = 1; j < wl.bins; j++) CU_ASSERT(wl.density[j] >= wl.density[j - 1]);
  /* The middle quarter sits between both ends. */
  double mid = amz__workload_range_cost(&wl, 3 * n / 8, 5 * n / 8);
  double lo = amz__workload_range_cost(&wl, 0, n / 4),
         hi = amz__workload_range_cost(&wl, 3 * n / 4, n);
  CU_ASSERT(mid > lo && mid < hi);
}

static void test_no_samples_is_safe(void) {
  amz__workload_t wl;
  amz__workload_from_samples(&wl, 1000, NULL, 0);
  CU_ASSERT_EQUAL(wl.n_items, 1000);
  CU_ASSERT_EQUAL(wl.sampled_blocks, 0);
  CU_ASSERT_EQUAL(wl.bins, 1);
  CU_ASSERT_DOUBLE_EQUAL(wl.mean_s, 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(wl.contention, 1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(wl.cpu_ratio, 1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 0, 1000), 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 10, 20), 0.0, 0.0);
}

static void test_zero_items_is_safe(void) {
  amz__sample_t s = {.begin = 0, .end = 1, .wall_s = 1e-6, .cpu_s = 1e-6};
  amz__workload_t wl;
  amz__workload_from_samples(&wl, 0, &s, 1);
  CU_ASSERT_EQUAL(wl.n_items, 0);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 0, 0), 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 0, 10), 0.0, 0.0);
}

static void test_range_cost_edge_cases(void) {
  amz__workload_t wl = amz_test_uniform_workload(100, 2e-6, 0.0);
  /* Empty and reversed ranges cost nothing. */
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 50, 50), 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 60, 40), 0.0, 0.0);
  /* Past the end is clamped to the end. */
  REL_NEAR(amz__workload_range_cost(&wl, 0, 1000), 2e-4, 1e-12);
  REL_NEAR(amz__workload_range_cost(&wl, 90, UINT64_MAX), 2e-5, 1e-9);
}

static void test_one_sample_and_one_item(void) {
  /* The smallest real case, a one-item loop sampled once. */
  amz__sample_t s = {.begin = 0, .end = 1, .wall_s = 3e-6, .cpu_s = 3e-6};
  amz__workload_t wl;
  amz__workload_from_samples(&wl, 1, &s, 1);
  CU_ASSERT_EQUAL(wl.bins, 1);
  REL_NEAR(wl.mean_s, 3e-6, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(wl.trend, 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(wl.sigma_item_s, 0.0, 0.0);
  REL_NEAR(amz__workload_range_cost(&wl, 0, 1), 3e-6, 1e-12);
}

static void test_fit_ranges_follows_departing_ranges(void) {
  /* A flat model of 1000 items of 1 us; the run measured the first half at 0.7 ms
   * and the second at 0.3 ms (an item the sample missed sits in the first half). */
  amz__workload_t wl = amz_test_uniform_workload(1000, 1e-6, 0.0);
  amz__sample_t r[2] = {{0, 500, 0.7e-3, 0, 0, 0.0, 0.0, 0.0, 0}, {500, 1000, 0.3e-3, 0, 0, 0.0, 0.0, 0.0, 0}};
  double dev = amz__workload_fit_ranges(&wl, r, 2, 0.15);
  CU_ASSERT_DOUBLE_EQUAL(dev, 0.4, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 0, 500), 0.7e-3, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 500, 1000), 0.3e-3, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(wl.mean_s, 1e-6, 1e-15);
  /* Static blocks of this loop are now uneven in the model. */
  CU_ASSERT(amz__workload_range_cost(&wl, 0, 500) > 2.0 * amz__workload_range_cost(&wl, 500, 1000));
}

static void test_fit_ranges_ignores_noise(void) {
  /* 4% apart: chunk-time noise, not a profile. Only the level moves (x1.1). */
  amz__workload_t wl = amz_test_uniform_workload(1000, 1e-6, 0.0);
  amz__sample_t r[2] = {{0, 500, 0.561e-3, 0, 0, 0.0, 0.0, 0.0, 0}, {500, 1000, 0.539e-3, 0, 0, 0.0, 0.0, 0.0, 0}};
  double dev = amz__workload_fit_ranges(&wl, r, 2, 0.15);
  CU_ASSERT(dev > 0.01 && dev < 0.15);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 0, 500), 0.55e-3, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 500, 1000), 0.55e-3, 1e-12);
  /* Ranges that leave items out (sampled before a first run): the uncovered items
   * take the level of the covered ones. */
  wl = amz_test_uniform_workload(1000, 1e-6, 0.0);
  amz__sample_t g[2] = {{0, 400, 0.8e-3, 0, 0, 0.0, 0.0, 0.0, 0}, {600, 1000, 0.4e-3, 0, 0, 0.0, 0.0, 0.0, 0}};
  amz__workload_fit_ranges(&wl, g, 2, 0.15);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 0, 400), 0.8e-3, 2e-5);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 600, 1000), 0.4e-3, 2e-5);
  CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&wl, 0, 1000), 1.5e-3, 2e-6);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("workload", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "other processes' load from the busy blocks", test_load_share_from_busy_blocks);
  CU_add_test(s, "uniform cost gives the mean everywhere",
              test_uniform_cost_gives_the_mean_everywhere);
  CU_add_test(s, "profile bins and cumulative sums are consistent",
              test_profile_bins_and_cumulative_are_consistent);
  CU_add_test(s, "linear ramp: positive trend, heavier second half",
              test_linear_ramp_gives_a_positive_trend_and_heavier_second_half);
  CU_add_test(s, "decreasing ramp gives a negative trend",
              test_decreasing_ramp_gives_a_negative_trend);
  CU_add_test(s, "random item spread is recovered as sigma",
              test_random_item_spread_is_recovered_as_sigma);
  CU_add_test(s, "mean is the ratio estimator", test_mean_is_the_ratio_estimator);
  CU_add_test(s, "an outlier moves mean and max but not median",
              test_an_outlier_moves_mean_and_max_but_not_median);
  CU_add_test(s, "cpu ratio is cpu over wall, capped at 1",
              test_cpu_ratio_is_cpu_over_wall_capped_at_one);
  CU_add_test(s, "cpu ratio counts the kernel's own threads",
              test_cpu_ratio_counts_the_kernels_own_threads);
  CU_add_test(s, "sample order does not matter", test_sample_order_does_not_matter);
  CU_add_test(s, "empty profile bins are interpolated", test_empty_bins_are_interpolated);
  CU_add_test(s, "no samples is safe", test_no_samples_is_safe);
  CU_add_test(s, "zero items is safe", test_zero_items_is_safe);
  CU_add_test(s, "range cost edge cases", test_range_cost_edge_cases);
  CU_add_test(s, "one sample of a one-item loop", test_one_sample_and_one_item);
  CU_add_test(s, "fitting measured ranges follows the ranges that depart",
              test_fit_ranges_follows_departing_ranges);
  CU_add_test(s, "fitting measured ranges ignores noise", test_fit_ranges_ignores_noise);
  return amz_test_run();
}
