/*
 * The workload model built from sample blocks: robust per-item statistics and an
 * index-cost profile (piecewise-constant density over equal index bins) whose
 * cumulative sum gives the expected cost of any range in O(1).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ORDER_MAX 4096

static uint64_t bin_start(uint64_t n, int bins, int j) {
  return (uint64_t)(((unsigned __int128)n * (unsigned)j) / (unsigned)bins);
}

/* Installs a profile of `bins` bins: density d[j] * scale per item (d may be
 * wl->density itself) and the cumulative sums that range costs read. */
static void set_profile(amz__workload_t *wl, int bins, const double *d, double scale) {
  wl->bins = bins;
  wl->cumulative[0] = 0.0;
  for (int j = 0; j < bins; j++) {
    wl->density[j] = d[j] * scale;
    wl->cumulative[j + 1] =
        wl->cumulative[j] +
        wl->density[j] * (double)(bin_start(wl->n_items, bins, j + 1) - bin_start(wl->n_items, bins, j));
  }
}

static int cmp_begin(const void *a, const void *b) {
  const amz__sample_t *x = a, *y = b;
  return (x->begin > y->begin) - (x->begin < y->begin);
}

double amz__cpu_ratio(double cpu, double wall, double runq) {
  /* A kernel that looks as if it waited (CPU/wall below AMZ__WAITING_CPU_RATIO) but
   * computes over the time it could run (its wall time minus its time waiting for a
   * CPU, other processes holding its core) is a loaded machine's compute-bound
   * kernel: its ratio is the corrected one. A kernel that waits by itself keeps
   * CPU/wall: the wake-up delays of many sleeping threads (long on a virtual
   * machine) are part of what more threads hide. */
  double raw = wall > 0 ? cpu / wall : 1.0, ran = wall - runq;
  double corrected = ran > 0 ? cpu / ran : 1.0;
  return raw < AMZ__WAITING_CPU_RATIO && corrected >= AMZ__WAITING_CPU_RATIO ? corrected : raw;
}

