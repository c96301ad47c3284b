/* Figures every command derives the same way from a profile: the run's statistics,
 * and its prediction at scale (the simulator's inputs, the sweep over node counts and
 * the count worth requesting). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "extension.h"

const char *amz_cli_seconds(char *buf, size_t len, double s) {
  return amz__fmt_seconds(buf, len, s);
}

void amz_cli_stats(const amz_profile_t *p, amz_cli_stats_t *s) {
  memset(s, 0, sizeof *s);
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_worker_t *w;
  size_t nw = amz_profile_workers(p, &w);
  s->workers = (int)nw;
  for (size_t i = 0; i < nw; i++) {
    s->busy_s += w[i].busy_s;
    s->dispatch_s += w[i].dispatch_s;
    s->idle_s += w[i].idle_s;
    s->data_s += w[i].data_s;
  }
  const amz_profile_chunk_t *c;
  size_t nc = amz_profile_chunks(p, &c);
  for (size_t i = 0; i < nc; i++) {
    if (i == 0 || c[i].t_start < s->t_min) s->t_min = c[i].t_start;
    if (i == 0 || c[i].t_end > s->t_max) s->t_max = c[i].t_end;
    if (c[i].sampled) continue;
    s->run_chunks++;
  }
  /* No schedule ends before its costliest item does. The sampled maximum stands
   * for it: chunk durations would include preemption and other stalls. */
  s->longest_item_s = amz_profile_model(p)->max_item_s;
  s->lower_bound_s = nw ? s->busy_s / (double)nw : 0;
  if (s->longest_item_s > s->lower_bound_s) s->lower_bound_s = s->longest_item_s;
  /* Parallel efficiency, as amz_sim_result_t defines it: the share of the workers'
   * time spent in the kernel. */
  s->efficiency = in->wall_s > 0 && nw ? s->busy_s / (double)nw / in->wall_s : 0;
  s->speedup = in->wall_s > 0 ? s->busy_s / in->wall_s : 0;
  s->pred_error = in->predicted_s > 0 ? (in->wall_s - in->predicted_s) / in->predicted_s : 0;
}

/* ---- prediction at scale --------------------------------------------------------- */

const char *amz_cli_source_name(amz_cli_source_t s) {
  return s == AMZ_CLI_MEASURED ? "measured" : s == AMZ_CLI_FLAG ? "flag" : "default";
}

void amz_cli_scale_opts_init(amz_cli_scale_opts_t *o) {
  *o = (amz_cli_scale_opts_t){.latency_s = -1, .bandwidth = -1, .speed_spread = -1, .cv = -1};
}

void amz_cli_derived_free(amz_cli_derived_t *d) {
  free(d->seg_end);
  free(d->seg_item_s);
  d->seg_end = NULL;
  d->seg_item_s = NULL;
}

/* The segments of the table being built: appending merges a segment into the last one
 * when their per-item costs are equal, which keeps runs of equal bins to one. */
typedef struct segs {
  uint64_t *end;
  double *cost;
  size_t n, cap;
} segs_t;

static int seg_add(segs_t *s, uint64_t end, double cost) {
  if (s->n > 0 && s->cost[s->n - 1] == cost) {
    s->end[s->n - 1] = end;
    return 0;
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 256;
    uint64_t *e = realloc(s->end, cap * sizeof *e);
    if (!e) return -1;
    s->end = e;
    double *c = realloc(s->cost, cap * sizeof *c);
    if (!c) return -1;
    s->cost = c;
    s->cap = cap;
  }
  s->end[s->n] = end;
  s->cost[s->n++] = cost;
  return 0;
}

/* Items [a, e) that no run chunk recorded (sampled items run before the run, chunks
 * beyond the record bound): costed from the model's per-bin profile over [0, n) when
 * the profile has one, else at the sampled mean. */
static int fill_gap(segs_t *s, uint64_t a, uint64_t e, uint64_t n, const amz_profile_model_t *m,
                    int use_bins, amz_cli_derived_t *d) {
  if (a >= e) return 0;
  if (!use_bins) {
    d->items_mean += e - a;
    return seg_add(s, e, m->mean_s > 0 && m->mean_s <= 1e6 ? m->mean_s : 0);
  }
  d->items_bins += e - a;
  size_t bins = m->bins;
  size_t j = (size_t)((unsigned __int128)a * bins / n);
  while (a < e && j < bins) {
    uint64_t hi = (uint64_t)((unsigned __int128)n * (j + 1) / bins);
    if (hi > e) hi = e;
    if (hi > a) {
      double v = m->cost_profile[j];
      if (seg_add(s, hi, v > 0 && v <= 1e6 ? v : 0) != 0) return -1;
      a = hi;
    }
    j++;
  }
  return 0;
}

