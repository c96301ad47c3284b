/*
 * Robust statistics (stats.c) on values whose answers are known by hand or from
 * published tables. The sampler and the cost model are only as good as these.
 */
#include <math.h>
#include <string.h>

#include "test_util.h"

/* Relative comparison for values that are computed, not copied. */
#define ASSERT_NEAR(a, b, tol) CU_ASSERT_DOUBLE_EQUAL((a), (b), (tol))

static void test_median_odd_even_and_degenerate_sizes(void) {
  const double odd[] = {9.0, 1.0, 5.0, 3.0, 7.0};
  const double even[] = {4.0, 1.0, 3.0, 2.0};
  const double one[] = {42.0};
  ASSERT_NEAR(amz__median(odd, 5), 5.0, 0.0);
  ASSERT_NEAR(amz__median(even, 4), 2.5, 0.0);
  ASSERT_NEAR(amz__median(one, 1), 42.0, 0.0);
  /* n == 0 is documented to give 0 and must not read the (NULL) array. */
  ASSERT_NEAR(amz__median(NULL, 0), 0.0, 0.0);
}

static void test_median_does_not_reorder_its_input(void) {
  /* Callers keep using their arrays in sample order after asking for a median. */
  double x[] = {3.0, 1.0, 2.0};
  (void)amz__median(x, 3);
  CU_ASSERT_EQUAL(x[0], 3.0);
  CU_ASSERT_EQUAL(x[1], 1.0);
  CU_ASSERT_EQUAL(x[2], 2.0);
}

static void test_mad_is_median_absolute_deviation(void) {
  /* Median 3, deviations {2, 1, 0, 1, 97}: the outlier does not move the MAD. */
  const double odd[] = {1.0, 2.0, 3.0, 4.0, 100.0};
  /* Median 2.5, deviations {1.5, 0.5, 0.5, 1.5}: median of those is 1. */
  const double even[] = {1.0, 2.0, 3.0, 4.0};
  const double one[] = {7.0};
  const double constant[] = {5.0, 5.0, 5.0, 5.0};
  ASSERT_NEAR(amz__mad(odd, 5), 1.0, 0.0);
  ASSERT_NEAR(amz__mad(even, 4), 1.0, 0.0);
  ASSERT_NEAR(amz__mad(one, 1), 0.0, 0.0);
  ASSERT_NEAR(amz__mad(constant, 4), 0.0, 0.0);
  ASSERT_NEAR(amz__mad(NULL, 0), 0.0, 0.0);
}

static void test_trimmed_mean_drops_the_tails(void) {
  const double x[] = {100.0, 2.0, 4.0, 3.0, 1.0};
  /* trim 0.2 of 5 values drops one per side: mean of {2, 3, 4}. */
  ASSERT_NEAR(amz__trimmed_mean(x, 5, 0.2), 3.0, 1e-12);
  /* No trimming is the plain mean. */
  ASSERT_NEAR(amz__trimmed_mean(x, 5, 0.0), 22.0, 1e-12);
  /* Trimming more than half still keeps the middle value(s): never an empty mean. */
  ASSERT_NEAR(amz__trimmed_mean(x, 5, 0.5), 3.0, 1e-12);
  const double even[] = {1.0, 2.0, 3.0, 10.0};
  ASSERT_NEAR(amz__trimmed_mean(even, 4, 0.5), 2.5, 1e-12);
  const double one[] = {6.0};
  ASSERT_NEAR(amz__trimmed_mean(one, 1, 0.25), 6.0, 0.0);
  ASSERT_NEAR(amz__trimmed_mean(NULL, 0, 0.25), 0.0, 0.0);
}

