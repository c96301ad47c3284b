/*
 * Modelled item costs for the simulator (amorsize_sim.h).
 *
 * A workload is a deterministic density (the expected cost of item i: flat,
 * linear, or piecewise constant over segments) times an independent random
 * multiplier of mean 1 per item (lognormal with the workload's cv, or the two
 * values of the bimodal shape). Randomness is a pure function of (seed, item) or
 * (seed, begin, end): no state, so every caller, thread and run sees the same costs.
 *
 * The random part is drawn once per block of B consecutive items (B = 1 up to 2^20
 * items, then N / 2^20 rounded up: at most 2^20 blocks) and kept as a cumulative
 * sum, so costs are additive: [a, b) and [b, c) cost exactly what [a, c) costs,
 * and every schedule and chunk size runs exactly the same total work. A block of
 * up to EXACT_ITEMS items is the sum of its items' own draws; a longer block is
 * one lognormal draw with the sum's mean and standard deviation (Fenton-Wilkinson:
 * positive, no bias from clipping). Inside a block, items share its draw in
 * proportion to their expected costs. A chunk therefore costs O(log segments)
 * whatever its length, and 10^7 items simulate in seconds.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amorsize_sim.h"
#include "internal.h"

#define EXACT_ITEMS 8
#define MAX_BLOCKS ((uint64_t)1 << 20)
#define MANDEL_SIDE 256
#define MANDEL_BINS (MANDEL_SIDE * MANDEL_SIDE)
#define MANDEL_ITER 256

enum { DENS_FLAT, DENS_LINEAR, DENS_TABLE };
enum { NOISE_NONE, NOISE_LOGNORMAL, NOISE_BIMODAL };

struct amz_sim_costs {
  uint64_t n;
  double mean;
  int density, noise;
  size_t nseg;
  uint64_t *ends;  /* nseg increasing ends, the last n */
  double *item;    /* per-item cost of each segment */
  double *cum;     /* nseg + 1: cost before each segment */
  double cv;       /* sd of the multiplier */
  double sig_ln;   /* lognormal: sd of log */
  double p, light, heavy; /* bimodal multipliers */
  uint64_t seed;
  uint64_t B;      /* items per noise block */
  uint64_t nblk;   /* blocks */
  double *bcum;    /* nblk + 1: realized cost before each block */
};

static const char *shape_names[AMZ_SIM_SHAPE_COUNT] = {"uniform", "increasing", "lognormal",
                                                      "mandelbrot", "bimodal", "table"};

const char *amz_sim_shape_name(amz_sim_shape_t s) {
  return (unsigned)s < AMZ_SIM_SHAPE_COUNT ? shape_names[s] : "unknown";
}

int amz_sim_shape_parse(const char *name, amz_sim_shape_t *out) {
  if (!name || !out) return amz__fail(AMZ_EINVAL, "amz_sim_shape_parse: %s is NULL",
                                      !name ? "name" : "out");
  for (int i = 0; i < AMZ_SIM_SHAPE_COUNT; i++)
    if (strcasecmp(name, shape_names[i]) == 0) {
      *out = (amz_sim_shape_t)i;
      return 0;
    }
  return amz__fail(AMZ_EINVAL,
                   "unknown workload shape '%s': expected uniform, increasing, lognormal, "
                   "mandelbrot, bimodal or table",
                   name);
}

void amz_sim_workload_defaults(amz_sim_workload_t *w, amz_sim_shape_t shape, uint64_t n_items,
                               double mean_s) {
  if (!w) return;
  *w = (amz_sim_workload_t){.shape = shape, .n_items = n_items, .mean_s = mean_s, .cv = -1,
                            .bimodal_fraction = 0.1, .bimodal_ratio = 10.0, .seed = 1};
}

/* ---- deterministic randomness -------------------------------------------- */

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static double unit(uint64_t h) { return ((double)(h >> 11) + 0.5) * 0x1.0p-53; } /* (0, 1) */

