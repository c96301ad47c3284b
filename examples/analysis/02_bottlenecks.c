/*
 * Performance analysis, step 2: bottlenecks.
 *
 * A run that is slower than it should be is usually slow for one dominant reason.
 * The library's bottleneck analysis measures each overhead of the run (start-up,
 * dispatch, imbalance, memory contention, data movement, ...) against thresholds
 * and rates it LOW, MEDIUM or HIGH with advice. amz_result_explain() prints these
 * findings in its "Bottlenecks" section; amz_result_finding() hands them to the
 * program as data (kind, severity, share of the wall time, the measured value, the
 * thresholds and the advice), which is what this program reads. It provokes five
 * bottlenecks on purpose, one per scenario, so that you can learn what each looks
 * like in the numbers before you meet it in your own code:
 *
 *   1. start-up       a very short loop forced onto many threads;
 *   2. dispatch       very cheap items (~0.2 us) handed out one at a time;
 *   3. imbalance      all the cost in the first 5% of the items, cut into equal
 *                     static blocks;
 *   4. memory         a kernel that streams over a large array, on all cores;
 *   5. data movement  MPI map mode with many bytes per item and little compute.
 *
 * For each scenario it prints what was provoked, the plan that ran, the key figures
 * (wall time, prediction, the measured term involved, from amz_result_terms()) and
 * the run's findings. When a scenario is not flagged on the machine at hand it says
 * so ("not flagged here: ..."), with the figure it measured and the library's
 * threshold (amz_finding_thresholds()): this program never pretends. One honest
 * caveat: memory contention needs more cores than memory channels can feed: on a
 * small machine (2 cores) the sampler usually measures no slowdown, and the memory
 * finding stays silent; on a large node it reads HIGH (see scenario_memory).
 * Everything else in a scenario is forced with options (ranks, threads, schedule,
 * chunk) and the environment is ignored, so that the provocation cannot be undone
 * by an AMZ_* variable left in the shell.
 *
 * Build and run (2 ranks; "--quick" shrinks every scenario to run in a few seconds):
 *
 *   mpicc -std=gnu11 -O2 -Wall -Wextra -I include -I build/include \
 *         examples/analysis/02_bottlenecks.c -o 02_bottlenecks \
 *         -L build -lamorsize_mpi -lamorsize -lm -Wl,-rpath,$PWD/build
 *   mpirun --bind-to none -np 2 ./02_bottlenecks [--quick]
 *
 * Exit status, the same on every rank: 0 when every scenario planned, ran all its
 * items and its findings could be read (map mode's outputs are checked too); 1 otherwise;
 * 2 for a bad argument. The last line on rank 0 is "02_bottlenecks: OK" on success.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amorsize_mpi.h"

static int g_rank, g_size;

/* ------------------------------------------------------------------------- */
/* Deterministic busy work                                                    */
/* ------------------------------------------------------------------------- */

/* The work is a chain of dependent multiply-adds: a fixed amount of CPU work per
 * iteration, which the compiler can neither vectorise nor skip. Sleeping or spinning
 * on the wall clock would not do: a descheduled thread would still "finish" its
 * item on time, and oversubscription would look free. */
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
 * is kept (a slow trial was interrupted), so that every rank runs the same work per
 * item: the kernels are identical everywhere, as the MPI plan assumes. */
static double g_iters_per_s;

