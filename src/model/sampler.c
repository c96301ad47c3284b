/*
 * Sampling: runs the real kernel on blocks of items spread over the whole index
 * range, on all workers at once, and turns the timings into robust statistics and
 * an index-cost profile. Sampled items are real work: they are recorded as done and
 * the first run skips them.
 *
 * Phases:
 *  1. Calibration (worker 0 alone): grow the block size m until one block takes at
 *     least TARGET_BLOCK_S, so that clock overhead is negligible.
 *  2. Contention pairs: blocks (j, j+1) of adjacent slots; the first of each pair
 *     runs alone, the second with all workers busy. Adjacent blocks have similar
 *     cost even when cost depends on the index, so the median ratio is the
 *     slowdown from sharing the machine (memory bandwidth, caches, SMT).
 *  3. Concurrent blocks in bit-reversed slot order (a low-discrepancy sequence:
 *     every prefix covers the whole range), taken one by one without barriers,
 *     until the relative standard error of the mean reaches the target, the time
 *     budget is spent, or MAX_FRACTION of the items have been sampled.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define TARGET_BLOCK_S 20e-6
/* A block whose data a wrapper moves (map mode on ranks other than 0: an exchange
 * with rank 0 per block) grows until the kernel's time is at least this many times
 * the moving: a block of one 30 us item waited about 300 us for its data, and a
 * rank sampled at a tenth of its speed. */
#define MOVED_RATIO 4.0
#define MAX_FRACTION 0.10
/* The error target stops sampling only once the sample holds this share of the
 * items (at most COVER_ITEMS of them): costly items rarer than about 3 in that many
 * are then likely to have been seen (the rule of three). The items are real work. */
#define COVER_FRACTION 0.02
#define COVER_ITEMS 1024
#define TINY_LOOP_S 2e-3
/* A lingering sampler asks its hook again after this long; it may take up to
 * LINGER_FRACTION of its items (a rank 2.5x faster than the slowest one then
 * never waits for it). */
#define LINGER_ROUND_S 0.5e-3
#define LINGER_FRACTION 0.25
/* Under a node gate, a rank of one thread tells a waiting kernel from its blocks
 * run alone: at least WAIT_BLOCKS of them (more calibration blocks where there were
 * fewer), at most WAIT_BLOCKS_MAX read. */
#define WAIT_BLOCKS 3
#define WAIT_BLOCKS_MAX 16

typedef struct samp_rec {
  amz__sample_t s;
  double t0, t1; /* clock, absolute */
  int worker;
  int rc;          /* first code of an item that failed for good; 0 = all done */
  amz__rangeset_t fails; /* the block's items that failed for good */
  uint64_t retry_calls, recovered;
  int oom;
  int done; /* the block has run (phase 3 holds blocks not yet run) */
  /* CPU seconds the library's other threads (aux_threads) used while the block ran
   * alone; share_runq takes them off the block's wait for a CPU. */
  double aux_s;
  double moved_s; /* time a kernel wrapper spent moving the block's data */
  const amz__sampler_params_t *p;
} samp_rec_t;

static void block_failed(void *ctx, uint64_t b, uint64_t e, int rc) {
  samp_rec_t *r = ctx;
  if (amz__rangeset_add(&r->fails, b, e, rc) != 0) r->oom = 1;
  const amz__sampler_params_t *p = r->p;
  if (p->hooks && p->hooks->on_error) p->hooks->on_error(b, e, rc, r->worker, p->hooks_user);
}

typedef struct samp_ctx {
  const amz__sampler_params_t *p;
  samp_rec_t *recs;
  size_t n;
  _Atomic size_t next;
  int solo; /* one worker: the block runs alone in the process */
} samp_ctx_t;

/* CPU seconds the library's other threads (aux_threads) have used so far. */
static double aux_cpu(const amz__sampler_params_t *p) {
  return p->n_aux_threads > 0 ? amz__threads_cpu(p->aux_threads, p->n_aux_threads) : 0.0;
}

/* Runs one block on `worker` and records its times. A kernel that runs threads of
 * its own (OpenMP, BLAS) shows it on a block that runs alone (`solo`): the process
 * then uses more CPU than the calling thread (the workload turns that into cores per
 * call, so that the planner does not take the caller's waiting at the kernel's own
 * joins for an I/O wait). */
