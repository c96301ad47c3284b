/*
 * Performance analysis, step 5: comparing runs.
 *
 * One run tells you how a loop behaved; a sweep tells you how it scales. This
 * program runs the same kind of loop over a grid of
 *
 *   task duration per item  0.1 ms, 1 ms, 10 ms
 *   workload size           50, 200, 1000 items
 *   ranks used              1, 2 (forced with amz_options_set_ranks)
 *
 * lets the planner choose threads, schedule and chunk for each, writes one HDF5
 * profile per run (cmp_d<duration in us>_n<items>_r<ranks>.h5), and prints one table
 * on rank 0: the plan chosen, the wall time, the prediction and its error, the
 * speedup of 2 ranks over 1 rank for the same cell, and the efficiency
 *
 *   efficiency = serial time / (wall time x workers used),
 *   serial time = items run in the timed run x duration per item.
 *
 * (The items done while sampling ran before the timed run, so they are left out of
 * the serial time; counting them would show efficiencies above 100% for short
 * loops.) Loops with little work in all (short items, few of them) pay the fixed
 * costs (waking threads, the ranks' collectives) over little work; long loops reach
 * nearly full efficiency. On a 2-core machine both rank counts use two workers
 * (1 rank x 2 threads, 2 ranks x 1 thread), so the speedup compares threads with
 * ranks and stays near 1; on a cluster the planner gives each rank a node's cores.
 * The profiles can then be compared side by side with the `amorsize` tool, whose
 * commands the program prints at the end.
 *
 * Build and run (2 ranks):
 *
 *   mpicc -std=gnu11 -O2 -Wall -Wextra -I include -I build/include \
 *         examples/analysis/05_compare.c -o 05_compare \
 *         -L build -lamorsize_mpi -lamorsize -lm -Wl,-rpath,$PWD/build
 *   mpirun --bind-to none -np 2 ./05_compare [--quick] [profile-directory]
 *
 * The directory (default "compare_profiles") is created if missing; existing
 * profiles in it are replaced. "--quick" divides the durations by 100 and keeps
 * the sizes 50 and 200, to finish in a few seconds. Launched on one rank, the
 * 2-rank column is skipped.
 *
 * Exit status, the same on every rank: 0 when every run completed all its items and
 * every profile reads back with the expected figures; 1 otherwise; 2 for bad
 * arguments. The last line on rank 0 is "05_compare: OK" on success.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "amorsize_mpi.h"
#include "amorsize_profile.h"

static int g_rank, g_size;

/* ------------------------------------------------------------------------- */
/* Deterministic busy work                                                    */
/* ------------------------------------------------------------------------- */

/* A chain of dependent multiply-adds: a fixed amount of CPU work per iteration,
 * which the compiler can neither vectorise nor skip. The work is counted, not timed
 * against the wall clock: a thread that waits for a core (more threads than cores)
 * takes longer, as real work would, instead of finishing on time regardless. */
