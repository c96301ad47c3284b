/*
 * The cost model: predicted makespan of a candidate (workers, schedule, chunk) as a
 * sum of named terms, all in seconds:
 *
 *   total = startup + compute + dispatch + imbalance + serial
 *
 *   startup   pool fork-join (measured, pool_wake_s, scaled by the threads woken)
 *             plus thread creation when the pool must grow (thread_start_s each);
 *   compute   expected work / workers, with the per-item slowdown from sharing the
 *             machine (measured contention) and time-slicing when threads outnumber
 *             cores (only the CPU share of an item slows down, cpu_ratio);
 *   dispatch  per-chunk cost of the schedule's hand-out (measured on the real
 *             executor) times the chunks on the critical worker;
 *   imbalance the critical worker's finish minus compute and dispatch: the
 *             deterministic part comes from list-scheduling the schedule's real chunk
 *             sequence (from schedule.c) over the sampled index-cost profile; the
 *             random part is E[max of W normals] x sigma x sqrt(items in a tail
 *             chunk) (Kruskal & Weiss, IEEE TSE 1985), floored by the longest item;
 *   serial    amz_run's own setup and assembly outside the parallel region.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/* Chunk sequences longer than this (or than 4 per worker) are list-scheduled in
 * groups of consecutive chunks; the error is at most one group per worker, a
 * quarter of a worker's share at worst and under 1/SIM_GROUPS of the work in all. */
#define SIM_GROUPS 1024

double amz__model_foreign_load(const amz__workload_t *wl) {
  double q = wl->load_share;
  if (!(q > 0.0)) return 0.0;
  if (q > AMZ__LOAD_MAX) q = AMZ__LOAD_MAX;
  double k = wl->cpu_ratio < 1.0 ? wl->cpu_ratio : 1.0;
  double ds = wl->sample_cores > 0 ? (double)wl->sample_workers * k / wl->sample_cores : 1.0;
  return q / (1.0 - q) * (ds > 1.0 ? ds : 1.0);
}

double amz__model_slowdown(const amz__workload_t *wl, const amz__machine_t *m, int w) {
  int C = m->topo.usable_cores > 0 ? m->topo.usable_cores : 1;
  /* Busy cores that share one node's memory: contention is a node's. */
  int wn = m->node_workers > 0 ? m->node_workers : w;
  int wc = wn < C ? wn : C;
  /* Cores one kernel call keeps busy: below 1 it waits part of the time, above 1 it
   * runs threads of its own (OpenMP, BLAS). */
  double k = wl->cpu_ratio;
  if (k < 0.005) k = 0.005;
  double r = k < 1.0 ? k : 1.0; /* the share of a call's time that needs CPU */
  double cont = 1.0;
  if (wl->contention_workers > 1 && wc > 1) {
    /* The measured slowdown includes the time-sharing of the cores when the sampled
     * workers' calls wanted more than there were (kernels with threads of their
     * own): that part is the share term below, not contention. */
    double measured_share = (double)wl->contention_workers * k / (double)C;
    double c = wl->contention;
    if (c > 1.0 && measured_share > 1.0) c = c / measured_share > 1.0 ? c / measured_share : 1.0;
    /* Linear in the number of busy cores between 1 (alone) and the measured value. */
    cont = 1.0 + (c - 1.0) * (double)(wc - 1) / (double)(wl->contention_workers - 1);
    if (cont < 0.9) cont = 0.9;
  }
  /* Cores wanted per core granted: the workers' and other processes' (fair sharing:
   * with a demand of 1 and a load of l, each worker gets 1 / (1 + l) of a core). */
  double demand = (double)w * k / (double)C + amz__model_foreign_load(wl);
  double share = demand > 1.0 ? demand : 1.0;
  return cont * (r * share + (1.0 - r));
}

double amz__model_chunk_cost(const amz__machine_t *m, amz_schedule_t s, int w) {
  const amz__costs_t *c = &m->costs;
  double h;
  switch (s) {
    case AMZ_SCHED_CYCLIC:
      h = c->chunk_static_s;
      break;
    case AMZ_SCHED_STATIC: /* a piece: an uncontended lock of the worker's own range */
      h = c->chunk_atomic_s;
      break;
    case AMZ_SCHED_AWF:
      h = w > 1 ? c->chunk_awf_s : c->chunk_atomic_s;
      break;
    default:
      h = w > 1 ? c->chunk_contended_s : c->chunk_atomic_s;
      break;
  }
  /* With a checkpoint, every chunk also writes its record. */
  return h + c->chunk_log_s;
}

