/*
 * Running an MPI plan, hierarchically.
 *
 * The items are cut into one global chunk sequence (schedule.c, for all R*T
 * workers of the run). Static and cyclic chunks are preassigned to global workers
 * (rank r's thread t is worker r*T + t): no messages. Dynamic-family chunks are
 * handed out inside each node from a shared counter in an MPI_Win_allocate_shared
 * window (C11 atomics, no MPI call per chunk). Nodes receive the global sequence in
 * batches of consecutive chunks: the first round is dealt without messages; when a
 * node runs low, one of its workers asks rank 0 for the next batch over two-sided
 * messages, answered by rank 0's progress thread (mpi_map.c), while the node's
 * other workers go on. Batch sizes follow weighted factoring (Hummel, Schmidt,
 * Uma & Wein 1996): half of what remains, shared among the nodes in proportion to
 * each node's measured speed, so uneven nodes finish together.
 *
 * Every rank of the run is a worker: rank 0 computes like the others.
 */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_internal.h"

/* The run's global totals, as the run's rank 0 sends them to the excluded ranks. */
typedef struct run_totals {
  uint64_t done, failed;
  double wall_s;
} run_totals_t;

/* ---- global chunk sequence helpers ---------------------------------------- */

static double node_weight(amz__node_shm_t *s0, int nodes, int node) {
  double sum = 0, mine = 0;
  int k = 0;
  for (int i = 0; i < nodes; i++) {
    uint64_t bits = atomic_load_explicit(&s0->rate_bits[i], memory_order_relaxed);
    double r;
    memcpy(&r, &bits, sizeof r);
    if (r > 0) {
      sum += r;
      k++;
    }
    if (i == node) mine = r;
  }
  return amz__node_weight(mine, sum, k);
}

uint64_t amz__take_batch(amz__node_shm_t *s0, const amz__sched_t *s, int nodes, int node,
                         uint64_t min_batch, uint64_t *first) {
  uint64_t pos = atomic_load_explicit(&s0->global_next, memory_order_relaxed);
  for (;;) {
    uint64_t cnt = amz__batch_chunks(s, pos, nodes, node_weight(s0, nodes, node), min_batch);
    if (cnt == 0) return 0;
    if (atomic_compare_exchange_weak_explicit(&s0->global_next, &pos, pos + cnt,
                                              memory_order_relaxed, memory_order_relaxed)) {
      *first = pos;
      return cnt;
    }
  }
}

/* ---- run set-up ------------------------------------------------------------ */

static amz_schedule_t run_kind(amz_schedule_t s) {
  return s == AMZ_SCHED_AWF ? AMZ_SCHED_FACTORING : s;
}

static size_t shm_header_bytes(int nodes) {
  size_t h = sizeof(amz__node_shm_t) + (size_t)nodes * sizeof(uint64_t);
  return (h + 63) / 64 * 64;
}

/* Per-run parameters of the installed choice (threads, schedule, chunk can change
 * when a run re-plans): threads per node, the smallest batch, the refill mark. */
static void run_params(amz_plan_t *p, uint64_t n_chunks) {
  amz__mpi_t *m = p->ext;
  for (int n = 0; n < m->run_nodes; n++) m->run_node_threads[n] = 0;
  for (int r = 0; r < m->run_size; r++) m->run_node_threads[m->run_node_of[r]] += m->threads;
  double chunk_s = n_chunks ? p->wl.mean_s * (double)p->task.n_items / (double)n_chunks : 0;
  uint64_t nw = (uint64_t)m->run_node_threads[m->run_node_id];
  amz__dist_params(n_chunks, chunk_s, m->net.lat_net_s, nw, m->run_node_id, &m->min_batch,
                   &m->low_water);
}

int amz__mpi_setup_run(amz_plan_t *p) {
  amz__mpi_t *m = p->ext;
  int pos = 0;
  for (int i = 0; i < m->size; i++)
    if (m->order[i] == m->rank) pos = i;
  m->used = pos < m->ranks;
  int rc = amz__mpi_check(MPI_Comm_split(m->comm, m->used ? 0 : MPI_UNDEFINED, pos, &m->run),
                          "MPI_Comm_split(run)");
  rc = amz__mpi_agree(m->comm, rc);
  if (rc != 0 || !m->used) return rc;
  MPI_Comm_rank(m->run, &m->run_rank);
  MPI_Comm_size(m->run, &m->run_size);
  rc = amz__mpi_check(MPI_Comm_split_type(m->run, MPI_COMM_TYPE_SHARED, m->run_rank,
                                          MPI_INFO_NULL, &m->run_node),
                      "MPI_Comm_split_type(run)");
  if (rc != 0) return amz__mpi_agree(m->run, rc);
  MPI_Comm_rank(m->run_node, &m->run_node_rank);
  MPI_Comm_size(m->run_node, &m->run_node_size);
  /* Run nodes numbered by their lowest run rank (rank 0's node is node 0). */
  int leader = m->run_rank;
  MPI_Allreduce(&m->run_rank, &leader, 1, MPI_INT, MPI_MIN, m->run_node);
  int *leaders = malloc((size_t)m->run_size * sizeof *leaders);
  m->run_node_of = malloc((size_t)m->run_size * sizeof *m->run_node_of);
  m->run_node_threads = calloc((size_t)m->run_size, sizeof *m->run_node_threads);
  if (!leaders || !m->run_node_of || !m->run_node_threads) {
    free(leaders);
    return amz__mpi_agree(m->run, amz__fail(AMZ_ENOMEM, "cannot allocate run tables"));
  }
  MPI_Allgather(&leader, 1, MPI_INT, leaders, 1, MPI_INT, m->run);
  int nodes = 0;
  for (int r = 0; r < m->run_size; r++) {
    if (leaders[r] == r) {
      for (int q = 0; q < m->run_size; q++)
        if (leaders[q] == r) m->run_node_of[q] = nodes;
      nodes++;
    }
  }
  free(leaders);
  m->run_nodes = nodes;
  m->run_node_id = m->run_node_of[m->run_rank];
  m->cross_node = nodes > 1 && m->thread_level >= MPI_THREAD_MULTIPLE;
  /* Batch table: every batch but the last has at least n_chunks / AMZ__MAX_BATCHES
   * + 1 chunks (amz__dist_params), so AMZ__MAX_BATCHES + nodes + 3 entries hold any
   * schedule's batches. */
  m->batch_cap = AMZ__MAX_BATCHES + (uint64_t)nodes + 3;

  /* + 64: the window's base is only 8-byte aligned; the counters want their own
   * cache lines. The segment is page-aligned in every process, so rounding the
   * base up gives every process the same offset. */
  size_t bytes = shm_header_bytes(nodes) + (size_t)m->batch_cap * sizeof(amz__batch_t) + 64;
  void *base = NULL;
  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "alloc_shared_noncontig", "false");
  rc = amz__mpi_check(MPI_Win_allocate_shared(m->run_node_rank == 0 ? (MPI_Aint)bytes : 0, 1,
                                              info, m->run_node, &base, &m->win),
                      "MPI_Win_allocate_shared(node counter)");
  MPI_Info_free(&info);
  if (rc == 0) {
    MPI_Aint sz;
    int du;
    rc = amz__mpi_check(MPI_Win_shared_query(m->win, 0, &sz, &du, &base),
                        "MPI_Win_shared_query");
    uintptr_t a = ((uintptr_t)base + 63) & ~(uintptr_t)63;
    m->shm = (amz__node_shm_t *)a;
    m->batches = (amz__batch_t *)((char *)m->shm + shm_header_bytes(nodes));
    if (m->run_node_rank == 0 && rc == 0) {
      memset(m->shm, 0, bytes - 64);
      m->shm->cap = m->batch_cap;
    }
  }
  return amz__mpi_agree(m->run, rc);
}