typedef struct span {
  uint64_t b, e;
  double per_item;
} span_t;

static int span_cmp(const void *x, const void *y) {
  const span_t *a = x, *b = y;
  if (a->b != b->b) return a->b < b->b ? -1 : 1;
  return a->e < b->e ? -1 : a->e > b->e;
}

/* The workload: per-item costs from the run's chunk records (duration / items; the
 * measured cost of each item under the run's own contention), sorted by first item.
 * Overlapping records (a range run again after a failure) count once. */
static int derive_workload(const amz_profile_t *p, const amz_cli_scale_opts_t *o,
                           amz_cli_derived_t *d, char *why, size_t why_len) {
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_model_t *m = amz_profile_model(p);
  const uint64_t n = in->n_items;
  d->n_recorded = n;
  if (n == 0) {
    snprintf(why, why_len, "the profile records a loop of 0 items");
    return -1;
  }
  const amz_profile_chunk_t *c;
  size_t nc = amz_profile_chunks(p, &c), ns = 0;
  span_t *sp = malloc((nc ? nc : 1) * sizeof *sp);
  segs_t s = {0};
  if (!sp) goto nomem;
  for (size_t i = 0; i < nc; i++) {
    if (c[i].sampled || c[i].begin >= c[i].end || c[i].begin >= n) continue;
    double dur = c[i].t_end - c[i].t_start;
    if (!(dur >= 0) || !isfinite(dur)) dur = 0;
    double v = dur / (double)(c[i].end - c[i].begin);
    sp[ns++] = (span_t){c[i].begin, c[i].end < n ? c[i].end : n, v <= 1e6 ? v : 1e6};
  }
  qsort(sp, ns, sizeof *sp, span_cmp);
  int use_bins = 0;
  for (size_t j = 0; j < m->bins && m->cost_profile; j++) use_bins |= m->cost_profile[j] > 0;
  uint64_t cursor = 0;
  for (size_t i = 0; i < ns; i++) {
    uint64_t b = sp[i].b > cursor ? sp[i].b : cursor;
    if (b >= sp[i].e) continue;
    if (fill_gap(&s, cursor, b, n, m, use_bins, d) != 0 || seg_add(&s, sp[i].e, sp[i].per_item) != 0)
      goto nomem;
    d->items_chunks += sp[i].e - b;
    d->chunks_used++;
    cursor = sp[i].e;
  }
  if (fill_gap(&s, cursor, n, n, m, use_bins, d) != 0) goto nomem;
  free(sp);
  sp = NULL;

  /* --items: the same profile stretched (or shrunk) over the new count. */
  uint64_t items = o->items ? o->items : n;
  double work = 0;
  uint64_t prev = 0;
  size_t k = 0;
  for (size_t i = 0; i < s.n; i++) {
    uint64_t e = items == n ? s.end[i] : (uint64_t)((unsigned __int128)s.end[i] * items / n);
    if (e <= prev) continue;
    work += (double)(e - prev) * s.cost[i];
    s.end[k] = e;
    s.cost[k++] = s.cost[i];
    prev = e;
  }
  s.n = k;
  if (!(work > 0)) {
    free(s.end);
    free(s.cost);
    snprintf(why, why_len, "the profile records no work to scale: its chunks and its model's "
                           "item costs are all zero");
    return -1;
  }
  d->seg_end = s.end;
  d->seg_item_s = s.cost;
  d->work_s = work;
  amz_sim_workload_defaults(&d->w, AMZ_SIM_TABLE, items, work / (double)items);
  d->w.segments = s.n;
  d->w.segment_end = s.end;
  d->w.segment_item_s = s.cost;
  /* The model's cv is the spread of sampling-block costs; a block of b items averages
   * b draws, so one item's spread is about sqrt(b) times larger. Capped at 3: beyond
   * it, a few outliers in the sample would dominate the simulated tail. */
  d->model_cv = isfinite(m->cv) && m->cv > 0 ? m->cv : 0;
  d->block_items = m->block_items;
  if (o->cv >= 0) {
    d->w.cv = o->cv;
    d->cv_src = AMZ_CLI_FLAG;
  } else {
    double b = m->block_items > 1 ? (double)m->block_items : 1.0;
    d->w.cv = fmin(3.0, d->model_cv * sqrt(b));
    d->cv_src = AMZ_CLI_MEASURED;
  }
  return 0;
nomem:
  free(sp);
  free(s.end);
  free(s.cost);
  snprintf(why, why_len, "out of memory");
  return -1;
}

/* A measured value when it is positive and within the simulator's range, else 0. */
static double usable(double v, double max) { return v > 0 && v <= max && isfinite(v) ? v : 0; }