static void calibrate(void) {
  const uint64_t iters = 1u << 23; /* about 10 ms: long enough for a steady clock rate */
  double best = 1e30;
  uint64_t sink = 1;
  for (int trial = 0; trial < 5; trial++) {
    double t0 = now_s();
    sink = burn(iters, sink);
    double dt = now_s() - t0;
    if (dt < best) best = dt;
  }
  double rate = (double)iters / best + (double)(sink & 1); /* use sink */
  MPI_Allreduce(&rate, &g_iters_per_s, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}

static uint64_t iters_for(double seconds) {
  double it = seconds * g_iters_per_s;
  return it < 1.0 ? 1 : (uint64_t)it;
}

/* ------------------------------------------------------------------------- */
/* Kernels                                                                    */
/* ------------------------------------------------------------------------- */

/* Uniform items: every item costs `iters` iterations. */
typedef struct uniform_arg {
  uint64_t iters;
  volatile uint64_t sink; /* written so the work has an observable result */
} uniform_arg_t;

static int uniform_kernel(uint64_t begin, uint64_t end, void *arg) {
  uniform_arg_t *a = arg;
  uint64_t x = begin;
  for (uint64_t i = begin; i < end; i++) x = burn(a->iters, x + i);
  a->sink = x;
  return 0;
}

/* Skewed items: the first `heavy_items` cost `heavy_iters`, the rest `light_iters`. */
typedef struct skewed_arg {
  uint64_t heavy_items, heavy_iters, light_iters;
  volatile uint64_t sink;
} skewed_arg_t;

static int skewed_kernel(uint64_t begin, uint64_t end, void *arg) {
  skewed_arg_t *a = arg;
  uint64_t x = begin;
  for (uint64_t i = begin; i < end; i++)
    x = burn(i < a->heavy_items ? a->heavy_iters : a->light_iters, x + i);
  a->sink = x;
  return 0;
}

/* Streaming: item i reads and writes block i of a large array of doubles. Each
 * element costs a load, a multiply-add and a store: far less than the time to bring
 * it from memory, so the speed is that of the memory, not of the core. */
typedef struct stream_arg {
  double *data;
  uint64_t block; /* doubles per item */
  int passes;     /* sweeps over the block per item */
  volatile double sink;
} stream_arg_t;

static int stream_kernel(uint64_t begin, uint64_t end, void *arg) {
  stream_arg_t *a = arg;
  double s = 0.0;
  for (int p = 0; p < a->passes; p++) {
    double *d = a->data + begin * a->block;
    uint64_t n = (end - begin) * a->block;
    for (uint64_t j = 0; j < n; j++) {
      d[j] = d[j] * 0.999 + 1.0;
      s += d[j];
    }
  }
  a->sink = s;
  return 0;
}

/* Map mode: each item reads `words_in` 64-bit words of input and writes `words_out`
 * words of output, with a little compute in between. */
typedef struct map_arg {
  size_t words_in, words_out;
  uint64_t iters;
} map_arg_t;

static int map_kernel(uint64_t begin, uint64_t end, const void *in, void *out, void *arg) {
  const map_arg_t *a = arg;
  const uint64_t *src = in;
  uint64_t *dst = out;
  for (uint64_t i = 0; i < end - begin; i++) {
    uint64_t x = 0;
    for (size_t j = 0; j < a->words_in; j++) x ^= src[i * a->words_in + j];
    x = burn(a->iters, x);
    for (size_t j = 0; j < a->words_out; j++) dst[i * a->words_out + j] = x + j;
  }
  return 0;
}

/* ------------------------------------------------------------------------- */
/* Reporting                                                                  */
/* ------------------------------------------------------------------------- */

/* Formats seconds with a unit, as the library's explanations do. */
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


/* What a scenario provokes, and how to recognise it in the findings. */
typedef struct scenario {
  const char *title; /* "1. start-up" */
  amz_finding_kind_t kind; /* the finding it provokes */
  const char *term;  /* the measured term involved ("start-up", ...); NULL for memory */
  char provoked[320];   /* what was done, one sentence */
  char evidence[256];   /* an extra figure found along the way; "" if none */
  double bytes;         /* memory: bytes the run reads and writes, for its bandwidth */
  double item_bytes;    /* map mode: input (= output) bytes per item */
  double contention;    /* the sampler's contention factor (amz_plan_workload()) */
} scenario_t;

static double term_value(const amz_terms_t *t, const char *term) {
  if (!strcmp(term, "start-up")) return t->startup;
  if (!strcmp(term, "dispatch")) return t->dispatch;
  if (!strcmp(term, "imbalance")) return t->imbalance;
  if (!strcmp(term, "data")) return t->data;
  return t->compute;
}

/*
 * Prints one scenario's report on rank 0: what was provoked, how it ran, the key
 * figures, the run's findings (amz_result_finding()) and a verdict.
 * Returns 0, or 1 when the figures could not be read.
 */
static int report(const scenario_t *sc, const amz_result_t *res) {
  amz_terms_t t;
  if (amz_result_terms(res, &t) != 0) {
    fprintf(stderr, "rank %d: %s: amz_result_terms: %s\n", g_rank, sc->title, amz_last_error());
    return 1;
  }
  double wall = amz_result_seconds(res);
  int ranks = amz_result_ranks(res), threads = amz_result_workers(res);
  printf("== %s ==\n", sc->title);
  printf("provoked:  %s\n", sc->provoked);
  printf("ran as:    %d rank%s x %d thread%s\n", ranks, ranks == 1 ? "" : "s", threads,
         threads == 1 ? "" : "s");
  printf("figures:   wall %s, predicted %s", S(wall), S(amz_result_predicted_seconds(res)));
  double share = 0.0;
  if (sc->term) {
    double v = term_value(&t, sc->term);
    share = wall > 0 ? v / wall : 0.0;
    printf("; measured %s %s = %.1f%% of the wall\n", sc->term, S(v), 100.0 * share);
  } else {
    share = sc->contention - 1.0;
    printf("; measured compute %s = %.1f%% of the wall\n", S(t.compute),
           wall > 0 ? 100.0 * t.compute / wall : 0.0);
  }
  if (sc->evidence[0]) printf("           %s\n", sc->evidence);
  if (sc->item_bytes > 0) {
    /* The per-rank table: how many items each rank ran in the run (not counting the
     * sampled ones) and how long its threads spent moving their data. The items run
     * away from rank 0 had their inputs sent and their outputs sent back. */
    amz_rank_stats_t rs;
    for (int i = 0; i < ranks; i++)
      if (amz_result_rank(res, i, &rs) == 0)
        printf("           rank %d: %llu items (%.1f MiB moved each way), data %s, busy %s\n",
               rs.rank, (unsigned long long)rs.items,
               rs.rank == 0 ? 0.0 : (double)rs.items * sc->item_bytes / (1 << 20),
               S(rs.data_s), S(rs.busy_s));
  }
  if (sc->bytes > 0 && wall > 0)
    printf("           bandwidth: %.1f GB/s read + written over the run's wall time\n",
           sc->bytes / wall / 1e9);

  /* The findings, as data: the same lines amz_result_explain() prints under
   * "Bottlenecks", with their severity and advice. */
  size_t n = amz_result_finding_count(res);
  int flagged = 0;
  amz_finding_t hit = {0};
  printf("findings:  %zu\n", n);
  for (size_t i = 0; i < n; i++) {
    amz_finding_t f;
    if (amz_result_finding(res, i, &f) != 0) {
      fprintf(stderr, "rank %d: %s: amz_result_finding: %s\n", g_rank, sc->title,
              amz_last_error());
      return 1;
    }
    printf("  [%s] %s\n", amz_severity_name(f.severity), f.text);
    if (f.kind == sc->kind && f.severity != AMZ_SEVERITY_INFO && !flagged) {
      flagged = 1;
      hit = f;
    }
  }
  double th[3];
  if (amz_finding_thresholds(sc->kind, th) != 0) {
    fprintf(stderr, "rank %d: %s: amz_finding_thresholds: %s\n", g_rank, sc->title,
            amz_last_error());
    return 1;
  }
  const char *name = amz_finding_kind_name(sc->kind);
  if (flagged) {
    printf("verdict:   flagged %s (%s), as provoked: value %.3g against thresholds "
           "%.3g / %.3g / %.3g\n\n", name, amz_severity_name(hit.severity), hit.value, th[0],
           th[1], th[2]);
  } else if (!sc->term) {
    printf("verdict:   not flagged here: the sampler measured contention x%.2f with all "
           "threads busy; the %s finding needs x%.2f\n\n", sc->contention, name, 1.0 + th[0]);
  } else if (sc->kind == AMZ_FINDING_DATA && ranks == 1) {
    printf("verdict:   not flagged here: on one rank no data moves (the data term is "
           "%.1f%% of the wall); run with 2 or more ranks\n\n", 100.0 * share);
  } else {
    printf("verdict:   not flagged here: %s is %.1f%% of the wall; the %s finding starts at "
           "%.0f%%\n\n", sc->term, 100.0 * share, name, 100.0 * th[0]);
  }
  return 0;
}

/* Options shared by every scenario: the environment must not change them (an
 * AMZ_WORKERS left in the shell would undo the provocation), and the sampling
 * budget is small because the loops are small. */
static amz_options_t *base_options(int quick) {
  amz_options_t *o = NULL;
  int rc = amz_options_create(&o);
  if (rc != 0) {
    fprintf(stderr, "rank %d: amz_options_create: %s\n", g_rank, amz_last_error());
    return NULL;
  }
  amz_options_set_use_env(o, 0);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  amz_options_set_sampling(o, quick ? 0.05 : 0.15, 0.03);
  return o;
}

/*
 * Runs a plan made by amz_mpi_plan_create() or amz_mpi_map_plan_create() once,
 * checks that every item ran, reports on rank 0 and destroys the plan (collective).
 * `plan_rc` is the status of the plan's creation, the same on every rank.
 * Returns 0 on success, 1 on failure.
 */
static int run_plan(scenario_t *sc, int plan_rc, amz_plan_t *plan, uint64_t n) {
  if (plan_rc != 0) {
    fprintf(stderr, "rank %d: %s: plan: %s: %s\n", g_rank, sc->title, amz_error_name(plan_rc),
            amz_last_error());
    return 1;
  }
  /* The memory bottleneck is judged on the contention the sampler measured
   * (amz_plan_workload(); the plan's explanation prints it under "Workload"). */
  amz_workload_info_t wi;
  if (g_rank == 0 && amz_plan_workload(plan, &wi) == 0) {
    sc->contention = wi.contention;
    if (!sc->term)
      snprintf(sc->evidence, sizeof sc->evidence,
               "plan: contention x%.2f per item with %d worker%s busy (amz_plan_workload)",
               wi.contention, wi.contention_workers, wi.contention_workers == 1 ? "" : "s");
  }
  amz_result_t *res = NULL;
  int rc = amz_mpi_run(plan, &res);
  int bad = 0;
  if (rc != 0) {
    fprintf(stderr, "rank %d: %s: amz_mpi_run: %s: %s\n", g_rank, sc->title, amz_error_name(rc),
            amz_last_error());
    bad = 1;
  }
  /* Every rank, excluded ones included, knows the run's global totals. */
  if (res && amz_result_items_done(res) != n) {
    fprintf(stderr, "rank %d: %s: %llu of %llu items done\n", g_rank, sc->title,
            (unsigned long long)amz_result_items_done(res), (unsigned long long)n);
    bad = 1;
  }
  if (!bad && g_rank == 0) bad = report(sc, res);
  amz_result_destroy(res);
  amz_plan_destroy(plan);
  return bad;
}

static int run_range(scenario_t *sc, amz_task_t *task, const amz_options_t *opts) {
  amz_plan_t *plan = NULL;
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, task, opts, &plan);
  return run_plan(sc, rc, plan, task->n_items);
}

