/*
 * Porting pattern 5: items that take minutes each (docs/PORTING.md).
 *
 *   mpirun -np R ./long_items_mpi [ITEMS] [--unit-ms MS] [--out DIR] [--progress S]
 *                                 [--timeout S] [--check]
 *
 * Each item is a long computation (a chain of UNITS x MS milliseconds of hashing,
 * UNITS from 1 to 6, a few items much longer than the rest) whose result goes to a
 * file of its own, DIR/item-NNNNNN, before the kernel returns. With MS = 60000 the
 * items take minutes, as in the codes this pattern is for; the default (200 ms) lets
 * the example run in seconds. What it shows:
 *
 *   - outputs that survive the job: an item's file is written, synced and renamed
 *     into place before its kernel call returns, so an item the checkpoint records
 *     as complete has its output on disk;
 *   - a checkpoint (DIR/checkpoint): run the same command again after a kill (a
 *     wall-clock limit, a node failure) and only the items not recorded run; the
 *     files of the others are already there;
 *   - a watchdog: a kernel call that runs 10 times longer than the plan predicted
 *     for it (and at least 10 s, or --timeout S) ends the job with a line naming the
 *     rank, thread and items, instead of holding the allocation to its limit;
 *   - a progress line on stdout from rank 0 every S seconds (--progress, default
 *     60): items done, the rate, the time left, in a batch job's log;
 *   - what sampling cost: the items it ran (real work, kept) and its seconds.
 *
 * --check recomputes every item serially on rank 0 and compares it with its file.
 * Two switches exist for the tests: --crash-after K kills the process (SIGKILL)
 * after its K-th item, --hang I makes item I never return.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mpi.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amorsize_mpi.h"

/* Hash steps per millisecond of work (about that on a 2.4 GHz core). */
enum { STEPS_PER_MS = 400000 };

typedef struct {
  const char *dir;
  uint64_t unit_steps;    /* hash steps per cost unit */
  long crash_after;       /* kill this process after its K-th item; 0 = never */
  long long hang;         /* item that never returns; -1 = none */
  atomic_long done_here;  /* items this process finished */
} job_t;

/* Item i costs 1 to 3 units, and every seventh item 6: a few items carry much of
 * the work, as in most long-item codes. */
static unsigned units(uint64_t i) { return i % 7 == 3 ? 6 : 1 + (unsigned)(i % 3); }

/* The whole computation of item i: a function of i and the unit alone. */
static uint64_t compute(uint64_t i, uint64_t unit_steps) {
  uint64_t z = i * 0x9e3779b97f4a7c15ULL + 1, steps = units(i) * unit_steps;
  for (uint64_t k = 0; k < steps; k++) {
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 27;
  }
  return z;
}

static void item_path(char *buf, size_t len, const char *dir, uint64_t i) {
  snprintf(buf, len, "%s/item-%06" PRIu64, dir, i);
}

/* Write the item's result durably: a temporary file, synced, renamed into place, so
 * the file is either absent or complete whatever moment the job is killed. */
static int save(const job_t *job, uint64_t i, uint64_t value) {
  char path[4200], tmp[4300];
  item_path(path, sizeof path, job->dir, i);
  snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return errno;
  char line[32];
  int len = snprintf(line, sizeof line, "%016" PRIx64 "\n", value);
  int rc = write(fd, line, (size_t)len) == len && fsync(fd) == 0 ? 0 : errno ? errno : EIO;
  if (close(fd) != 0 && rc == 0) rc = errno;
  if (rc == 0 && rename(tmp, path) != 0) rc = errno;
  if (rc != 0) unlink(tmp);
  return rc;
}

static int long_kernel(uint64_t begin, uint64_t end, void *arg) {
  job_t *job = arg;
  for (uint64_t i = begin; i < end; i++) {
    if ((long long)i == job->hang)
      for (;;) pause(); /* a lost message, a solver that never converges */
    int rc = save(job, i, compute(i, job->unit_steps));
    if (rc != 0) return rc; /* not recorded as complete: a rerun tries it again */
    if (atomic_fetch_add(&job->done_here, 1) + 1 == job->crash_after) raise(SIGKILL);
  }
  return 0;
}

/* Rank 0's progress: the library estimates the job's items from this rank's. */
static void on_progress(const amz_progress_t *p, void *user) {
  (void)user;
  printf("progress: about %" PRIu64 " of %" PRIu64 " items, %.2f items/s, %.0f s elapsed, "
         "about %.0f s left\n", p->items_done, p->items_total, p->items_per_s, p->elapsed_s,
         p->eta_s);
  fflush(stdout);
}

static int read_item(const char *dir, uint64_t i, uint64_t *value) {
  char path[4200];
  item_path(path, sizeof path, dir, i);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ok = fscanf(f, "%" SCNx64, value) == 1;
  fclose(f);
  return ok;
}

static void die(int rank, const char *what, int rc) {
  fprintf(stderr, "rank %d: %s: %s: %s\n", rank, what, amz_error_name(rc), amz_last_error());
  MPI_Abort(MPI_COMM_WORLD, 1);
}