void amz__workload_from_samples(amz__workload_t *wl, uint64_t n_items,
                                const amz__sample_t *in, size_t n) {
  memset(wl, 0, sizeof *wl);
  wl->n_items = n_items;
  wl->contention = 1.0;
  wl->contention_raw = 1.0;
  wl->cpu_ratio = 1.0;
  wl->bins = 1;
  if (n == 0 || n_items == 0) {
    wl->cumulative[1] = 0.0;
    return;
  }
  amz__sample_t *s = malloc(n * sizeof *s);
  double *x = malloc(n * sizeof *x), *pos = malloc(n * sizeof *pos);
  if (!s || !x || !pos) {
    free(s);
    free(x);
    free(pos);
    return;
  }
  memcpy(s, in, n * sizeof *s);
  qsort(s, n, sizeof *s, cmp_begin);
  double wall = 0.0, cpu = 0.0, runq = 0.0, queued = 0.0, items = 0.0, maxc = 0.0;
  double solo_wall = 0.0, solo_cpu = 0.0, solo_own = 0.0, solo_runq = 0.0;
  double conc_wall = 0.0, conc_queued = 0.0;
  for (size_t i = 0; i < n; i++) {
    double k = (double)(s[i].end - s[i].begin);
    x[i] = s[i].wall_s / k;
    pos[i] = ((double)s[i].begin + 0.5 * k) / (double)n_items;
    wall += s[i].wall_s;
    cpu += s[i].cpu_s;
    runq += s[i].runq_s;
    queued += s[i].queued_s;
    if (s[i].concurrent) {
      conc_wall += s[i].wall_s;
      conc_queued += s[i].queued_s;
    } else {
      solo_wall += s[i].wall_s;
      solo_cpu += s[i].cpu_s;
      solo_own += s[i].own_cpu_s;
      solo_runq += s[i].runq_s;
    }
    items += k;
    if (x[i] > maxc) maxc = x[i];
  }
  wl->sampled_blocks = n;
  wl->sampled_items = (uint64_t)items;
  wl->block_items = (uint64_t)(items / (double)n + 0.5);
  /* Ratio estimator: total sampled time over sampled items. It is unbiased for the
   * total work even for heavy-tailed costs, unlike a trimmed mean. */
  wl->mean_s = wall / items;
  /* Order statistics from at most ORDER_MAX blocks, every stride-th along the range
   * (a census of 10^5 chunks: three sorts of all of them took 35 ms); the mean, the
   * profile and the spread use every block. */
  size_t stride = (n + ORDER_MAX - 1) / ORDER_MAX, m = 0;
  for (size_t i = 0; i < n; i += stride) x[m++] = x[i]; /* in place: m <= i + 1 */
  wl->median_s = amz__median(x, m);
  wl->mad_s = amz__mad(x, m);
  wl->trimmed_mean_s = amz__trimmed_mean(x, m, 0.1);
  for (size_t i = 0; i < n; i++) x[i] = s[i].wall_s / (double)(s[i].end - s[i].begin);
  wl->cv = wl->mean_s > 0 ? amz__stddev(x, n) / wl->mean_s : 0.0;
  wl->max_item_s = maxc;
  wl->sample_work_s = wall;
  wl->cpu_ratio = amz__cpu_ratio(cpu, wall, runq);
  /* Queueing is a loaded machine's only for a computing kernel: many threads of a
   * waiting kernel queue after their wake-ups by themselves. */
  int computes = wall > 0 && wl->cpu_ratio >= AMZ__WAITING_CPU_RATIO;
  wl->runq_share = computes ? (runq + queued) / (wall + queued) : 0.0;
  /* Other processes' load as the run meets it, with all workers busy: a block that
   * ran alone waited behind a process on its core while another core stood free. */
  double lw = conc_wall > 0 ? conc_wall : wall, lq = conc_wall > 0 ? conc_queued : queued;
  wl->load_share = computes ? lq / (lw + lq) : 0.0;
  if (wl->cpu_ratio > 1.0) wl->cpu_ratio = 1.0;
  /* A kernel with threads of its own: on the blocks that ran alone, the process's
   * other threads kept part of a core busy. Its demand is then the caller's CPU plus
   * theirs, in cores per call (above 1 when it runs in parallel). Concurrent blocks
   * cannot tell whose threads used the CPU. */
  double solo_ran = solo_wall - solo_runq;
  if (solo_ran > 0 && solo_own > AMZ__OWN_THREADS_MIN_CORES * solo_ran) {
    double k = (solo_cpu + solo_own) / solo_ran;
    wl->cpu_ratio = k < AMZ__MAX_WORKERS ? k : AMZ__MAX_WORKERS;
  }
  /* Blocks of m items average m item costs: one item's random spread is sqrt(m)
   * times the spread of block means; the successive-difference estimate removes the
   * systematic index trend, which the profile models separately. */
  wl->sigma_item_s = amz__successive_sd(x, n) * sqrt(items / (double)n);
  double slope, icpt;
  if (wl->mean_s > 0 && amz__linear_fit(pos, x, n, &slope, &icpt) == 0)
    wl->trend = slope / wl->mean_s;

  /* Profile: about two blocks per bin so each bin is measured, at most 64 bins. */
  int bins = (int)(n / 2);
  if (bins < 1) bins = 1;
  if (bins > AMZ__PROFILE_BINS) bins = AMZ__PROFILE_BINS;
  if ((uint64_t)bins > n_items) bins = (int)n_items;
  wl->bins = bins;
  double sw[AMZ__PROFILE_BINS] = {0}, si[AMZ__PROFILE_BINS] = {0};
  for (size_t i = 0; i < n; i++) {
    int j = (int)(pos[i] * bins);
    if (j >= bins) j = bins - 1;
    sw[j] += s[i].wall_s;
    si[j] += (double)(s[i].end - s[i].begin);
  }
  /* Empty bins: linear interpolation between the nearest measured neighbours. */
  for (int j = 0; j < bins; j++) {
    if (si[j] > 0) {
      wl->density[j] = sw[j] / si[j];
      continue;
    }
    int l = j - 1, r = j + 1;
    while (l >= 0 && si[l] == 0) l--;
    while (r < bins && si[r] == 0) r++;
    if (l >= 0 && r < bins) {
      double a = sw[l] / si[l], b = sw[r] / si[r];
      wl->density[j] = a + (b - a) * (double)(j - l) / (double)(r - l);
    } else if (l >= 0) {
      wl->density[j] = sw[l] / si[l];
    } else if (r < bins) {
      wl->density[j] = sw[r] / si[r];
    } else {
      wl->density[j] = wl->mean_s;
    }
  }
  /* Rescale so the profile's total equals the ratio estimate of the total work. */
  double total = 0.0;
  for (int j = 0; j < bins; j++)
    total += wl->density[j] * (double)(bin_start(n_items, bins, j + 1) - bin_start(n_items, bins, j));
  set_profile(wl, bins, wl->density, total > 0 ? wl->mean_s * (double)n_items / total : 1.0);
  free(s);
  free(x);
  free(pos);
}

/* Cumulative cost of items [0, x). In doubles: this runs for every simulated chunk
 * group of every candidate, and bins are far coarser than a rounding error. */