/* ------------------------------------------------------------------------- */
/* The scenarios                                                              */
/* ------------------------------------------------------------------------- */

/*
 * 1. Start-up. Waking a worker costs microseconds, more when there are more threads
 * than cores (each waits for a core). 64 items of 2 us are 128 us of work: forced
 * onto 8 threads per rank, the loop is nearly over before the last threads start.
 */
static int scenario_startup(int quick) {
  uniform_arg_t arg = {iters_for(2e-6), 0};
  amz_task_t task = {"start-up", 64, uniform_kernel, &arg};
  scenario_t sc = {.title = "1. start-up", .kind = AMZ_FINDING_STARTUP, .term = "start-up"};
  snprintf(sc.provoked, sizeof sc.provoked,
           "%llu items of 2 us (%s of work) forced onto %d rank%s x 8 threads, static",
           (unsigned long long)task.n_items, S(64 * 2e-6), g_size, g_size == 1 ? "" : "s");
  amz_options_t *o = base_options(quick);
  if (!o) return 1;
  amz_options_set_ranks(o, g_size);
  amz_options_set_workers(o, 8);
  amz_options_set_schedule(o, AMZ_SCHED_STATIC);
  int bad = run_range(&sc, &task, o);
  amz_options_destroy(o);
  return bad;
}