int amz_cli_derive(const amz_profile_t *p, const amz_cli_scale_opts_t *o, amz_cli_derived_t *d,
                   char *why, size_t why_len) {
  memset(d, 0, sizeof *d);
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_model_t *mo = amz_profile_model(p);
  d->rec_ranks = in->ranks_used > 0 ? in->ranks_used : 1;
  d->rec_nodes = in->nodes > 0 ? in->nodes : 1;
  d->rec_threads = in->threads > 0 ? in->threads : 1;
  d->rec_ranks_per_node = (d->rec_ranks + d->rec_nodes - 1) / d->rec_nodes;
  d->rec_wall_s = in->wall_s;
  if (derive_workload(p, o, d, why, why_len) != 0) return -1;

  /* The target: 64 nodes laid out as the recorded one unless asked otherwise; a
   * one-rank run scales out as one single-thread rank per core of its node. */
  const amz_profile_node_t *nd;
  int cores = amz_profile_nodes(p, &nd) > 0 && nd[0].cores > 0 ? nd[0].cores : d->rec_threads;
  int one_rank = d->rec_ranks == 1;
  int nodes = o->nodes > 0 ? o->nodes : 64;
  int rpn = o->ranks_per_node > 0 ? o->ranks_per_node : one_rank ? cores : d->rec_ranks_per_node;
  int thr = o->threads_per_rank > 0                     ? o->threads_per_rank
            : one_rank && o->ranks_per_node <= 0 ? 1
                                                        : d->rec_threads;
  d->src_nodes = o->nodes > 0 ? AMZ_CLI_FLAG : AMZ_CLI_DEFAULT;
  d->src_ranks = o->ranks_per_node > 0 ? AMZ_CLI_FLAG : AMZ_CLI_DEFAULT;
  d->src_threads = o->threads_per_rank > 0 ? AMZ_CLI_FLAG : AMZ_CLI_DEFAULT;
  amz_sim_machine_t *m = &d->m;
  amz_sim_machine_defaults(m, nodes, rpn);
  m->threads_per_rank = thr;

#define PICK(field, flag, meas, src)                                                           \
  do {                                                                                         \
    if ((flag) >= 0) {                                                                         \
      m->field = (flag);                                                                       \
      d->src = AMZ_CLI_FLAG;                                                                   \
    } else if ((meas) > 0) {                                                                   \
      m->field = (meas);                                                                       \
      d->src = AMZ_CLI_MEASURED;                                                               \
    } else {                                                                                   \
      d->src = AMZ_CLI_DEFAULT;                                                                \
    }                                                                                          \
  } while (0)
  PICK(latency_s, o->latency_s, usable(mo->latency_net_s, 1.0), src_latency);
  PICK(bandwidth, o->bandwidth, usable(mo->bandwidth_net, 1e14), src_bandwidth);
  PICK(latency_node_s, -1.0, usable(mo->latency_shm_s, 1.0), src_latency_node);
  PICK(chunk_s, -1.0, usable(mo->chunk_static_s, 1.0), src_chunk);
  PICK(speed_spread, o->speed_spread, 0.0, src_spread);
  PICK(startup_s, -1.0, thr > 1 ? usable(mo->pool_wake_s, 3600.0) : 0.0, src_startup);
  /* The node counter was measured with all of the node's ranks hammering it: one
   * operation alone is that time over the ranks that queued for it. */
  double counter = 0;
  if (usable(mo->counter_s, 1.0) > 0) {
    d->counter_from = "node counter";
    d->counter_raw_s = mo->counter_s;
    counter = mo->counter_s / d->rec_ranks_per_node;
  } else if (usable(mo->chunk_atomic_s, 1.0) > 0) {
    d->counter_from = "shared counter alone";
    d->counter_raw_s = mo->chunk_atomic_s;
    counter = mo->chunk_atomic_s;
  }
  PICK(counter_s, -1.0, counter, src_counter);
#undef PICK
  return 0;
}

size_t amz_cli_sweep_counts(int max_nodes, int *counts) {
  size_t n = 0;
  if (max_nodes < 1) max_nodes = 1;
  for (long long c = 1; c < max_nodes && n + 1 < AMZ_CLI_SWEEP_MAX; c *= 2) counts[n++] = (int)c;
  counts[n++] = max_nodes;
  return n;
}