static double normal(uint64_t h) { /* Box-Muller from one 64-bit hash */
  double u1 = unit(mix(h)), u2 = unit(mix(h ^ 0x5851f42d4c957f2dull));
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- the Mandelbrot table ---------------------------------------------------- */

static double mandel[MANDEL_BINS];
static pthread_once_t mandel_once = PTHREAD_ONCE_INIT;

static void mandel_build(void) {
  for (int y = 0; y < MANDEL_SIDE; y++)
    for (int x = 0; x < MANDEL_SIDE; x++) {
      double cr = -2.2 + 3.0 * (x + 0.5) / MANDEL_SIDE, ci = -1.5 + 3.0 * (y + 0.5) / MANDEL_SIDE;
      double zr = 0, zi = 0;
      int it = 0;
      while (it < MANDEL_ITER && zr * zr + zi * zi <= 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
        it++;
      }
      mandel[y * MANDEL_SIDE + x] = 1.0 + it; /* a pixel costs its iterations */
    }
}

/* ---- preparation -------------------------------------------------------------- */

void amz_sim_costs_destroy(amz_sim_costs_t *c) {
  if (!c) return;
  free(c->ends);
  free(c->item);
  free(c->cum);
  free(c->bcum);
  free(c);
}

static int finish_table(amz_sim_costs_t *c) {
  c->cum = malloc((c->nseg + 1) * sizeof *c->cum);
  if (!c->cum) return AMZ_ENOMEM;
  c->cum[0] = 0;
  uint64_t start = 0;
  for (size_t i = 0; i < c->nseg; i++) {
    c->cum[i + 1] = c->cum[i] + (double)(c->ends[i] - start) * c->item[i];
    start = c->ends[i];
  }
  return 0;
}

static double expected(const amz_sim_costs_t *c, uint64_t b, uint64_t e);
static double density(const amz_sim_costs_t *c, uint64_t x);
static double multiplier(const amz_sim_costs_t *c, uint64_t x);

/* The realized cost of every noise block, as a cumulative sum. */
static int build_blocks(amz_sim_costs_t *c, uint64_t max_blocks) {
  c->B = c->n > max_blocks ? c->n / max_blocks + (c->n % max_blocks != 0) : 1;
  c->nblk = c->n / c->B + (c->n % c->B != 0);
  c->bcum = malloc((c->nblk + 1) * sizeof *c->bcum);
  if (!c->bcum) return AMZ_ENOMEM;
  c->bcum[0] = 0;
  for (uint64_t j = 0; j < c->nblk; j++) {
    uint64_t s = j * c->B, t = s + c->B < c->n ? s + c->B : c->n;
    double v = 0;
    if (t - s <= EXACT_ITEMS) {
      for (uint64_t x = s; x < t; x++) v += density(c, x) * multiplier(c, x);
    } else {
      double m = expected(c, s, t), rel = c->cv / sqrt((double)(t - s));
      double sg2 = log1p(rel * rel);
      v = m * exp(sqrt(sg2) * normal(c->seed ^ mix(~j)) - 0.5 * sg2);
    }
    c->bcum[j + 1] = c->bcum[j] + v;
  }
  return 0;
}

int amz__sim_costs_create(const amz_sim_workload_t *w, uint64_t max_blocks,
                          amz_sim_costs_t **out);

int amz_sim_costs_create(const amz_sim_workload_t *w, amz_sim_costs_t **out) {
  return amz__sim_costs_create(w, MAX_BLOCKS, out);
}

int amz__sim_costs_create(const amz_sim_workload_t *w, uint64_t max_blocks,
                          amz_sim_costs_t **out) {
  if (!out) return amz__fail(AMZ_EINVAL, "amz_sim_costs_create: out is NULL");
  *out = NULL;
  if (!w) return amz__fail(AMZ_EINVAL, "amz_sim_costs_create: workload is NULL");
  if ((unsigned)w->shape >= AMZ_SIM_SHAPE_COUNT)
    return amz__fail(AMZ_EINVAL, "workload shape %d: expected 0 to %d (amz_sim_shape_t)",
                     (int)w->shape, AMZ_SIM_SHAPE_COUNT - 1);
  if (w->shape != AMZ_SIM_TABLE && !(w->mean_s > 0 && w->mean_s <= 1e6))
    return amz__fail(AMZ_EINVAL, "workload mean item cost %g s: expected more than 0 and at "
                                 "most 1e6 s", w->mean_s);
  if (!(w->cv <= 10.0))
    return amz__fail(AMZ_EINVAL, "workload cv %g: expected 0 to 10, or negative for the "
                                 "shape's default", w->cv);
  if (w->shape == AMZ_SIM_BIMODAL &&
      !(w->bimodal_fraction > 0 && w->bimodal_fraction < 1 && w->bimodal_ratio >= 1 &&
        w->bimodal_ratio <= 1e6))
    return amz__fail(AMZ_EINVAL, "bimodal workload: fraction %g and ratio %g: expected a "
                                 "fraction in (0, 1) and a ratio from 1 to 1e6",
                     w->bimodal_fraction, w->bimodal_ratio);
  amz_sim_costs_t *c = calloc(1, sizeof *c);
  if (!c) return amz__fail(AMZ_ENOMEM, "cannot allocate the simulated costs");
  c->n = w->n_items;
  c->mean = w->mean_s;
  c->seed = mix(w->seed ^ 0x243f6a8885a308d3ull);
  double cv = w->cv >= 0 ? w->cv : (w->shape == AMZ_SIM_LOGNORMAL ? 1.0 : 0.0);
  int rc = 0;
  switch (w->shape) {
    case AMZ_SIM_INCREASING:
      c->density = DENS_LINEAR;
      break;
    case AMZ_SIM_MANDELBROT: {
      pthread_once(&mandel_once, mandel_build);
      c->density = DENS_TABLE;
      c->nseg = MANDEL_BINS;
      c->ends = malloc(c->nseg * sizeof *c->ends);
      c->item = malloc(c->nseg * sizeof *c->item);
      if (!c->ends || !c->item) {
        rc = AMZ_ENOMEM;
        break;
      }
      double total = 0;
      uint64_t start = 0;
      for (size_t i = 0; i < c->nseg; i++) {
        c->ends[i] = (uint64_t)((unsigned __int128)c->n * (i + 1) / MANDEL_BINS);
        total += (double)(c->ends[i] - start) * mandel[i];
        start = c->ends[i];
      }
      double scale = total > 0 ? c->mean * (double)c->n / total : 0;
      for (size_t i = 0; i < c->nseg; i++) c->item[i] = mandel[i] * scale;
      rc = finish_table(c);
      break;
    }
    case AMZ_SIM_TABLE: {
      if (w->segments == 0 || !w->segment_end || !w->segment_item_s) {
        rc = amz__fail(AMZ_EINVAL, "table workload: %zu segments with %s: expected at least "
                                   "one segment and both arrays",
                       w->segments, !w->segment_end ? "no ends" : "no costs");
        break;
      }
      c->density = DENS_TABLE;
      c->nseg = w->segments;
      c->ends = malloc(c->nseg * sizeof *c->ends);
      c->item = malloc(c->nseg * sizeof *c->item);
      if (!c->ends || !c->item) {
        rc = AMZ_ENOMEM;
        break;
      }
      uint64_t prev = 0;
      double total = 0;
      for (size_t i = 0; i < c->nseg; i++) {
        uint64_t e = w->segment_end[i];
        double v = w->segment_item_s[i];
        if (e < prev) {
          rc = amz__fail(AMZ_EINVAL, "table workload: segment %zu ends at %llu before the "
                                     "previous end %llu: expected non-decreasing ends",
                         i, (unsigned long long)e, (unsigned long long)prev);
          break;
        }
        if (!(v >= 0 && v <= 1e6)) {
          rc = amz__fail(AMZ_EINVAL, "table workload: segment %zu costs %g s per item: "
                                     "expected 0 to 1e6 s", i, v);
          break;
        }
        total += (double)(e - prev) * v;
        prev = e;
        c->ends[i] = e;
        c->item[i] = v;
      }
      if (rc == 0 && prev != c->n)
        rc = amz__fail(AMZ_EINVAL, "table workload: the last segment ends at %llu: expected "
                                   "n_items (%llu)",
                       (unsigned long long)prev, (unsigned long long)c->n);
      if (rc == 0) {
        c->mean = c->n ? total / (double)c->n : 0;
        rc = finish_table(c);
      }
      break;
    }
    default:
      c->density = DENS_FLAT;
      break;
  }
  if (rc == 0 && w->shape == AMZ_SIM_BIMODAL) {
    double p = w->bimodal_fraction, r = w->bimodal_ratio;
    c->noise = NOISE_BIMODAL;
    c->p = p;
    c->light = 1.0 / (1.0 - p + p * r);
    c->heavy = r * c->light;
    c->cv = sqrt(p * (1.0 - p)) * (c->heavy - c->light);
  } else if (rc == 0 && cv > 0) {
    c->noise = NOISE_LOGNORMAL;
    c->cv = cv;
    c->sig_ln = sqrt(log1p(cv * cv));
  }
  if (rc == 0 && c->noise != NOISE_NONE) rc = build_blocks(c, max_blocks ? max_blocks : 1);
  if (rc != 0) {
    amz_sim_costs_destroy(c);
    return rc == AMZ_ENOMEM ? amz__fail(rc, "cannot allocate the simulated costs") : rc;
  }
  *out = c;
  return 0;
}

/* ---- costs -------------------------------------------------------------------- */

/* Index of the segment holding item x < n: the first end above x. */
static size_t seg_of(const amz_sim_costs_t *c, uint64_t x) {
  size_t lo = 0, hi = c->nseg - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->ends[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

static double cum_at(const amz_sim_costs_t *c, uint64_t x) {
  if (x >= c->n) return c->cum[c->nseg];
  size_t j = seg_of(c, x);
  uint64_t start = j ? c->ends[j - 1] : 0;
  return c->cum[j] + (double)(x - start) * c->item[j];
}

static double expected(const amz_sim_costs_t *c, uint64_t b, uint64_t e) {
  switch (c->density) {
    case DENS_LINEAR: /* item x costs 2 m (x + 1/2) / N */
      return c->mean / (double)c->n * (double)(e - b) * ((double)e + (double)b);
    case DENS_TABLE:
      return cum_at(c, e) - cum_at(c, b);
    default:
      return c->mean * (double)(e - b);
  }
}

static double density(const amz_sim_costs_t *c, uint64_t x) {
  switch (c->density) {
    case DENS_LINEAR:
      return 2.0 * c->mean * ((double)x + 0.5) / (double)c->n;
    case DENS_TABLE:
      return c->item[seg_of(c, x)];
    default:
      return c->mean;
  }
}

static double multiplier(const amz_sim_costs_t *c, uint64_t x) {
  switch (c->noise) {
    case NOISE_LOGNORMAL:
      return exp(c->sig_ln * normal(c->seed ^ mix(x)) - 0.5 * c->sig_ln * c->sig_ln);
    case NOISE_BIMODAL:
      return unit(mix(c->seed ^ mix(x))) < c->p ? c->heavy : c->light;
    default:
      return 1.0;
  }
}

/* Realized cost of items [0, x): whole blocks, then x's block's share. */
static double realized_before(const amz_sim_costs_t *c, uint64_t x) {
  uint64_t j = x / c->B;
  double v = c->bcum[j];
  uint64_t s = j * c->B;
  if (x > s) {
    uint64_t t = s + c->B < c->n ? s + c->B : c->n;
    double whole = expected(c, s, t);
    if (whole > 0) v += (c->bcum[j + 1] - c->bcum[j]) * expected(c, s, x) / whole;
  }
  return v;
}

double amz_sim_range_cost(const amz_sim_costs_t *c, uint64_t b, uint64_t e) {
  if (!c) return 0;
  if (e > c->n) e = c->n;
  if (b >= e) return 0;
  if (c->noise == NOISE_NONE) return expected(c, b, e);
  if (e - b == 1 && c->B == 1) return c->bcum[b + 1] - c->bcum[b];
  double v = realized_before(c, e) - realized_before(c, b);
  return v > 0 ? v : 0;
}

double amz__sim_mean(const amz_sim_costs_t *c) { return c->mean; }
uint64_t amz__sim_items(const amz_sim_costs_t *c) { return c->n; }