/*
 * 2. Dispatch. Every chunk handed out costs an atomic operation on a counter shared
 * by the node's ranks, plus its record. With items of 0.2 us and chunks of one item,
 * that overhead is a sizeable fraction of the work itself.
 */
static int scenario_dispatch(int quick) {
  uniform_arg_t arg = {iters_for(0.2e-6), 0};
  amz_task_t task = {"dispatch", quick ? 50000 : 200000, uniform_kernel, &arg};
  scenario_t sc = {.title = "2. dispatch", .kind = AMZ_FINDING_DISPATCH, .term = "dispatch"};
  snprintf(sc.provoked, sizeof sc.provoked,
           "%llu items of 0.2 us, dynamic schedule with chunks of 1 item, %d rank%s x 1 thread",
           (unsigned long long)task.n_items, g_size, g_size == 1 ? "" : "s");
  amz_options_t *o = base_options(quick);
  if (!o) return 1;
  amz_options_set_ranks(o, g_size);
  amz_options_set_workers(o, 1);
  amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC);
  amz_options_set_chunk(o, 1);
  int bad = run_range(&sc, &task, o);
  amz_options_destroy(o);
  return bad;
}

/*
 * 3. Imbalance. All the cost is in the first 5% of the items (1 ms each; the rest
 * cost 2 us). Static blocks are equal in items, so the first worker's block holds
 * all the expensive items and the other workers wait for it.
 *
 * The imbalance term measures the threads of a rank against the rank's own end, so
 * the scenario runs on one rank with one thread per core. Spread over ranks with a
 * thread each, the same unevenness shows as the "ranks" line instead (they end
 * early and wait for the last one).
 */