void amz__mpi_drain_totals(amz__mpi_t *m) {
  if (!(m->totals_armed && m->ranks < m->size && m->comm != MPI_COMM_NULL)) return;
  int root = m->order[0];
  uint64_t sent = m->totals_sent;
  MPI_Request req;
  if (MPI_Ibcast(&sent, 1, MPI_UINT64_T, root, m->comm, &req) != MPI_SUCCESS ||
      amz__mpi_wait_polite(&req, NULL) != 0)
    return;
  run_totals_t t;
  while (!m->used && m->totals_got < sent &&
         MPI_Recv(&t, (int)sizeof t, MPI_BYTE, root, AMZ__TAG_TOTALS, m->comm,
                  MPI_STATUS_IGNORE) == MPI_SUCCESS)
    m->totals_got++;
}

void amz__mpi_free(void *ext) {
  amz__mpi_t *m = ext;
  if (!m) return;
  amz__mpi_drain_totals(m);
  if (m->win != MPI_WIN_NULL) MPI_Win_free(&m->win);
  if (m->run_node != MPI_COMM_NULL) MPI_Comm_free(&m->run_node);
  if (m->run != MPI_COMM_NULL) MPI_Comm_free(&m->run);
  if (m->comm != MPI_COMM_NULL) MPI_Comm_free(&m->comm);
  free(m->ri);
  free(m->ni);
  free(m->order);
  free(m->run_node_of);
  free(m->run_node_threads);
  amz__rangeset_free(&m->local_sampled_ranges);
  free(m);
}

/* ---- chunk sources ---------------------------------------------------------- */

typedef struct src_ctx {
  amz__mpi_t *m;
  amz__sched_t sched;
  uint64_t W, base;         /* global workers, this rank's first global worker */
  amz__node_shm_t *shm;
  amz__batch_t *batches;
  const amz__clock_t *clk;
  const amz__workload_t *wl; /* the sampled cost profile */
  double *last_t;           /* per local worker: when its previous chunk started */
  uint64_t *last_work_ns;   /* per local worker: its previous chunk's expected cost */
  int fail;                 /* a refill failed (or found no room): the run fails */
  int (*inner)(void *ctx, int w, uint64_t j, uint64_t *b, uint64_t *e);
  _Atomic int map_fail;     /* map mode: outputs could not be sent back */
} src_ctx_t;

static int src_preassigned(void *ctx, int w, uint64_t j, uint64_t *b, uint64_t *e) {
  src_ctx_t *x = ctx;
  uint64_t k = x->base + (uint64_t)w + j * x->W;
  if (k >= x->sched.n_chunks) return 0;
  amz__sched_chunk(&x->sched, k, b, e);
  return 1;
}

/* Static blocks with a way out inside a rank: local worker w's global block; the
 * executor lets the rank's workers take from each other (across ranks the blocks
 * stay where they are). */
static void src_own_block(void *ctx, int w, uint64_t *b, uint64_t *e) {
  src_ctx_t *x = ctx;
  uint64_t k = x->base + (uint64_t)w;
  *b = *e = 0;
  if (k < x->sched.n_chunks) amz__sched_chunk(&x->sched, k, b, e);
}

/* The node's speed: the expected cost of what its workers ran (from the sampled
 * cost profile) per second of their chunk time, times its workers. Items per
 * second would mistake cheap items for a fast node when costs depend on the
 * position (a node that has just run cheap items would take a large batch of
 * costly ones next). */
static double node_rate(const src_ctx_t *x) {
  uint64_t work = atomic_load_explicit(&x->shm->work_ns, memory_order_relaxed);
  uint64_t ns = atomic_load_explicit(&x->shm->busy_ns, memory_order_relaxed);
  if (!work || !ns) return 0.0;
  return (double)work / (double)ns * (double)x->m->run_node_threads[x->m->run_node_id];
}

/* Gets the node's next batch (one worker at a time: the refill flag). */
static void refill(src_ctx_t *x) {
  amz__mpi_t *m = x->m;
  amz__node_shm_t *s = x->shm;
  uint64_t first = 0, n = 0;
  double rate = node_rate(x);
  if (m->run_node_id == 0) {
    if (rate > 0) {
      uint64_t bits;
      memcpy(&bits, &rate, sizeof bits);
      atomic_store_explicit(&s->rate_bits[0], bits, memory_order_relaxed);
    }
    n = amz__take_batch(s, &x->sched, m->run_nodes, 0, m->min_batch, &first);
  } else {
    double req[2] = {(double)m->run_node_id, rate};
    uint64_t rep[2] = {0, 0};
    if (MPI_Send(req, 2, MPI_DOUBLE, 0, AMZ__TAG_REFILL, m->run) != MPI_SUCCESS ||
        MPI_Recv(rep, 2, MPI_UINT64_T, 0, AMZ__TAG_BATCH, m->run, MPI_STATUS_IGNORE) !=
            MPI_SUCCESS)
      x->fail = 1;
    first = rep[0];
    n = rep[1];
  }
  uint64_t nb = atomic_load_explicit(&s->nbatches, memory_order_relaxed);
  if (n > 0 && nb < s->cap) {
    uint64_t pub = atomic_load_explicit(&s->published, memory_order_relaxed);
    x->batches[nb] = (amz__batch_t){pub, first, n};
    atomic_store_explicit(&s->nbatches, nb + 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->refills, 1, memory_order_relaxed);
    atomic_store_explicit(&s->published, pub + n, memory_order_release);
  } else {
    /* A full table cannot happen (its size bounds the batches); if it did, the
     * batch's items would be lost: fail the run rather than end it short. */
    if (n > 0) x->fail = 1;
    atomic_store_explicit(&s->final, 1, memory_order_release);
  }
  atomic_store_explicit(&s->refill, 0, memory_order_release);
}

static int try_refill(src_ctx_t *x) {
  int expected = 0;
  if (!x->m->cross_node && x->m->run_node_id != 0) return 0;
  if (!atomic_compare_exchange_strong(&x->shm->refill, &expected, 1)) return 0;
  if (atomic_load_explicit(&x->shm->final, memory_order_acquire)) {
    atomic_store(&x->shm->refill, 0);
    return 1;
  }
  refill(x);
  return 1;
}

