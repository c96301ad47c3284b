/*
 * The planner: enumerates candidates (workers x schedule x chunk), predicts each with
 * the cost model, and chooses the fastest; within 2% of the fastest it prefers fewer
 * workers (cheaper for the machine, less exposed to noise). User constraints
 * (options, environment) restrict the enumeration and are reported as such.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The choice rule's margins are AMZ__PREFER_FEWER, AMZ__PREFER_STATIC and
 * AMZ__PREFER_ROBUST (planner.h). Once a run has confirmed the cost profile, static
 * blocks win within the second (never beyond the first of the fastest); cyclic
 * chunks get no such bonus: they have no way out when a worker falls behind. */
#define PREFER_FEWER AMZ__PREFER_FEWER
#define PREFER_STATIC AMZ__PREFER_STATIC
#define PREFER_ROBUST AMZ__PREFER_ROBUST

int amz__planner_max_workers(const amz__workload_t *wl, const amz__machine_t *m) {
  int C = m->topo.usable_cores > 0 ? m->topo.usable_cores : 1;
  int maxw = C;
  /* Kernels that mostly wait (I/O, sleep: CPU/wall well below 1) keep gaining from
   * threads until the cores are saturated: C / cpu_ratio threads. */
  if (wl->cpu_ratio < AMZ__WAITING_CPU_RATIO) {
    double r = wl->cpu_ratio > 0.005 ? wl->cpu_ratio : 0.005;
    double w = ceil((double)C / r);
    double cap = 32.0 * C < 1024.0 ? 32.0 * C : 1024.0;
    maxw = (int)(w < cap ? w : cap);
  }
  if (wl->n_items > 0 && (uint64_t)maxw > wl->n_items) maxw = (int)wl->n_items;
  if (maxw > AMZ__MAX_WORKERS) maxw = AMZ__MAX_WORKERS;
  return maxw < 1 ? 1 : maxw;
}

int amz__count_list(int dense, int max, int *out, int cap) {
  int k = 0;
  for (int v = 1; v <= max && v <= dense && k < cap; v++) out[k++] = v;
  for (double v = dense * 1.5; (int)v < max && k < cap - 1; v *= 1.5)
    if ((int)v > out[k - 1]) out[k++] = (int)v;
  if (k > 0 && out[k - 1] != max && k < cap) out[k++] = max;
  return k;
}

int amz__cand_list_push(amz__cand_list_t *l, const amz_candidate_t *c) {
  for (size_t i = 0; i < l->n; i++) /* no duplicates */
    if (l->v[i].ranks == c->ranks && l->v[i].workers == c->workers &&
        l->v[i].schedule == c->schedule && l->v[i].chunk == c->chunk)
      return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 128;
    amz_candidate_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) return AMZ_ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = *c;
  return 0;
}

/* Chunk parameters worth trying for a schedule with W workers. */
size_t amz__planner_chunk_grid(const amz__workload_t *wl, const amz__machine_t *m,
                         amz_schedule_t s, int W, uint64_t *out, size_t max) {
  const uint64_t N = wl->n_items;
  size_t k = 0;
  if (s == AMZ_SCHED_STATIC) {
    out[k++] = 0;
    return k;
  }
  uint64_t per_worker = N / (uint64_t)W > 1 ? N / (uint64_t)W : 1;
  double h = amz__model_chunk_cost(m, s, W);
  double mu = wl->mean_s > 0 ? wl->mean_s : 1e-9;
  /* Smallest chunk whose hand-out costs at most 1% of its work. */
  double ch = ceil(h / (0.01 * mu));
  /* Kruskal & Weiss (1985) optimum for fixed chunks:
   * k* = (sqrt(2) N h / (sigma W sqrt(ln W)))^(2/3). */
  double kw = (double)per_worker;
  if (W > 1 && wl->sigma_item_s > 0)
    kw = pow(M_SQRT2 * (double)N * h / (wl->sigma_item_s * W * sqrt(log((double)W))), 2.0 / 3.0);
  double picks[3] = {1.0, ch, kw};
  for (int i = 0; i < 3 && k < max; i++) {
    double v = picks[i];
    if (!(v >= 1.0)) v = 1.0;
    if (v > (double)per_worker) v = (double)per_worker;
    out[k++] = (uint64_t)v;
  }
  /* Powers of 8 between 8 and N / W. */
  for (uint64_t c = 8; c <= per_worker && k < max; c *= 8) out[k++] = c;
  if (s != AMZ_SCHED_DYNAMIC && s != AMZ_SCHED_CYCLIC) {
    /* For guided/factoring/AWF the parameter is a minimum: large minimums only
     * coarsen the tail, so keep the small ones. */
    size_t j = 0;
    for (size_t i = 0; i < k; i++)
      if (out[i] <= (uint64_t)(ch > kw ? ch : kw) + 1 || out[i] <= 64) out[j++] = out[i];
    k = j;
  }
  return k;
}

