/*
 * The executor: runs a task's items on the pool with one of the schedules, and
 * records per-chunk start/end and per-worker busy / dispatch / idle time.
 *
 * Hot path per chunk: one fetch-and-add (dynamic family), an uncontended lock of the
 * worker's own range (static pieces) or nothing (cyclic), two clock reads, one
 * record append. Items already executed while sampling are cut out
 * of chunks here with a binary search in the sorted skip list.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One worker's range under static blocks with a way out (schedule.h): the
 * unclaimed items [front, back), taken from the front by the worker and from the
 * back by the others. `left` mirrors back - front for the others' choice of whom
 * to take from, without the lock. */
typedef struct steal_slot {
  _Alignas(64) pthread_mutex_t mu;
  uint64_t front, back;
  _Atomic uint64_t left;
  int taken; /* the range was taken from another worker (else the own block) */
} steal_slot_t;

typedef struct exec_ctx {
  const amz__exec_params_t *p;
  amz__sched_t sched;
  _Alignas(64) _Atomic uint64_t next; /* chunk index, or item position for AWF */
  _Alignas(64) _Atomic uint64_t items_done; /* only maintained with a progress hook */
  _Atomic double next_progress;
  atomic_flag progress_busy;
  _Atomic double *rate; /* AWF: items per second per worker, 0 = not measured */
  steal_slot_t *slot;   /* STATIC: every worker's range */
  amz__worker_rec_t *w;
  uint64_t items_total;
} exec_ctx_t;

static int record_chunk(amz__worker_rec_t *r, uint64_t b, uint64_t e, double ts,
                        double te, int status) {
  r->chunks_total++;
  if (r->n_chunks == r->cap) {
    if (r->cap >= r->max_records) return 0; /* bounded: totals still count */
    size_t cap = r->cap ? 2 * r->cap : 64;
    if (cap > r->max_records) cap = r->max_records;
    amz__chunk_rec_t *c = realloc(r->chunks, cap * sizeof *c);
    if (!c) {
      r->oom = 1;
      return AMZ_ENOMEM;
    }
    r->chunks = c;
    r->cap = cap;
  }
  r->chunks[r->n_chunks++] = (amz__chunk_rec_t){b, e, ts, te, status};
  return 0;
}

/* A range that failed for good (after isolation and retries, when enabled). */
static void worker_failed(void *ctx, uint64_t b, uint64_t e, int rc) {
  amz__worker_rec_t *r = ctx;
  r->failures++;
  if (amz__rangeset_add(&r->failed, b, e, rc) != 0) r->oom = 1;
  const amz_hooks_t *h = r->hooks;
  if (h && h->on_error) h->on_error(b, e, rc, r->id, r->hooks_user);
}

/* Runs one piece through the kernel; failures go to the worker's sink. */
static int run_piece(exec_ctx_t *x, amz__worker_rec_t *r, uint64_t b, uint64_t e) {
  return amz__run_items(x->p->task, x->p->retries, x->p->ckpt, b, e, &r->sink);
}

/* Executes [b, e) minus the skip list; returns the first failure code, adds the
 * items executed to *items. */
static int run_range(exec_ctx_t *x, amz__worker_rec_t *r, uint64_t b, uint64_t e,
                     uint64_t *items) {
  const amz__rangeset_t *skip = x->p->skip;
  if (!skip || skip->n == 0) {
    *items = e - b;
    return run_piece(x, r, b, e);
  }
  int status = 0;
  uint64_t pos = b, n = 0;
  size_t i = amz__rangeset_lower(skip, b);
  while (pos < e) {
    uint64_t stop = e;
    if (i < skip->n && skip->v[i].begin < e) stop = skip->v[i].begin > pos ? skip->v[i].begin : pos;
    if (stop > pos) {
      int rc = run_piece(x, r, pos, stop);
      if (rc != 0 && status == 0) status = rc;
      n += stop - pos;
    }
    if (stop == e) break;
    pos = skip->v[i].end;
    i++;
  }
  *items = n;
  return status;
}