static int src_shared(void *ctx, int w, uint64_t j, uint64_t *b, uint64_t *e) {
  src_ctx_t *x = ctx;
  amz__node_shm_t *s = x->shm;
  if (x->m->run_nodes > 1 && j > 0) {
    /* The previous chunk's speed, for the weighted batch sizes. */
    double now = amz__clock_now(x->clk), dt = now - x->last_t[w];
    if (dt > 0) {
      atomic_fetch_add_explicit(&s->work_ns, x->last_work_ns[w], memory_order_relaxed);
      atomic_fetch_add_explicit(&s->busy_ns, (uint64_t)(dt * 1e9), memory_order_relaxed);
    }
  }
  uint64_t L = atomic_fetch_add_explicit(&s->claim, 1, memory_order_relaxed);
  double wait0 = 0;
  int spins = 0;
  for (;;) {
    uint64_t pub = atomic_load_explicit(&s->published, memory_order_acquire);
    if (L < pub) {
      uint64_t lo = 0, hi = atomic_load_explicit(&s->nbatches, memory_order_relaxed);
      while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (x->batches[mid].local_start <= L) lo = mid;
        else hi = mid;
      }
      const amz__batch_t *bt = &x->batches[lo];
      amz__sched_chunk(&x->sched, bt->first + (L - bt->local_start), b, e);
      if (pub - L <= x->m->low_water && !atomic_load_explicit(&s->final, memory_order_relaxed) &&
          !atomic_load_explicit(&s->refill, memory_order_relaxed))
        try_refill(x);
      if (wait0 > 0)
        atomic_fetch_add_explicit(&s->wait_ns,
                                  (uint64_t)((amz__clock_now(x->clk) - wait0) * 1e9),
                                  memory_order_relaxed);
      if (x->m->run_nodes > 1) {
        x->last_t[w] = amz__clock_now(x->clk);
        /* At least 1 ns: a chunk the profile calls free still took time. */
        double c = amz__workload_range_cost(x->wl, *b, *e) * 1e9;
        x->last_work_ns[w] = c >= 1.0 && c < 1e18 ? (uint64_t)c : 1;
      }
      return 1;
    }
    if (atomic_load_explicit(&s->final, memory_order_acquire)) {
      if (L >= atomic_load_explicit(&s->published, memory_order_acquire)) return 0;
      continue;
    }
    if (try_refill(x)) continue;
    /* Another worker's refill is in flight: wait without taking a core. */
    if (wait0 == 0) wait0 = amz__clock_now(x->clk);
    if (++spins < 64) {
      sched_yield();
    } else {
      struct timespec ts = {0, 20000};
      nanosleep(&ts, NULL);
    }
  }
}

/* Map mode on ranks other than 0: around the real source, send the previous
 * chunk's outputs and fetch the next chunk's inputs in one exchange each, so that
 * the pieces the executor cuts out of a chunk (sampled items) cost no round trip. */
static int src_map(void *ctx, int w, uint64_t j, uint64_t *b, uint64_t *e) {
  src_ctx_t *x = ctx;
  int more = x->inner(ctx, w, j, b, e);
  int rc = more ? amz__map_prefetch(x->m, *b, *e) : amz__map_flush(x->m);
  /* A failed prefetch only costs speed (the kernel fetches per piece); a failed
   * flush loses outputs, so the run fails. */
  if (rc != 0 && !more) atomic_store(&x->map_fail, 1);
  return more;
}

/* Deals the first round of batches (or, without cross-node refills, all batches
 * round-robin) into this node's table: every node computes the same sequence. */
typedef struct deal_ctx {
  src_ctx_t *x;
  uint64_t pub, nb;
} deal_ctx_t;

static void deal_take(void *ctx, int node, uint64_t first, uint64_t n) {
  deal_ctx_t *d = ctx;
  if (node != d->x->m->run_node_id) return;
  if (d->nb >= d->x->shm->cap) {
    d->x->fail = 1; /* cannot happen: the table's size bounds the batches */
    return;
  }
  d->x->batches[d->nb++] = (amz__batch_t){d->pub, first, n};
  d->pub += n;
}

static void deal_initial(src_ctx_t *x) {
  amz__mpi_t *m = x->m;
  amz__node_shm_t *s = x->shm;
  deal_ctx_t d = {x, 0, 0};
  uint64_t next = amz__deal(&x->sched, m->run_nodes, m->min_batch,
                            m->run_nodes > 1 && m->cross_node, deal_take, &d);
  atomic_store(&s->nbatches, d.nb);
  atomic_store(&s->published, d.pub);
  if (m->run_node_id == 0) atomic_store(&s->global_next, next);
  if (m->run_nodes == 1 || !m->cross_node) atomic_store(&s->final, 1);
}

/* ---- the run ---------------------------------------------------------------- */

typedef struct rank_sum {
  uint64_t items_run, failed_ranges, refills, chunks;
  uint64_t retry_calls, recovered; /* failure isolation, sampling included on a first run */
  int ckpt_err, pad2;              /* 1: this rank's checkpoint records could not be written */
  double wall_s, startup, compute, dispatch, imbalance, data, busy, wait_s;
  int workers, rank, node, pad;
} rank_sum_t;

static int excluded_result(amz_plan_t *p, amz_result_t **out) {
  amz__mpi_t *m = p->ext;
  amz_result_t *r = calloc(1, sizeof *r);
  amz__result_ext_t *x = r ? calloc(1, sizeof *x) : NULL;
  if (!r || !x || !(r->task_name = strdup(p->name))) {
    free(x);
    amz_result_destroy(r);
    return amz__fail(AMZ_ENOMEM, "cannot allocate the result");
  }
  r->ext = x;
  r->n_items = p->task.n_items;
  r->schedule = p->schedule;
  r->chunk = amz_plan_chunk(p);
  r->run_index = p->runs + 1;
  r->predicted = p->next_terms;
  x->ranks = m->ranks;
  x->rank = m->rank;
  x->excluded = 1;
  x->nodes = m->run_nodes;
  x->threads = m->threads;
  snprintf(x->why, sizeof x->why, "%s", m->why);
  if (p->runs == 0) {
    /* It sampled before the plan excluded it: those items are its work. */
    for (size_t i = 0; i < m->local_sampled_ranges.n; i++)
      if (amz__rangeset_add(&x->local_ranges, m->local_sampled_ranges.v[i].begin,
                            m->local_sampled_ranges.v[i].end, 0) != 0) {
        amz_result_destroy(r);
        return amz__fail(AMZ_ENOMEM, "cannot record the sampled ranges");
      }
    x->local_done = m->local_sampled - m->local_sampled_failed;
    x->local_failed = m->local_sampled_failed;
  }
  /* Its sampled blocks were its checkpoint records: synced and closed now. */
  int rc = p->runs == 0 ? amz__plan_ckpt_end(p) : 0;
  p->runs++;
  *out = r;
  return rc;
}