int amz_cli_sweep(const amz_sim_costs_t *c, const amz_sim_machine_t *m, amz_schedule_t schedule,
                  const uint64_t *chunk, const int *counts, size_t n, amz_cli_sweep_point_t *pts,
                  amz_cli_progress_fn *progress, void *ctx) {
  for (size_t i = 0; i < n; i++) {
    char what[64];
    snprintf(what, sizeof what, "simulating %d node%s", counts[i], counts[i] == 1 ? "" : "s");
    if (progress) progress(ctx, i, n, what);
    amz_sim_machine_t mi = *m;
    mi.nodes = counts[i];
    pts[i] = (amz_cli_sweep_point_t){.nodes = counts[i]};
    int rc;
    if (chunk) {
      amz_schedule_t s = schedule == AMZ_SCHED_AWF ? AMZ_SCHED_FACTORING : schedule;
      pts[i].plan = (amz_sim_choice_t){.schedule = s, .chunk = *chunk};
      rc = amz_simulate_costs(c, &mi, s, *chunk, NULL, &pts[i].plan.result);
    } else {
      rc = amz_sim_choose(c, &mi, schedule, &pts[i].plan, NULL);
    }
    if (rc != 0) {
      if (progress) progress(ctx, n, n, "");
      return rc;
    }
    double t = pts[i].plan.result.makespan_s, t0 = pts[0].plan.result.makespan_s;
    pts[i].speedup = t > 0 ? t0 / t : 0;
  }
  if (progress) progress(ctx, n, n, "");
  return 0;
}

/* The speed-up a step from count a to count b must give to be worth it: AMZ_CLI_KNEE_GAIN
 * per doubling, so (b / a)^log2(gain) for a step that is not a doubling (the last one,
 * up to a count that is not a power of two). */
static double needed_gain(int a, int b) {
  return pow((double)b / (double)a, log2(AMZ_CLI_KNEE_GAIN));
}

static double step_gain(const amz_cli_sweep_point_t *pts, size_t i) {
  double t = pts[i].plan.result.makespan_s;
  return t > 0 ? pts[i - 1].plan.result.makespan_s / t : 0;
}

static int qualifies(const amz_cli_sweep_point_t *pts, size_t i) {
  if (!(pts[i].plan.result.efficiency >= AMZ_CLI_KNEE_EFFICIENCY)) return 0;
  return i == 0 || step_gain(pts, i) >= needed_gain(pts[i - 1].nodes, pts[i].nodes) * (1 - 1e-9);
}

size_t amz_cli_knee(const amz_cli_sweep_point_t *pts, size_t n) {
  size_t knee = 0;
  for (size_t i = 0; i < n; i++)
    if (qualifies(pts, i)) knee = i;
  return knee;
}

const char *amz_cli_knee_why(char *buf, size_t len, const amz_cli_sweep_point_t *pts, size_t n,
                             size_t knee, int ranks_per_node) {
  const amz_cli_sweep_point_t *k = &pts[knee];
  int used = snprintf(buf, len, "%d node%s (%lld rank%s), efficiency %.2f", k->nodes,
                      k->nodes == 1 ? "" : "s", (long long)k->nodes * ranks_per_node,
                      (long long)k->nodes * ranks_per_node == 1 ? "" : "s",
                      k->plan.result.efficiency);
  if (used < 0 || (size_t)used >= len) return buf;
  char *b = buf + used;
  size_t rest = len - (size_t)used;
  if (!qualifies(pts, knee)) {
    int u = snprintf(b, rest, " (below %.2f already)", AMZ_CLI_KNEE_EFFICIENCY);
    if (u < 0 || (size_t)u >= rest) return buf;
    b += u;
    rest -= (size_t)u;
  }
  if (knee + 1 >= n) {
    snprintf(b, rest, "; every step up to it paid (the largest count simulated)");
    return buf;
  }
  const amz_cli_sweep_point_t *x = &pts[knee + 1];
  double g = step_gain(pts, knee + 1);
  if (g < needed_gain(k->nodes, x->nodes))
    snprintf(b, rest, "; %d nodes would gain only %.2fx more (efficiency %.2f)", x->nodes, g,
             x->plan.result.efficiency);
  else
    snprintf(b, rest, "; %d nodes would gain %.2fx more but at efficiency %.2f", x->nodes, g,
             x->plan.result.efficiency);
  return buf;
}

void amz_cli_progress_tty(void *ctx, size_t done, size_t total, const char *what) {
  if (!isatty(STDERR_FILENO)) return;
  if (done < total)
    fprintf(stderr, "\r%s: %s (%zu of %zu)...\033[K", (const char *)ctx, what, done + 1, total);
  else
    fputs("\r\033[K", stderr);
  fflush(stderr);
}

/* An item count with thousands separators, which makes 1000000 readable at a glance. */
const char *amz_cli_count(char *buf, size_t len, uint64_t v) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
  size_t j = 0;
  for (int i = 0; i < n && j + 2 < len; i++) {
    if (i > 0 && (n - i) % 3 == 0) buf[j++] = ',';
    buf[j++] = tmp[i];
  }
  buf[j] = '\0';
  return buf;
}