/* Adds dt to the earliest worker's time and restores the heap; returns that worker. */
static int heap_add_to_min(amz__heap_t *h, double dt) {
  int who = h->w[0];
  h->t[0] += dt;
  amz__heap_down(h, 0);
  return who;
}

typedef struct steal_cost {
  const amz__workload_t *wl;
  double scale;
} steal_cost_t;

static double steal_cost(const void *ctx, uint64_t b, uint64_t e) {
  const steal_cost_t *c = ctx;
  return amz__workload_range_cost(c->wl, b, e) * c->scale;
}

int amz__model_predict(const amz__workload_t *wl, const amz__machine_t *m, int W,
                       amz_schedule_t kind, uint64_t chunk, double remaining,
                       int pool_threads, amz_terms_t *out) {
  return amz__model_predict_grouped(wl, m, W, W, kind, chunk, remaining, pool_threads, out);
}

int amz__model_predict_grouped(const amz__workload_t *wl, const amz__machine_t *m, int W,
                               int group, amz_schedule_t kind, uint64_t chunk,
                               double remaining, int pool_threads, amz_terms_t *out) {
  *out = (amz_terms_t){0};
  const amz__costs_t *c = &m->costs;
  const uint64_t N = wl->n_items;
  out->serial = c->run_serial_s;
  if (W > 1) {
    int P = c->probe_workers > 1 ? c->probe_workers : 2;
    out->startup = c->pool_wake_s * (double)(W - 1) / (double)(P - 1);
    if (W - 1 > pool_threads) out->startup += c->thread_start_s * (double)(W - 1 - pool_threads);
  }
  if (N == 0 || remaining <= 0.0) {
    out->total = out->startup + out->serial;
    return 0;
  }
  const double slow = amz__model_slowdown(wl, m, W);
  const double h = amz__model_chunk_cost(m, kind, W);
  const double scale = slow * remaining;
  amz__sched_t s;
  int rc = amz__sched_init(&s, kind, N, W, chunk);
  if (rc != 0) return rc;

  double *busy = calloc((size_t)W, sizeof *busy);
  double *chunks = calloc((size_t)W, sizeof *chunks);
  if (!busy || !chunks) {
    free(busy);
    free(chunks);
    amz__sched_free(&s);
    return AMZ_ENOMEM;
  }
  double tail_items; /* items in a chunk that can finish last */
  if (kind == AMZ_SCHED_STATIC) {
    /* Blocks with a way out (schedule.h): run as the executor would, piece by piece,
     * the workers that run out taking from the others of their group. The random
     * part of the items' costs evens out down to the last pieces, of single items;
     * between fixed groups it stays: a group's sum over its items, shared by its
     * workers. */
    uint64_t *bb = malloc(2 * (size_t)W * sizeof *bb), *ee = bb ? bb + W : NULL;
    rc = bb ? 0 : AMZ_ENOMEM;
    for (int w = 0; rc == 0 && w < W; w++) {
      bb[w] = ee[w] = N;
      if ((uint64_t)w < s.n_chunks) amz__sched_chunk(&s, (uint64_t)w, &bb[w], &ee[w]);
    }
    steal_cost_t sc = {wl, scale};
    if (group < 1 || group > W) group = W;
    for (int g = 0; rc == 0 && g < W; g += group) {
      int k = W - g < group ? W - g : group;
      rc = amz__steal_sim(k, bb + g, ee + g, NULL, NULL, h, steal_cost, &sc, busy + g, chunks + g);
    }
    free(bb);
    if (rc != 0) {
      free(busy);
      free(chunks);
      amz__sched_free(&s);
      return rc;
    }
    double per_group = (double)N / (double)W / (double)group;
    tail_items = group >= W || per_group < 1.0 ? 1.0 : per_group;
  } else if (amz__sched_preassigned(kind)) {
    if (s.n_chunks <= 4 * (uint64_t)SIM_GROUPS) {
      for (uint64_t k = 0; k < s.n_chunks; k++) {
        uint64_t b, e;
        amz__sched_chunk(&s, k, &b, &e);
        int w = (int)(k % (uint64_t)W);
        busy[w] += amz__workload_range_cost(wl, b, e) * scale;
        chunks[w] += 1.0;
      }
    } else {
      /* Fine cyclic interleaving: every worker gets an even share of every region
       * of the index range; the difference is at most one chunk. */
      double total = amz__workload_range_cost(wl, 0, N) * scale;
      for (int w = 0; w < W; w++) {
        uint64_t mine = s.n_chunks / (uint64_t)W + ((uint64_t)w < s.n_chunks % (uint64_t)W);
        chunks[w] = (double)mine;
        busy[w] = total * (double)mine / (double)s.n_chunks;
      }
    }
    /* The random part of a worker's sum grows with its items (all its chunks). */
    tail_items = (double)N / (double)(s.n_chunks < (uint64_t)W ? (s.n_chunks ? s.n_chunks : 1) : (uint64_t)W);
    for (int w = 0; w < W; w++) busy[w] += chunks[w] * h;
  } else {
    amz__heap_t hp = {busy, malloc((size_t)W * sizeof(int)), W};
    if (!hp.w) {
      free(busy);
      free(chunks);
      amz__sched_free(&s);
      return AMZ_ENOMEM;
    }
    for (int w = 0; w < W; w++) hp.w[w] = w;
    /* The chunk sequence: fixed for dynamic/guided/factoring, generated with equal
     * weights for AWF (uniform workers inside one process). */
    uint64_t n_chunks = s.n_chunks;
    uint64_t *awf = NULL;
    if (kind == AMZ_SCHED_AWF) {
      size_t cap = 64;
      awf = malloc((cap + 1) * sizeof *awf);
      uint64_t pos = 0;
      n_chunks = 0;
      if (awf) awf[0] = 0;
      while (awf && pos < N) {
        pos += amz__sched_awf_size(&s, N - pos, 1.0);
        if (n_chunks + 2 > cap) {
          cap *= 2;
          uint64_t *a = realloc(awf, (cap + 1) * sizeof *a);
          if (!a) {
            free(awf);
            awf = NULL;
            break;
          }
          awf = a;
        }
        awf[++n_chunks] = pos;
      }
      if (!awf) {
        free(hp.w);
        free(busy);
        free(chunks);
        amz__sched_free(&s);
        return AMZ_ENOMEM;
      }
    }
    /* Written to stay exact for N near 2^64: no sum that could wrap. */
    /* At least 4 groups per worker: with fewer, one group would outweigh a worker's
     * share (thousands of MPI workers). */
    uint64_t groups = (uint64_t)W * 4 > SIM_GROUPS ? (uint64_t)W * 4 : SIM_GROUPS;
    uint64_t group = n_chunks > groups ? n_chunks / groups + (n_chunks % groups != 0) : 1;
    for (uint64_t k = 0, kend; k < n_chunks; k = kend) {
      kend = n_chunks - k > group ? k + group : n_chunks;
      uint64_t b, e, b2, e2;
      if (awf) {
        b = awf[k];
        e = awf[kend];
      } else {
        amz__sched_chunk(&s, k, &b, &e2);
        amz__sched_chunk(&s, kend - 1, &b2, &e);
      }
      double dt = amz__workload_range_cost(wl, b, e) * scale + (double)(kend - k) * h;
      int w = heap_add_to_min(&hp, dt);
      chunks[w] += (double)(kend - k);
    }
    /* Tail: the mean size of the last W chunks of the sequence. */
    uint64_t last = n_chunks > (uint64_t)W ? (uint64_t)W : n_chunks;
    uint64_t tb = 0, te = N;
    if (last > 0) {
      if (awf)
        tb = awf[n_chunks - last];
      else {
        uint64_t dummy;
        amz__sched_chunk(&s, n_chunks - last, &tb, &dummy);
      }
    }
    tail_items = last ? (double)(te - tb) / (double)last : 1.0;
    free(awf);
    free(hp.w);
  }
  double makespan = 0.0, crit_chunks = 0.0;
  for (int w = 0; w < W; w++) {
    if (busy[w] > makespan) makespan = busy[w];
    if (chunks[w] > crit_chunks) crit_chunks = chunks[w];
  }
  double random_tail = amz__expected_max_normal(W) * wl->sigma_item_s *
                       sqrt(tail_items > 1.0 ? tail_items : 1.0) * slow * sqrt(remaining);
  makespan += random_tail;
  double longest = wl->max_item_s * slow;
  if (makespan < longest) makespan = longest;

  out->compute = amz__workload_range_cost(wl, 0, N) * scale / (double)W;
  out->dispatch = crit_chunks * h;
  out->imbalance = makespan - out->compute - out->dispatch;
  if (out->imbalance < 0.0) out->imbalance = 0.0;
  out->total = out->startup + out->compute + out->dispatch + out->imbalance + out->serial;
  free(busy);
  free(chunks);
  amz__sched_free(&s);
  return 0;
}