/* When the plan excludes some ranks: they wait here, asleep, until the run's rank 0
 * sends them the run's global totals after the run (one small message each, on the
 * plan's own communicator; the other running ranks take no part). Returning at once
 * would send them into the caller's next blocking MPI call, whose polling takes a
 * core from the ranks that run (1 rank x 2 threads on 2 cores: items 1.76x slower).
 * `res` may be NULL: a failed run sends zeros; an excluded rank without a result
 * only waits. Returns 0 or AMZ_EMPI. */
static int share_totals(amz__mpi_t *m, amz_result_t *res) {
  if (m->ranks >= m->size) return 0;
  int root = m->order[0];
  run_totals_t t = {0, 0, 0.0};
  if (m->used) {
    if (m->rank != root) return 0;
    if (res) t = (run_totals_t){res->items_done, res->items_failed, res->wall_s};
    int rc = 0;
    m->totals_sent++;
    for (int k = m->ranks; k < m->size; k++) {
      int mrc = amz__mpi_check(MPI_Send(&t, (int)sizeof t, MPI_BYTE, m->order[k],
                                        AMZ__TAG_TOTALS, m->comm),
                               "MPI_Send(run totals)");
      if (rc == 0) rc = mrc;
    }
    return rc;
  }
  MPI_Request req;
  int rc = amz__mpi_check(MPI_Irecv(&t, (int)sizeof t, MPI_BYTE, root, AMZ__TAG_TOTALS,
                                    m->comm, &req),
                          "MPI_Irecv(run totals)");
  if (rc == 0) rc = amz__mpi_wait_long(&req, NULL);
  if (rc == 0) m->totals_got++;
  if (rc == 0 && res) {
    res->items_done = t.done;
    res->items_failed = t.failed;
    res->wall_s = t.wall_s;
  }
  return rc;
}

/* This rank's part of the run, as the others will see it (rank_sum_t), and its
 * failed ranges. Local. Returns 0 or AMZ_ENOMEM. */
static int summarize_local(amz_plan_t *p, const amz__exec_out_t *ex, int first, int dynamic,
                           double local_wall, int ckpt_rc, rank_sum_t *mine,
                           amz__rangeset_t *lfail) {
  amz__mpi_t *m = p->ext;
  int rc = 0;
  mine->items_run = ex->items_run;
  mine->chunks = ex->chunks_run;
  mine->wall_s = local_wall;
  mine->workers = ex->workers;
  mine->rank = m->rank;
  mine->node = m->run_node_id;
  mine->ckpt_err = ckpt_rc != 0;
  if (first) {
    mine->retry_calls = p->sample_retry_calls;
    mine->recovered = p->sample_recovered;
  }
  double par_end = ex->t_par_begin + ex->parallel_s;
  for (int w = 0; w < ex->workers; w++) {
    const amz__worker_rec_t *wr = &ex->w[w];
    mine->startup += wr->t_first - ex->t_par_begin;
    mine->compute += wr->busy_s;
    mine->dispatch += wr->dispatch_s;
    mine->imbalance += par_end - wr->t_last;
    mine->data += wr->data_s;
    mine->retry_calls += wr->sink.retry_calls;
    mine->recovered += wr->sink.recovered;
    for (size_t i = 0; i < wr->failed.n && rc == 0; i++)
      rc = amz__rangeset_add(lfail, wr->failed.v[i].begin, wr->failed.v[i].end,
                             wr->failed.v[i].code);
  }
  mine->busy = mine->compute;
  mine->failed_ranges = lfail->n;
  if (dynamic && m->run_node_rank == 0) {
    mine->refills = atomic_load(&m->shm->refills);
    mine->wait_s = (double)atomic_load(&m->shm->wait_ns) * 1e-9;
  }
  return rc;
}

/* Every rank's failed ranges, on every rank (collective over the run's ranks):
 * *gf (malloc'ed, *n_gf entries). Returns 0, AMZ_ENOMEM or AMZ_EMPI. */
static int gather_failures(amz__mpi_t *m, const rank_sum_t *all, const amz__rangeset_t *lfail,
                           amz__range_t **gf, uint64_t *n_gf) {
  int rc = 0;
  int *cnt = malloc((size_t)m->run_size * sizeof *cnt);
  int *dsp = malloc((size_t)m->run_size * sizeof *dsp);
  for (int r = 0; r < m->run_size; r++) *n_gf += all[r].failed_ranges;
  *gf = malloc((*n_gf ? *n_gf : 1) * sizeof **gf);
  if (!cnt || !dsp || !*gf || *n_gf * sizeof **gf > INT32_MAX) {
    rc = amz__fail(AMZ_ENOMEM, "cannot gather %llu failed ranges", (unsigned long long)*n_gf);
  } else {
    int off = 0;
    for (int r = 0; r < m->run_size; r++) {
      cnt[r] = (int)(all[r].failed_ranges * sizeof **gf);
      dsp[r] = off;
      off += cnt[r];
    }
    MPI_Request req;
    rc = amz__mpi_check(MPI_Iallgatherv(lfail->v, cnt[m->run_rank], MPI_BYTE, *gf, cnt, dsp,
                                        MPI_BYTE, m->run, &req),
                        "MPI_Iallgatherv(failures)");
    if (rc == 0) rc = amz__mpi_wait_polite(&req, NULL);
  }
  free(cnt);
  free(dsp);
  return rc;
}

/* The item ranges this rank executed, for amz_mpi_gather_items(): its chunks
 * without the sampled items, and on a first run its own sampled blocks. Local.
 * Returns 0 or AMZ_ENOMEM. */
static int local_ranges(amz_plan_t *p, const amz__exec_out_t *ex, int first,
                        amz__result_ext_t *rx) {
  amz__mpi_t *m = p->ext;
  int rc = 0;
  /* This rank's ranges: its chunks (skipped sampled items are others' or its own
   * sampled blocks, listed separately) and, on a first run, its sampled blocks. */
  for (int w = 0; w < ex->workers && rc == 0; w++)
    for (size_t i = 0; i < ex->w[w].n_chunks && rc == 0; i++) {
      const amz__chunk_rec_t *c = &ex->w[w].chunks[i];
      /* Cut out the sampled items: they ran while sampling, maybe elsewhere. */
      uint64_t pos = c->begin;
      const amz__rangeset_t *sk = first ? &p->skip_first : NULL;
      size_t k = sk ? amz__rangeset_lower(sk, pos) : 0;
      while (pos < c->end && rc == 0) {
        uint64_t stop = c->end;
        if (sk && k < sk->n && sk->v[k].begin < c->end)
          stop = sk->v[k].begin > pos ? sk->v[k].begin : pos;
        if (stop > pos) rc = amz__rangeset_add(&rx->local_ranges, pos, stop, 0);
        if (stop == c->end || !sk || k >= sk->n) break;
        pos = sk->v[k].end;
        k++;
      }
    }
  if (ex->chunks_run > 0 && ex->w) {
    /* Records are bounded (AMZ__MAX_RECORDS): beyond it the run is still complete,
     * but this rank's list of ranges is not; the gather helper refuses then. */
    uint64_t recorded = 0;
    for (int w = 0; w < ex->workers; w++) recorded += ex->w[w].n_chunks;
    rx->ranges_lost = ex->chunks_run - recorded;
  }
  if (first)
    for (size_t i = 0; i < m->local_sampled_ranges.n && rc == 0; i++)
      rc = amz__rangeset_add(&rx->local_ranges, m->local_sampled_ranges.v[i].begin,
                             m->local_sampled_ranges.v[i].end, 0);
  amz__rangeset_sort(&rx->local_ranges);
  return rc;
}

