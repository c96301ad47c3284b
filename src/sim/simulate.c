/*
 * The discrete-event simulator of an MPI run (amorsize_sim.h).
 *
 * It takes its chunks from schedule.c and distributes them with the same rules
 * amz_mpi_run uses (mpi/mpi_run.c): the global chunk sequence of all R*T workers;
 * static blocks and cyclic chunks preassigned to global workers without messages
 * (a rank's workers take from each other's blocks, schedule.h's rules); the
 * dynamic family cut into batches by amz__batch_chunks (weighted factoring over the
 * nodes' measured speeds), the first round dealt by amz__deal, later batches asked
 * of rank 0 by the first worker of a node that finds the node's published chunks at
 * its refill mark (amz__dist_params), the node's chunks claimed one at a time from
 * its shared counter. Only time is simulated:
 *
 *   - a counter operation holds the counter's cache line for counter_s: operations
 *     of a node's workers queue (the counter's throughput bound);
 *   - a refill costs its worker a message to rank 0 (latency + bytes / bandwidth),
 *     the wait until rank 0's progress thread polls (poll_s), that thread's handling
 *     (serve_s, one request at a time) and the reply; node 0's worker takes its
 *     batches from the global counter directly and at once;
 *   - the worker that refills holds the chunk it claimed until the batch arrives
 *     (as in the run); the node's other workers go on, or wait when the node has no
 *     published chunk left, and wake when the batch arrives;
 *   - a node's speed divides its items' costs; its reported speed (modelled cost
 *     per second of its workers' chunk time) weighs its next batches, as in the run;
 *   - a run starts with a barrier inside each node and ends with the result
 *     exchange: ceil(log2 R) latency steps per collective (binomial trees).
 *
 * Events are ordered by (time, sequence number): the result is a pure function of
 * the inputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_sim.h"
#include "internal.h"

#define MSG_BYTES 16.0  /* a refill request {node, rate} or reply {first, count} */
#define SPIN_S 20e-6    /* a waiting worker yields this long, then naps (mpi_run.c) */
#define NAP_WAKE_S 35e-6 /* expected extra wake-up after a nap of 20 us + timer slack */

enum { EV_READY, EV_SERVE, EV_ARRIVE };

typedef struct ev {
  double t;
  uint64_t seq;
  uint32_t type, id;
} ev_t;

typedef struct batch {
  uint64_t ls, first, n; /* local start, first global chunk, chunks */
} batch_t;

typedef struct node {
  double speed;
  uint64_t claim, pub;
  int final, refill, refiller;
  double counter_free;
  uint64_t counter_ops;
  batch_t *b;
  uint64_t nb, cap;
  int *wait;  /* waiting workers, in claim order */
  size_t nwait, wcap;
  double work_done, busy; /* for the node's reported speed: modelled cost, time */
  double req_rate;         /* the speed sent with a refill request */
  uint64_t pend_first, pend_n;
} node_t;

typedef struct wk {
  double last_t, busy, finish, wait0;
  double last_work; /* the previous chunk's modelled cost (the run's profile) */
  uint64_t L, hold, chunks;
  int node, has_hold;
} wk_t;

typedef struct sim {
  const amz_sim_costs_t *c;
  const amz_sim_machine_t *m;
  amz__sched_t s;
  int R, T, nodes, nw_node;
  uint64_t W;
  wk_t *w;
  node_t *nd;
  uint64_t *ops;  /* per rank: messages and counter operations in its memory */
  ev_t *h;
  size_t hn, hcap;
  uint64_t seq, events;
  double server_free, rate_sum, *rate;
  int known;
  uint64_t global_next, min_batch, low_water[2]; /* refill marks: node 0, the others */
  double lat, msg_s, work;
  uint64_t chunks, batches, refills;
  double wait_s;
  int fail;
} sim_t;

/* ---- event heap ----------------------------------------------------------------- */

static int ev_less(const ev_t *a, const ev_t *b) {
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void push(sim_t *S, double t, uint32_t type, uint32_t id) {
  if (S->hn == S->hcap) {
    size_t cap = S->hcap ? 2 * S->hcap : 1024;
    ev_t *h = realloc(S->h, cap * sizeof *h);
    if (!h) {
      S->fail = 1;
      return;
    }
    S->h = h;
    S->hcap = cap;
  }
  ev_t e = {t, S->seq++, type, id};
  size_t i = S->hn++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!ev_less(&e, &S->h[p])) break;
    S->h[i] = S->h[p];
    i = p;
  }
  S->h[i] = e;
}