static int scenario_imbalance(int quick, int threads) {
  uint64_t n = quick ? 400 : 2000;
  skewed_arg_t arg = {n / 20, iters_for(quick ? 0.25e-3 : 1e-3), iters_for(2e-6), 0};
  amz_task_t task = {"imbalance", n, skewed_kernel, &arg};
  scenario_t sc = {.title = "3. imbalance", .kind = AMZ_FINDING_IMBALANCE, .term = "imbalance"};
  snprintf(sc.provoked, sizeof sc.provoked,
           "%llu items; the first %llu cost %s each, the rest 2 us; static blocks on "
           "1 rank x %d thread%s",
           (unsigned long long)n, (unsigned long long)arg.heavy_items, quick ? "0.25 ms" : "1 ms",
           threads, threads == 1 ? "" : "s");
  amz_options_t *o = base_options(quick);
  if (!o) return 1;
  amz_options_set_ranks(o, 1);
  amz_options_set_workers(o, threads);
  amz_options_set_schedule(o, AMZ_SCHED_STATIC);
  int bad = run_range(&sc, &task, o);
  amz_options_destroy(o);
  return bad;
}

/*
 * 4. Memory. A streaming kernel is limited by the memory bandwidth, which all cores
 * share: with every core streaming, each item takes longer than alone. The sampler
 * measures that ratio ("contention") between the threads of one rank, so this
 * scenario runs on one rank with one thread per core.
 *
 * What to expect: on this 2-core virtual machine two streams rarely saturate the
 * memory system, and the factor stays near x1.0-1.3. On a real node (16-128 cores
 * sharing 4-12 memory channels) a kernel like this one reaches x2-x8 with all cores
 * busy, the memory line reads HIGH, and half the threads run about as fast as all.
 */
static int scenario_memory(int quick, int threads) {
  const uint64_t bytes = quick ? (64ull << 20) : (256ull << 20);
  const uint64_t block = 128 * 1024; /* doubles per item: 1 MiB, as large as L2 */
  stream_arg_t arg = {NULL, block, 1, 0};
  uint64_t n = bytes / sizeof(double) / block;
  /* Every rank samples, so every rank needs the array, even one the plan leaves
   * out. It is written once here so that no run pays the first-touch page faults. */
  arg.data = malloc(bytes);
  int ok = arg.data != NULL, all_ok;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!all_ok) {
    if (!ok)
      fprintf(stderr, "rank %d: memory: cannot allocate %llu bytes\n", g_rank,
              (unsigned long long)bytes);
    free(arg.data);
    return 1;
  }
  for (uint64_t i = 0; i < bytes / sizeof(double); i++) arg.data[i] = (double)(i & 1023);
  amz_task_t task = {"memory", n, stream_kernel, &arg};
  scenario_t sc = {.title = "4. memory", .kind = AMZ_FINDING_MEMORY, .term = NULL,
                   .bytes = 2.0 * (double)bytes * arg.passes};
  snprintf(sc.provoked, sizeof sc.provoked,
           "%llu MiB of doubles streamed (load, multiply-add, store) in %llu items "
           "of 1 MiB, 1 rank x %d thread%s (all cores), static",
           (unsigned long long)(bytes >> 20), (unsigned long long)n, threads,
           threads == 1 ? "" : "s");
  amz_options_t *o = base_options(quick);
  if (!o) {
    free(arg.data);
    return 1;
  }
  amz_options_set_ranks(o, 1);
  amz_options_set_workers(o, threads);
  amz_options_set_schedule(o, AMZ_SCHED_STATIC);
  int bad = run_range(&sc, &task, o);
  amz_options_destroy(o);
  free(arg.data);
  return bad;
}