/* The run over all ranks, identical on every rank: measured terms, the per-rank
 * table and the totals (res->failures holds every rank's failures already), from
 * every rank's summary. Local. *run_items: items
 * the ranks ran (sampling excluded); *ckpt_bad: a rank whose checkpoint records
 * failed, or -1. Returns 0 or AMZ_ENOMEM. */
static int merge_totals(amz_plan_t *p, const rank_sum_t *all, int first, amz_result_t *res,
                        uint64_t *run_items, int *ckpt_bad) {
  amz__mpi_t *m = p->ext;
  amz__result_ext_t *rx = res->ext;
  const int T = m->threads;
  int rc = 0;
  double wall = 0;
  amz_terms_t *me = &res->measured;
  memset(me, 0, sizeof *me);
  int workers = 0;
  res->retry_calls = res->items_recovered = 0;
  for (int r = 0; r < m->run_size; r++) {
    res->retry_calls += all[r].retry_calls;
    res->items_recovered += all[r].recovered;
    if (all[r].ckpt_err && *ckpt_bad < 0) *ckpt_bad = all[r].rank;
    *run_items += all[r].items_run;
    if (all[r].wall_s > wall) wall = all[r].wall_s;
    me->startup += all[r].startup;
    me->compute += all[r].compute;
    me->dispatch += all[r].dispatch;
    me->imbalance += all[r].imbalance;
    me->data += all[r].data;
    workers += all[r].workers;
  }
  if (workers > 0) {
    me->startup /= workers;
    me->compute /= workers;
    me->dispatch /= workers;
    me->imbalance /= workers;
    me->data /= workers;
  }
  rx->per_rank = malloc((size_t)m->run_size * sizeof *rx->per_rank);
  if (!rx->per_rank && rc == 0) rc = amz__fail(AMZ_ENOMEM, "cannot allocate the per-rank table");
  for (int r = 0; rx->per_rank && r < m->run_size; r++)
    rx->per_rank[r] = (amz__rank_row_t){all[r].rank, all[r].node, all[r].workers,
                                        all[r].items_run, all[r].chunks, all[r].busy,
                                        all[r].dispatch, all[r].data, all[r].wall_s};
  res->items_failed = amz__rangeset_items(&res->failures);
  res->items_done = *run_items + (first ? amz__rangeset_items(&p->sampled) + res->items_resumed : 0) -
                    res->items_failed;
  res->wall_s = wall;
  /* The slowest rank's end includes its wait for the others: the serial part is
   * the wall time outside the workers' parallel regions, on average over the
   * workers (the four means add up to that mean region). Not this rank's own
   * region: then the terms would not add up to the wall time, and each rank
   * would record a different serial part. */
  me->serial = wall - (me->startup + me->compute + me->dispatch + me->imbalance);
  if (me->serial < 0) me->serial = 0;
  me->total = wall;
  res->sampled_items = first ? amz__rangeset_items(&p->sampled) : 0;
  res->workers = T;
  return rc;
}

/* One MPI run's state, shared by the operations that plug it into the core's run
 * (amz__plan_run): the chunk source, rank 0's server, the exchanged summaries. */
typedef struct mpi_run {
  amz__mpi_t *m;
  int no_output;        /* the caller passed no result pointer: the run fails, together */
  int dynamic;          /* chunks come from the node counters (else preassigned) */
  src_ctx_t x;
  pthread_t server;
  int serving;          /* rank 0's server thread runs */
  int server_runs;      /* a server serves this run (on rank 0) */
  _Atomic int stop;
  rank_sum_t *all;      /* every run rank's summary */
  amz__range_t *gf;     /* failed ranges of all ranks */
  uint64_t n_gf;
  amz__rangeset_t lfail; /* this rank's failed ranges */
  uint64_t run_items;
  int ckpt_bad;         /* a rank whose checkpoint records failed, or -1 */
} mpi_run_t;

/* Before the executor: the schedule over all ranks' workers, the node table and its
 * first batches, rank 0's server; every rank agrees that the run is on. */
static int mpi_prepare(void *run, amz_plan_t *p, int rc, amz__exec_params_t *ep) {
  mpi_run_t *r = run;
  amz__mpi_t *m = r->m;
  const int T = m->threads;
  src_ctx_t *x = &r->x;
  x->m = m;
  x->W = (uint64_t)m->ranks * (uint64_t)T;
  x->base = (uint64_t)m->run_rank * (uint64_t)T;
  x->shm = m->shm;
  x->batches = m->batches;
  x->clk = p->opts.clock;
  if (rc == 0)
    rc = amz__sched_init(&x->sched, run_kind(p->schedule), p->task.n_items, (int)x->W, p->chunk);
  if (rc == 0) run_params(p, x->sched.n_chunks);
  x->last_t = calloc((size_t)T, sizeof *x->last_t);
  x->last_work_ns = calloc((size_t)T, sizeof *x->last_work_ns);
  x->wl = &p->wl;
  if (rc == 0 && (!x->last_t || !x->last_work_ns)) rc = AMZ_ENOMEM;
  r->dynamic = !amz__sched_preassigned(p->schedule);
  x->inner = r->dynamic ? src_shared : src_preassigned;
  if (rc == 0 && r->dynamic && m->run_node_rank == 0) {
    amz__node_shm_t *s = m->shm;
    uint64_t cap = s->cap;
    memset(s, 0, shm_header_bytes(m->run_nodes));
    s->cap = cap;
    deal_initial(x);
  }
  if (rc == AMZ_ETIMEOUT) {
    /* a lost plan: amz__pool_check said why */
  } else if (rc != 0) {
    rc = amz__fail(rc, "cannot prepare the run");
  } else if (r->no_output) {
    rc = amz__fail(AMZ_EINVAL, "amz_mpi_run: result (the output) is NULL");
  }
  rc = amz__mpi_agree(m->run, rc);
  if (rc == 0 && r->dynamic && m->run_node_size > 1) {
    MPI_Request req; /* the node's table is ready before anyone reads it */
    rc = amz__mpi_check(MPI_Ibarrier(m->run_node, &req), "MPI_Ibarrier(node)");
    if (rc == 0) rc = amz__mpi_wait_polite(&req, NULL);
  }
  int refill_nodes = r->dynamic && m->cross_node ? m->run_nodes - 1 : 0;
  int peers = m->map ? m->run_size - 1 : 0;
  if (rc == 0 && m->run_rank == 0 && (refill_nodes > 0 || peers > 0)) {
    amz__server_params_t sp = {.m = m, .comm = m->run, .peers = peers,
                               .refill_nodes = refill_nodes, .sched = &x->sched,
                               .run_nodes = m->run_nodes, .node0 = m->shm,
                               .min_batch = m->min_batch, .stop = &r->stop};
    rc = amz__server_start(&sp, &r->server);
    r->serving = rc == 0;
  }
  /* Everyone knows the node tables are ready and rank 0's server runs (or that the
   * run is off): from here every rank takes part until the end. */
  rc = amz__mpi_agree(m->run, rc);
  r->server_runs = rc == 0 && (refill_nodes > 0 || peers > 0);
  if (rc != 0 && r->serving) {
    atomic_store(&r->stop, 1);
    amz__server_join(r->server);
    r->serving = 0;
  }
  m->data_comm = m->run;
  ep->workers = T;
  ep->source = m->map && m->rank != 0 ? src_map : r->dynamic ? src_shared : src_preassigned;
  ep->source_ctx = x;
  /* Map mode's other ranks fetch each chunk's data as they take it: their blocks
   * stay fixed. So does a rank of one thread: nobody could take from it. */
  if (p->schedule == AMZ_SCHED_STATIC && ep->source == src_preassigned && T > 1) {
    ep->source = NULL;
    ep->own_block = src_own_block;
  }
  /* Each rank sees its own items: the run's progress is estimated as if the ranks
   * went at one pace. */
  ep->progress_scale = (double)m->run_size;
  ep->track_moved = m->map && m->rank != 0;
  ep->kernel_wrapped = m->map;
  return rc;
}