static void test_mean_and_sample_stddev(void) {
  /* The textbook example: mean 5, sum of squared deviations 32. */
  const double x[] = {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0};
  ASSERT_NEAR(amz__mean(x, 8), 5.0, 1e-12);
  ASSERT_NEAR(amz__stddev(x, 8), sqrt(32.0 / 7.0), 1e-12);
  const double one[] = {3.5};
  ASSERT_NEAR(amz__mean(one, 1), 3.5, 0.0);
  /* A sample standard deviation needs two values; below that it is defined as 0. */
  ASSERT_NEAR(amz__stddev(one, 1), 0.0, 0.0);
  ASSERT_NEAR(amz__mean(NULL, 0), 0.0, 0.0);
  ASSERT_NEAR(amz__stddev(NULL, 0), 0.0, 0.0);
  const double constant[] = {1.25, 1.25, 1.25};
  ASSERT_NEAR(amz__stddev(constant, 3), 0.0, 1e-15);
}

static void test_linear_fit_recovers_an_exact_line(void) {
  double x[10], y[10], slope = 0.0, icpt = 0.0;
  for (int i = 0; i < 10; i++) {
    x[i] = 0.5 * i - 1.0;
    y[i] = -3.0 * x[i] + 7.0;
  }
  CU_ASSERT_EQUAL(amz__linear_fit(x, y, 10, &slope, &icpt), 0);
  ASSERT_NEAR(slope, -3.0, 1e-12);
  ASSERT_NEAR(icpt, 7.0, 1e-12);
}

static void test_linear_fit_least_squares_on_noisy_points(void) {
  /* x = {0, 1, 2, 3}, y = {1, 3, 2, 5}: by hand, sxx = 5, sxy = 5.5, so the slope is
   * 1.1 and the intercept mean(y) - 1.1 * mean(x) = 2.75 - 1.65 = 1.1. */
  const double x[] = {0.0, 1.0, 2.0, 3.0}, y[] = {1.0, 3.0, 2.0, 5.0};
  double slope = 0.0, icpt = 0.0;
  CU_ASSERT_EQUAL(amz__linear_fit(x, y, 4, &slope, &icpt), 0);
  ASSERT_NEAR(slope, 1.1, 1e-12);
  ASSERT_NEAR(icpt, 1.1, 1e-12);
}

static void test_linear_fit_rejects_constant_x_and_too_few_points(void) {
  const double x[] = {2.0, 2.0, 2.0}, y[] = {1.0, 5.0, 9.0};
  double slope = 123.0, icpt = 456.0;
  CU_ASSERT_EQUAL(amz__linear_fit(x, y, 3, &slope, &icpt), -1);
  CU_ASSERT_EQUAL(amz__linear_fit(x, y, 1, &slope, &icpt), -1);
  CU_ASSERT_EQUAL(amz__linear_fit(x, y, 0, &slope, &icpt), -1);
  /* A failed fit must not report a made-up line. */
  CU_ASSERT_EQUAL(slope, 123.0);
  CU_ASSERT_EQUAL(icpt, 456.0);
}

static void test_successive_sd_of_known_sequences(void) {
  /* Differences {2, -2, 2}: delta^2 = 4, sigma = sqrt(4 / 2). */
  const double alt[] = {1.0, 3.0, 1.0, 3.0};
  ASSERT_NEAR(amz__successive_sd(alt, 4), sqrt(2.0), 1e-12);
  const double constant[] = {4.0, 4.0, 4.0};
  ASSERT_NEAR(amz__successive_sd(constant, 3), 0.0, 0.0);
  const double one[] = {1.0};
  ASSERT_NEAR(amz__successive_sd(one, 1), 0.0, 0.0);
  ASSERT_NEAR(amz__successive_sd(NULL, 0), 0.0, 0.0);
}

static void test_successive_sd_ignores_a_smooth_trend(void) {
  /* A pure ramp 0..99 has a standard deviation near 29, but its successive
   * differences are all 1: the estimate is 1 / sqrt(2), which is what lets the
   * workload model separate the index trend from random spread. */
  double x[100];
  for (int i = 0; i < 100; i++) x[i] = i;
  ASSERT_NEAR(amz__successive_sd(x, 100), sqrt(0.5), 1e-12);
  CU_ASSERT(amz__stddev(x, 100) > 28.0);
}