static double cum(const amz__workload_t *wl, uint64_t x) {
  if (x >= wl->n_items) return wl->cumulative[wl->bins];
  double n = (double)wl->n_items, pos = (double)x * (double)wl->bins / n;
  int j = (int)pos;
  if (j >= wl->bins) j = wl->bins - 1;
  return wl->cumulative[j] + wl->density[j] * ((double)x - (double)j * n / (double)wl->bins);
}

int amz__workload_from_density(amz__workload_t *wl, uint64_t n_items, size_t bins,
                               const double *density) {
  memset(wl, 0, sizeof *wl);
  if (bins == 0 || bins > AMZ__PROFILE_BINS || !density) return AMZ_EINVAL;
  wl->n_items = n_items;
  set_profile(wl, (int)bins, density, 1.0);
  return 0;
}

double amz__workload_range_cost(const amz__workload_t *wl, uint64_t b, uint64_t e) {
  if (e <= b || wl->n_items == 0) return 0.0;
  return cum(wl, e) - cum(wl, b);
}

void amz__workload_rescale(amz__workload_t *wl, double f) {
  for (int j = 0; j < wl->bins; j++) wl->density[j] *= f;
  for (int j = 0; j <= wl->bins; j++) wl->cumulative[j] *= f;
  wl->mean_s *= f;
  wl->median_s *= f;
  wl->sigma_item_s *= f;
  wl->max_item_s *= f;
}

double amz__workload_fit_ranges(amz__workload_t *wl, const amz__sample_t *r, size_t n,
                                double min_dev) {
  double meas = 0.0, model = 0.0, total = amz__workload_range_cost(wl, 0, wl->n_items);
  for (size_t k = 0; k < n; k++) {
    meas += r[k].wall_s;
    model += amz__workload_range_cost(wl, r[k].begin, r[k].end);
  }
  if (!(meas > 0) || !(model > 0) || !(total > 0)) return 0.0;
  double F = meas / model, dev = 0.0;
  /* Ranges of at least 2% of the modelled work count: a short chunk's time is noise. */
  for (size_t k = 0; k < n; k++) {
    double mk = amz__workload_range_cost(wl, r[k].begin, r[k].end);
    if (mk < 0.02 * total) continue;
    double d = fabs(r[k].wall_s / mk / F - 1.0);
    if (d > dev) dev = d;
  }
  if (dev <= min_dev) {
    amz__workload_rescale(wl, F);
    return dev;
  }
  /* The finest profile first (a sample of few blocks has few bins), with the same
   * costs: the ranges then shape it at their own resolution. */
  int fine = wl->n_items < (uint64_t)AMZ__PROFILE_BINS ? (int)wl->n_items : AMZ__PROFILE_BINS;
  if (fine > wl->bins) {
    double d[AMZ__PROFILE_BINS];
    for (int j = 0; j < fine; j++) {
      uint64_t lo = bin_start(wl->n_items, fine, j), hi = bin_start(wl->n_items, fine, j + 1);
      d[j] = hi > lo ? amz__workload_range_cost(wl, lo, hi) / (double)(hi - lo) : 0.0;
    }
    set_profile(wl, fine, d, 1.0);
  }
  /* Each range's measured factor (of the finest profile's cost), once. */
  double *fac = malloc(n * sizeof *fac);
  if (!fac) {
    amz__workload_rescale(wl, F);
    return dev;
  }
  for (size_t k = 0; k < n; k++) {
    double mk = amz__workload_range_cost(wl, r[k].begin, r[k].end);
    fac[k] = mk > 0 ? r[k].wall_s / mk : F;
  }
  /* Each bin's cost: the factor of every range over it, the overall one where no
   * range covers it (the items sampled before a first run). */
  double dens[AMZ__PROFILE_BINS];
  for (int j = 0; j < wl->bins; j++) {
    uint64_t lo = bin_start(wl->n_items, wl->bins, j), hi = bin_start(wl->n_items, wl->bins, j + 1);
    double bin = amz__workload_range_cost(wl, lo, hi), covered = 0.0, cost = 0.0;
    for (size_t k = 0; k < n; k++) {
      uint64_t b = r[k].begin > lo ? r[k].begin : lo, e = r[k].end < hi ? r[k].end : hi;
      if (e <= b) continue;
      double part = amz__workload_range_cost(wl, b, e);
      covered += part;
      cost += part * fac[k];
    }
    cost += (bin - covered > 0 ? bin - covered : 0.0) * F;
    dens[j] = hi > lo ? cost / (double)(hi - lo) : wl->density[j];
  }
  free(fac);
  set_profile(wl, wl->bins, dens, 1.0);
  wl->mean_s = wl->cumulative[wl->bins] / (double)wl->n_items;
  wl->median_s *= F;
  wl->trimmed_mean_s *= F;
  wl->sigma_item_s *= F;
  wl->max_item_s *= F;
  return dev;
}
