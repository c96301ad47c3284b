/*
 * What a checkpoint costs, and what retries cost.
 *
 *   bench_checkpoint [--reps R] [--items N] [--item-us U]
 *
 * 1. Checkpoint: the same loop (N items of about U microseconds, 2 threads) run
 *    with and without a checkpoint file, alternating, R times each; medians and the
 *    ratio. Fixed dynamic chunks of 1, 16 and 256 items show the cost per record
 *    (one pwrite per chunk); "auto" lets the plan choose, with the record's measured
 *    cost in its dispatch term. Every run starts from an empty checkpoint.
 * 2. Retries: a kernel where one item in 1000 always fails, chunks of 64, retries
 *    0 and 3: wall time, kernel calls made to isolate the failures, items reported.
 * The table goes to stdout; docs/RELIABILITY.md quotes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amorsize.h"
#include "bench_util.h"

static double item_us = 1.0;

static int spin(uint64_t b, uint64_t e, void *arg) {
  int *fail_every = arg;
  bench_spin_items(b, e, item_us);
  if (fail_every && *fail_every)
    for (uint64_t i = b; i < e; i++)
      if (i % (uint64_t)*fail_every == 7) return 3;
  return 0;
}

/* One amz_for; returns its run time, *setup its probe + sampling + planning (where
 * the checkpoint is created), and the chunks it ran. */
static double setup_s;
static double one(uint64_t n, uint64_t chunk, const char *ckpt, int retries, int *fail_every,
                  uint64_t *chunks, uint64_t *calls, uint64_t *failed) {
  amz_options_t *o = bench_quiet_options();
  amz_options_set_workers(o, 2);
  if (chunk) {
    amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC);
    amz_options_set_chunk(o, chunk);
  }
  if (ckpt) {
    unlink(ckpt);
    amz_options_set_checkpoint(o, ckpt);
  }
  amz_options_set_retries(o, retries);
  amz_task_t t = {"bench-checkpoint", n, spin, fail_every};
  amz_result_t *r = NULL;
  int rc = amz_for(&t, o, &r);
  if (rc != 0 && rc != AMZ_EITEMS) {
    fprintf(stderr, "bench_checkpoint: %s: %s\n", amz_error_name(rc), amz_last_error());
    exit(1);
  }
  double s = amz_result_seconds(r);
  setup_s = amz_result_setup_seconds(r);
  if (chunks) {
    *chunks = 0;
    amz_worker_stats_t w;
    for (int i = 0; amz_result_worker(r, i, &w) == 0; i++) *chunks += w.chunks;
  }
  if (calls) *calls = amz_result_retry_calls(r);
  if (failed) *failed = amz_result_items_failed(r);
  amz_result_destroy(r);
  amz_options_destroy(o);
  if (ckpt) unlink(ckpt);
  return s;
}

int main(int argc, char **argv) {
  int reps = 5;
  uint64_t n = 2000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--reps") == 0) reps = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--items") == 0) n = strtoull(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--item-us") == 0) item_us = atof(argv[i + 1]);
    else {
      fprintf(stderr, "usage: %s [--reps R] [--items N] [--item-us U]\n", argv[0]);
      return 64;
    }
  }
  if (reps < 1 || reps > 100) reps = 5;
  char ckpt[256];
  snprintf(ckpt, sizeof ckpt, "bench_checkpoint.%ld.ckpt", (long)getpid());
  printf("Checkpoint cost: %llu items of %.2f us, 2 threads, %d alternating reps, medians\n\n",
         (unsigned long long)n, item_us, reps);
  printf("%-6s %9s %9s | %10s %10s %7s %11s | %10s %10s\n", "chunk", "chunks", "chunks",
         "run", "run", "ratio", "per record", "setup", "setup");
  printf("%-6s %9s %9s | %10s %10s %7s %11s | %10s %10s\n", "", "without", "with", "without",
         "with", "", "", "without", "with");
  const uint64_t chunks[] = {1, 16, 256, 0};
  for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
    uint64_t nn = chunks[c] == 1 ? n / 8 : n; /* one-item chunks: fewer items, same scale */
    double *a = malloc((size_t)reps * sizeof *a), *b = malloc((size_t)reps * sizeof *b);
    double *sa = malloc((size_t)reps * sizeof *sa), *sb = malloc((size_t)reps * sizeof *sb);
    uint64_t ka = 0, kb = 0;
    for (int r = 0; r < reps; r++) {
      a[r] = one(nn, chunks[c], NULL, 0, NULL, &ka, NULL, NULL);
      sa[r] = setup_s;
      b[r] = one(nn, chunks[c], ckpt, 0, NULL, &kb, NULL, NULL);
      sb[r] = setup_s;
    }
    double ma = bench_median(a, reps), mb = bench_median(b, reps);
    char name[24];
    snprintf(name, sizeof name, chunks[c] ? "%llu" : "auto", (unsigned long long)chunks[c]);
    printf("%-6s %9llu %9llu | %9.4fs %9.4fs %7.3f %8.2f us | %9.4fs %9.4fs\n", name,
           (unsigned long long)ka, (unsigned long long)kb, ma, mb, mb / ma,
           kb ? (mb - ma) / (double)kb * 2e6 : 0.0, bench_median(sa, reps),
           bench_median(sb, reps));
    free(a);
    free(b);
    free(sa);
    free(sb);
  }
  printf("\n(per record: the extra run time times 2 threads over the chunks, in microseconds;\n"
         " it includes the run's fdatasync calls, about one a second and one at the end.\n"
         " setup: probe + sampling + planning; with a checkpoint it creates the file and\n"
         " syncs it and its directory)\n");

  printf("\nRetries: one item in 1000 always fails, chunks of 64, %llu items\n\n",
         (unsigned long long)(n / 4));
  printf("%-8s %12s %14s %14s\n", "retries", "time (s)", "retry calls", "items failed");
  int every = 1000;
  for (int rt = 0; rt <= 3; rt += 3) {
    double *a = malloc((size_t)reps * sizeof *a);
    uint64_t calls = 0, failed = 0;
    for (int r = 0; r < reps; r++) a[r] = one(n / 4, 64, NULL, rt, &every, NULL, &calls, &failed);
    printf("%-8d %12.4f %14llu %14llu\n", rt, bench_median(a, reps), (unsigned long long)calls,
           (unsigned long long)failed);
    free(a);
  }
  return 0;
}