/* After the executor: map mode's DONE, and the chunk source's own failures. */
static int mpi_executed(void *run, amz_plan_t *p, int rc) {
  (void)p;
  mpi_run_t *r = run;
  amz__mpi_t *m = r->m;
  /* DONE even after a failure here: rank 0's server counts on it. */
  if (m->map && m->run_rank != 0 && r->server_runs) {
    int drc = amz__map_done(m->run);
    if (rc == 0) rc = drc;
  }
  if (r->x.fail && rc == 0)
    rc = amz__fail(AMZ_EMPI, "a batch refill of node %d failed; its remaining items did not run",
                   m->run_node_id);
  if (atomic_load(&r->x.map_fail) && rc == 0)
    rc = amz__fail(AMZ_EMPI, "map mode: sending outputs back to rank 0 failed");
  return rc;
}

/* The result: what each rank did is exchanged (totals, then the failed ranges), and
 * every rank builds the same global result, with this rank's part in res->ext. */
static int mpi_build(void *run, amz_plan_t *p, int rc, const amz__run_state_t *st,
                     amz_result_t **out) {
  mpi_run_t *r = run;
  amz__mpi_t *m = r->m;
  const amz__exec_out_t *ex = st->ex;
  int first = st->first;
  rank_sum_t mine;
  memset(&mine, 0, sizeof mine);
  if (rc == 0)
    rc = summarize_local(p, ex, first, r->dynamic, st->local_wall_s, st->ckpt_rc, &mine,
                         &r->lfail);
  /* Rank 0's server goes on serving the other nodes while rank 0 waits here; once
   * every rank has arrived, every node got its last batch and every DONE was sent,
   * so the server ends. After a failure it is told to stop instead. */
  rc = amz__mpi_agree(m->run, rc);
  if (r->serving) {
    if (rc != 0) atomic_store(&r->stop, 1);
    amz__server_join(r->server);
    r->serving = 0;
  }
  r->all = rc == 0 ? malloc((size_t)m->run_size * sizeof *r->all) : NULL;
  if (rc == 0 && !r->all) rc = amz__fail(AMZ_ENOMEM, "cannot allocate the run summary");
  rc = amz__mpi_agree(m->run, rc);
  if (rc == 0) {
    MPI_Request req;
    rc = amz__mpi_check(MPI_Iallgather(&mine, sizeof mine, MPI_BYTE, r->all, sizeof mine,
                                       MPI_BYTE, m->run, &req),
                        "MPI_Iallgather(run summary)");
    if (rc == 0) rc = amz__mpi_wait_polite(&req, NULL);
  }
  if (rc == 0) rc = gather_failures(m, r->all, &r->lfail, &r->gf, &r->n_gf);
  amz_result_t *res = NULL;
  if (rc == 0) rc = amz__result_build(p, ex, first, &res);
  amz__result_ext_t *rx = NULL;
  if (rc == 0) {
    rx = calloc(1, sizeof *rx);
    if (!rx) rc = amz__fail(AMZ_ENOMEM, "cannot allocate the result");
    else res->ext = rx;
  }
  if (rc != 0) {
    amz_result_destroy(res);
    return rc;
  }
  const int T = m->threads;
  rx->ranks = m->run_size;
  rx->rank = m->rank;
  rx->nodes = m->run_nodes;
  rx->threads = T;
  rx->local_wall_s = st->local_wall_s;
  uint64_t lfailed = amz__rangeset_items(&r->lfail);
  rx->local_failed = lfailed + (first ? m->local_sampled_failed : 0);
  rx->local_done = ex->items_run - lfailed + (first ? m->local_sampled - m->local_sampled_failed : 0);
  rc = local_ranges(p, ex, first, rx);
  /* Global totals, identical on every rank: sampled items (all ranks) plus what
   * each rank ran, minus the failures of all. */
  amz__rangeset_free(&res->failures);
  for (uint64_t i = 0; i < r->n_gf && rc == 0; i++)
    rc = amz__rangeset_add(&res->failures, r->gf[i].begin, r->gf[i].end, r->gf[i].code);
  if (first)
    for (size_t i = 0; i < p->sampled_failed.n && rc == 0; i++)
      rc = amz__rangeset_add(&res->failures, p->sampled_failed.v[i].begin,
                             p->sampled_failed.v[i].end, p->sampled_failed.v[i].code);
  amz__rangeset_sort(&res->failures);
  if (rc == 0) rc = merge_totals(p, r->all, first, res, &r->run_items, &r->ckpt_bad);
  /* The steps after this one run even when rc != 0 here: the profile's agreement
   * is collective. */
  *out = res;
  return rc;
}

/* The profile, written collectively; a rank whose checkpoint failed tells all. */
static int mpi_record(void *run, amz_plan_t *p, int rc, const amz__run_state_t *st,
                      amz_result_t *res) {
  mpi_run_t *r = run;
  if (p->profile) {
    rc = amz__mpi_agree(r->m->run, rc);
    if (rc == 0) res->profile_rc = amz__mpi_profile(p, r->m, res, res->ext->ranges_lost);
  }
  if (r->ckpt_bad >= 0 && res->profile_rc == 0)
    res->profile_rc = st->ckpt_rc != 0
                          ? amz__fail(AMZ_EIO, "%s", st->ckpt_msg)
                          : amz__fail(AMZ_EIO, "rank %d could not write its checkpoint "
                                               "records; see its amz_last_error()", r->ckpt_bad);
  return rc;
}