int amz__planner_chunk_too_long(const amz__constraints_t *c, const amz__workload_t *wl,
                                amz_schedule_t s, uint64_t workers, uint64_t chunk) {
  if (!(c->max_chunk_s > 0) || c->schedule != AMZ_SCHED_AUTO || c->chunk > 0) return 0;
  uint64_t n = wl->n_items, w = workers ? workers : 1, largest;
  switch (s) {
    case AMZ_SCHED_STATIC:
      largest = n / w + (n % w != 0);
      break;
    case AMZ_SCHED_GUIDED:
      largest = n / w + (n % w != 0);
      break;
    case AMZ_SCHED_FACTORING:
    case AMZ_SCHED_AWF: /* AWF's first batch is FAC2's; later ones weigh by speed */
      largest = n / (2 * w) + (n % (2 * w) != 0);
      break;
    default:
      largest = chunk;
      break;
  }
  if (largest < chunk) largest = chunk;
  return largest > 1 && (double)largest * wl->mean_s > c->max_chunk_s;
}

int amz__planner_one_worker_skips(const amz__constraints_t *c, const amz__workload_t *wl,
                                  amz_schedule_t s) {
  if (c->schedule != AMZ_SCHED_AUTO || s == AMZ_SCHED_STATIC) return 0;
  return !amz__planner_chunk_too_long(c, wl, AMZ_SCHED_STATIC, 1, 0);
}

/* Fastest first; ties by fewer workers in all, fewer ranks, schedule, chunk. */
static int cmp_cand(const void *a, const void *b) {
  const amz_candidate_t *x = a, *y = b;
  if (x->predicted_s != y->predicted_s) return x->predicted_s < y->predicted_s ? -1 : 1;
  int wx = x->ranks * x->workers, wy = y->ranks * y->workers;
  if (wx != wy) return wx - wy;
  if (x->ranks != y->ranks) return x->ranks - y->ranks;
  if (x->schedule != y->schedule) return (int)x->schedule - (int)y->schedule;
  return (x->chunk > y->chunk) - (x->chunk < y->chunk);
}

uint64_t amz__cand_exposure(const amz_candidate_t *c, uint64_t n_items) {
  uint64_t W = (uint64_t)(c->ranks > 0 ? c->ranks : 1) * (uint64_t)(c->workers > 0 ? c->workers : 1);
  uint64_t share = (n_items + W - 1) / W, first;
  switch (c->schedule) {
    case AMZ_SCHED_DYNAMIC: first = c->chunk; break;
    case AMZ_SCHED_GUIDED: first = share; break;
    case AMZ_SCHED_FACTORING:
    case AMZ_SCHED_AWF: first = (n_items + 2 * W - 1) / (2 * W); break;
    /* Static, cyclic: the worker's whole share. Others may take the back of a
     * static block, but its front waits for its owner, in order: a costly item
     * there starts late and holds the owner while the others run dry. */
    default: first = share;
  }
  if (first < c->chunk) first = c->chunk;
  return first < n_items ? first : n_items;
}

void amz__cand_list_choose(amz__cand_list_t *l, uint64_t n_items, int prefer_static,
                           size_t *fewer, size_t *best) {
  qsort(l->v, l->n, sizeof *l->v, cmp_cand);
  /* Fastest, then the fewest workers (in all, then ranks) within PREFER_FEWER. */
  size_t b = 0;
  double limit = l->v[0].predicted_s * PREFER_FEWER;
  for (size_t i = 1; i < l->n && l->v[i].predicted_s <= limit; i++) {
    int wi = l->v[i].ranks * l->v[i].workers, wb = l->v[b].ranks * l->v[b].workers;
    if (wi < wb || (wi == wb && l->v[i].ranks < l->v[b].ranks)) b = i;
  }
  *fewer = b;
  double simpler = prefer_static ? l->v[b].predicted_s * PREFER_STATIC : 0.0;
  if (simpler > limit) simpler = limit;
  int preferred = 0; /* static blocks chosen by the preference above */
  for (size_t i = 0; i < l->n && l->v[i].predicted_s <= simpler; i++)
    if (l->v[i].ranks == l->v[*fewer].ranks && l->v[i].workers == l->v[*fewer].workers &&
        l->v[i].schedule == AMZ_SCHED_STATIC && l->v[b].schedule != AMZ_SCHED_STATIC)
      b = i, preferred = 1;
  if (!preferred && !(prefer_static && l->v[b].schedule == AMZ_SCHED_STATIC)) {
    /* Committing up to 1/64 of a worker's share at once is as safe as less, and
     * fewer chunks cost less to record and to refine from: exposures below that
     * count as equal, and the fastest of them is kept. Static blocks and cyclic
     * chunks commit a worker's whole share (amz__cand_exposure): from a sample
     * alone, a candidate within the margin that commits less replaces them. */
    size_t f = b;
    uint64_t W = (uint64_t)l->v[f].ranks * (uint64_t)l->v[f].workers;
    uint64_t cap = (n_items + 64 * W - 1) / (64 * (W ? W : 1));
    double robust = l->v[f].predicted_s * PREFER_ROBUST;
    if (robust > limit) robust = limit;
    uint64_t exp_b = amz__cand_exposure(&l->v[b], n_items);
    if (exp_b < cap) exp_b = cap;
    for (size_t i = 0; i < l->n && l->v[i].predicted_s <= robust; i++) {
      if (l->v[i].ranks != l->v[f].ranks || l->v[i].workers != l->v[f].workers)
        continue;
      uint64_t e = amz__cand_exposure(&l->v[i], n_items);
      if (e < cap) e = cap;
      if (e < exp_b) b = i, exp_b = e;
    }
  }
  *best = b;
}