static void run_block(const amz__sampler_params_t *p, samp_rec_t *r, int worker, int solo) {
  const amz_task_t *t = p->task;
  /* Clocks read from the outside in: the pool's helpers (and the library's other
   * threads, aux_threads), the process, then this thread's CPU clock and the wall
   * clock innermost, so that no read is charged to the kernel. With the real
   * process clock, the pool's idle helpers are not the kernel's. */
  int others = solo && p->clock->proc_cpu_now, helpers = others && p->pool;
  double a0 = others ? aux_cpu(p) : 0.0;
  double h0 = helpers ? amz__pool_helpers_cpu(p->pool) : 0.0;
  double pc0 = solo ? amz__clock_proc_cpu(p->clock) : 0.0;
  double c0 = amz__clock_cpu(p->clock), x0 = amz__tls_excluded_s, xc0 = amz__tls_excluded_cpu_s;
  r->worker = worker;
  r->p = p;
  amz__sink_t sink = {.fail = block_failed, .ctx = r,
                      .watch = p->kernel_wrapped ? NULL : amz__watch_current()};
  r->t0 = amz__clock_now(p->clock);
  r->rc = amz__run_items(t, p->retries, p->ckpt, r->s.begin, r->s.end, &sink);
  r->t1 = amz__clock_now(p->clock);
  r->retry_calls = sink.retry_calls;
  r->recovered = sink.recovered;
  double c1 = amz__clock_cpu(p->clock), moved = amz__tls_excluded_s - x0;
  double pc1 = solo ? amz__clock_proc_cpu(p->clock) : 0.0;
  double h1 = helpers ? amz__pool_helpers_cpu(p->pool) : 0.0;
  double a1 = others ? aux_cpu(p) : 0.0;
  /* Time a wrapper spent moving the block's data is not the kernel's cost, neither
   * its wall time nor the CPU time it used (which is not the wall: mostly waiting). */
  r->s.wall_s = r->t1 - r->t0 - moved;
  r->moved_s = moved;
  r->s.cpu_s = c1 - c0 - (amz__tls_excluded_cpu_s - xc0);
  r->aux_s = a1 - a0 > 0 ? a1 - a0 : 0.0;
  /* The process's other threads, but the pool's helpers and the library's own. */
  double own = (pc1 - pc0) - (c1 - c0) - (h1 - h0) - r->aux_s;
  r->s.own_cpu_s = solo && own > 0 ? own : 0.0;
  if (r->s.wall_s < 0) r->s.wall_s = 0;
  if (r->s.cpu_s < 0) r->s.cpu_s = 0;
  r->done = 1;
}

/* Shares the run-queue delay dq that this thread saw over k of its blocks among
 * them. The library's own threads (aux_threads: the MPI progress thread serving map
 * mode's data, on the core of rank 0's sampling thread) ran da CPU seconds over the
 * same stretch, aux_s of them inside each block: they are neither the kernel's cost
 * nor other processes' load. Up to a block's aux_s and its time off the CPU, the
 * wait is theirs and comes off the block, its time included (like data a wrapper
 * moved); up to da in all, the rest of their part was between blocks and is left
 * out. What remains is other processes': shared by wall time, inside a block at
 * most its time off the CPU, the rest between blocks (queued_s). Sampling moves one
 * piece of data per block, the run one per chunk: with the server's time counted,
 * items of 4 KiB on 2 ranks read 44 us where the run took 37 us, plus 17% of load. */
static void share_runq(samp_rec_t *recs, const size_t *idx, size_t k, double dq, double da) {
  double own = dq < da ? dq : da, wall = 0.0;
  if (own < 0) own = 0;
  for (size_t j = 0; j < k; j++) {
    amz__sample_t *s = &recs[idx[j]].s;
    double off = s->wall_s - s->cpu_s > 0 ? s->wall_s - s->cpu_s : 0.0;
    double cut = recs[idx[j]].aux_s < off ? recs[idx[j]].aux_s : off;
    if (cut > own) cut = own;
    own -= cut;
    dq -= cut;
    s->wall_s -= cut;
    wall += s->wall_s;
  }
  dq -= own; /* theirs, between blocks */
  for (size_t j = 0; j < k; j++) {
    amz__sample_t *s = &recs[idx[j]].s;
    double q = dq > 0 && wall > 0 ? dq * s->wall_s / wall : 0.0;
    double off = s->wall_s - s->cpu_s > 0 ? s->wall_s - s->cpu_s : 0.0;
    s->runq_s = q < off ? q : off;
    s->queued_s = q - s->runq_s;
  }
}

/* Waiting for a CPU is neither work nor the kernel's own waiting: a compute-bound
 * kernel on a loaded core must not look like one that sleeps. Each thread reads its
 * run-queue clock (a /proc read, about 11 us) once per SHARE_BLOCKS of its blocks,
 * not around every block. */
enum { SHARE_BLOCKS = 256 };

/* One thread's blocks since its last run-queue read. */
typedef struct runq_tally {
  size_t mine[SHARE_BLOCKS], k;
  double q0, a0; /* run-queue clock; the library's other threads' CPU clocks */
  const amz__sampler_params_t *p;
} runq_tally_t;

static void runq_start(runq_tally_t *t, const amz__sampler_params_t *p) {
  t->k = 0;
  t->p = p;
  t->q0 = amz__clock_runq(p->clock);
  t->a0 = aux_cpu(p);
}

/* Shares what the clock gained among the blocks noted so far. */
static void runq_flush(runq_tally_t *t, samp_rec_t *recs) {
  if (t->k == 0) return;
  double q1 = amz__clock_runq(t->p->clock), a1 = aux_cpu(t->p);
  share_runq(recs, t->mine, t->k, q1 - t->q0, a1 - t->a0);
  t->q0 = q1;
  t->a0 = a1;
  t->k = 0;
}

/* Notes block i of recs as this thread's; reads the clock every SHARE_BLOCKS. */
static void runq_note(runq_tally_t *t, samp_rec_t *recs, size_t i) {
  t->mine[t->k++] = i;
  if (t->k == SHARE_BLOCKS) runq_flush(t, recs);
}

static void samp_job(void *arg, int w) {
  samp_ctx_t *x = arg;
  runq_tally_t t;
  runq_start(&t, x->p);
  for (;;) {
    size_t i = atomic_fetch_add_explicit(&x->next, 1, memory_order_relaxed);
    if (i >= x->n) break;
    run_block(x->p, &x->recs[i], w, x->solo);
    runq_note(&t, x->recs, i);
  }
  runq_flush(&t, x->recs);
}