/* Refines the cost level from the run (identical on every rank): all ranks' kernel
 * time against the predicted compute. The MPI plan keeps its sampled profile (no
 * census: the chunks' times stay on their ranks). */
static void mpi_refine(void *run, amz_plan_t *p, const amz__run_state_t *st,
                       const amz_result_t *res) {
  (void)st;
  (void)res;
  mpi_run_t *r = run;
  amz__mpi_t *m = r->m;
  double busy = 0;
  for (int k = 0; k < m->run_size; k++) busy += r->all[k].busy;
  double predicted = p->next_terms.compute * (double)(m->ranks * m->threads);
  if (busy > 0 && predicted > 0 && r->run_items > 0)
    amz__workload_rescale(&p->wl, busy / predicted);
}

static void mpi_cleanup(void *run) {
  mpi_run_t *r = run; /* mpi_build, which amz__plan_run always calls, joined the server */
  free(r->all);
  free(r->gf);
  amz__rangeset_free(&r->lfail);
  amz__sched_free(&r->x.sched);
  free(r->x.last_t);
  free(r->x.last_work_ns);
}

static const amz__run_ops_t mpi_run_ops = {.fn = "amz_mpi_run",
                                           .prepare = mpi_prepare,
                                           .executed = mpi_executed,
                                           .build = mpi_build,
                                           .record = mpi_record,
                                           .refine = mpi_refine,
                                           .decide = amz__mpi_replan,
                                           .predict = amz__mpi_repredict,
                                           .cleanup = mpi_cleanup};

int amz_mpi_run(amz_plan_t *p, amz_result_t **result) {
  /* A NULL output on one rank must not leave the others in a collective: the run
   * goes on with a private output until the ranks agree on the error. */
  amz_result_t *scratch = NULL;
  int no_output = !result;
  if (no_output) result = &scratch;
  *result = NULL;
  if (!p) return amz__fail(AMZ_EINVAL, "amz_mpi_run: plan is NULL");
  if (!amz__mpi_is_plan(p))
    return amz__fail(AMZ_EINVAL, "amz_mpi_run: plan '%s' was not made by amz_mpi_plan_create; "
                                 "run it with amz_run",
                     p->name);
  amz__mpi_t *m = p->ext;
  if (atomic_exchange(&p->running, 1))
    return amz__fail(AMZ_EBUSY, "amz_mpi_run: plan '%s' is already running on another thread",
                     p->name);
  if (!m->used) {
    int rc = no_output ? amz__fail(AMZ_EINVAL, "amz_mpi_run: result (the output) is NULL")
                       : excluded_result(p, result);
    int src = share_totals(m, rc == 0 ? *result : NULL);
    if (rc == 0) rc = src;
    atomic_store(&p->running, 0);
    return rc;
  }
  mpi_run_t r;
  memset(&r, 0, sizeof r);
  r.m = m;
  r.no_output = no_output;
  r.ckpt_bad = -1;
  /* The line shows on the plan's rank 0 only: one terminal, one line. AMZ_PROGRESS
   * was checked at plan creation, so every rank gets the same status. */
  int rc = amz__plan_run(p, &mpi_run_ops, &r, m->rank == 0, result);
  int src = share_totals(m, *result);
  return rc ? rc : src;
}

/* ---- result accessors and the gather helper ------------------------------------ */

uint64_t amz_result_local_items_done(const amz_result_t *r) {
  return r ? (r->ext ? r->ext->local_done : r->items_done) : 0;
}
uint64_t amz_result_local_items_failed(const amz_result_t *r) {
  return r ? (r->ext ? r->ext->local_failed : r->items_failed) : 0;
}
double amz_result_local_seconds(const amz_result_t *r) {
  return r ? (r->ext ? r->ext->local_wall_s : r->wall_s) : -1.0;
}
size_t amz_result_local_range_count(const amz_result_t *r) {
  return r && r->ext ? r->ext->local_ranges.n : 0;
}
int amz_result_local_range(const amz_result_t *r, size_t i, uint64_t *begin, uint64_t *end) {
  if (!r) return amz__fail(AMZ_EINVAL, "amz_result_local_range: result is NULL");
  if (!r->ext)
    return amz__fail(AMZ_EINVAL, "amz_result_local_range: the result is from amz_run, not "
                                 "amz_mpi_run");
  if (i >= r->ext->local_ranges.n)
    return amz__fail(AMZ_ERANGE, "local range %zu out of range [0, %zu)", i,
                     r->ext->local_ranges.n);
  if (begin) *begin = r->ext->local_ranges.v[i].begin;
  if (end) *end = r->ext->local_ranges.v[i].end;
  return 0;
}
int amz_result_ranks(const amz_result_t *r) { return r ? (r->ext ? r->ext->ranks : 1) : 0; }

int amz_result_rank(const amz_result_t *r, int i, amz_rank_stats_t *out) {
  if (!r || !out) return amz__fail(AMZ_EINVAL, "amz_result_rank: NULL argument");
  if (!r->ext || !r->ext->per_rank)
    return amz__fail(AMZ_EINVAL, "amz_result_rank: the result is not from a rank that ran an "
                                 "MPI plan (amz_run, or an excluded rank)");
  if (i < 0 || i >= r->ext->ranks)
    return amz__fail(AMZ_ERANGE, "rank index %d out of range [0, %d)", i, r->ext->ranks);
  const amz__rank_row_t *w = &r->ext->per_rank[i];
  *out = (amz_rank_stats_t){.rank = w->rank, .node = w->node, .threads = w->threads,
                            .items = w->items, .chunks = w->chunks, .busy_s = w->busy_s,
                            .dispatch_s = w->dispatch_s, .data_s = w->data_s,
                            .wall_s = w->wall_s};
  return 0;
}
int amz_result_mpi_excluded(const amz_result_t *r) { return r && r->ext ? r->ext->excluded : 0; }
const char *amz_result_mpi_why(const amz_result_t *r) {
  return r && r->ext && r->ext->excluded ? r->ext->why : "";
}

