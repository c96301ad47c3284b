/* The bottleneck analysis: every rule, threshold and piece of advice that rates a run.
 * A result and a profile gather their facts (amz__facts_t) and call
 * amz__findings_judge(); the explanation, `amorsize report`, `amorsize html` and the
 * public accessors all show what it returns. A new finding goes here: a kind in
 * amorsize.h, its name and thresholds in RULES, its test in amz__findings_judge(). */
#include "findings.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NONE NAN

/* Per kind: the name the reports print and the thresholds of the finding's value
 * (LOW, MEDIUM, HIGH; see amz_finding_t for the rules that read them otherwise). */
static const struct rule {
  const char *name;
  double th[3];
} RULES[AMZ_FINDING_KIND_COUNT] = {
    [AMZ_FINDING_FAILURES] = {"failures", {NONE, NONE, NONE}},
    [AMZ_FINDING_RANKS] = {"ranks", {0.05, 0.10, 0.25}},
    [AMZ_FINDING_STARTUP] = {"start-up", {0.05, 0.10, 0.25}},
    [AMZ_FINDING_DISPATCH] = {"dispatch", {0.02, 0.05, 0.15}},
    [AMZ_FINDING_IMBALANCE] = {"imbalance", {0.05, 0.10, 0.25}},
    [AMZ_FINDING_DATA] = {"data movement", {0.05, 0.15, 0.35}},
    [AMZ_FINDING_SERIAL] = {"serial part", {0.05, 0.15, 0.35}},
    [AMZ_FINDING_MEMORY] = {"memory", {0.15, 0.3, 0.6}},
    [AMZ_FINDING_OVERSUBSCRIPTION] = {"oversubscription", {NONE, NONE, NONE}},
    [AMZ_FINDING_BINDING] = {"binding", {0.1, 0.25, 0.5}},
    [AMZ_FINDING_CONTENTION] = {"contention", {0.25, 0.5, 1.0}},
    /* Graded downwards: MEDIUM below 1 ms of work, HIGH below 0.1 ms. */
    [AMZ_FINDING_TOO_LITTLE_WORK] = {"too little work", {NONE, 1e-3, 1e-4}},
    [AMZ_FINDING_PREDICTION] = {"prediction", {0.15, 0.30, 1.0}},
    [AMZ_FINDING_RECORD_BOUND] = {"record bound", {NONE, NONE, NONE}},
    [AMZ_FINDING_WAITING_KERNEL] = {"waiting kernel", {AMZ__WAITING_CPU_RATIO, NONE, NONE}},
    [AMZ_FINDING_THREADED_KERNEL] = {"threaded kernel",
                                     {1.0 + AMZ__OWN_THREADS_MIN_CORES, NONE, NONE}},
    /* Graded on 1 - the slowest worker's speed over the others' median. */
    [AMZ_FINDING_SLOW_WORKER] = {"slow worker", {0.15, 0.3, 0.5}},
};

const char *amz_finding_kind_name(amz_finding_kind_t k) {
  return (unsigned)k < AMZ_FINDING_KIND_COUNT ? RULES[k].name : "unknown";
}

int amz_finding_thresholds(amz_finding_kind_t k, double out[3]) {
  if (!out) return amz__fail(AMZ_EINVAL, "amz_finding_thresholds: out is NULL");
  if ((unsigned)k >= AMZ_FINDING_KIND_COUNT)
    return amz__fail(AMZ_EINVAL, "amz_finding_thresholds: kind %d is not a finding kind "
                                 "(expected 0 to %d)", (int)k, AMZ_FINDING_KIND_COUNT - 1);
  memcpy(out, RULES[k].th, sizeof RULES[k].th);
  return 0;
}

const char *amz_severity_name(amz_severity_t s) {
  static const char *const names[] = {"INFO", "LOW", "MEDIUM", "HIGH"};
  return (unsigned)s <= AMZ_SEVERITY_HIGH ? names[s] : "unknown";
}

/* The severity `v` reaches on kind k's thresholds; INFO (0) below the first. */
static amz_severity_t grade(amz_finding_kind_t k, double v) {
  const double *th = RULES[k].th;
  if (v >= th[2]) return AMZ_SEVERITY_HIGH;
  if (v >= th[1]) return AMZ_SEVERITY_MEDIUM;
  if (v >= th[0]) return AMZ_SEVERITY_LOW;
  return AMZ_SEVERITY_INFO;
}

#define T(x) amz__fmt_seconds((char[32]){0}, 32, (x))

