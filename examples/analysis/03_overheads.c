/*
 * Step 3 of the performance-analysis guide: the overhead breakdown, read back from
 * HDF5 profiles.
 *
 * A loop's wall time splits into the cost model's terms: start-up (waking the
 * workers), compute (the kernel itself), dispatch (handing out and recording
 * chunks), imbalance (the tail after the mean worker finished), serial (outside the
 * parallel region) and data (moving items between MPI ranks; 0 here). This program
 * runs the same loop of tiny items twice:
 *
 *   good  the plan's own choice (schedule and chunk chosen by the planner);
 *   poor  the same workers, but dynamic scheduling with chunk 1: every item becomes a
 *         chunk, so the per-chunk dispatch cost is paid once per item.
 *
 * Each run writes a profile (amz_options_set_profile). The program then opens both
 * files with amz_profile_open() as any later analysis tool would, and draws each
 * term's share of the wall time as a horizontal bar, predicted beside measured. The
 * dispatch bar of the poor run shows where its extra time went. Finally it prints
 * the `amorsize html` command that puts both runs on one page.
 *
 * Build and run (from the repository root, after building the library in build/):
 *
 *   gcc -std=gnu11 -O2 -Wall -Wextra -I include -I build/include \
 *       examples/analysis/03_overheads.c -o 03_overheads \
 *       -L build -lamorsize -lm -Wl,-rpath,$PWD/build
 *   ./03_overheads                       # 500000 items; overheads_good.h5, overheads_poor.h5
 *   ./03_overheads --quick               # 60000 items, for tests
 *   ./03_overheads 1000000 a.h5 b.h5     # any number of items, other profile paths
 *
 * Existing profiles at those paths are replaced. The program exits with 0 when both
 * runs did all items and both profiles read back, and prints "03_overheads: OK" as
 * its last line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize.h"
#include "amorsize_profile.h"

/* Inner iterations per item: a fraction of a microsecond, small enough that a
 * per-chunk cost of a few tens of nanoseconds is a visible share of the item. */
#define ITEM_ITERS 128u
#define BAR_WIDTH 40

typedef struct loop_data {
  uint64_t n;
  uint64_t *out;
  unsigned char *visits; /* how often each item ran in the current run */
} loop_data_t;