static int bad_arg(int rank, const char *arg) {
  if (rank == 0)
    fprintf(stderr, "long_items_mpi: bad argument '%s': expected ITEMS (a positive count), "
                    "--unit-ms MS, --out DIR, --progress S, --timeout S (positive numbers), "
                    "--check, --crash-after K or --hang I\n", arg);
  return 2;
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  uint64_t n = 40;
  double unit_ms = 200, progress = 60, timeout = 0;
  int check = 0, pos = 0;
  job_t job = {.dir = "long_items.out", .hang = -1};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    double *num = strcmp(a, "--unit-ms") == 0    ? &unit_ms
                  : strcmp(a, "--progress") == 0 ? &progress
                  : strcmp(a, "--timeout") == 0  ? &timeout
                                                 : NULL;
    if (num && v) {
      errno = 0;
      *num = strtod(v, &end);
      if (errno || *end || !(*num > 0)) return MPI_Finalize(), bad_arg(rank, v);
      i++;
    } else if (strcmp(a, "--out") == 0 && v) {
      job.dir = argv[++i];
    } else if ((strcmp(a, "--crash-after") == 0 || strcmp(a, "--hang") == 0) && v) {
      errno = 0;
      long long k = strtoll(v, &end, 10);
      if (errno || *end || k < 0) return MPI_Finalize(), bad_arg(rank, v);
      if (a[2] == 'c') job.crash_after = (long)k; else job.hang = k;
      i++;
    } else if (strcmp(a, "--check") == 0) {
      check = 1;
    } else if (pos++ == 0 && a[0] != '-' &&
               (errno = 0, n = strtoull(a, &end, 10), !errno && *end == 0 && n > 0)) {
      continue;
    } else {
      MPI_Finalize();
      return bad_arg(rank, a);
    }
  }
  job.unit_steps = (uint64_t)(unit_ms * STEPS_PER_MS);
  if (job.unit_steps == 0) job.unit_steps = 1;
  if (rank == 0 && mkdir(job.dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "long_items_mpi: cannot create the output directory '%s': %s\n", job.dir,
            strerror(errno));
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Barrier(MPI_COMM_WORLD); /* the directory exists before any rank writes to it */

  char ckpt[4200];
  snprintf(ckpt, sizeof ckpt, "%s/checkpoint", job.dir);
  amz_options_t *opts;
  if (amz_options_create(&opts) != 0) die(rank, "amz_options_create", AMZ_ENOMEM);
  amz_hooks_t hooks = {.on_progress = rank == 0 ? on_progress : NULL};
  amz_options_set_hooks(opts, &hooks, NULL);
  amz_options_set_progress_interval(opts, progress);
  amz_options_set_checkpoint(opts, ckpt);
  /* Stuck: 10 times the call's predicted time and at least --timeout (else 10) s. */
  amz_options_set_timeout(opts, timeout, 10, AMZ_TIMEOUT_ABORT);

  amz_task_t task = {"long items", n, long_kernel, &job};
  amz_plan_t *plan = NULL;
  amz_result_t *res = NULL;
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, opts, &plan);
  if (rc != 0) die(rank, "amz_mpi_plan_create", rc);
  rc = amz_mpi_run(plan, &res);
  if (rc != 0) die(rank, "amz_mpi_run", rc);
  /* Every rank's files are written (and renamed) before rank 0 reads them. */
  int zero = 0, any = 0;
  rc = amz_mpi_allreduce(MPI_COMM_WORLD, &zero, &any, 1, MPI_INT, MPI_MAX);
  if (rc != 0) die(rank, "amz_mpi_allreduce", rc);

  int status = 0;
  if (rank == 0) {
    uint64_t digest = 0, missing = 0, bad = 0, value;
    for (uint64_t i = 0; i < n; i++) {
      if (!read_item(job.dir, i, &value)) {
        if (missing++ < 5) fprintf(stderr, "long_items_mpi: item %" PRIu64 " has no output\n", i);
        continue;
      }
      digest ^= value;
      if (check) bad += value != compute(i, job.unit_steps);
    }
    printf("long items: %" PRIu64 " items of %g ms units, %d of %d ranks x %d workers, "
           "%s chunks of %" PRIu64 ", %.2f s (predicted %.2f s); %" PRIu64 " resumed from %s, "
           "%" PRIu64 " run while sampling (setup %.2f s); digest %016" PRIx64 "\n",
           n, unit_ms, amz_result_ranks(res), size, amz_result_workers(res),
           amz_schedule_name(amz_plan_schedule(plan)), amz_plan_chunk(plan),
           amz_result_seconds(res), amz_result_predicted_seconds(res),
           amz_result_items_resumed(res), ckpt, amz_plan_sampled_items(plan),
           amz_plan_setup_seconds(plan), digest);
    if (check) printf("serial check: %s\n", bad || missing ? "DIFFERENT" : "identical");
    status = missing || bad;
  }
  int all = 0;
  if (amz_mpi_allreduce(MPI_COMM_WORLD, &status, &all, 1, MPI_INT, MPI_MAX) != 0) all = 1;
  amz_result_destroy(res);
  amz_plan_destroy(plan);
  amz_options_destroy(opts);
  MPI_Finalize();
  return all;
}