static ev_t pop(sim_t *S) {
  ev_t top = S->h[0], last = S->h[--S->hn];
  size_t i = 0, n = S->hn;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const ev_t *best = &last;
    if (l < n && ev_less(&S->h[l], best)) m = l, best = &S->h[l];
    if (r < n && ev_less(&S->h[r], best)) m = r;
    if (m == i) break;
    S->h[i] = S->h[m];
    i = m;
  }
  if (n > 0) S->h[i] = last;
  return top;
}

/* ---- the run's steps --------------------------------------------------------------- */

static int rank_of(const sim_t *S, int w) { return w / S->T; }
static int leader_of(const sim_t *S, int node) { return node * S->m->ranks_per_node; }

static void run_chunk(sim_t *S, int w, uint64_t k, double t) {
  wk_t *x = &S->w[w];
  uint64_t b, e;
  amz__sched_chunk(&S->s, k, &b, &e);
  double c = amz_sim_range_cost(S->c, b, e);
  S->work += c;
  x->last_work = c;
  c /= S->nd[x->node].speed;
  x->last_t = t;
  x->busy += S->m->chunk_s + c;
  x->chunks++;
  S->chunks++;
  push(S, t + S->m->chunk_s + c, EV_READY, (uint32_t)w);
}

static uint64_t lookup(const node_t *n, uint64_t L) {
  uint64_t lo = 0, hi = n->nb;
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (n->b[mid].ls <= L) lo = mid;
    else hi = mid;
  }
  return n->b[lo].first + (L - n->b[lo].ls);
}

static void set_rate(sim_t *S, int node, double r) {
  if (!(r > 0)) return;
  if (S->rate[node] > 0) S->rate_sum -= S->rate[node];
  else S->known++;
  S->rate[node] = r;
  S->rate_sum += r;
}

static void on_serve(sim_t *S, int node, double t);
static void on_arrive(sim_t *S, int node, double t);

static void refill(sim_t *S, int node, int w, double t) {
  node_t *n = &S->nd[node];
  n->refill = 1;
  n->refiller = w;
  /* The speed the run reports: expected work (the run's sampled cost profile; here
   * the modelled costs, as if the profile were exact) per second of chunk time,
   * times its workers. */
  double rate = n->busy > 0 ? n->work_done / n->busy * S->nw_node : 0;
  if (node == 0) {
    /* The worker takes the batch from the global counter itself, synchronously
     * (mpi_run.c): the batch is there before any other claim of the node. */
    set_rate(S, 0, rate);
    on_serve(S, 0, t);
  } else {
    n->req_rate = rate; /* sent with the request, stored when rank 0 handles it */
    S->ops[rank_of(S, w)]++;
    push(S, t + S->lat + S->msg_s + S->m->poll_s, EV_SERVE, (uint32_t)node);
  }
}

static void get(sim_t *S, int w, uint64_t L, double t) {
  wk_t *x = &S->w[w];
  node_t *n = &S->nd[x->node];
  if (L < n->pub) {
    uint64_t k = lookup(n, L);
    if (n->pub - L <= S->low_water[x->node != 0] && !n->final && !n->refill) {
      x->hold = k;
      x->has_hold = 1;
      refill(S, x->node, w, t);
      return;
    }
    run_chunk(S, w, k, t);
    return;
  }
  if (n->final) {
    x->finish = t;
    return;
  }
  x->L = L;
  if (!n->refill) {
    x->has_hold = 0;
    refill(S, x->node, w, t);
    return;
  }
  if (n->nwait == n->wcap) {
    size_t cap = n->wcap ? 2 * n->wcap : 16;
    int *v = realloc(n->wait, cap * sizeof *v);
    if (!v) {
      S->fail = 1;
      return;
    }
    n->wait = v;
    n->wcap = cap;
  }
  x->wait0 = t;
  n->wait[n->nwait++] = w;
}