static int add(amz__findings_t *l, amz_finding_kind_t k, amz_severity_t sev, double share,
               double value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int add(amz__findings_t *l, amz_finding_kind_t k, amz_severity_t sev, double share,
               double value, const char *fmt, ...) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    amz_finding_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) return AMZ_ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *text = len >= 0 ? malloc((size_t)len + 1) : NULL;
  if (!text) return AMZ_ENOMEM;
  va_start(ap, fmt);
  vsnprintf(text, (size_t)len + 1, fmt, ap);
  va_end(ap);
  amz_finding_t *f = &l->v[l->n++];
  *f = (amz_finding_t){.kind = k, .severity = sev, .share = share, .value = value, .text = text};
  memcpy(f->thresholds, RULES[k].th, sizeof f->thresholds);
  return 0;
}

void amz__findings_free(amz__findings_t *l) {
  for (size_t i = 0; i < l->n; i++) free((char *)l->v[i].text);
  free(l->v);
  *l = (amz__findings_t){0};
}

/* A share of the wall time against kind k's thresholds: adds the finding when it
 * reaches LOW. `fmt` gets the severity's percentage first. */
#define SHARE_RULE(k, part, ...)                                                        \
  do {                                                                                  \
    double share_ = (part) / wall;                                                      \
    amz_severity_t sev_ = grade((k), share_);                                           \
    if (sev_ && (rc = add(out, (k), sev_, share_, share_, __VA_ARGS__)) != 0) goto done; \
  } while (0)

/* A part of the run in percent, rounded as the reports always have (the Python
 * reader computes it the same way and must print the same digits). */
#define PCT(x) (100.0 * (x) / wall)

#define SLOW_MIN_CHUNKS 16
/* Chunks read at most: 4096 + 64 per worker (a run of 10^5 chunks on 2 workers
 * was judged in 8 ms from 65536 of them, under 1 ms from 4224). */
#define SLOW_BASE_CHUNKS 4096
#define SLOW_PER_WORKER 64
#define SLOW_MIN_GAP 0.05 /* in log speed: below 5% slower nobody stands out */

typedef struct worker_lr {
  int worker;
  double lr; /* log(expected cost / measured time) of one chunk */
} worker_lr_t;

static int cmp_worker(const void *a, const void *b) {
  const worker_lr_t *x = a, *y = b;
  return (x->worker > y->worker) - (x->worker < y->worker);
}

int amz__slowest_worker(const struct amz__workload *wl, amz__chunk_get_fn get,
                        const void *ctx, size_t nc, int workers, int fixed,
                        amz__slow_t *out) {
  *out = (amz__slow_t){.worker = -1, .speed = 1.0, .expected = 1.0, .lost_share = 0.0};
  if (workers < 2 || !wl || wl->n_items == 0 || nc == 0) return 0;
  const size_t max = SLOW_BASE_CHUNKS + SLOW_PER_WORKER * (size_t)workers;
  const size_t stride = nc > max ? (nc + max - 1) / max : 1;
  const size_t nr = (nc + stride - 1) / stride;
  worker_lr_t *v = malloc(nr * sizeof *v);
  double *x = malloc(nr * sizeof *x), *med = malloc((size_t)workers * sizeof *med);
  double *se = malloc((size_t)workers * sizeof *se), *meds = malloc((size_t)workers * sizeof *meds);
  int rc = 0;
  if (!v || !x || !med || !se || !meds) {
    rc = AMZ_ENOMEM;
    goto out;
  }
  size_t n = 0;
  for (size_t i = 0; i < nc; i += stride) {
    amz__chunk_obs_t c;
    if (!get(ctx, i, &c) || c.worker < 0 || c.worker >= workers || !(c.seconds > 0)) continue;
    double e = amz__workload_range_cost(wl, c.begin, c.end);
    if (e > 0) v[n++] = (worker_lr_t){c.worker, log(e / c.seconds)};
  }
  /* Grouped by worker: each eligible worker's median and its standard error. */
  qsort(v, n, sizeof *v, cmp_worker);
  for (size_t i = 0; i < n; i++) x[i] = v[i].lr;
  for (int w = 0; w < workers; w++) med[w] = NAN;
  int eligible = 0, slowest = -1;
  for (size_t a = 0, b; a < n; a = b) {
    int w = v[a].worker;
    for (b = a; b < n && v[b].worker == w; b++) {}
    if (b - a < SLOW_MIN_CHUNKS) continue;
    med[w] = amz__median(x + a, b - a);
    se[w] = 1.858 * amz__mad(x + a, b - a) / sqrt((double)(b - a));
    eligible++;
    if (slowest < 0 || med[w] < med[slowest]) slowest = w;
  }
  if (eligible < 2) goto out;
  /* The reference: the median speed of the other workers. */
  size_t others = 0;
  for (int w = 0; w < workers; w++)
    if (w != slowest && !isnan(med[w])) meds[others++] = med[w];
  double ref = amz__median(meds, others), gap = ref - med[slowest];
  if (!(gap > 4.0 * se[slowest] && gap > SLOW_MIN_GAP)) goto out;
  out->worker = slowest;
  out->speed = exp(med[slowest] - ref);
  out->expected = exp(med[slowest]);
  if (fixed) {
    out->lost_share = 1.0 - out->speed;
  } else {
    double sum = 0.0;
    for (int w = 0; w < workers; w++)
      if (!isnan(med[w])) sum += med[w] < ref ? exp(med[w] - ref) : 1.0;
    out->lost_share = 1.0 - sum / (double)eligible;
  }
out:
  free(v);
  free(x);
  free(med);
  free(se);
  free(meds);
  return rc;
}