/* Deterministic busy work of equal cost per item: a short xorshift sequence. */
static int tiny_kernel(uint64_t begin, uint64_t end, void *arg) {
  loop_data_t *d = arg;
  for (uint64_t i = begin; i < end; i++) {
    uint64_t x = i * 0x9e3779b97f4a7c15ULL + 1;
    for (unsigned k = 0; k < ITEM_ITERS; k++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    d->out[i] = x;
    d->visits[i]++;
  }
  return 0;
}

/* What one run reports back to main. */
typedef struct run_summary {
  int workers;
  amz_schedule_t schedule;
  uint64_t chunk;
  uint64_t items_done, items_failed, ran_once;
  double wall_s, predicted_s;
} run_summary_t;

/* Plans and runs the loop once with the given schedule and chunk (AUTO and 0 = let
 * the planner choose) and workers (0 = choose), writing a profile to `path`.
 * Returns 0 or an AMZ_E* code, after printing the library's detail. */
static int run_once(const char *label, loop_data_t *data, amz_schedule_t schedule,
                    uint64_t chunk, int workers, const char *path, run_summary_t *sum) {
  memset(data->visits, 0, data->n);
  amz_options_t *opts = NULL;
  int rc = amz_options_create(&opts);
  /* The environment must not steer either run: AMZ_SCHEDULE=static in the shell
   * would otherwise make both runs the same and the comparison meaningless. */
  if (rc == 0) rc = amz_options_set_use_env(opts, 0);
  if (rc == 0) rc = amz_options_set_progress_line(opts, AMZ_PROGRESS_OFF);
  if (rc == 0) rc = amz_options_set_schedule(opts, schedule);
  if (rc == 0) rc = amz_options_set_chunk(opts, chunk);
  if (rc == 0) rc = amz_options_set_workers(opts, workers);
  /* Re-running the example should replace the previous profiles, not refuse. */
  if (rc == 0) rc = amz_options_set_profile(opts, path);
  if (rc == 0) rc = amz_options_set_profile_overwrite(opts, 1);
  if (rc != 0) {
    fprintf(stderr, "%s: options: %s: %s\n", label, amz_error_name(rc), amz_last_error());
    amz_options_destroy(opts);
    return rc;
  }
  amz_task_t task = {label, data->n, tiny_kernel, data};
  amz_plan_t *plan = NULL;
  rc = amz_plan_create(&task, opts, &plan);
  amz_options_destroy(opts);
  if (rc != 0) {
    fprintf(stderr, "%s: amz_plan_create: %s: %s\n", label, amz_error_name(rc),
            amz_last_error());
    return rc;
  }
  amz_result_t *res = NULL;
  rc = amz_run(plan, &res);
  if (rc != 0) {
    /* AMZ_EIO / AMZ_EEXIST: the loop ran but the profile is missing, which this
     * example needs; AMZ_EITEMS cannot happen with this kernel. */
    fprintf(stderr, "%s: amz_run: %s: %s\n", label, amz_error_name(rc), amz_last_error());
    amz_result_destroy(res);
    amz_plan_destroy(plan);
    return rc;
  }
  sum->workers = amz_result_workers(res);
  sum->schedule = amz_plan_schedule(plan);
  sum->chunk = amz_plan_chunk(plan);
  sum->items_done = amz_result_items_done(res);
  sum->items_failed = amz_result_items_failed(res);
  sum->wall_s = amz_result_seconds(res);
  sum->predicted_s = amz_result_predicted_seconds(res);
  sum->ran_once = 0;
  for (uint64_t i = 0; i < data->n; i++) sum->ran_once += data->visits[i] == 1;
  printf("  %-5s %-9s chunk %-6" PRIu64 " workers %d: wall %.4f s (predicted %.4f s), "
         "items done %" PRIu64 ", profile %s\n",
         label, amz_schedule_name(sum->schedule), sum->chunk, sum->workers, sum->wall_s,
         sum->predicted_s, sum->items_done, amz_result_profile_path(res));
  amz_result_destroy(res);
  amz_plan_destroy(plan);
  return 0;
}

/* One bar: `share` of BAR_WIDTH characters, at least one mark for a non-zero share
 * so that small terms stay visible. */
static void print_bar(const char *term, const char *kind, double value, double total) {
  double share = total > 0 ? value / total : 0.0;
  if (share < 0) share = 0;
  int marks = (int)(share * BAR_WIDTH + 0.5);
  if (marks == 0 && value > 0) marks = 1;
  if (marks > BAR_WIDTH) marks = BAR_WIDTH;
  char bar[BAR_WIDTH + 1];
  memset(bar, kind[0] == 'p' ? '=' : '#', (size_t)marks);
  memset(bar + marks, ' ', (size_t)(BAR_WIDTH - marks));
  bar[BAR_WIDTH] = '\0';
  printf("  %-10s %-9s |%s| %5.1f%% %10.6f s\n", term, kind, bar, 100.0 * share, value);
}

/* Opens a profile and draws its terms; returns 0 or the error code. The items the
 * profile records are returned through *items so that main can check them. */
static int chart_profile(const char *path, uint64_t *items, double *dispatch_share) {
  amz_profile_t *prof = NULL;
  int rc = amz_profile_open(path, 0, &prof);
  if (rc != 0) {
    fprintf(stderr, "amz_profile_open: %s: %s\n", amz_error_name(rc), amz_last_error());
    return rc;
  }
  const amz_profile_info_t *info = amz_profile_info(prof);
  const amz_profile_term_t *terms = NULL;
  size_t n_terms = amz_profile_terms(prof, &terms);
  /* The "total" row is the wall time (measured) and the predicted run time; each
   * term's share is taken of its own column's total. */
  double pred_total = 0, meas_total = 0;
  for (size_t i = 0; i < n_terms; i++)
    if (strcmp(terms[i].name, "total") == 0) {
      pred_total = terms[i].predicted_s;
      meas_total = terms[i].measured_s;
    }
  printf("\n== %s: task '%s', %s chunk %" PRIu64 ", %d threads, %" PRIu64
         " chunks, wall %.4f s\n",
         path, info->task, info->schedule, info->chunk, info->threads, info->chunks_total,
         info->wall_s);
  printf("  share of wall time per term (= predicted, # measured)\n");
  *dispatch_share = 0;
  for (size_t i = 0; i < n_terms; i++) {
    if (strcmp(terms[i].name, "total") == 0) continue;
    print_bar(terms[i].name, "predicted", terms[i].predicted_s, pred_total);
    print_bar("", "measured", terms[i].measured_s, meas_total);
    if (strcmp(terms[i].name, "dispatch") == 0 && meas_total > 0)
      *dispatch_share = terms[i].measured_s / meas_total;
  }
  printf("  %-10s predicted %.6f s, measured %.6f s\n", "total", pred_total, meas_total);
  *items = info->items_done + info->items_failed;
  amz_profile_close(prof);
  return n_terms == 7 ? 0 : AMZ_EFORMAT;
}

static int is_number(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

int main(int argc, char **argv) {
  uint64_t n = 500000;
  const char *good_path = "overheads_good.h5", *poor_path = "overheads_poor.h5";
  int a = 1;
  if (a < argc && strcmp(argv[a], "--quick") == 0) {
    n = 60000;
    a++;
  } else if (a < argc && is_number(argv[a])) {
    n = strtoull(argv[a], NULL, 10);
    a++;
  }
  if (argc - a == 2) {
    good_path = argv[a];
    poor_path = argv[a + 1];
  } else if (argc - a != 0 || n == 0) {
    fprintf(stderr, "usage: %s [--quick | ITEMS > 0] [GOOD.h5 POOR.h5]\n", argv[0]);
    return 2;
  }

  loop_data_t data = {n, calloc(n, sizeof(uint64_t)), calloc(n, 1)};
  if (!data.out || !data.visits) {
    fprintf(stderr, "03_overheads: cannot allocate %" PRIu64 " items\n", n);
    free(data.out);
    free(data.visits);
    return 1;
  }

  printf("== Two runs of %" PRIu64 " tiny items, each writing a profile\n", n);
  run_summary_t good, poor;
  int rc = run_once("good", &data, AMZ_SCHED_AUTO, 0, 0, good_path, &good);
  /* The poor run keeps the good run's worker count, so that the schedule and chunk
   * are the only difference between the two profiles. */
  if (rc == 0) rc = run_once("poor", &data, AMZ_SCHED_DYNAMIC, 1, good.workers, poor_path, &poor);
  free(data.out);
  free(data.visits);
  if (rc != 0) return 1;

  /* From here on only the files are used, as a separate analysis program would. */
  uint64_t good_items = 0, poor_items = 0;
  double good_dispatch = 0, poor_dispatch = 0;
  int rc_good = chart_profile(good_path, &good_items, &good_dispatch);
  int rc_poor = chart_profile(poor_path, &poor_items, &poor_dispatch);

  if (rc_good == 0 && rc_poor == 0)
    printf("\npoor vs good: %.2fx the wall time; dispatch %.1f%% vs %.1f%% of it\n",
           good.wall_s > 0 ? poor.wall_s / good.wall_s : 0.0, 100.0 * poor_dispatch,
           100.0 * good_dispatch);
  printf("\nnext: amorsize html %s %s -o overheads.html\n", good_path, poor_path);

  /* Both runs must have done every item exactly once, and both profiles must have
   * opened and recorded all N items. */
  int ok = rc_good == 0 && rc_poor == 0 && good.items_done == n && good.items_failed == 0 &&
           poor.items_done == n && poor.items_failed == 0 && good.ran_once == n &&
           poor.ran_once == n && good_items == n && poor_items == n;
  printf("check: good run %" PRIu64 "/%" PRIu64 " items (profile %" PRIu64 "), poor run %" PRIu64
         "/%" PRIu64 " items (profile %" PRIu64 "), both profiles %s\n",
         good.items_done, n, good_items, poor.items_done, n, poor_items,
         rc_good == 0 && rc_poor == 0 ? "read back" : "NOT read back");
  if (!ok) {
    fprintf(stderr, "03_overheads: FAILED\n");
    return 1;
  }
  printf("03_overheads: OK\n");
  return 0;
}