static uint64_t burn(uint64_t iters, uint64_t x) {
  for (uint64_t i = 0; i < iters; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    __asm__ volatile("" : "+r"(x)); /* keep every iteration */
  }
  return x;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Iterations of burn() per second. Every rank measures at once and the fastest rate
 * wins (a slower trial was interrupted), so that an item is the same work on every
 * rank, as the MPI plan assumes. */
static double calibrate(void) {
  const uint64_t iters = 1u << 23; /* about 10 ms: long enough for a steady clock rate */
  double best = 1e30;
  uint64_t sink = 1;
  for (int trial = 0; trial < 5; trial++) {
    double t0 = now_s();
    sink = burn(iters, sink);
    double dt = now_s() - t0;
    if (dt < best) best = dt;
  }
  double rate = (double)iters / best + (double)(sink & 1), fastest = rate;
  MPI_Allreduce(&rate, &fastest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return fastest;
}

typedef struct item_arg {
  uint64_t iters; /* work per item */
  volatile uint64_t sink;
} item_arg_t;

/* Every item costs the same: the sweep varies the duration on purpose, and an even
 * cost keeps the comparison about fixed costs against work, not about balance. */
static int kernel(uint64_t begin, uint64_t end, void *arg) {
  item_arg_t *a = arg;
  uint64_t x = begin;
  for (uint64_t i = begin; i < end; i++) x = burn(a->iters, x + i);
  a->sink = x;
  return 0;
}

/* Formats seconds with a unit that keeps 3 significant digits. */
static const char *fmt_s(char *buf, size_t len, double s) {
  double a = fabs(s);
  if (a >= 1.0)
    snprintf(buf, len, "%.3g s", s);
  else if (a >= 1e-3)
    snprintf(buf, len, "%.3g ms", s * 1e3);
  else
    snprintf(buf, len, "%.3g us", s * 1e6);
  return buf;
}
#define S(x) fmt_s((char[32]){0}, 32, (x))

/* ------------------------------------------------------------------------- */
/* One run of the sweep                                                       */
/* ------------------------------------------------------------------------- */

/* What rank 0 keeps of a run for the table and the checks. */
typedef struct row {
  double dur_s;
  uint64_t items;
  int ranks, threads;
  amz_schedule_t schedule;
  uint64_t chunk;
  double wall, predicted;
  double busy; /* kernel seconds of the timed run (sampling left out), all workers */
  char path[512];
  int ok; /* ran, every item done, profile written */
} row_t;

/*
 * Plans and runs one cell on `ranks` ranks, writing its profile. Collective over
 * MPI_COMM_WORLD. Fills *row on rank 0. Returns 0 or 1, the same on every rank.
 */
static int run_cell(const char *dir, double dur_s, uint64_t n, int ranks, double iters_per_s,
                    row_t *row) {
  item_arg_t arg = {(uint64_t)(dur_s * iters_per_s), 0};
  char name[64];
  snprintf(name, sizeof name, "d%.0fus n%llu", dur_s * 1e6, (unsigned long long)n);
  amz_task_t task = {name, n, kernel, &arg};
  memset(row, 0, sizeof *row);
  row->dur_s = dur_s;
  row->items = n;
  row->ranks = ranks;
  snprintf(row->path, sizeof row->path, "%s/cmp_d%.0f_n%llu_r%d.h5", dir, dur_s * 1e6,
           (unsigned long long)n, ranks);

  /* The environment must not steer the sweep (an AMZ_RANKS left in the shell would
   * make every column the same); threads, schedule and chunk are the planner's. */
  amz_options_t *o = NULL;
  int rc = amz_options_create(&o);
  if (rc == 0) rc = amz_options_set_use_env(o, 0);
  if (rc == 0) rc = amz_options_set_ranks(o, ranks);
  if (rc == 0) rc = amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  if (rc == 0) rc = amz_options_set_profile(o, row->path);
  if (rc == 0) rc = amz_options_set_profile_overwrite(o, 1);
  if (rc != 0) {
    fprintf(stderr, "rank %d: options for %s: %s\n", g_rank, row->path, amz_last_error());
    amz_options_destroy(o);
    return 1;
  }

  amz_plan_t *plan = NULL;
  rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &plan);
  amz_options_destroy(o);
  if (rc != 0) {
    fprintf(stderr, "rank %d: amz_mpi_plan_create (%s): %s: %s\n", g_rank, row->path,
            amz_error_name(rc), amz_last_error());
    return 1;
  }
  amz_result_t *res = NULL;
  rc = amz_mpi_run(plan, &res);
  int bad = 0;
  if (rc != 0) {
    /* AMZ_EIO or AMZ_EEXIST: the run completed but its profile was not written. */
    fprintf(stderr, "rank %d: amz_mpi_run (%s): %s: %s\n", g_rank, row->path,
            amz_error_name(rc), amz_last_error());
    bad = 1;
  }
  if (res && !amz_result_mpi_excluded(res)) {
    if (amz_result_items_done(res) != n) {
      fprintf(stderr, "rank %d: %s: %llu of %llu items done\n", g_rank, row->path,
              (unsigned long long)amz_result_items_done(res), (unsigned long long)n);
      bad = 1;
    }
    if (g_rank == 0) {
      row->threads = amz_result_workers(res);
      row->schedule = amz_plan_schedule(plan);
      row->chunk = amz_plan_chunk(plan);
      row->wall = amz_result_seconds(res);
      row->predicted = amz_result_predicted_seconds(res);
      /* The per-rank table sums each rank's kernel time in the timed run. */
      amz_rank_stats_t rs;
      for (int i = 0; i < amz_result_ranks(res); i++)
        if (amz_result_rank(res, i, &rs) == 0) row->busy += rs.busy_s;
    }
  }
  amz_result_destroy(res);
  amz_plan_destroy(plan); /* collective for MPI plans */
  int any_bad = 0;
  MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  row->ok = !any_bad;
  return any_bad;
}

/* Reads a profile back and checks it against what the run reported: the profile is
 * what a later analysis trusts, so it is worth checking here. Rank 0 only. */
static int check_profile(const row_t *r) {
  amz_profile_t *p = NULL;
  int rc = amz_profile_open(r->path, 0, &p);
  if (rc != 0) {
    fprintf(stderr, "rank 0: amz_profile_open: %s: %s\n", amz_error_name(rc), amz_last_error());
    return 1;
  }
  const amz_profile_info_t *in = amz_profile_info(p);
  int bad = 0;
  if (in->n_items != r->items || in->items_done != r->items || in->items_failed != 0 ||
      in->ranks_used != r->ranks || in->threads != r->threads ||
      fabs(in->wall_s - r->wall) > 1e-9 * (1.0 + r->wall)) {
    fprintf(stderr,
            "rank 0: %s: profile says %llu items, %llu done, %d ranks x %d threads, wall %g s; "
            "the run said %llu, %llu, %d x %d, %g s\n",
            r->path, (unsigned long long)in->n_items, (unsigned long long)in->items_done,
            in->ranks_used, in->threads, in->wall_s, (unsigned long long)r->items,
            (unsigned long long)r->items, r->ranks, r->threads, r->wall);
    bad = 1;
  }
  amz_profile_close(p);
  return bad;
}

/* Creates the profile directory on rank 0 (one level, like mkdir). Collective:
 * returns 0 or 1 on every rank. */
static int make_dir(const char *dir) {
  int ok = 1;
  if (g_rank == 0) {
    struct stat st;
    if (mkdir(dir, 0777) != 0 && !(errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))) {
      fprintf(stderr, "rank 0: cannot create the directory '%s': %s\n", dir, strerror(errno));
      ok = 0;
    }
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  int quick = 0;
  const char *dir = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) {
      quick = 1;
    } else if (argv[i][0] != '-' && !dir) {
      dir = argv[i];
    } else {
      if (g_rank == 0) fprintf(stderr, "usage: %s [--quick] [profile-directory]\n", argv[0]);
      MPI_Finalize();
      return 2;
    }
  }
  if (!dir) dir = "compare_profiles";
  if (make_dir(dir) != 0) {
    MPI_Finalize();
    return 1;
  }
  double iters_per_s = calibrate();

  /* The grid. Its serial work is 13.9 s per rank count (10 ms x 1000 items alone is
   * 10 s): about 7 s on two cores, 15 s for both rank counts, so the whole grid is
   * kept. --quick divides the durations by 100 and drops the largest size. */
  const double durations[3] = {1e-4, 1e-3, 1e-2};
  const uint64_t sizes[3] = {50, 200, 1000};
  const double scale = quick ? 0.01 : 1.0;
  const int n_sizes = quick ? 2 : 3;
  const int max_ranks = g_size < 2 ? g_size : 2;
  row_t rows[3 * 3 * 2];
  int n_rows = 0, bad = 0;

  if (g_rank == 0) {
    printf("Comparative sweep on %d launched rank%s (%s run): durations", g_size,
           g_size == 1 ? "" : "s", quick ? "quick" : "full");
    for (int d = 0; d < 3; d++) printf(" %s", S(durations[d] * scale));
    printf(", sizes");
    for (int s = 0; s < n_sizes; s++) printf(" %llu", (unsigned long long)sizes[s]);
    printf(", ranks 1..%d\n", max_ranks);
    if (g_size < 2) printf("(launched on one rank: the 2-rank runs are skipped)\n");
    printf("profiles in %s/\n\n", dir);
    printf("%9s %6s %5s %7s %-9s %6s %10s %10s %7s %8s %6s\n", "duration", "items", "ranks",
           "threads", "schedule", "chunk", "wall", "predicted", "error", "speedup", "eff");
    fflush(stdout);
  }

  for (int d = 0; d < 3; d++)
    for (int s = 0; s < n_sizes; s++) {
      int first_row = n_rows;
      for (int r = 1; r <= max_ranks; r++) {
        row_t *row = &rows[n_rows++];
        bad |= run_cell(dir, durations[d] * scale, sizes[s], r, iters_per_s, row);
        if (g_rank != 0) continue;
        if (!row->ok) {
          printf("%9s %6llu %5d  (failed: see the error above)\n", S(row->dur_s),
                 (unsigned long long)row->items, row->ranks);
          continue;
        }
        /* Speedup against the 1-rank run of the same cell; efficiency as the report
         * defines it: the kernel time over the workers and the wall time. */
        const row_t *one = &rows[first_row];
        double speedup = one->ok && row->wall > 0 ? one->wall / row->wall : 0.0;
        int workers = row->ranks * row->threads;
        double eff = row->wall > 0 ? row->busy / workers / row->wall : 0.0;
        double err = row->predicted > 0 ? (row->wall - row->predicted) / row->predicted : 0.0;
        printf("%9s %6llu %5d %7d %-9s %6llu %10s %10s %+6.1f%% %7.2fx %5.0f%%\n",
               S(row->dur_s), (unsigned long long)row->items, row->ranks, row->threads,
               amz_schedule_name(row->schedule), (unsigned long long)row->chunk,
               S(row->wall), S(row->predicted), 100.0 * err, speedup, 100.0 * eff);
        fflush(stdout);
      }
    }

  if (g_rank == 0) {
    printf("\nerror: (wall - predicted) / predicted; speedup: the 1-rank wall of the same "
           "cell over this one's;\neff: kernel time over the workers and the wall time "
           "(as 'amorsize report'); items done while\nsampling are left out, since they ran "
           "before the timed run.\n");
    /* Every profile must read back and agree with its run. */
    int checked = 0;
    for (int i = 0; i < n_rows; i++)
      if (rows[i].ok) {
        bad |= check_profile(&rows[i]);
        checked++;
      }
    printf("\n%d profiles written and read back.\n", checked);
    /* The files in sweep order, named from inside the directory: the tool's file
     * column is 24 characters wide. Its speedup column is against the first file it
     * is given, so a reader comparing one cell lists that cell's files alone. */
    printf("\nCompare them side by side, and draw them on one page ('amorsize compare' "
           "takes its\nspeedup against the first file: give it one cell's files to "
           "compare rank counts):\n\n  cd %s\n  amorsize compare", dir);
    for (int i = 0; i < n_rows; i++)
      if (rows[i].ok) printf(" \\\n      %s", strrchr(rows[i].path, '/') + 1);
    printf("\n  amorsize html");
    for (int i = 0; i < n_rows; i++)
      if (rows[i].ok) printf(" \\\n      %s", strrchr(rows[i].path, '/') + 1);
    printf(" \\\n      -o compare.html\n\n");
  }

  /* Every rank must agree on the exit status, whichever rank saw the failure. */
  int any_bad = 0;
  MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (g_rank == 0) printf("05_compare: %s\n", any_bad ? "FAILED" : "OK");
  MPI_Finalize();
  return any_bad ? 1 : 0;
}