static void on_ready(sim_t *S, int w, double t) {
  wk_t *x = &S->w[w];
  node_t *n = &S->nd[x->node];
  if (x->chunks > 0) {
    n->work_done += x->last_work;
    n->busy += t - x->last_t;
  }
  double tc = (t > n->counter_free ? t : n->counter_free) + S->m->counter_s;
  n->counter_free = tc;
  n->counter_ops++;
  S->ops[leader_of(S, x->node)]++;
  get(S, w, n->claim++, tc);
}

static void on_serve(sim_t *S, int node, double t) {
  node_t *n = &S->nd[node];
  double arrive;
  if (node != 0) {
    if (t < S->server_free) { /* the progress thread is busy with another request */
      push(S, S->server_free, EV_SERVE, (uint32_t)node);
      return;
    }
    set_rate(S, node, n->req_rate);
    S->server_free = t + S->m->serve_s;
    S->ops[0] += 2; /* the request and the reply */
    S->refills++;
    arrive = S->server_free + S->lat + S->msg_s;
  } else {
    arrive = t + S->m->counter_s;
  }
  S->ops[0]++; /* the global counter lives in rank 0's memory */
  double wgt = amz__node_weight(S->rate[node], S->rate_sum, S->known);
  uint64_t cnt = amz__batch_chunks(&S->s, S->global_next, S->nodes, wgt, S->min_batch);
  n->pend_first = S->global_next;
  n->pend_n = cnt;
  S->global_next += cnt;
  if (node == 0) on_arrive(S, 0, arrive);
  else push(S, arrive, EV_ARRIVE, (uint32_t)node);
}

static int add_batch(sim_t *S, node_t *n, uint64_t first, uint64_t cnt) {
  if (n->nb == n->cap) {
    uint64_t cap = n->cap ? 2 * n->cap : 4;
    batch_t *b = realloc(n->b, cap * sizeof *b);
    if (!b) return S->fail = 1;
    n->b = b;
    n->cap = cap;
  }
  n->b[n->nb++] = (batch_t){n->pub, first, cnt};
  n->pub += cnt;
  S->batches++;
  return 0;
}

static void on_arrive(sim_t *S, int node, double t) {
  node_t *n = &S->nd[node];
  if (n->pend_n > 0) add_batch(S, n, n->pend_first, n->pend_n);
  else n->final = 1;
  n->refill = 0;
  int w = n->refiller;
  if (node != 0) S->ops[rank_of(S, w)]++; /* the reply */
  wk_t *x = &S->w[w];
  if (x->has_hold) {
    x->has_hold = 0;
    run_chunk(S, w, x->hold, t);
  } else {
    get(S, w, x->L, t);
  }
  /* The node's waiting workers see the new chunks (or the end). */
  size_t k = n->nwait;
  if (k == 0) return;
  int *list = n->wait;
  n->wait = NULL;
  n->nwait = n->wcap = 0;
  for (size_t i = 0; i < k; i++) {
    wk_t *v = &S->w[list[i]];
    double wake = t + (t - v->wait0 > SPIN_S ? NAP_WAKE_S : 0.0);
    S->wait_s += wake - v->wait0;
    get(S, list[i], v->L, wake);
  }
  free(list);
}

static void deal_take(void *ctx, int node, uint64_t first, uint64_t n) {
  sim_t *S = ctx;
  add_batch(S, &S->nd[node], first, n);
}

/* ---- set-up and the whole run ------------------------------------------------------- */

static int ilog2_ceil(uint64_t x) {
  int k = 0;
  while (((uint64_t)1 << k) < x) k++;
  return k;
}