/* Runs n blocks on P workers (worker 0 is the caller; one worker runs them on the
 * caller alone), watched when a timeout is set. Returns 0 or the watch's error. */
static int run_blocks(const amz__sampler_params_t *p, samp_rec_t *recs, size_t n, int P) {
  samp_ctx_t x = {.p = p, .recs = recs, .n = n, .solo = P == 1};
  return amz__pool_run_watched(p->pool, P, samp_job, &x, p->watch);
}

/* Student's t quantile for a two-sided 99.9% interval with df degrees of freedom. */
static double t_999(size_t df) {
  static const double q[] = {0,     636.6, 31.60, 12.92, 8.610, 6.869, 5.959, 5.408,
                             5.041, 4.781, 4.587, 4.437, 4.318, 4.221, 4.140, 4.073,
                             4.015, 3.965, 3.922, 3.883, 3.850, 3.819, 3.792, 3.768,
                             3.745, 3.725, 3.707, 3.690, 3.674, 3.659, 3.646};
  return df < sizeof q / sizeof q[0] ? q[df] : 3.291;
}

/* Pairs farther than this many robust standard deviations (1.4826 MAD) from the
 * median are left out: a block preempted by another process, or whose partner ran
 * while the node's other ranks were between phases. One such pair among 16 of a
 * clear x1.44 (0.39 and 2.0 beside 1.33 to 1.76) made the test below fail. */
#define PAIR_OUTLIER_SD 5.0
/* ... among this many pairs or more. Eight pairs of independent lognormal items
 * (sigma 1.5, no contention) read as a slowdown 44 times in 20000 with the filter,
 * 3 without: their own tails are then what it removes. */
#define PAIR_OUTLIER_MIN 12

double amz__contention_from_pairs(const double *log_ratio, size_t k) {
  if (k < 3) return 1.0;
  double kept[4096];
  if (k > sizeof kept / sizeof kept[0]) k = sizeof kept / sizeof kept[0];
  double med = amz__median(log_ratio, k), mad = amz__mad(log_ratio, k);
  size_t n = 0;
  for (size_t i = 0; i < k; i++)
    if (k < PAIR_OUTLIER_MIN || !(mad > 0) ||
        fabs(log_ratio[i] - med) <= PAIR_OUTLIER_SD * 1.4826 * mad)
      kept[n++] = log_ratio[i];
  if (n < 3) return 1.0;
  double mean = amz__mean(kept, n), se = amz__stddev(kept, n) / sqrt((double)n);
  return fabs(mean) > t_999(n - 1) * se ? exp(mean) : 1.0;
}

/* Growing array of sample records plus the sorted set of taken ranges. */
typedef struct samp_state {
  samp_rec_t *v;
  size_t n, cap;
  amz__rangeset_t taken;
} samp_state_t;

/* concurrent: the process's workers all busy; contended: the workers at which the
 * contention was measured all busy (the same, or with a node gate the node's). */
static samp_rec_t *push(samp_state_t *st, uint64_t b, uint64_t e, int concurrent,
                        int contended) {
  if (st->n == st->cap) {
    size_t cap = st->cap ? 2 * st->cap : 64;
    samp_rec_t *v = realloc(st->v, cap * sizeof *v);
    if (!v) return NULL;
    st->v = v;
    st->cap = cap;
  }
  samp_rec_t *r = &st->v[st->n++];
  memset(r, 0, sizeof *r);
  r->s.begin = b;
  r->s.end = e;
  r->s.concurrent = concurrent;
  r->s.contended = contended;
  return r;
}

static uint64_t bitrev(uint64_t x, int bits) {
  uint64_t r = 0;
  for (int i = 0; i < bits; i++) {
    r = (r << 1) | (x & 1);
    x >>= 1;
  }
  return r;
}

/* A deterministic uniform number in [0, 1) for index i (splitmix64 finalizer): plans
 * are reproducible, yet sample positions do not sit on a fixed grid. */