int amz__plan_search(const amz__workload_t *wl, const amz__machine_t *m,
                     const amz__constraints_t *c, int pool_threads, amz__decision_t *d) {
  memset(d, 0, sizeof *d);
  int maxw = amz__planner_max_workers(wl, m);
  d->max_workers = maxw;
  int wlist[64], nw = 0;
  if (c->workers > 0) {
    wlist[nw++] = c->workers;
  } else {
    /* Every count up to the cores (at most 16), then steps of 1.5x: beyond the
     * cores only waiting kernels gain, and they gain smoothly. */
    int C = m->topo.usable_cores < 16 ? m->topo.usable_cores : 16;
    nw = amz__count_list(C < 1 ? 1 : C, maxw, wlist, 64);
  }
  amz_schedule_t slist[AMZ_SCHED_COUNT];
  int ns = 0;
  if (c->schedule != AMZ_SCHED_AUTO)
    slist[ns++] = c->schedule;
  else
    for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_AWF; s++) slist[ns++] = (amz_schedule_t)s;

  amz__cand_list_t l = {0};
  int rc = 0;
  for (int i = 0; i < nw && rc == 0; i++) {
    int W = wlist[i];
    for (int j = 0; j < ns && rc == 0; j++) {
      uint64_t chunks[16];
      size_t nc;
      if (c->chunk > 0) {
        chunks[0] = slist[j] == AMZ_SCHED_STATIC ? 0 : c->chunk;
        nc = 1;
      } else {
        nc = amz__planner_chunk_grid(wl, m, slist[j], W, chunks, 16);
      }
      if (W == 1 && amz__planner_one_worker_skips(c, wl, slist[j])) continue;
      for (size_t k = 0; k < nc && rc == 0; k++) {
        if (amz__planner_chunk_too_long(c, wl, slist[j], (uint64_t)W, chunks[k])) continue;
        amz_candidate_t cand = {.workers = W, .schedule = slist[j], .chunk = chunks[k], .ranks = 1};
        rc = amz__model_predict(wl, m, W, slist[j], chunks[k], 1.0, pool_threads, &cand.terms);
        if (rc == 0) {
          cand.predicted_s = cand.terms.total;
          rc = amz__cand_list_push(&l, &cand);
        }
      }
    }
  }
  if (rc == 0 && l.n == 0) rc = AMZ_EINVAL; /* cannot happen: dynamic, 1 always fits */
  if (rc != 0) {
    free(l.v);
    return rc == AMZ_ENOMEM ? amz__fail(rc, "out of memory while planning")
                            : amz__fail(rc, "no candidate fits the constraints");
  }
  size_t fewer, best;
  amz__cand_list_choose(&l, wl->n_items, wl->shape_runs > 0, &fewer, &best);
  d->cands = l.v;
  d->n_cands = l.n;
  d->chosen = best;
  const amz_candidate_t *ch = &l.v[best];
  d->serial_best = ch->workers == 1 && maxw > 1 && c->workers == 0;
  if (d->serial_best && l.v[0].workers > 1)
    snprintf(d->why, sizeof d->why,
             "running serially: the fastest parallel candidate (%d workers) gains less "
             "than %.0f%%, not worth the extra cores",
             l.v[0].workers, (PREFER_FEWER - 1.0) * 100.0);
  else if (d->serial_best)
    snprintf(d->why, sizeof d->why,
             "running serially: parallel overheads exceed the gain for every worker count");
  else if (fewer != 0)
    snprintf(d->why, sizeof d->why,
             "within %.0f%% of the fastest candidate (%d workers) with fewer workers",
             (PREFER_FEWER - 1.0) * 100.0, l.v[0].workers);
  else if (best != fewer && ch->schedule == AMZ_SCHED_STATIC)
    snprintf(d->why, sizeof d->why,
             "static blocks within %.1f%% of the fastest of %zu candidates (%s): each "
             "worker keeps its own block unless it falls behind",
             (PREFER_STATIC - 1.0) * 100.0, l.n, amz_schedule_name(l.v[fewer].schedule));
  else if (best != fewer)
    snprintf(d->why, sizeof d->why,
             "within %.0f%% of the fastest of %zu candidates (%s), the one that commits "
             "the fewest items at once (%llu): robust to a rare costly item the sample "
             "missed",
             (PREFER_ROBUST - 1.0) * 100.0, l.n, amz_schedule_name(l.v[fewer].schedule),
             (unsigned long long)amz__cand_exposure(ch, wl->n_items));
  else
    snprintf(d->why, sizeof d->why, "fastest predicted of %zu candidates", l.n);
  return 0;
}

void amz__decision_free(amz__decision_t *d) {
  free(d->cands);
  d->cands = NULL;
  d->n_cands = 0;
}