static void report_progress(exec_ctx_t *x, double now_rel, int final) {
  const amz__exec_params_t *p = x->p;
  if (!final && now_rel < atomic_load_explicit(&x->next_progress, memory_order_relaxed))
    return;
  if (atomic_flag_test_and_set_explicit(&x->progress_busy, memory_order_acquire)) return;
  /* Another worker may have reported between our check and the flag: look again. */
  if (!final && now_rel < atomic_load_explicit(&x->next_progress, memory_order_relaxed)) {
    atomic_flag_clear_explicit(&x->progress_busy, memory_order_release);
    return;
  }
  atomic_store_explicit(&x->next_progress, now_rel + p->progress_interval,
                        memory_order_relaxed);
  amz_progress_t pr;
  pr.items_done = atomic_load_explicit(&x->items_done, memory_order_relaxed);
  if (p->progress_scale > 1.0) pr.items_done = (uint64_t)((double)pr.items_done * p->progress_scale);
  pr.items_total = x->items_total;
  if (pr.items_done > pr.items_total) pr.items_done = pr.items_total;
  pr.elapsed_s = now_rel;
  pr.items_per_s = now_rel > 0 ? (double)pr.items_done / now_rel : 0.0;
  pr.eta_s = pr.items_per_s > 0
                 ? (double)(pr.items_total - pr.items_done) / pr.items_per_s
                 : INFINITY;
  p->hooks->on_progress(&pr, p->hooks_user);
  atomic_flag_clear_explicit(&x->progress_busy, memory_order_release);
}

/* AWF weight of worker w: its measured rate over the mean measured rate. */
static double awf_weight(exec_ctx_t *x, int w) {
  double mine = atomic_load_explicit(&x->rate[w], memory_order_relaxed);
  if (mine <= 0.0) return 1.0;
  double sum = 0.0;
  int k = 0;
  for (int i = 0; i < x->p->workers; i++) {
    double r = atomic_load_explicit(&x->rate[i], memory_order_relaxed);
    if (r > 0.0) {
      sum += r;
      k++;
    }
  }
  return k ? mine / (sum / k) : 1.0;
}

/* Static blocks with a way out: worker w's next piece of its own range; when that
 * is empty, the back half of the unclaimed items of the range with the most, which
 * becomes w's own. Returns 0 when no range has anything left. */
__attribute__((noinline)) static int steal_next(exec_ctx_t *x, int w, uint64_t *b,
                                                uint64_t *e) {
  steal_slot_t *me = &x->slot[w];
  const int W = x->p->workers;
  for (;;) {
    pthread_mutex_lock(&me->mu);
    if (me->front < me->back) {
      *b = me->front;
      *e = me->front + amz__steal_piece(me->back - me->front);
      me->front = *e;
      atomic_store_explicit(&me->left, me->back - me->front, memory_order_relaxed);
      if (me->taken) /* the items it will run: sampled ones are cut out */
        x->w[w].stolen += *e - *b - (x->p->skip ? amz__rangeset_items_in(x->p->skip, *b, *e) : 0);
      pthread_mutex_unlock(&me->mu);
      return 1;
    }
    pthread_mutex_unlock(&me->mu);
    int v = -1;
    uint64_t most = 0;
    for (int i = 0; i < W; i++) {
      uint64_t l = atomic_load_explicit(&x->slot[i].left, memory_order_relaxed);
      if (i != w && l > most) most = l, v = i;
    }
    if (v < 0) return 0;
    steal_slot_t *vs = &x->slot[v];
    uint64_t from = 0, to = 0;
    pthread_mutex_lock(&vs->mu);
    if (vs->front < vs->back) {
      to = vs->back;
      from = to - amz__steal_take(to - vs->front);
      vs->back = from;
      atomic_store_explicit(&vs->left, vs->back - vs->front, memory_order_relaxed);
    }
    pthread_mutex_unlock(&vs->mu);
    if (from == to) continue; /* taken meanwhile: look again */
    pthread_mutex_lock(&me->mu);
    me->front = from;
    me->back = to;
    me->taken = 1;
    atomic_store_explicit(&me->left, to - from, memory_order_relaxed);
    pthread_mutex_unlock(&me->mu);
  }
}

/* Next chunk for worker w; j counts the worker's chunks so far. Returns 0 when done. */
static int next_chunk(exec_ctx_t *x, int w, uint64_t j, uint64_t *b, uint64_t *e) {
  if (x->p->source) return x->p->source(x->p->source_ctx, w, j, b, e);
  const amz__sched_t *s = &x->sched;
  switch (s->kind) {
    case AMZ_SCHED_STATIC: /* with a way out; one worker: its block, below */
      if (x->slot) return steal_next(x, w, b, e);
      /* fall through */
    case AMZ_SCHED_CYCLIC: {
      uint64_t k = (uint64_t)w + j * (uint64_t)s->workers;
      if (k >= s->n_chunks) return 0;
      amz__sched_chunk(s, k, b, e);
      return 1;
    }
    case AMZ_SCHED_AWF: {
      uint64_t pos = atomic_load_explicit(&x->next, memory_order_relaxed);
      double weight = awf_weight(x, w);
      for (;;) {
        if (pos >= s->n) return 0;
        uint64_t size = amz__sched_awf_size(s, s->n - pos, weight);
        if (atomic_compare_exchange_weak_explicit(&x->next, &pos, pos + size,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed)) {
          *b = pos;
          *e = pos + size;
          return 1;
        }
      }
    }
    default: {
      uint64_t k = atomic_fetch_add_explicit(&x->next, 1, memory_order_relaxed);
      if (k >= s->n_chunks) return 0;
      amz__sched_chunk(s, k, b, e);
      return 1;
    }
  }
}