int amz__findings_judge(const amz__facts_t *f, amz__findings_t *out) {
  amz__findings_free(out);
  int rc = 0;
  amz_severity_t sev;
  const double wall = f->wall_s > 0 ? f->wall_s : 1e-12;

  if (f->items_failed > 0) {
    if (f->failures_path)
      rc = add(out, AMZ_FINDING_FAILURES, AMZ_SEVERITY_HIGH, NONE, (double)f->items_failed,
               "failures: %llu items failed in %zu range(s); 'amorsize chunks %s' lists the "
               "chunks with their status codes.",
               (unsigned long long)f->items_failed, f->failed_ranges, f->failures_path);
    else
      rc = add(out, AMZ_FINDING_FAILURES, AMZ_SEVERITY_HIGH, NONE, (double)f->items_failed,
               "failures: %llu items failed in %zu range(s); amz_result_failure() lists them "
               "with the kernel's codes.",
               (unsigned long long)f->items_failed, f->failed_ranges);
    if (rc) goto done;
  }
  if (f->ranks_ended > 1 && f->rank_end_last_s > 0) {
    double lead = (f->rank_end_last_s - f->rank_end_mean_s) / f->rank_end_last_s;
    if ((sev = grade(AMZ_FINDING_RANKS, lead)) &&
        (rc = add(out, AMZ_FINDING_RANKS, sev, lead, lead,
                  "ranks: they end %.0f%% before the last one on average; %s", 100.0 * lead,
                  f->fixed_schedule
                      ? "their blocks cost unequal amounts: a dynamic schedule balances them "
                        "(AMZ_SCHEDULE=factoring)."
                      : "a node or rank is slower than the others, or its last chunks were "
                        "large: a smaller minimum chunk evens the finish.")))
      goto done;
  }
  SHARE_RULE(AMZ_FINDING_STARTUP, f->startup_s,
             "start-up: %.0f%% of the run (%s) before the workers started; the loop is short "
             "for %d workers: give each call more items, or reuse the plan so its threads "
             "stay warm.",
             PCT(f->startup_s), T(f->startup_s), f->workers);
  SHARE_RULE(AMZ_FINDING_DISPATCH, f->dispatch_s,
             "dispatch: %.0f%% of the run between chunks (%s per chunk, %llu chunks); use "
             "larger chunks, e.g. AMZ_CHUNK=%llu.",
             PCT(f->dispatch_s),
             T(f->run_chunks ? f->dispatch_total_s / (double)f->run_chunks : 0.0),
             (unsigned long long)f->run_chunks,
             (unsigned long long)(f->chunk ? f->chunk * 4 : 4));
  SHARE_RULE(AMZ_FINDING_IMBALANCE, f->imbalance_s,
             "imbalance: workers idle %.0f%% of the run at the end; %s", PCT(f->imbalance_s),
             f->fixed_schedule
                 ? "costs are uneven: a dynamic schedule (factoring, guided) balances them."
                 : "the last chunks are too large: a smaller (minimum) chunk evens the finish.");
  SHARE_RULE(AMZ_FINDING_DATA, f->data_s,
             "data movement: %.0f%% of the run moving items' data (%s); fewer, larger chunks "
             "move data in fewer messages, and kernels that read their inputs where they live "
             "(range mode) move none.",
             PCT(f->data_s), T(f->data_s));
  SHARE_RULE(AMZ_FINDING_SERIAL, f->serial_s,
             "serial part: %.0f%% of the run (%s) outside the parallel region (setup, "
             "collectives, result assembly); longer loops amortize it.",
             PCT(f->serial_s), T(f->serial_s));
  if ((sev = grade(AMZ_FINDING_MEMORY, f->contention - 1.0)) &&
      (rc = add(out, AMZ_FINDING_MEMORY, sev, NONE, f->contention - 1.0,
                "memory: items take x%.2f longer with all cores busy than alone; a shared "
                "resource (memory bandwidth, cache) limits scaling: fewer threads may run as "
                "fast, and better locality helps most.",
                f->contention)))
    goto done;
  /* The first node whose ranks take turns on its cores, or share CPUs. */
  for (size_t i = 0; i < f->n_nodes; i++) {
    const amz_profile_node_t *nd = &f->nodes[i];
    int workers = nd->ranks_used * f->threads;
    if (nd->cores > 0 && workers > nd->cores) {
      rc = add(out, AMZ_FINDING_OVERSUBSCRIPTION, AMZ_SEVERITY_HIGH, NONE,
               (double)workers / nd->cores,
               "oversubscription: node %d (%s) runs %d workers on %d cores: they take turns; "
               "launch fewer ranks or threads per node.",
               nd->node, nd->host, workers, nd->cores);
      if (rc) goto done;
      break;
    }
    if (nd->shared && nd->ranks_used > 1) {
      rc = add(out, AMZ_FINDING_BINDING, AMZ_SEVERITY_LOW, NONE, NONE,
               "binding: the CPU sets of node %d's ranks overlap, so the OS may put two of "
               "them on one core; bind each rank to its own cores (mpirun --bind-to core, "
               "srun --cpu-bind=cores).",
               nd->node);
      if (rc) goto done;
      /* A fixed severity: the idle-CPU thresholds of its kind do not apply. */
      for (int t = 0; t < 3; t++) out->v[out->n - 1].thresholds[t] = NONE;
      break;
    }
  }
  /* CPUs of a node that the binding gave to no rank (threads only: that the process
   * may not use): idle whatever the plan. The first such node is named. */
  for (size_t i = 0; i < f->n_nodes; i++) {
    const amz_profile_node_t *nd = &f->nodes[i];
    int idle = nd->pus - nd->pus_bound;
    if (nd->pus_bound <= 0 || idle <= 0) continue;
    double frac = (double)idle / nd->pus;
    if ((sev = grade(AMZ_FINDING_BINDING, frac))) {
      if (f->mpi)
        rc = add(out, AMZ_FINDING_BINDING, sev, NONE, frac,
                 "binding: node %d (%s): the ranks' bindings cover %d of its %d CPUs; %d idle "
                 "whatever the plan. " AMZ__BINDING_FIX,
                 nd->node, nd->host, nd->pus_bound, nd->pus, idle);
      else
        rc = add(out, AMZ_FINDING_BINDING, sev, NONE, frac,
                 "binding: the process is bound to %d of the machine's %d CPUs; %d idle "
                 "whatever the plan. Start it without the binding (taskset, numactl, a "
                 "launcher's) or bind it to more CPUs.",
                 nd->pus_bound, nd->pus, idle);
      if (rc) goto done;
    }
    break;
  }
  if (f->run_items > 0 && f->mean_item_s > 0 && f->busy_total_s > 0) {
    double per_item = f->busy_total_s / (double)f->run_items;
    double expect = f->mean_item_s * (f->contention > 1 ? f->contention : 1);
    double slow = per_item / expect;
    if ((sev = grade(AMZ_FINDING_CONTENTION, slow - 1.0)) &&
        (rc = add(out, AMZ_FINDING_CONTENTION, sev, NONE, slow - 1.0,
                  "contention: items ran x%.2f slower than sampled (%s against %s per item): "
                  "other processes, frequency scaling or oversubscribed cores; check the "
                  "binding and the machine's load.",
                  slow, T(per_item), T(expect))))
      goto done;
  }
  if (f->slow.speed > 0 && f->slow.worker >= 0 &&
      (sev = grade(AMZ_FINDING_SLOW_WORKER, 1.0 - f->slow.speed))) {
    char who[64];
    if (f->mpi && f->threads > 0)
      snprintf(who, sizeof who, "rank %d, thread %d", f->slow.worker / f->threads,
               f->slow.worker % f->threads);
    else
      snprintf(who, sizeof who, "thread %d", f->slow.worker);
    double lost = f->slow.lost_share * f->wall_s;
    if ((rc = add(out, AMZ_FINDING_SLOW_WORKER, sev, f->slow.lost_share, 1.0 - f->slow.speed,
                  "slow worker: %s ran its items at %.0f%% of the other workers' median speed "
                  "and at %.0f%% of the speed its items' cost profile expected (their sampled "
                  "cost over its time); the run lost about %s (%.0f%%) to the slower workers%s "
                  "Another process on its core, a slower core or node, or throttling: check "
                  "the machine's load and the binding.",
                  who, 100.0 * f->slow.speed, 100.0 * f->slow.expected, T(lost),
                  100.0 * f->slow.lost_share,
                  f->fixed_schedule ? ": its blocks waited for it (a dynamic schedule "
                                      "balances around it: AMZ_SCHEDULE=factoring)."
                                    : ", the others taking over its items.")))
      goto done;
  }
  {
    const double *th = RULES[AMZ_FINDING_TOO_LITTLE_WORK].th;
    double s = f->serial_pred_s;
    if (s > 0 && s < th[1] &&
        (rc = add(out, AMZ_FINDING_TOO_LITTLE_WORK,
                  s < th[2] ? AMZ_SEVERITY_HIGH : AMZ_SEVERITY_MEDIUM, NONE, s,
                  "too little work: the whole loop is %s of work; fixed costs dominate: batch "
                  "several loops into one call.",
                  T(s))))
      goto done;
  }
  if (f->predicted_s > 0) {
    double err = (f->wall_s - f->predicted_s) / f->predicted_s;
    if ((sev = grade(AMZ_FINDING_PREDICTION, fabs(err))) &&
        (rc = add(out, AMZ_FINDING_PREDICTION, sev, NONE, err,
                  "prediction: the run took %+.0f%% against the prediction; the %s term missed "
                  "most (%s). A second run of the same plan re-plans with the measured costs.",
                  100.0 * err, f->worst_term ? f->worst_term : "total", T(f->worst_gap_s))))
      goto done;
  }
  if (f->chunks_dropped > 0 &&
      (rc = add(out, AMZ_FINDING_RECORD_BOUND, AMZ_SEVERITY_INFO, NONE, (double)f->chunks_dropped,
                "%llu chunks ran beyond the record bound and are not in the chunk table (the "
                "totals include them).",
                (unsigned long long)f->chunks_dropped)))
    goto done;
  if (f->cpu_ratio > 0 && f->cpu_ratio < RULES[AMZ_FINDING_WAITING_KERNEL].th[0] &&
      (rc = add(out, AMZ_FINDING_WAITING_KERNEL, AMZ_SEVERITY_INFO, NONE, f->cpu_ratio,
                "the kernel waits (CPU/wall %.2f): more threads than cores can pay.",
                f->cpu_ratio)))
    goto done;
  if (f->cpu_ratio > RULES[AMZ_FINDING_THREADED_KERNEL].th[0] &&
      (rc = add(out, AMZ_FINDING_THREADED_KERNEL, AMZ_SEVERITY_INFO, NONE, f->cpu_ratio,
                "the kernel runs threads of its own (CPU/wall %.2f: cores per call), and the "
                "plan counted each worker as that many cores; its thread count "
                "(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS) and the workers share the cores.",
                f->cpu_ratio)))
    goto done;
done:
  return rc ? amz__fail(rc, "cannot allocate the run's findings") : 0;
}

void amz__findings_print(FILE *o, const amz__findings_t *l) {
  int found = 0;
  fprintf(o, "\nBottlenecks\n");
  for (size_t i = 0; i < l->n; i++) {
    fprintf(o, "  [%s] %s\n", amz_severity_name(l->v[i].severity), l->v[i].text);
    found += l->v[i].severity != AMZ_SEVERITY_INFO;
  }
  if (!found) fprintf(o, "  none: no overhead above its threshold.\n");
}

int amz__findings_get(const amz__findings_t *l, size_t i, amz_finding_t *out, const char *who) {
  if (!l || !out) return amz__fail(AMZ_EINVAL, "%s: NULL argument", who);
  if (i >= l->n)
    return amz__fail(AMZ_ERANGE, "%s: finding index %zu out of range [0, %zu)", who, i, l->n);
  *out = l->v[i];
  return 0;
}