int amz_mpi_gather_items(MPI_Comm comm, const amz_result_t *r, void *buf, size_t item_bytes,
                         int root) {
  int rc = 0, size = 0, me = 0;
  rc = amz__mpi_intracomm(comm, "amz_mpi_gather_items");
  if (rc != 0) return rc;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &me);
  if (!r || !buf) rc = amz__fail(AMZ_EINVAL, "amz_mpi_gather_items: %s is NULL", r ? "buf" : "result");
  else if (!r->ext)
    rc = amz__fail(AMZ_EINVAL, "amz_mpi_gather_items: the result is from amz_run, not amz_mpi_run");
  else if (item_bytes == 0) rc = amz__fail(AMZ_EINVAL, "amz_mpi_gather_items: item_bytes is 0");
  else if (r->ext->ranges_lost)
    rc = amz__fail(AMZ_ERANGE, "amz_mpi_gather_items: rank %d ran %llu chunks beyond the %zu "
                               "it records, so its item ranges are incomplete; use a larger "
                               "chunk (amz_options_set_chunk)",
                   me, (unsigned long long)r->ext->ranges_lost, (size_t)AMZ__MAX_RECORDS);
  else if (root != AMZ_MPI_ALL && (root < 0 || root >= size))
    rc = amz__fail(AMZ_EINVAL, "amz_mpi_gather_items: root %d is not a rank of comm [0, %d) "
                               "nor AMZ_MPI_ALL", root, size);
  rc = amz__mpi_agree(comm, rc);
  if (rc != 0) return rc;
  /* The same root and item size everywhere: a rank that packed items of another
   * size would make the root read past a buffer, and ranks waiting for different
   * roots would hang. */
  int64_t mine[2] = {root, (int64_t)item_bytes}, lo[2], hi[2];
  rc = amz__mpi_check(MPI_Allreduce(mine, lo, 2, MPI_INT64_T, MPI_MIN, comm),
                      "MPI_Allreduce(gather arguments)");
  if (rc == 0)
    rc = amz__mpi_check(MPI_Allreduce(mine, hi, 2, MPI_INT64_T, MPI_MAX, comm),
                        "MPI_Allreduce(gather arguments)");
  if (rc == 0 && lo[1] != hi[1])
    rc = amz__fail(AMZ_EINVAL, "amz_mpi_gather_items: item_bytes differs between ranks (from "
                               "%lld to %lld; %zu on rank %d)", (long long)lo[1],
                   (long long)hi[1], item_bytes, me);
  else if (rc == 0 && lo[0] != hi[0])
    rc = amz__fail(AMZ_EINVAL, "amz_mpi_gather_items: root differs between ranks (from %lld to "
                               "%lld; %d on rank %d)", (long long)lo[0], (long long)hi[0], root,
                   me);
  rc = amz__mpi_agree(comm, rc);
  if (rc != 0) return rc;
  /* Each rank sends its ranges (as begin/end pairs) and their bytes. */
  const amz__rangeset_t *lr = &r->ext->local_ranges;
  uint64_t items = amz__rangeset_items(lr);
  /* The limit before any allocation: a product that wraps or exceeds MPI's int
   * counts is refused on every rank with the same code. */
  int big = items > 0 && item_bytes > (uint64_t)INT32_MAX / items;
  uint64_t nbytes = big ? 0 : items * item_bytes;
  rc = amz__mpi_agree(comm, big ? amz__fail(AMZ_EINVAL, "amz_mpi_gather_items: %llu items of "
                                            "%zu bytes exceed the MPI count limit (%d bytes); "
                                            "gather in parts", (unsigned long long)items,
                                            item_bytes, INT32_MAX)
                                : 0);
  if (rc != 0) return rc;
  uint64_t hdr[2] = {lr->n, nbytes}, *hs = malloc((size_t)size * sizeof hdr);
  char *pack = malloc(nbytes ? nbytes : 1);
  uint64_t *rng = malloc((lr->n ? lr->n : 1) * 2 * sizeof *rng);
  if (!hs || !pack || !rng) rc = amz__fail(AMZ_ENOMEM, "cannot allocate %llu bytes to gather",
                                           (unsigned long long)nbytes);
  rc = amz__mpi_agree(comm, rc);
  if (rc == 0) {
    size_t off = 0;
    for (size_t i = 0; i < lr->n; i++) {
      size_t len = (size_t)(lr->v[i].end - lr->v[i].begin) * item_bytes;
      memcpy(pack + off, (char *)buf + lr->v[i].begin * item_bytes, len);
      off += len;
      rng[2 * i] = lr->v[i].begin;
      rng[2 * i + 1] = lr->v[i].end;
    }
    rc = amz__mpi_check(MPI_Allgather(hdr, 2, MPI_UINT64_T, hs, 2, MPI_UINT64_T, comm),
                        "MPI_Allgather(gather sizes)");
  }
  uint64_t tot_r = 0, tot_b = 0;
  for (int q = 0; rc == 0 && q < size; q++) tot_r += hs[2 * q], tot_b += hs[2 * q + 1];
  if (rc == 0 && (tot_b > INT32_MAX || tot_r * 16 > INT32_MAX))
    rc = amz__fail(AMZ_EINVAL, "amz_mpi_gather_items: %llu bytes exceed the MPI count limit; "
                               "gather in parts", (unsigned long long)tot_b);
  rc = amz__mpi_agree(comm, rc);
  int receiver = root == AMZ_MPI_ALL || root == me;
  int *cr = malloc((size_t)size * sizeof *cr), *dr = malloc((size_t)size * sizeof *dr);
  int *cb = malloc((size_t)size * sizeof *cb), *db = malloc((size_t)size * sizeof *db);
  uint64_t *all_r = receiver ? malloc((tot_r ? tot_r : 1) * 2 * sizeof *all_r) : NULL;
  char *all_b = receiver ? malloc(tot_b ? tot_b : 1) : NULL;
  if (rc == 0 && (!cr || !dr || !cb || !db || (receiver && (!all_r || !all_b))))
    rc = amz__fail(AMZ_ENOMEM, "cannot allocate %llu bytes to gather", (unsigned long long)tot_b);
  rc = amz__mpi_agree(comm, rc);
  if (rc == 0) {
    int o1 = 0, o2 = 0;
    for (int q = 0; q < size; q++) {
      cr[q] = (int)(hs[2 * q] * 2);
      dr[q] = o1;
      o1 += cr[q];
      cb[q] = (int)hs[2 * q + 1];
      db[q] = o2;
      o2 += cb[q];
    }
    if (root == AMZ_MPI_ALL) {
      rc = amz__mpi_check(MPI_Allgatherv(rng, cr[me], MPI_UINT64_T, all_r, cr, dr, MPI_UINT64_T, comm),
                          "MPI_Allgatherv(ranges)");
      if (rc == 0)
        rc = amz__mpi_check(MPI_Allgatherv(pack, cb[me], MPI_BYTE, all_b, cb, db, MPI_BYTE, comm),
                            "MPI_Allgatherv(items)");
    } else {
      rc = amz__mpi_check(MPI_Gatherv(rng, cr[me], MPI_UINT64_T, all_r, cr, dr, MPI_UINT64_T, root, comm),
                          "MPI_Gatherv(ranges)");
      if (rc == 0)
        rc = amz__mpi_check(MPI_Gatherv(pack, cb[me], MPI_BYTE, all_b, cb, db, MPI_BYTE, root, comm),
                            "MPI_Gatherv(items)");
    }
    if (rc == 0 && receiver) {
      size_t off = 0;
      for (uint64_t i = 0; i < tot_r; i++) {
        size_t len = (size_t)(all_r[2 * i + 1] - all_r[2 * i]) * item_bytes;
        memcpy((char *)buf + all_r[2 * i] * item_bytes, all_b + off, len);
        off += len;
      }
    }
  }
  free(hs);
  free(pack);
  free(rng);
  free(cr);
  free(dr);
  free(cb);
  free(db);
  free(all_r);
  free(all_b);
  return amz__mpi_agree(comm, rc);
}
