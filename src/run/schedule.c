/*
 * Chunk sequences of every schedule. The executor, the cost model and (later) the
 * simulator and the MPI distribution all take their chunks from here, so that a
 * schedule exists exactly once.
 *
 * GUIDED and FACTORING sequences depend only on (n, workers, chunk), not on which
 * worker takes which chunk, so they are computed once as a boundary table and
 * handed out with a single fetch-and-add on a chunk index, as cheap as DYNAMIC.
 * The tables are short: O(workers * log(n)) entries.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/* Appends chunk sizes produced by next_size(remaining, index) until n is covered. */
static int build_table(amz__sched_t *s) {
  uint64_t W = (uint64_t)s->workers, minc = s->chunk ? s->chunk : 1;
  size_t cap = 64, k = 0;
  uint64_t *b = malloc(cap * sizeof *b);
  if (!b) return AMZ_ENOMEM;
  b[0] = 0;
  uint64_t pos = 0, batch_size = 0, batch_left = 0;
  while (pos < s->n) {
    uint64_t rem = s->n - pos, c;
    if (s->kind == AMZ_SCHED_GUIDED) {
      /* Polychronopoulos & Kuck (1987): each chunk is 1/P of what remains. */
      c = ceil_div(rem, W);
    } else {
      /* FAC2 (Hummel, Schonberg & Flynn 1992): batches of P equal chunks, each
       * batch covering half of what remained at its start. */
      if (batch_left == 0) {
        batch_size = ceil_div(rem, 2 * W);
        batch_left = W;
      }
      batch_left--;
      c = batch_size;
    }
    if (c < minc) c = minc;
    if (c > rem) c = rem;
    pos += c;
    if (k + 2 > cap) {
      cap *= 2;
      uint64_t *nb = realloc(b, cap * sizeof *nb);
      if (!nb) {
        free(b);
        return AMZ_ENOMEM;
      }
      b = nb;
    }
    b[++k] = pos;
  }
  s->bounds = b;
  s->n_chunks = k;
  return 0;
}

int amz__sched_init(amz__sched_t *s, amz_schedule_t kind, uint64_t n, int workers,
                    uint64_t chunk) {
  *s = (amz__sched_t){.kind = kind, .n = n, .workers = workers, .chunk = chunk};
  if (workers < 1) return AMZ_EINVAL;
  switch (kind) {
    case AMZ_SCHED_STATIC:
      s->chunk = 0;
      s->n_chunks = n < (uint64_t)workers ? n : (uint64_t)workers;
      return 0;
    case AMZ_SCHED_CYCLIC:
    case AMZ_SCHED_DYNAMIC:
      if (s->chunk == 0) s->chunk = 1;
      s->n_chunks = ceil_div(n, s->chunk);
      return 0;
    case AMZ_SCHED_GUIDED:
    case AMZ_SCHED_FACTORING:
      if (s->chunk == 0) s->chunk = 1;
      return build_table(s);
    case AMZ_SCHED_AWF:
      if (s->chunk == 0) s->chunk = 1;
      s->n_chunks = 0;
      return 0;
    default:
      return AMZ_ESCHED;
  }
}

void amz__sched_free(amz__sched_t *s) {
  free(s->bounds);
  s->bounds = NULL;
}

void amz__sched_chunk(const amz__sched_t *s, uint64_t k, uint64_t *begin,
                      uint64_t *end) {
  switch (s->kind) {
    case AMZ_SCHED_STATIC: {
      /* Balanced blocks: the first n % P blocks get one item more. */
      uint64_t P = s->n < (uint64_t)s->workers ? s->n : (uint64_t)s->workers;
      uint64_t q = s->n / P, r = s->n % P;
      *begin = k * q + (k < r ? k : r);
      *end = *begin + q + (k < r);
      return;
    }
    case AMZ_SCHED_GUIDED:
    case AMZ_SCHED_FACTORING:
      *begin = s->bounds[k];
      *end = s->bounds[k + 1];
      return;
    default: {
      uint64_t b = k * s->chunk;
      *begin = b;
      *end = (s->n - b < s->chunk) ? s->n : b + s->chunk;
      return;
    }
  }
}

/* ---- distribution over nodes ------------------------------------------------ */

uint64_t amz__sched_chunk_of(const amz__sched_t *s, uint64_t x) {
  if (s->kind == AMZ_SCHED_GUIDED || s->kind == AMZ_SCHED_FACTORING) {
    uint64_t lo = 0, hi = s->n_chunks; /* bounds[lo] <= x < bounds[hi] */
    while (hi - lo > 1) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (s->bounds[mid] <= x) lo = mid;
      else hi = mid;
    }
    return lo;
  }
  return x / (s->chunk ? s->chunk : 1);
}

double amz__node_weight(double mine, double sum, int known) {
  if (!(mine > 0) || known == 0 || !(sum > 0)) return 1.0;
  double w = mine / (sum / known);
  return w < 0.1 ? 0.1 : w > 10.0 ? 10.0 : w;
}