static double hash01(uint64_t i) {
  uint64_t z = i + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* Slot iterator: jittered stratified sampling. Visit i = 0, 1, ... takes stratum
 * bitrev(i) of 2^bits equal strata (a low-discrepancy order: every prefix covers
 * the range evenly) and a random slot inside it. Without the jitter the sample
 * would always contain slot 0 and sit on a grid, which biases the mean whenever the
 * first item or a periodic pattern is atypical (Mandelbrot's row 0 is the real
 * axis, the costliest row). */
typedef struct slot_iter {
  uint64_t n, m, n_slots, i, limit;
  int bits;
} slot_iter_t;

static void slots_init(slot_iter_t *it, uint64_t n, uint64_t m) {
  it->n = n;
  it->m = m;
  it->n_slots = (n + m - 1) / m;
  it->bits = 0;
  while (it->bits < 63 && ((uint64_t)1 << it->bits) < it->n_slots) it->bits++;
  it->limit = (uint64_t)1 << it->bits;
  it->i = 0;
}

/* Next free slot index, or UINT64_MAX. */
static uint64_t slots_next(slot_iter_t *it, const amz__rangeset_t *taken, int need_pair) {
  while (it->i < it->limit) {
    uint64_t i = it->i++;
    double u = ((double)bitrev(i, it->bits) + hash01(i)) / (double)it->limit;
    uint64_t j = (uint64_t)(u * (double)it->n_slots);
    if (j >= it->n_slots || (need_pair && j + 1 >= it->n_slots)) continue;
    uint64_t b = j * it->m, e = (j + 1 + (uint64_t)need_pair) * it->m;
    if (e > it->n) e = it->n;
    if (amz__rangeset_overlaps(taken, b, e)) continue;
    return j;
  }
  return UINT64_MAX;
}

/* Inserts [b, e) into the sorted taken set in place (a binary search and a move,
 * not a re-sort per block: sampling takes thousands of blocks). */
static int take(samp_state_t *st, uint64_t b, uint64_t e) {
  amz__rangeset_t *t = &st->taken;
  int rc = amz__rangeset_add(t, b, e, 0);
  if (rc != 0) return rc;
  size_t i = amz__rangeset_lower(t, b); /* ranges are disjoint: first with end > b */
  if (i < t->n - 1) {
    memmove(&t->v[i + 1], &t->v[i], (t->n - 1 - i) * sizeof *t->v);
    t->v[i] = (amz__range_t){b, e, 0};
  }
  return 0;
}

/* Sums over the blocks sampled so far (raw times, as measured): wall, CPU and
 * run-queue seconds, items; runq may be NULL. */
static void samp_totals(const samp_state_t *st, double *wall, double *cpu, double *items,
                        double *runq) {
  double q = 0.0;
  *wall = *cpu = *items = 0.0;
  for (size_t i = 0; i < st->n; i++) {
    if (!st->v[i].done) continue;
    *wall += st->v[i].s.wall_s;
    *cpu += st->v[i].s.cpu_s;
    q += st->v[i].s.runq_s;
    *items += (double)(st->v[i].s.end - st->v[i].s.begin);
  }
  if (runq) *runq = q;
}

/* CPU/wall of the blocks done so far (amz__cpu_ratio: a computing kernel kept off
 * its core does not read as a waiting one). */
static double samp_cpu_ratio(const samp_state_t *st) {
  double w, c, k, q;
  samp_totals(st, &w, &c, &k, &q);
  return amz__cpu_ratio(c, w, q);
}

static double per_item(const samp_rec_t *r) {
  return r->s.wall_s / (double)(r->s.end - r->s.begin);
}

/* Relative standard error of the mean per-item cost: the larger of the random-group
 * estimate and the blocks' own spread (below). The random-group method
 * (Wolter, Introduction to Variance Estimation, 1985, ch. 2): blocks are cut into
 * G groups of consecutive takes; as the take order is bit-reversed (low
 * discrepancy), each run of consecutive takes is itself spread over the whole
 * range, and the spread of the G group means measures the error of their average
 * honestly, also for costs that change sharply with the index (where a
 * successive-difference estimate is far too optimistic). Below 2G blocks each block
 * is its own group; one block tells nothing of the spread (100%). */
#define RSE_GROUPS 8
static double rel_std_error(const samp_state_t *st, double contention) {
  size_t n = 0;
  for (size_t i = 0; i < st->n; i++) n += st->v[i].done != 0;
  if (n < 2) return 1.0;
  const size_t G = n < 2 * RSE_GROUPS ? n : RSE_GROUPS;
  double wall[2 * RSE_GROUPS] = {0}, items[2 * RSE_GROUPS] = {0}, m[2 * RSE_GROUPS];
  double tw = 0.0, ti = 0.0;
  for (size_t i = 0, rank = 0; i < st->n; i++) {
    const samp_rec_t *r = &st->v[i];
    if (!r->done) continue;
    double w = r->s.wall_s / (r->s.contended ? contention : 1.0);
    double k = (double)(r->s.end - r->s.begin);
    size_t g = rank++ * G / n;
    wall[g] += w;
    items[g] += k;
    tw += w;
    ti += k;
  }
  for (size_t g = 0; g < G; g++) m[g] = wall[g] / items[g];
  double mean = tw / ti;
  if (!(mean > 0)) return 0.0; /* nothing costs anything: nothing to be wrong about */
  double e = amz__stddev(m, G) / sqrt((double)G) / mean;
  /* The blocks' own spread: the standard error of the ratio of their sums as if
   * they were drawn at random (conservative for a stratified sample of a smooth
   * trend). Eight group means are themselves a small sample: when a few costly
   * items decide the mean they often agree by chance, and the estimate reads low
   * (1 item in 100 with half of the work: the truth within the interval's bound in
   * 13 of 20 cost tables; with the larger of the two, 16; bench_sampler
   * --honesty). */
  double ss = 0.0;
  for (size_t i = 0; i < st->n; i++) {
    const samp_rec_t *r = &st->v[i];
    if (!r->done) continue;
    double w = r->s.wall_s / (r->s.contended ? contention : 1.0);
    double k = (double)(r->s.end - r->s.begin);
    ss += (w - mean * k) * (w - mean * k);
  }
  double eb = sqrt(ss * (double)n / (double)(n - 1)) / ti / mean;
  if (eb > e) e = eb;
  return e < 1.0 ? e : 1.0;
}

/* 3. Sampling without rounds. Rounds of blocks growing 4x ended on a barrier, where
 * every worker waited for the round's slowest block, and the sample was judged
 * only between rounds: they overshot the error target up to 3x (bench_sampler).
 * Here the workers take blocks one by one until the sample is judged sufficient,
 * and each finishes only the block it holds. Blocks are created in small batches
 * at jittered stratified positions (the slot iterator) and handed out in that
 * order under a mutex (a block takes at least 20 us); a worker runs its block on
 * a copy and stores it back, so the records may move. Worker 0 judges the sample
 * between its blocks, on the blocks done so far: each time they grew by a
 * quarter, or when nothing is left to hand out; while lingering, every
 * LINGER_ROUND_S. It is the calling thread, except in a watched run (a helper:
 * the MPI layer's linger hook then asks whether it may call MPI). The others wait
 * for its judgement only when nothing is left to hand out. */
typedef struct cont {
  const amz__sampler_params_t *p;
  samp_state_t *st;
  slot_iter_t *it;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t m, N, left, max_items, cover, sampled;
  size_t issued, n_min, done_blocks, judged_at;
  uint64_t done_items;
  double contention, t_start, next_linger;
  int PR, solo, stop, exhausted, lingered, oom;
  int node_busy; /* a node gate: the node's other ranks sample at the same time */
  const char *reason;
} cont_t;

/* Creates up to PR more blocks within the item cap; 0 when none could be. */
static int cont_more(cont_t *c) {
  int added = 0;
  while (added < c->PR && c->sampled < c->max_items && !c->exhausted) {
    uint64_t j = slots_next(c->it, &c->st->taken, 0);
    if (j == UINT64_MAX) {
      c->exhausted = 1;
      break;
    }
    uint64_t b = j * c->m, e = b + c->m > c->N ? c->N : b + c->m;
    if (!push(c->st, b, e, c->PR > 1, c->PR > 1 || c->node_busy) || take(c->st, b, e) != 0) {
      c->oom = 1;
      c->stop = 1;
      break;
    }
    c->sampled += e - b;
    added++;
  }
  return added > 0;
}

static void cont_stop(cont_t *c, const char *reason) {
  if (reason && !c->lingered) c->reason = reason;
  c->stop = 1;
  pthread_cond_broadcast(&c->cv);
}

/* Worker 0's judgement, under the mutex. `stuck`: nothing is left to hand out. */
static void cont_judge(cont_t *c, int stuck) {
  const amz__sampler_params_t *p = c->p;
  c->judged_at = c->done_blocks;
  double rse = rel_std_error(c->st, c->contention);
  int target = c->done_blocks >= c->n_min && rse <= p->rel_error && c->done_items >= c->cover;
  int at_cap = c->sampled >= c->max_items;
  if (c->lingered || target || at_cap) {
    if (!c->lingered) c->reason = target ? "error target reached" : "sampled fraction limit reached";
    if (!p->linger || !p->linger(p->linger_ctx)) {
      cont_stop(c, NULL);
      return;
    }
    if (!c->lingered) {
      uint64_t cap = (uint64_t)((double)c->left * LINGER_FRACTION);
      if (cap > c->max_items) c->max_items = cap;
      c->reason = target ? AMZ__STOP_LINGERED : AMZ__STOP_LINGERED_LIMIT;
      c->lingered = 1;
      pthread_cond_broadcast(&c->cv); /* the cap grew: waiting workers may go on */
    }
    c->next_linger = amz__clock_now(p->clock) + LINGER_ROUND_S;
    /* Stuck at the (raised) cap, or with no free slot left: nothing more to do. */
    if (stuck && (c->exhausted || c->sampled >= c->max_items)) cont_stop(c, NULL);
    return;
  }
  /* Stuck below the cap, without the target: no free slot is left. */
  if (stuck) cont_stop(c, "all slots sampled");
}

static void cont_job(void *arg, int w) {
  cont_t *c = arg;
  const amz__sampler_params_t *p = c->p;
  runq_tally_t t;
  runq_start(&t, p);
  pthread_mutex_lock(&c->mu);
  for (;;) {
    size_t i = 0;
    int got = 0;
    while (!c->stop) {
      if (amz__clock_now(p->clock) - c->t_start >= p->max_seconds) {
        cont_stop(c, "time budget spent");
        break;
      }
      if (w == 0 && (c->lingered ? amz__clock_now(p->clock) >= c->next_linger
                                 : c->judged_at == (size_t)-1 ||
                                       c->done_blocks >= c->judged_at + c->judged_at / 4 + 1)) {
        cont_judge(c, 0);
        continue;
      }
      if (c->issued < c->st->n || cont_more(c)) {
        i = c->issued++;
        got = 1;
        break;
      }
      if (w == 0) {
        cont_judge(c, 1); /* stops, unless the linger hook raised the cap */
      } else {
        /* Until worker 0 decides; in slices when watched, so that a run given up
         * (worker 0 stuck in a call) is left at once: the watchdog waits for every
         * worker outside a kernel call to leave. */
        amz__watch_slot_t *slot = p->watch ? amz__watch_current() : NULL;
        if (!slot) {
          pthread_cond_wait(&c->cv, &c->mu);
        } else {
          struct timespec ts;
          clock_gettime(CLOCK_REALTIME, &ts);
          ts.tv_nsec += 1000000;
          if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
          pthread_cond_timedwait(&c->cv, &c->mu, &ts);
          pthread_mutex_unlock(&c->mu);
          amz__watch_leave(slot); /* ends this thread if the run was given up */
          pthread_mutex_lock(&c->mu);
        }
      }
    }
    if (!got) break;
    samp_rec_t r = c->st->v[i];
    pthread_mutex_unlock(&c->mu);
    run_block(p, &r, w, c->solo);
    pthread_mutex_lock(&c->mu);
    c->st->v[i] = r;
    c->done_blocks++;
    c->done_items += r.s.end - r.s.begin;
    runq_note(&t, c->st->v, i);
  }
  runq_flush(&t, c->st->v);
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

/* Runs one block of m items alone on the caller at the next free random position
 * (the c-th of a deterministic sequence), counted in *sampled. *out is the block, or
 * NULL when 64 positions in a row were taken (the free items are too scattered for
 * blocks of m). Returns 0 or an error code. */
static int solo_block(const amz__sampler_params_t *p, samp_state_t *st, int *c, uint64_t m,
                      uint64_t *sampled, samp_rec_t **out) {
  const uint64_t N = p->task->n_items;
  *out = NULL;
  for (int misses = 0; misses < 64; misses++) {
    ++*c;
    double frac = hash01(1000003u * (uint64_t)*c);
    uint64_t b = (uint64_t)(frac * (double)(N - (m < N ? m : N)));
    uint64_t e = b + m > N ? N : b + m;
    if (amz__rangeset_overlaps(&st->taken, b, e)) continue;
    samp_rec_t *r = push(st, b, e, 0, 0);
    if (!r || take(st, b, e) != 0) return AMZ_ENOMEM;
    int rc = run_blocks(p, r, 1, 1);
    if (rc != 0) return rc;
    *sampled += e - b;
    *out = r;
    return 0;
  }
  return 0;
}

/* Whether the kernel waits (I/O, sleep), from blocks that ran alone, each in its own
 * run-queue reading: the median of their CPU/wall ratios (amz__cpu_ratio). A
 * preemption next to a block is charged to it up to its whole time off the CPU,
 * which makes a sleeping block read as computing on a loaded machine: one such block
 * must not decide, as a sum over the blocks would let it. */
static int solo_blocks_wait(const samp_state_t *st) {
  double r[WAIT_BLOCKS_MAX];
  size_t k = 0;
  for (size_t i = 0; i < st->n && k < WAIT_BLOCKS_MAX; i++) {
    const amz__sample_t *s = &st->v[i].s;
    if (st->v[i].done && !s->concurrent) r[k++] = amz__cpu_ratio(s->cpu_s, s->wall_s, s->runq_s);
  }
  return k > 0 && amz__median(r, k) < AMZ__WAITING_CPU_RATIO;
}

int amz__sample(const amz__sampler_params_t *p, amz__workload_t *wl, amz__rangeset_t *done,
                amz__rangeset_t *failed, amz__chunk_rec_t **recs_out, size_t *n_recs,
                int **rec_workers) {
  const uint64_t N = p->task->n_items;
  const int P = p->workers;
  const amz__clock_t *clk = p->clock;
  double t_start = amz__clock_now(clk);
  samp_state_t st = {0};
  int rc = 0;
  uint64_t *other = NULL; /* contention pairs: the half run with all workers busy */
  const char *reason = "no items";
  double contention = 1.0;
  uint64_t sampled = 0;
  /* Items completed by an earlier job (a checkpoint) are never sampled: they are
   * taken from the start. */
  uint64_t excluded = 0;
  if (p->exclude && p->exclude->n > 0) {
    for (size_t i = 0; i < p->exclude->n; i++)
      if (amz__rangeset_add(&st.taken, p->exclude->v[i].begin, p->exclude->v[i].end, 0) != 0) {
        rc = AMZ_ENOMEM;
        goto out;
      }
    excluded = amz__rangeset_items(p->exclude);
  }
  const uint64_t left = N - (excluded < N ? excluded : N);
  uint64_t max_items = (uint64_t)((double)left * MAX_FRACTION);
  if (max_items < 1) max_items = left < 1 ? 0 : 1;

  /* 1. Calibration on worker 0, at random positions. */
  uint64_t m = 1, m_cap = left / 64 > 1 ? left / 64 : 1;
  int c = 0;
  while (left > 0 && sampled < max_items) {
    samp_rec_t *r = NULL;
    if ((rc = solo_block(p, &st, &c, m, &sampled, &r)) != 0) goto out;
    if (!r) break; /* the free items are too scattered for blocks of m */
    double want = TARGET_BLOCK_S > MOVED_RATIO * r->moved_s ? TARGET_BLOCK_S
                                                             : MOVED_RATIO * r->moved_s;
    if (r->s.wall_s >= want || m >= m_cap) break;
    uint64_t grow = r->s.wall_s > 0 ? (uint64_t)ceil(want / r->s.wall_s) : 16;
    if (grow < 2) grow = 2;
    if (grow > 16) grow = 16;
    m = m * grow > m_cap ? m_cap : m * grow;
    if (amz__clock_now(clk) - t_start > p->max_seconds / 4) break;
  }

  slot_iter_t it;
  slots_init(&it, N, m);

  /* A loop whose whole work is a couple of milliseconds cannot repay threads much,
   * nor more measuring: stop with the calibration blocks, alone. */
  int tiny = 0;
  if (st.n > 0 && N > 0) {
    double w, c, k;
    samp_totals(&st, &w, &c, &k, NULL);
    tiny = w / k * (double)left < TINY_LOOP_S;
  }
  if (!tiny && P > 1 && amz__pool_grow(p->pool, P - 1) != 0) {
    rc = AMZ_ESYS;
    goto out;
  }

  /* 2. Contention pairs, when there is more than one worker to share with: the
   * process's, or with a node gate the node's (the ranks take turns for the halves
   * that run alone, and run the busy halves together). */
  const amz__node_gate_t *g = p->gate;
  const int busy_workers = g ? g->node_workers : P;
  /* Across ranks of one thread, a kernel that mostly waits is not measured: it
   * will run on many more threads than cores (step 3), which a figure at one thread
   * a core would not describe, and its lone halves are long for what they tell
   * (sleeping items of 100 us: 8 pairs cost the first run 5 ms, 20%). */
  int waits = 0;
  if (g && P == 1 && !tiny && N > 0) {
    /* One block read as computing in 2 to 4 plans of 40 (sleeping items on 2 ranks
     * with two other processes spinning on the 2 cores); with 3 blocks and their
     * median, in none of 120. The blocks are real work; on items of 20 us they cost
     * 40 us. */
    while (st.n < WAIT_BLOCKS && sampled + m <= max_items) {
      samp_rec_t *r = NULL;
      if ((rc = solo_block(p, &st, &c, m, &sampled, &r)) != 0) goto out;
      if (!r) break;
    }
    waits = solo_blocks_wait(&st);
  }
  size_t pairs = 0, first = st.n;
  if (g && (rc = g->turn(g->ctx)) != 0) goto out;
  if (busy_workers > 1 && N > 0 && !tiny && !waits) {
    size_t want = (size_t)(3 * P) > 8 ? (size_t)(3 * P) : 8;
    /* The node's workers wait through every rank's turn: the budget is shared. */
    double solo_time = 0.0, solo_cap = p->max_seconds / 4 / (g ? g->ranks : 1);
    other = malloc(2 * want * sizeof *other);
    if (!other) {
      rc = AMZ_ENOMEM;
      goto out;
    }
    while (pairs < want && sampled + 2 * m <= max_items && solo_time < solo_cap) {
      uint64_t j = slots_next(&it, &st.taken, 1);
      if (j == UINT64_MAX) break;
      uint64_t b = j * m, e = b + m > N ? N : b + m, e2 = e + m > N ? N : e + m;
      /* Which half runs alone is a coin flip per pair: with costs that repeat along
       * the index (every 8th item costly), a fixed order can put the cheaper half
       * alone in every pair and read the pattern as contention. */
      int second = e2 > e && hash01(j ^ 0x5bd1e995u) < 0.5;
      uint64_t sb = second ? e : b, se = second ? e2 : e;
      other[2 * pairs] = second ? b : e;
      other[2 * pairs + 1] = second ? e : e2;
      samp_rec_t *r = push(&st, sb, se, 0, 0);
      if (!r || take(&st, b, e2) != 0) {
        rc = AMZ_ENOMEM;
        goto out;
      }
      if ((rc = run_blocks(p, r, 1, 1)) != 0) goto out;
      solo_time += r->s.wall_s;
      /* Both halves count against the limit: the other runs just below. */
      sampled += e2 - b;
      pairs++;
    }
  }
  if (g && (rc = g->all(g->ctx)) != 0) goto out;
  if (pairs > 0) {
    size_t conc_first = st.n;
    for (size_t i = 0; i < pairs; i++) {
      uint64_t b = other[2 * i], e = other[2 * i + 1];
      if (!push(&st, b, e, P > 1, 1)) {
        rc = AMZ_ENOMEM;
        goto out;
      }
    }
    if ((rc = run_blocks(p, &st.v[conc_first], pairs, P)) != 0) goto out;
    double *ratio = malloc(pairs * sizeof *ratio);
    if (!ratio) {
      rc = AMZ_ENOMEM;
      goto out;
    }
    /* Log ratios of the pairs: their mean is the slowdown, and it counts only when
     * it stands far out of the pairs' own noise (Student's t beyond its 99.9%
     * two-sided quantile). Adjacent blocks of a smooth or memory-bound kernel cost
     * alike, so a real slowdown is clear by far; for independent heavy-tailed
     * item costs the ratios are noise, and a few pairs can lean one way by
     * chance (a lognormal loop, sigma 1.5, once showed x2.3 at 2.8 standard
     * errors): taken at face value that made the model run it serially, 2x
     * slower than any parallel schedule. */
    size_t k = 0;
    for (size_t i = 0; i < pairs; i++) {
      double solo = per_item(&st.v[first + i]), conc = per_item(&st.v[conc_first + i]);
      if (solo > 0 && conc > 0) ratio[k++] = log(conc / solo);
    }
    contention = amz__contention_from_pairs(ratio, k);
    if (p->pair_log_out) {
      size_t n = k < AMZ__PAIR_LOG_MAX ? k : AMZ__PAIR_LOG_MAX;
      memcpy(p->pair_log_out, ratio, n * sizeof *ratio);
      *p->n_pair_log_out = n;
    }
    free(ratio);
  }
  /* A ratio below 1 is warm-up of the solo blocks (page faults, caches, clock
   * ramp), not a machine that gets faster when shared: keep it for the report, but
   * model no speed-up from sharing. */
  double contention_raw = contention;
  if (contention < 1.0) contention = 1.0;

  /* 3. Concurrent blocks until the mean is known well enough. A kernel that mostly
   * waits (CPU/wall well below 1: I/O, sleeps) is sampled with as many threads as
   * the cores could keep busy, as the plan will run it: sampling on the cores alone
   * would take most of the run. */
  int PR = P;
  if (!tiny) {
    /* A computing kernel on a loaded core is not sampled wider (amz__cpu_ratio). */
    double r = samp_cpu_ratio(&st);
    if (r < AMZ__WAITING_CPU_RATIO && P >= 1) {
      double want = ceil((double)P / (r > 0.01 ? r : 0.01));
      double cap = 32.0 * P < 256.0 ? 32.0 * P : 256.0;
      int target = (int)(want < cap ? want : cap);
      if (N / m > 0 && (uint64_t)target > N / m / 4) target = (int)(N / m / 4);
      if (target > PR && amz__pool_grow(p->pool, target - 1) == 0) PR = target;
    }
  }
  size_t n_min = (size_t)(4 * PR) > 16 ? (size_t)(4 * PR) : 16;
  uint64_t cover = (uint64_t)((double)left * COVER_FRACTION);
  if (cover > COVER_ITEMS) cover = COVER_ITEMS;
  reason = N == 0 ? "no items" : "all slots sampled";
  if (tiny) reason = AMZ__STOP_TINY;
  if (N > 0 && !tiny) {
    cont_t c = {.p = p, .st = &st, .it = &it, .m = m, .N = N, .left = left,
                .max_items = max_items, .cover = cover, .sampled = sampled,
                .issued = st.n, .n_min = n_min, .done_blocks = st.n,
                .judged_at = (size_t)-1, .done_items = sampled, .contention = contention,
                .t_start = t_start, .PR = PR, .solo = PR == 1, .reason = reason,
                .node_busy = busy_workers > P};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    rc = amz__pool_run_watched(p->pool, PR, cont_job, &c, p->watch);
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    /* Blocks made but never handed out are not part of the sample. */
    for (size_t i = c.issued; i < st.n; i++) c.sampled -= st.v[i].s.end - st.v[i].s.begin;
    if (rc == 0) st.n = c.issued;
    sampled = c.sampled;
    reason = c.reason;
    if (rc == 0 && c.oom) rc = AMZ_ENOMEM;
    if (rc != 0) goto out;
  }

  /* Statistics. */
  amz__sample_t *s = malloc((st.n ? st.n : 1) * sizeof *s);
  amz__chunk_rec_t *cr = malloc((st.n ? st.n : 1) * sizeof *cr);
  int *cw = malloc((st.n ? st.n : 1) * sizeof *cw);
  if (!s || !cr || !cw) {
    free(s);
    free(cr);
    free(cw);
    rc = AMZ_ENOMEM;
    goto out;
  }
  double t_end = amz__clock_now(clk);
  for (size_t i = 0; i < st.n; i++) {
    s[i] = st.v[i].s;
    if (s[i].contended && contention > 0) {
      s[i].wall_s /= contention; /* alone-equivalent, like the calibration blocks */
      s[i].cpu_s /= contention;
    }
    /* Times relative to the end of sampling, so they are negative in the first
     * run's result (the run starts after the plan is made). */
    cr[i] = (amz__chunk_rec_t){st.v[i].s.begin, st.v[i].s.end, st.v[i].t0 - t_end,
                               st.v[i].t1 - t_end, st.v[i].rc};
    cw[i] = st.v[i].worker;
    if (amz__rangeset_add(done, s[i].begin, s[i].end, 0) != 0) rc = AMZ_ENOMEM;
    for (size_t k = 0; k < st.v[i].fails.n && rc == 0; k++)
      rc = amz__rangeset_add(failed, st.v[i].fails.v[k].begin, st.v[i].fails.v[k].end,
                             st.v[i].fails.v[k].code);
    if (st.v[i].oom) rc = AMZ_ENOMEM;
    if (p->retry_calls) *p->retry_calls += st.v[i].retry_calls;
    if (p->recovered) *p->recovered += st.v[i].recovered;
  }
  amz__rangeset_sort(done);
  amz__rangeset_sort(failed);
  amz__workload_from_samples(wl, N, s, st.n);
  wl->contention = contention;
  wl->contention_raw = contention_raw;
  wl->contention_workers = busy_workers;
  wl->rel_error = rel_std_error(&st, contention);
  wl->sample_wall_s = t_end - t_start;
  wl->sample_workers = PR;
  wl->stop_reason = reason;
  if (p->samples_out) {
    *p->samples_out = s;
    *p->n_samples_out = st.n;
  } else {
    free(s);
  }
  *recs_out = cr;
  *rec_workers = cw;
  *n_recs = st.n;

out:
  free(other);
  for (size_t i = 0; i < st.n; i++) amz__rangeset_free(&st.v[i].fails);
  free(st.v);
  amz__rangeset_free(&st.taken);
  if (rc == AMZ_ETIMEOUT || rc == AMZ_ESYS) return rc; /* the message is said */
  if (rc != 0) return amz__fail(rc, "out of memory while sampling");
  return 0;
}