/*
 * 5. Data movement. In map mode the inputs live on rank 0 and the outputs come back
 * to it: every item run elsewhere costs its bytes over the link. With 64 KiB in and
 * 64 KiB out per item and 5 us of compute, moving the data costs about as much as
 * computing. On one rank nothing moves and the data term is zero.
 */
static int scenario_data(int quick) {
  const size_t item_bytes = 64 * 1024;
  map_arg_t arg = {item_bytes / 8, item_bytes / 8, iters_for(5e-6)};
  uint64_t n = quick ? 500 : 2000;
  uint64_t *in = NULL, *out = NULL;
  int ok = 1, all_ok;
  if (g_rank == 0) {
    in = malloc(n * item_bytes);
    out = calloc(n, item_bytes);
    ok = in && out;
    for (uint64_t i = 0; ok && i < n * arg.words_in; i++) in[i] = i * 2654435761u;
  }
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!all_ok) {
    if (!ok) fprintf(stderr, "rank %d: data: cannot allocate the buffers\n", g_rank);
    free(in);
    free(out);
    return 1;
  }
  amz_map_task_t task = {"data movement", n, item_bytes, item_bytes, in, out, map_kernel, &arg};
  double mib = (double)n * (double)item_bytes / (1 << 20);
  scenario_t sc = {.title = "5. data movement", .kind = AMZ_FINDING_DATA, .term = "data",
                   .item_bytes = (double)item_bytes};
  snprintf(sc.provoked, sizeof sc.provoked,
           "map mode: %llu items of 5 us of compute with 64 KiB in and 64 KiB out each "
           "(%.0f MiB each way), %d rank%s x 1 thread, dynamic, chunks of 4",
           (unsigned long long)n, mib, g_size, g_size == 1 ? "" : "s");
  amz_options_t *o = base_options(quick);
  if (!o) {
    free(in);
    free(out);
    return 1;
  }
  amz_options_set_ranks(o, g_size);
  amz_options_set_workers(o, 1);
  amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC);
  amz_options_set_chunk(o, 4);
  amz_plan_t *plan = NULL;
  int rc = amz_mpi_map_plan_create(MPI_COMM_WORLD, &task, o, &plan);
  int bad = run_plan(&sc, rc, plan, n);
  /* The outputs came back to rank 0 in item order: check some, so that a scenario
   * that lost data cannot pass. */
  for (uint64_t i = 0; !bad && g_rank == 0 && i < n; i += n / 16 + 1) {
    uint64_t x = 0;
    for (size_t j = 0; j < arg.words_in; j++) x ^= in[i * arg.words_in + j];
    if (out[i * arg.words_out] != burn(arg.iters, x)) {
      fprintf(stderr, "rank 0: data: item %llu has a wrong output\n", (unsigned long long)i);
      bad = 1;
    }
  }
  amz_options_destroy(o);
  free(in);
  free(out);
  return bad;
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  int quick = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) {
      quick = 1;
    } else {
      if (g_rank == 0) fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
      MPI_Finalize();
      return 2;
    }
  }
  if (provided < MPI_THREAD_MULTIPLE) {
    /* Map mode over several ranks needs it: rank 0 serves data from a thread. */
    if (g_rank == 0) fprintf(stderr, "02_bottlenecks: MPI_THREAD_MULTIPLE not provided\n");
    MPI_Finalize();
    return 1;
  }

  calibrate();
  /* The threads of all ranks share this node's cores. */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  if (g_rank == 0)
    printf("Bottleneck analysis on %d rank%s, %ld core%s (%s run)\n\n", g_size,
           g_size == 1 ? "" : "s", cores, cores == 1 ? "" : "s", quick ? "quick" : "full");

  /* Each scenario returns the same status on every rank that ran it; a failure is
   * reported and the next scenario still runs. */
  int bad = 0;
  bad |= scenario_startup(quick);
  bad |= scenario_dispatch(quick);
  bad |= scenario_imbalance(quick, (int)cores);
  bad |= scenario_memory(quick, (int)cores);
  bad |= scenario_data(quick);

  /* Every rank must agree on the exit status, whichever rank saw the failure. */
  int any_bad = 0;
  MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (g_rank == 0) printf("02_bottlenecks: %s\n", any_bad ? "FAILED" : "OK");
  MPI_Finalize();
  return any_bad ? 1 : 0;
}