uint64_t amz__batch_chunks(const amz__sched_t *s, uint64_t pos, int nodes, double weight,
                           uint64_t min_batch) {
  uint64_t total = s->n_chunks;
  if (pos >= total) return 0;
  uint64_t b, e;
  amz__sched_chunk(s, pos, &b, &e);
  /* Weighted factoring: half of what remains, shared among the nodes in
   * proportion to their speeds, rounded to whole chunks of the sequence. */
  double target = (double)(s->n - b) * weight / (2.0 * nodes);
  uint64_t last = b + (uint64_t)ceil(target);
  if (last > s->n) last = s->n;
  uint64_t k_end = last <= b ? pos + 1 : amz__sched_chunk_of(s, last - 1) + 1;
  uint64_t cnt = k_end - pos;
  if (cnt < min_batch) cnt = min_batch;
  if (cnt > total - pos) cnt = total - pos;
  return cnt;
}

void amz__dist_params(uint64_t n_chunks, double chunk_s, double lat_net_s, uint64_t node_workers,
                      int node, uint64_t *min_batch, uint64_t *low_water) {
  *min_batch = n_chunks / AMZ__MAX_BATCHES + 1;
  /* The refill's round trip: none for node 0, whose workers take batches from the
   * global counter themselves (about a microsecond); a request to rank 0's
   * progress thread and its reply for the others. */
  double lead_s = node == 0 ? 0.0 : 2.0 * lat_net_s + AMZ__SERVER_POLL_S;
  /* A node that asks ahead binds chunks to itself before any of its workers is free
   * for them; with few large chunks (guided, factoring) it then holds a whole batch
   * of costly items while the other nodes run dry (up to 1.8x longer runs on 2
   * nodes). So when the round trip is under 1% of a chunk the node asks only when
   * it has nothing left: the worker that asks waits that 1%. */
  if (lead_s <= 0.01 * chunk_s) {
    *low_water = 0;
    return;
  }
  /* Otherwise it asks when its unclaimed chunks would run out within the round
   * trip at the mean chunk time: as late as keeps its workers busy. */
  double per = chunk_s > 0 ? ceil(lead_s * (double)node_workers / chunk_s) : 1.0;
  if (!(per >= 1.0)) per = 1.0;
  if (per > 1e9) per = 1e9;
  *low_water = (uint64_t)per;
}

uint64_t amz__deal(const amz__sched_t *s, int nodes, uint64_t min_batch, int first_round_only,
                   void (*take)(void *ctx, int node, uint64_t first, uint64_t n), void *ctx) {
  uint64_t pos = 0, n;
  if (nodes == 1) { /* one node: the whole sequence is one batch */
    if (s->n_chunks > 0) take(ctx, 0, 0, s->n_chunks);
    return s->n_chunks;
  }
  for (int node = 0; (n = amz__batch_chunks(s, pos, nodes, 1.0, min_batch)) > 0;
       node = (node + 1) % nodes) {
    take(ctx, node, pos, n);
    pos += n;
    if (first_round_only && node == nodes - 1) break;
  }
  return pos;
}

/* AWF: a FAC2-style chunk, half of the remaining work shared among P workers, scaled
 * by the requesting worker's measured relative speed (Banicescu & Velusamy 2002). */
uint64_t amz__sched_awf_size(const amz__sched_t *s, uint64_t remaining,
                             double weight) {
  if (remaining == 0) return 0;
  if (!(weight > 0.05)) weight = 0.05;
  if (weight > 20.0) weight = 20.0;
  double c = (double)remaining * weight / (2.0 * (double)s->workers);
  uint64_t size = (uint64_t)c;
  if ((double)size < c) size++;
  if (size < s->chunk) size = s->chunk;
  if (size > remaining) size = remaining;
  return size;
}

/* ---- static blocks with a way out ------------------------------------------- */

uint64_t amz__steal_pieces(uint64_t items) {
  uint64_t k = 0;
  while (items > 0) {
    items -= amz__steal_piece(items);
    k++;
  }
  return k;
}

static int heap_less(const amz__heap_t *h, int a, int b) {
  return h->t[a] < h->t[b] || (h->t[a] == h->t[b] && h->w[a] < h->w[b]);
}

static void heap_swap(amz__heap_t *h, int a, int b) {
  double t = h->t[a];
  int w = h->w[a];
  h->t[a] = h->t[b], h->w[a] = h->w[b];
  h->t[b] = t, h->w[b] = w;
}

void amz__heap_down(amz__heap_t *h, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, s = i;
    if (l < h->n && heap_less(h, l, s)) s = l;
    if (r < h->n && heap_less(h, r, s)) s = r;
    if (s == i) return;
    heap_swap(h, i, s);
    i = s;
  }
}