static int check_machine(const amz_sim_machine_t *m) {
  if (!m) return amz__fail(AMZ_EINVAL, "amz_simulate: machine is NULL");
  if (m->nodes < 1 || m->ranks_per_node < 1 || m->threads_per_rank < 1)
    return amz__fail(AMZ_EINVAL, "simulated machine of %d nodes x %d ranks x %d threads: "
                                 "expected at least 1 of each",
                     m->nodes, m->ranks_per_node, m->threads_per_rank);
  if ((uint64_t)m->nodes * (uint64_t)m->ranks_per_node * (uint64_t)m->threads_per_rank >
      ((uint64_t)1 << 31) - 1)
    return amz__fail(AMZ_EINVAL, "simulated machine of %d x %d x %d workers: expected fewer "
                                 "than 2^31",
                     m->nodes, m->ranks_per_node, m->threads_per_rank);
  struct {
    const char *name;
    double v, max;
  } t[] = {{"latency_s", m->latency_s, 1.0},       {"latency_node_s", m->latency_node_s, 1.0},
           {"chunk_s", m->chunk_s, 1.0},           {"counter_s", m->counter_s, 1.0},
           {"serve_s", m->serve_s, 1.0},           {"poll_s", m->poll_s, 1.0},
           {"startup_s", m->startup_s, 3600.0},    {"speed_spread", m->speed_spread, 0.9}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (!(t[i].v >= 0 && t[i].v <= t[i].max))
      return amz__fail(AMZ_EINVAL, "simulated machine: %s = %g: expected 0 to %g", t[i].name,
                       t[i].v, t[i].max);
  if (!(m->bandwidth > 0 && m->bandwidth < 1e15))
    return amz__fail(AMZ_EINVAL, "simulated machine: bandwidth = %g bytes/s: expected more "
                                 "than 0 and less than 1e15",
                     m->bandwidth);
  return 0;
}

void amz_sim_machine_defaults(amz_sim_machine_t *m, int nodes, int ranks_per_node) {
  if (!m) return;
  *m = (amz_sim_machine_t){.nodes = nodes, .ranks_per_node = ranks_per_node,
                           .threads_per_rank = 1, .latency_s = 2e-6, .bandwidth = 10e9,
                           .latency_node_s = 0.5e-6, .chunk_s = 60e-9, .counter_s = 100e-9,
                           .serve_s = 2e-6, .poll_s = AMZ__SERVER_POLL_S / 2};
}

/* Node n's speed: spread evenly over [1 - s, 1 + s] in a scrambled order (golden
 * ratio steps), so that fast and slow nodes are not sorted by number. */
static double node_speed(const amz_sim_machine_t *m, int n) {
  if (m->nodes < 2 || m->speed_spread == 0) return 1.0;
  double f = fmod((double)n * 0.6180339887498949, 1.0);
  return 1.0 + m->speed_spread * (2.0 * f - 1.0);
}

static void sim_free(sim_t *S) {
  if (S->nd)
    for (int i = 0; i < S->nodes; i++) {
      free(S->nd[i].b);
      free(S->nd[i].wait);
    }
  free(S->nd);
  free(S->w);
  free(S->ops);
  free(S->h);
  free(S->rate);
  amz__sched_free(&S->s);
}

static double sim_cost(const void *ctx, uint64_t b, uint64_t e) {
  return amz_sim_range_cost(ctx, b, e);
}

/* Static blocks: global worker w's block, with a way out inside its rank (the
 * rank's workers take from each other, schedule.h); across ranks no messages. */
static int static_blocks(sim_t *S, double t0) {
  const int T = S->T;
  uint64_t *b = malloc(2 * (size_t)T * sizeof *b), *e = b ? b + T : NULL;
  double *fin = malloc(2 * (size_t)T * sizeof *fin), *pieces = fin ? fin + T : NULL;
  double *speed = malloc((size_t)T * sizeof *speed);
  int rc = b && fin && speed ? 0 : AMZ_ENOMEM;
  for (int r = 0; rc == 0 && r < S->R; r++) {
    wk_t *x = &S->w[(uint64_t)r * (uint64_t)T];
    double work = 0.0;
    for (int t = 0; t < T; t++) {
      uint64_t k = (uint64_t)r * (uint64_t)T + (uint64_t)t;
      b[t] = e[t] = 0;
      if (k < S->s.n_chunks) amz__sched_chunk(&S->s, k, &b[t], &e[t]);
      speed[t] = S->nd[x[t].node].speed;
      work += amz_sim_range_cost(S->c, b[t], e[t]);
    }
    S->work += work;
    rc = amz__steal_sim(T, b, e, NULL, speed, S->m->chunk_s, sim_cost, S->c, fin, pieces);
    for (int t = 0; rc == 0 && t < T; t++) {
      x[t].finish = t0 + fin[t];
      x[t].busy = fin[t];
      x[t].chunks = (uint64_t)pieces[t];
      S->chunks += (uint64_t)pieces[t];
    }
  }
  free(b);
  free(fin);
  free(speed);
  return rc;
}

int amz_simulate_costs(const amz_sim_costs_t *c, const amz_sim_machine_t *m,
                       amz_schedule_t kind, uint64_t chunk, double *rank_idle_s,
                       amz_sim_result_t *out) {
  if (!out) return amz__fail(AMZ_EINVAL, "amz_simulate: out is NULL");
  memset(out, 0, sizeof *out);
  if (!c) return amz__fail(AMZ_EINVAL, "amz_simulate: costs are NULL");
  int rc = check_machine(m);
  if (rc != 0) return rc;
  if (kind == AMZ_SCHED_AUTO)
    return amz__fail(AMZ_EINVAL, "amz_simulate: schedule auto: expected a schedule (use "
                                 "amz_sim_choose to search them)");
  if ((unsigned)kind >= AMZ_SCHED_COUNT)
    return amz__fail(AMZ_ESCHED, "amz_simulate: schedule %d: expected 1 to %d", (int)kind,
                     AMZ_SCHED_COUNT - 1);
  double wall0 = amz__monotonic_now(NULL);
  if (kind == AMZ_SCHED_AWF) kind = AMZ_SCHED_FACTORING; /* as amz_mpi_run */
  sim_t S = {.c = c, .m = m, .T = m->threads_per_rank, .nodes = m->nodes};
  S.R = m->nodes * m->ranks_per_node;
  S.W = (uint64_t)S.R * (uint64_t)S.T;
  S.nw_node = m->ranks_per_node * S.T;
  S.lat = m->nodes > 1 ? m->latency_s : m->latency_node_s;
  S.msg_s = m->nodes > 1 ? MSG_BYTES / m->bandwidth : 0;
  const uint64_t N = amz__sim_items(c);
  rc = amz__sched_init(&S.s, kind, N, (int)S.W, chunk);
  S.w = calloc(S.W, sizeof *S.w);
  S.nd = calloc((size_t)S.nodes, sizeof *S.nd);
  S.ops = calloc((size_t)S.R, sizeof *S.ops);
  S.rate = calloc((size_t)S.nodes, sizeof *S.rate);
  if (rc == 0 && (!S.w || !S.nd || !S.ops || !S.rate)) rc = AMZ_ENOMEM;
  if (rc != 0) {
    sim_free(&S);
    return rc == AMZ_ENOMEM ? amz__fail(rc, "cannot allocate the simulation of %llu workers",
                                        (unsigned long long)S.W)
                            : amz__fail(rc, "cannot build the chunk sequence");
  }
  for (int n = 0; n < S.nodes; n++) S.nd[n].speed = node_speed(m, n);
  for (uint64_t w = 0; w < S.W; w++) S.w[w].node = (int)(w / (uint64_t)S.nw_node);
  /* Start: a barrier inside each node (tables ready); end: the result exchange. */
  int lg = ilog2_ceil((uint64_t)S.R);
  double t0 = m->startup_s + (S.R > 1 ? 2.0 * lg * m->latency_node_s : 0.0);
  double end = S.R > 1 ? 3.0 * lg * S.lat : 0.0;
  if (kind == AMZ_SCHED_STATIC) {
    if (static_blocks(&S, t0) != 0) S.fail = 1;
  } else if (amz__sched_preassigned(kind)) {
    /* Chunk k belongs to global worker k % W: no messages, no counter. */
    for (uint64_t k = 0; k < S.s.n_chunks; k++) {
      wk_t *x = &S.w[k % S.W];
      uint64_t b, e;
      amz__sched_chunk(&S.s, k, &b, &e);
      double cost = amz_sim_range_cost(c, b, e);
      S.work += cost;
      x->busy += m->chunk_s + cost / S.nd[x->node].speed;
      x->chunks++;
    }
    S.chunks = S.s.n_chunks;
    for (uint64_t w = 0; w < S.W; w++) S.w[w].finish = t0 + S.w[w].busy;
  } else {
    double chunk_mean = S.s.n_chunks ? amz__sim_mean(c) * (double)N / (double)S.s.n_chunks : 0;
    amz__dist_params(S.s.n_chunks, chunk_mean, m->nodes > 1 ? m->latency_s : 0,
                     (uint64_t)S.nw_node, 0, &S.min_batch, &S.low_water[0]);
    amz__dist_params(S.s.n_chunks, chunk_mean, m->nodes > 1 ? m->latency_s : 0,
                     (uint64_t)S.nw_node, 1, &S.min_batch, &S.low_water[1]);
    int cross = S.nodes > 1 && !m->dealt_ahead;
    S.global_next = amz__deal(&S.s, S.nodes, S.min_batch, cross, deal_take, &S);
    for (int n = 0; n < S.nodes; n++) S.nd[n].final = !cross;
    for (uint64_t w = 0; w < S.W; w++) push(&S, t0, EV_READY, (uint32_t)w);
    while (S.hn > 0 && !S.fail) {
      ev_t e = pop(&S);
      S.events++;
      if (e.type == EV_READY) on_ready(&S, (int)e.id, e.t);
      else if (e.type == EV_SERVE) on_serve(&S, (int)e.id, e.t);
      else on_arrive(&S, (int)e.id, e.t);
    }
  }
  if (S.fail) {
    sim_free(&S);
    return amz__fail(AMZ_ENOMEM, "out of memory while simulating %llu workers",
                     (unsigned long long)S.W);
  }
  double last = t0, speed_sum = 0;
  for (uint64_t w = 0; w < S.W; w++)
    if (S.w[w].finish > last) last = S.w[w].finish;
  for (int n = 0; n < S.nodes; n++) speed_sum += S.nd[n].speed * S.nw_node;
  out->makespan_s = last + end;
  out->work_s = S.work;
  out->ideal_s = S.work / speed_sum;
  out->efficiency = out->makespan_s > 0 ? out->ideal_s / out->makespan_s : 0;
  out->serial_s = t0 + end;
  double idle_sum = 0;
  out->idle_max_s = -1;
  for (int r = 0; r < S.R; r++) {
    double busy = 0;
    for (int t = 0; t < S.T; t++) busy += S.w[(uint64_t)r * S.T + t].busy;
    double idle = (last - t0) - busy / S.T;
    if (idle < 0) idle = 0;
    if (rank_idle_s) rank_idle_s[r] = idle;
    idle_sum += idle;
    if (idle > out->idle_max_s) {
      out->idle_max_s = idle;
      out->idle_max_rank = r;
    }
    if (S.ops[r] > out->busiest_ops) {
      out->busiest_ops = S.ops[r];
      out->busiest_rank = r;
    }
  }
  out->idle_mean_s = idle_sum / S.R;
  for (int n = 0; n < S.nodes; n++)
    if (S.nd[n].counter_ops > out->counter_ops_max) out->counter_ops_max = S.nd[n].counter_ops;
  if (out->makespan_s > 0) {
    out->busiest_ops_per_s = (double)out->busiest_ops / out->makespan_s;
    out->counter_ops_per_s = (double)out->counter_ops_max / out->makespan_s;
    out->counter_busy = (double)out->counter_ops_max * m->counter_s / out->makespan_s;
    if (out->counter_busy > 1) out->counter_busy = 1;
  }
  out->chunks = S.chunks;
  out->batches = S.batches;
  out->refills = S.refills;
  out->messages = 2 * S.refills; /* a request and a reply each */
  out->wait_s = S.wait_s;
  out->events = S.events;
  sim_free(&S);
  out->wall_s = amz__monotonic_now(NULL) - wall0;
  return 0;
}

int amz_simulate(const amz_sim_workload_t *w, const amz_sim_machine_t *m,
                 amz_schedule_t schedule, uint64_t chunk, double *rank_idle_s,
                 amz_sim_result_t *out) {
  if (out) memset(out, 0, sizeof *out);
  amz_sim_costs_t *c;
  int rc = amz_sim_costs_create(w, &c);
  if (rc != 0) return rc;
  rc = amz_simulate_costs(c, m, schedule, chunk, rank_idle_s, out);
  amz_sim_costs_destroy(c);
  return rc;
}

/* ---- choosing a plan by simulation ------------------------------------------------ */

/* Within this factor of the fastest, the candidate with fewer chunks wins. */
#define MAX_SIM_CHUNKS ((uint64_t)1 << 24)
#define PREFER_FEWER_CHUNKS 1.005

/* Chunk sizes worth trying: from one chunk per worker down to 4096 per worker (or
 * single items) for cyclic and dynamic; for guided and factoring, their minimum
 * chunk from 1 up to 1/4 of a worker's share. At most 2^24 chunks. */
static size_t chunk_grid(amz_schedule_t s, uint64_t N, uint64_t W, uint64_t *g, size_t cap) {
  uint64_t per = N / W > 0 ? N / W : 1;
  size_t n = 0;
  if (s == AMZ_SCHED_STATIC) {
    g[n++] = 0;
    return n;
  }
  if (s == AMZ_SCHED_CYCLIC || s == AMZ_SCHED_DYNAMIC) {
    for (int j = 0; j <= 12 && n < cap; j++) {
      uint64_t c = per >> j;
      if (c < 1) c = 1;
      /* Past 2^24 chunks a simulation takes tens of seconds; the per-chunk
       * overhead has long stopped paying by then. */
      if (n > 0 && N / c > MAX_SIM_CHUNKS) break;
      if (n == 0 || g[n - 1] != c) g[n++] = c;
      if (c == 1) break;
    }
    return n;
  }
  g[n++] = 1;
  for (int j = 12; j >= 2 && n < cap; j -= 2) {
    uint64_t c = per >> j;
    if (c > g[n - 1]) g[n++] = c;
  }
  return n;
}

static int better(const amz_sim_choice_t *a, const amz_sim_choice_t *b) {
  double ta = a->result.makespan_s, tb = b->result.makespan_s;
  if (ta * PREFER_FEWER_CHUNKS < tb) return 1;
  if (tb * PREFER_FEWER_CHUNKS < ta) return 0;
  if (a->result.chunks != b->result.chunks) return a->result.chunks < b->result.chunks;
  return ta < tb;
}

int amz_sim_choose(const amz_sim_costs_t *c, const amz_sim_machine_t *m,
                   amz_schedule_t schedule, amz_sim_choice_t *best,
                   amz_sim_choice_t *per_schedule) {
  if (!best) return amz__fail(AMZ_EINVAL, "amz_sim_choose: best is NULL");
  memset(best, 0, sizeof *best);
  if (per_schedule)
    for (int s = 0; s < AMZ_SCHED_COUNT; s++)
      per_schedule[s] = (amz_sim_choice_t){.schedule = AMZ_SCHED_AUTO};
  if (!c) return amz__fail(AMZ_EINVAL, "amz_sim_choose: costs are NULL");
  int rc = check_machine(m);
  if (rc != 0) return rc;
  if ((unsigned)schedule >= AMZ_SCHED_COUNT)
    return amz__fail(AMZ_ESCHED, "amz_sim_choose: schedule %d: expected 0 (auto) to %d",
                     (int)schedule, AMZ_SCHED_COUNT - 1);
  if (schedule == AMZ_SCHED_AWF) schedule = AMZ_SCHED_FACTORING;
  uint64_t W = (uint64_t)m->nodes * (uint64_t)m->ranks_per_node * (uint64_t)m->threads_per_rank;
  uint64_t N = amz__sim_items(c);
  int found = 0;
  for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++) {
    if (schedule != AMZ_SCHED_AUTO && s != (int)schedule) continue;
    uint64_t g[16];
    size_t ng = chunk_grid((amz_schedule_t)s, N, W, g, 16);
    amz_sim_choice_t mine = {0};
    int have = 0;
    for (size_t i = 0; i < ng; i++) {
      amz_sim_choice_t cand = {.schedule = (amz_schedule_t)s, .chunk = g[i]};
      rc = amz_simulate_costs(c, m, (amz_schedule_t)s, g[i], NULL, &cand.result);
      if (rc != 0) return rc;
      if (!have || better(&cand, &mine)) mine = cand;
      have = 1;
    }
    if (per_schedule) per_schedule[s] = mine;
    if (!found || better(&mine, best)) *best = mine;
    found = 1;
  }
  return 0;
}