/* Student's t, 95% one-sided (the two sides of a 90% interval), for df >= 1. */
static double t95(int df) {
  static const double q[] = {6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860};
  if (df < 1) df = 1;
  return df <= 8 ? q[df - 1] : 1.645 + 2.0 / (double)df;
}

void amz__model_interval(const amz__workload_t *wl, const amz_terms_t *t, double slow,
                         int sampled, const double *err, int n_err, amz__interval_t *out) {
  *out = (amz__interval_t){0};
  const double T = t->total;
  out->lo_s = out->hi_s = T;
  out->widest = "none";
  if (!(T > 0)) return;
  /* 1. Sampling: the level's standard error, with the quantile of its degrees of
   * freedom (8 random groups, else the blocks), on the work-proportional terms. */
  double work = t->compute + t->imbalance;
  if (sampled && wl->sampled_blocks > 0) {
    int df = wl->sampled_blocks >= 16 ? 7 : (int)wl->sampled_blocks - 1;
    double e = wl->rel_error < 1.0 ? wl->rel_error : 1.0;
    out->sampling = t95(df) * e * work / T;
  }
  /* 2. Run-to-run variation: the floor, or the plan's own latest misses when larger
   * (they also carry what the model leaves out). */
  out->noise = AMZ__NOISE_FLOOR;
  int own = 0;
  for (int i = 0; i < n_err; i++)
    if (isfinite(err[i]) && fabs(err[i]) > out->noise) out->noise = fabs(err[i]), own = 1;
  if (out->noise > 1.0) out->noise = 1.0;
  /* 3. Load: the sampling threads waited for a CPU a share q of their time, other
   * processes holding their cores. The prediction counts it (the part inside the
   * blocks is in their cost, the rest is amz__model_foreign_load), but how much of
   * it the run meets is not known: the scheduler spreads it differently over a
   * run's long chunks, and it may end. Up to q / (1 - q) slower, up to q faster. */
  double q = wl->runq_share > 0 ? (wl->runq_share < AMZ__LOAD_MAX ? wl->runq_share
                                                                    : AMZ__LOAD_MAX)
                                : 0.0;
  out->load = q / (1.0 - q);
  /* 4. The longest item seen may come last on one worker (Graham's bound on list
   * scheduling: makespan <= work / W + the longest task), beyond the imbalance the
   * model expects. Only while the level is the sample's: a run shows where it is. */
  if (sampled) {
    double longest = wl->max_item_s * slow;
    out->tail_s = longest > t->imbalance ? longest - t->imbalance : 0.0;
  }
  double base = out->sampling * out->sampling + out->noise * out->noise;
  double rel_lo = sqrt(base + q * q), rel_hi = sqrt(base + out->load * out->load);
  double fixed = t->startup + t->serial; /* the run cannot take less than its own set-up */
  out->lo_s = T * (1.0 - rel_lo);
  if (out->lo_s < fixed) out->lo_s = fixed;
  if (out->lo_s > T) out->lo_s = T;
  out->hi_s = T * (1.0 + rel_hi) + out->tail_s;
  double tail = out->tail_s / T, wmax = out->noise;
  out->widest = own ? "this plan's latest misses" : "run-to-run variation";
  if (out->sampling > wmax) wmax = out->sampling, out->widest = "sampling error";
  if (out->load > wmax) wmax = out->load, out->widest = "load from other processes";
  if (tail > wmax) out->widest = "the longest item seen, coming last";
}