static void worker_main(void *arg, int w) {
  exec_ctx_t *x = arg;
  const amz__exec_params_t *p = x->p;
  const amz__clock_t *clk = p->clock;
  const amz_hooks_t *h = p->hooks;
  int want_chunk_hook = h && h->on_chunk_done;
  int want_progress = h && h->on_progress;
  amz__worker_rec_t *r = &x->w[w];
  r->sink.watch = p->kernel_wrapped ? NULL : amz__watch_current();
  double t_prev = amz__clock_now(clk) - p->t_origin;
  r->t_first = t_prev;
  uint64_t b, e;
  /* Data moved by the kernel wrapper or the chunk source (MPI map mode) counts as
   * data, not as kernel or dispatch time. Only such runs read the thread-local
   * counter: in a shared library each read is a call, too dear for every chunk. */
  const int track = p->track_moved;
  double xs = track ? amz__tls_excluded_s : 0.0;
  for (uint64_t j = 0; next_chunk(x, w, j, &b, &e); j++) {
    double ts = amz__clock_now(clk) - p->t_origin, x0 = track ? amz__tls_excluded_s : 0.0;
    r->data_s += x0 - xs;
    r->dispatch_s -= x0 - xs;
    uint64_t items = 0;
    int status = run_range(x, r, b, e, &items);
    double te = amz__clock_now(clk) - p->t_origin;
    double moved = track ? amz__tls_excluded_s - x0 : 0.0;
    r->dispatch_s += ts - t_prev;
    r->busy_s += te - ts - moved;
    r->data_s += moved;
    r->items += items;
    record_chunk(r, b, e, ts, te, status);
    if (x->rate && te > ts)
      atomic_store_explicit(&x->rate[w], (double)r->items / r->busy_s, memory_order_relaxed);
    if (want_chunk_hook) {
      amz_chunk_info_t ci = {b, e, w, status, ts, te};
      h->on_chunk_done(&ci, p->hooks_user);
    }
    if (want_progress) {
      atomic_fetch_add_explicit(&x->items_done, items, memory_order_relaxed);
      report_progress(x, te, 0);
    }
    t_prev = te;
    xs = track ? amz__tls_excluded_s : 0.0;
  }
  r->t_last = amz__clock_now(clk) - p->t_origin;
  double tail = track ? amz__tls_excluded_s - xs : 0.0;
  r->dispatch_s += r->t_last - t_prev - tail;
  r->data_s += tail;
}

static void free_slots(exec_ctx_t *x) {
  if (!x->slot) return;
  for (int i = 0; i < x->p->workers; i++) pthread_mutex_destroy(&x->slot[i].mu);
  free(x->slot);
}