static void test_expected_max_normal_small_k_matches_tables(void) {
  /* Exact expectations of the maximum of k standard normals (Harter 1961). */
  static const double exact[] = {0.0,     0.0,     0.56419, 0.84628, 1.02938,
                                 1.16296, 1.26721, 1.35218, 1.42360};
  for (int k = 2; k <= 8; k++) ASSERT_NEAR(amz__expected_max_normal(k), exact[k], 1e-3);
  /* One variable has no spread above its mean; no variables at all neither. */
  ASSERT_NEAR(amz__expected_max_normal(1), 0.0, 0.0);
  ASSERT_NEAR(amz__expected_max_normal(0), 0.0, 0.0);
  ASSERT_NEAR(amz__expected_max_normal(-3), 0.0, 0.0);
}

static void test_expected_max_normal_large_k_within_3_percent(void) {
  /* Reference values by numerical integration of k x phi(x) Phi(x)^(k-1) (they agree
   * with Harter's 1961 tables). The cost model multiplies its random tail by this,
   * so an estimate that is 10% low predicts a tail 10% too short. */
  static const struct {
    int k;
    double e;
  } ref[] = {{9, 1.48501},  {10, 1.53875},  {16, 1.76599},   {20, 1.86748},  {32, 2.06967},
             {64, 2.34373}, {100, 2.50759}, {1000, 3.24144}, {4096, 3.62608}};
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
    double got = amz__expected_max_normal(ref[i].k);
    if (fabs(got - ref[i].e) > 0.03 * ref[i].e)
      fprintf(stderr, "\n  expected_max_normal(%d) = %.5f, reference %.5f (%+.1f%%)", ref[i].k, got,
              ref[i].e, 100.0 * (got - ref[i].e) / ref[i].e);
    CU_ASSERT(fabs(got - ref[i].e) <= 0.03 * ref[i].e);
  }
}

static void test_expected_max_normal_is_nondecreasing_in_k(void) {
  /* The maximum of more variables can only be larger: the model must never predict
   * a shorter tail for more workers, in particular across the switch from the table
   * to the asymptotic formula. */
  double prev = amz__expected_max_normal(1);
  int first_drop = 0;
  for (int k = 2; k <= 4096; k++) {
    double v = amz__expected_max_normal(k);
    if (v < prev && first_drop == 0) {
      first_drop = k;
      fprintf(stderr, "\n  expected_max_normal(%d) = %.5f < expected_max_normal(%d) = %.5f", k, v,
              k - 1, prev);
    }
    prev = v;
  }
  CU_ASSERT_EQUAL(first_drop, 0);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("stats", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "median of odd, even, one and zero values",
              test_median_odd_even_and_degenerate_sizes);
  CU_add_test(s, "median leaves its input in order", test_median_does_not_reorder_its_input);
  CU_add_test(s, "MAD is the median absolute deviation", test_mad_is_median_absolute_deviation);
  CU_add_test(s, "trimmed mean drops the tails", test_trimmed_mean_drops_the_tails);
  CU_add_test(s, "mean and sample standard deviation", test_mean_and_sample_stddev);
  CU_add_test(s, "linear fit recovers an exact line", test_linear_fit_recovers_an_exact_line);
  CU_add_test(s, "linear fit is least squares on noisy points",
              test_linear_fit_least_squares_on_noisy_points);
  CU_add_test(s, "linear fit rejects constant x and n < 2",
              test_linear_fit_rejects_constant_x_and_too_few_points);
  CU_add_test(s, "successive sd of known sequences", test_successive_sd_of_known_sequences);
  CU_add_test(s, "successive sd ignores a smooth trend", test_successive_sd_ignores_a_smooth_trend);
  CU_add_test(s, "expected max of k normals matches tables for k <= 8",
              test_expected_max_normal_small_k_matches_tables);
  CU_add_test(s, "expected max of k normals within 3% for large k",
              test_expected_max_normal_large_k_within_3_percent);
  CU_add_test(s, "expected max of k normals is nondecreasing in k",
              test_expected_max_normal_is_nondecreasing_in_k);
  return amz_test_run();
}