void amz__heap_up(amz__heap_t *h, int i) {
  while (i > 0 && heap_less(h, i, (i - 1) / 2)) {
    heap_swap(h, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static double speed_of(const double *speed, int w) {
  return speed && speed[w] > 0 ? speed[w] : 1.0;
}

/* The cases amz__steal_sim answers without simulating: a worker alone (its block in
 * one piece, as the executor runs it); blocks that cost the same within an item's
 * cost at one speed and start (nobody takes anything worth counting); above
 * AMZ__STEAL_SIM_MAX workers, the fluid limit (each take scans every range).
 * finish holds the start times. Returns 1 when it wrote finish and pieces. */
static int steal_shortcut(int W, const uint64_t *begin, const uint64_t *end,
                          const double *speed, double h, amz__range_cost_fn cost,
                          const void *ctx, double *finish, double *pieces) {
  if (W == 1) {
    pieces[0] = end[0] > begin[0];
    if (pieces[0] > 0) finish[0] += h + cost(ctx, begin[0], end[0]) / speed_of(speed, 0);
    return 1;
  }
  double lo = INFINITY, hi = 0.0, sum = 0.0, sw = 0.0, t_w = 0.0, item = 0.0;
  int even = 1;
  uint64_t largest = 0;
  for (int w = 0; w < W; w++) {
    double sp = speed_of(speed, w), c = cost(ctx, begin[w], end[w]);
    uint64_t k = end[w] - begin[w];
    if (c < lo) lo = c;
    if (c > hi) hi = c;
    if (k > 0 && c / (double)k > item) item = c / (double)k;
    if (k > largest) largest = k;
    if (sp != speed_of(speed, 0) || finish[w] != finish[0]) even = 0;
    sum += c;
    sw += sp;
    t_w += finish[w] * sp;
  }
  if (even && hi - lo <= item) {
    for (int w = 0; w < W; w++) {
      pieces[w] = (double)amz__steal_pieces(end[w] - begin[w]);
      finish[w] += pieces[w] * h + cost(ctx, begin[w], end[w]) / speed_of(speed, w);
    }
    return 1;
  }
  if (W <= AMZ__STEAL_SIM_MAX) return 0;
  /* The work shared in proportion to speed, every worker ending together. */
  double last = (t_w + sum) / sw + (double)amz__steal_pieces(largest) * h;
  for (int w = 0; w < W; w++) {
    pieces[w] = (double)amz__steal_pieces(end[w] - begin[w]);
    if (last > finish[w]) finish[w] = last;
  }
  return 1;
}

int amz__steal_sim(int W, const uint64_t *begin, const uint64_t *end, const double *t0,
                   const double *speed, double h, amz__range_cost_fn cost, const void *ctx,
                   double *finish, double *pieces) {
  if (W < 1) return AMZ_EINVAL;
  uint64_t *front = malloc((size_t)W * sizeof *front), *back = malloc((size_t)W * sizeof *back);
  amz__heap_t hp = {malloc((size_t)W * sizeof *hp.t), malloc((size_t)W * sizeof *hp.w), 0};
  int rc = 0;
  if (!front || !back || !hp.t || !hp.w) {
    rc = AMZ_ENOMEM;
    goto out;
  }
  for (int w = 0; w < W; w++) {
    front[w] = begin[w];
    back[w] = end[w] > begin[w] ? end[w] : begin[w];
    finish[w] = t0 ? t0[w] : 0.0;
    pieces[w] = 0.0;
  }
  if (steal_shortcut(W, front, back, speed, h, cost, ctx, finish, pieces)) goto out;
  for (int w = 0; w < W; w++) {
    hp.t[hp.n] = finish[w];
    hp.w[hp.n++] = w;
    amz__heap_up(&hp, hp.n - 1);
  }
  /* The worker free earliest takes its next piece, or steals, or is done. */
  while (hp.n > 0) {
    int w = hp.w[0];
    double t = hp.t[0];
    if (front[w] == back[w]) {
      int v = -1;
      uint64_t most = 0;
      for (int i = 0; i < W; i++)
        if (back[i] - front[i] > most) most = back[i] - front[i], v = i;
      if (v < 0) { /* nothing left anywhere: w is done */
        finish[w] = t;
        hp.w[0] = hp.w[--hp.n], hp.t[0] = hp.t[hp.n];
        amz__heap_down(&hp, 0);
        continue;
      }
      uint64_t take = amz__steal_take(most);
      back[w] = back[v];
      front[w] = back[v] - take;
      back[v] = front[w];
    }
    uint64_t n = amz__steal_piece(back[w] - front[w]);
    hp.t[0] = t + h + cost(ctx, front[w], front[w] + n) / speed_of(speed, w);
    front[w] += n;
    pieces[w] += 1.0;
    amz__heap_down(&hp, 0);
  }
out:
  free(front);
  free(back);
  free(hp.t);
  free(hp.w);
  return rc;
}