int amz__execute(const amz__exec_params_t *p, amz__exec_out_t *out) {
  memset(out, 0, sizeof *out);
  const amz__clock_t *clk = p->clock;
  double t_begin = amz__clock_now(clk) - p->t_origin;
  int W = p->workers;
  /* A pool too small would silently drop the missing workers' static chunks. */
  if (W < 1 || W > p->pool->n_helpers + 1)
    return amz__fail(AMZ_EINVAL, "executor: %d workers requested, the pool has %d", W,
                     p->pool->n_helpers + 1);
  exec_ctx_t *x = aligned_alloc(64, (sizeof(exec_ctx_t) + 63) / 64 * 64);
  if (!x) return amz__fail(AMZ_ENOMEM, "cannot allocate the executor state");
  memset(x, 0, sizeof *x);
  x->p = p;
  int rc = amz__sched_init(&x->sched, p->schedule, p->task->n_items, W, p->chunk);
  if (rc != 0) {
    free(x);
    return amz__fail(rc, "cannot build the %s schedule for %llu items on %d workers",
                     amz_schedule_name(p->schedule), (unsigned long long)p->task->n_items, W);
  }
  x->w = calloc((size_t)W, sizeof *x->w);
  if (p->schedule == AMZ_SCHED_AWF) x->rate = calloc((size_t)W, sizeof *x->rate);
  /* One worker runs its block as one chunk: nobody could take from it. */
  int steal = p->schedule == AMZ_SCHED_STATIC && W > 1 && !p->source;
  if (steal) x->slot = aligned_alloc(64, (size_t)W * sizeof *x->slot);
  if (!x->w || (p->schedule == AMZ_SCHED_AWF && !x->rate) || (steal && !x->slot)) {
    free(x->w);
    free((void *)x->rate);
    free(x->slot);
    amz__sched_free(&x->sched);
    free(x);
    return amz__fail(AMZ_ENOMEM, "cannot allocate records for %d workers", W);
  }
  uint64_t most = 0; /* items in the largest block */
  for (int i = 0; steal && i < W; i++) {
    steal_slot_t *sl = &x->slot[i];
    memset(sl, 0, sizeof *sl);
    pthread_mutex_init(&sl->mu, NULL);
    if (p->own_block)
      p->own_block(p->source_ctx, i, &sl->front, &sl->back);
    else if ((uint64_t)i < x->sched.n_chunks)
      amz__sched_chunk(&x->sched, (uint64_t)i, &sl->front, &sl->back);
    if (sl->back < sl->front) sl->back = sl->front;
    atomic_store_explicit(&sl->left, sl->back - sl->front, memory_order_relaxed);
    if (sl->back - sl->front > most) most = sl->back - sl->front;
  }
  size_t max_rec = p->max_records ? p->max_records : AMZ__MAX_RECORDS;
  /* Reserve the records each worker is expected to write, so the hot path does not
   * copy growing arrays: exact for cyclic chunks, the pieces of the largest block
   * plus a few taken ranges for static blocks, a fair share plus slack for shared
   * schedules (AWF's count is unknown: it grows on demand). */
  uint64_t share = x->sched.n_chunks / (uint64_t)W + 1;
  if (steal) share = amz__steal_pieces(most) + 16; /* and a few ranges taken */
  else if (!amz__sched_preassigned(p->schedule)) share += share / 4 + 16;
  for (int i = 0; i < W; i++) {
    amz__worker_rec_t *r = &x->w[i];
    r->id = i;
    r->hooks = p->hooks;
    r->hooks_user = p->hooks_user;
    r->sink = (amz__sink_t){.fail = worker_failed, .ctx = r};
    r->max_records = max_rec / (size_t)W + 1;
    size_t want = share < r->max_records ? (size_t)share : r->max_records;
    if (p->schedule != AMZ_SCHED_AWF && want > 0 && (r->chunks = malloc(want * sizeof *r->chunks)))
      r->cap = want;
  }
  uint64_t skipped = 0;
  if (p->skip) skipped = amz__rangeset_items(p->skip);
  x->items_total = p->task->n_items - skipped;
  atomic_store(&x->next_progress, p->progress_interval);
  atomic_flag_clear(&x->progress_busy);

  double t_par0 = amz__clock_now(clk) - p->t_origin;
  rc = amz__pool_run_watched(p->pool, W, worker_main, x, p->watch);
  double t_par1 = amz__clock_now(clk) - p->t_origin;
  if (rc != 0) { /* given up: no worker is left in this run's code */
    out->w = x->w;
    out->workers = W;
    amz__exec_out_free(out);
    free((void *)x->rate);
    free_slots(x);
    amz__sched_free(&x->sched);
    free(x);
    return rc;
  }

  if (p->hooks && p->hooks->on_progress) report_progress(x, t_par1, 1);

  out->w = x->w;
  out->workers = W;
  out->t_par_begin = t_par0;
  out->parallel_s = t_par1 - t_par0;
  int oom = 0;
  for (int i = 0; i < W; i++) {
    out->items_run += x->w[i].items;
    out->chunks_run += x->w[i].chunks_total;
    amz__rangeset_sort(&x->w[i].failed);
    oom |= x->w[i].oom;
  }
  out->wall_s = amz__clock_now(clk) - p->t_origin - t_begin;
  out->serial_s = out->wall_s - out->parallel_s;
  free((void *)x->rate);
  free_slots(x);
  amz__sched_free(&x->sched);
  free(x);
  if (oom) return amz__fail(AMZ_ENOMEM, "out of memory while recording chunks or failures");
  return 0;
}

void amz__exec_out_free(amz__exec_out_t *o) {
  if (!o->w) return;
  for (int i = 0; i < o->workers; i++) {
    free(o->w[i].chunks);
    amz__rangeset_free(&o->w[i].failed);
  }
  free(o->w);
  o->w = NULL;
}
