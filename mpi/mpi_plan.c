/*
 * MPI plans: probe every rank and the network, sample the kernel on all ranks at
 * once (each on its stratum of the index range), exchange the samples so that every
 * rank builds the same workload model, search ranks x threads x schedule x chunk,
 * and check that every rank chose the same plan.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

static const amz__plan_ext_ops_t mpi_ops = {"MPI", "amz_mpi_run()", amz__mpi_free,
                                            amz__mpi_explain};

/* The items a sampling rank sees: the index range is cut into groups of G items,
 * dealt to the S sampling ranks round-robin; rank r samples the concatenation of
 * its groups (a "virtual" range of its own). Every rank thus sees costs from the
 * whole range, so ranks sample similar mixes and finish together, where
 * contiguous strata would leave the rank with the cheap part waiting. */
typedef struct interleave {
  const amz_task_t *t;
  uint64_t n, g;  /* items, group size */
  int r, s;       /* this sampling rank, sampling ranks */
  /* The real runs whose kernel call failed, with their codes: a virtual block can
   * span several runs, and only the failing ones are failed items. */
  pthread_mutex_t mu;
  amz__rangeset_t failed;
  int oom;
  int retries;       /* failure isolation, on real ranges */
  amz__ckpt_t *ckpt; /* completed real ranges are logged here; may be NULL */
  _Atomic uint64_t retry_calls, recovered;
  int inner_wrapped; /* t->fn is the map wrapper, which publishes the user's calls */
} interleave_t;

static uint64_t il_size(const interleave_t *il) {
  uint64_t groups = (il->n + il->g - 1) / il->g, mine = 0;
  if ((uint64_t)il->r < groups) mine = (groups - 1 - (uint64_t)il->r) / (uint64_t)il->s + 1;
  uint64_t size = mine * il->g;
  uint64_t last = groups - 1; /* the only group that may be short */
  if (mine > 0 && last % (uint64_t)il->s == (uint64_t)il->r) size -= groups * il->g - il->n;
  return size;
}

/* Real runs of virtual items [vb, ve): calls fn(run_begin, run_end, ctx) for each. */
static int il_runs(const interleave_t *il, uint64_t vb, uint64_t ve,
                   int (*fn)(uint64_t, uint64_t, void *), void *ctx) {
  int first = 0;
  while (vb < ve) {
    uint64_t k = vb / il->g, off = vb % il->g;
    uint64_t b = (k * (uint64_t)il->s + (uint64_t)il->r) * il->g + off;
    uint64_t len = il->g - off < ve - vb ? il->g - off : ve - vb;
    if (b + len > il->n) len = il->n - b;
    if (len == 0) break; /* cannot happen within il_size(); never loop forever */
    int rc = fn(b, b + len, ctx);
    if (rc != 0 && first == 0) first = rc;
    vb += len;
  }
  return first;
}

static void il_failed(void *ctx, uint64_t b, uint64_t e, int rc) {
  interleave_t *il = ctx;
  pthread_mutex_lock(&il->mu);
  if (amz__rangeset_add(&il->failed, b, e, rc) != 0) il->oom = 1;
  pthread_mutex_unlock(&il->mu);
}

/* AMZ_TIMEOUT=...,abort under MPI: the whole job ends, not only this process. The
 * watcher is the thread that called the library, so MPI may be called here. */
static void watch_abort(void *ctx, const char *why) {
  (void)why; /* already on stderr */
  amz__mpi_t *m = ctx;
  MPI_Abort(m->comm, 124);
}

/* Kernel calls, retries and checkpoint records happen on real ranges. */
static int il_call(uint64_t b, uint64_t e, void *ctx) {
  interleave_t *il = ctx;
  amz__sink_t sink = {.fail = il_failed, .ctx = il,
                      .watch = il->inner_wrapped ? NULL : amz__watch_current()};
  int rc = amz__run_items(il->t, il->retries, il->ckpt, b, e, &sink);
  if (sink.retry_calls) {
    atomic_fetch_add(&il->retry_calls, sink.retry_calls);
    atomic_fetch_add(&il->recovered, sink.recovered);
  }
  return rc;
}

/* The completed items of this rank's groups, in its virtual index space: what its
 * sampler must not touch. */
static int il_exclude(const interleave_t *il, const amz__rangeset_t *done, amz__rangeset_t *out) {
  if (done->n == 0) return 0;
  uint64_t groups = (il->n + il->g - 1) / il->g;
  if ((uint64_t)il->r >= groups) return 0;
  uint64_t mine = (groups - 1 - (uint64_t)il->r) / (uint64_t)il->s + 1;
  for (uint64_t kv = 0; kv < mine; kv++) {
    uint64_t R = (kv * (uint64_t)il->s + (uint64_t)il->r) * il->g;
    uint64_t end = R + il->g < il->n ? R + il->g : il->n;
    for (size_t i = amz__rangeset_lower(done, R); i < done->n && done->v[i].begin < end; i++) {
      uint64_t b = done->v[i].begin > R ? done->v[i].begin : R;
      uint64_t e = done->v[i].end < end ? done->v[i].end : end;
      if (b < e && amz__rangeset_add(out, kv * il->g + (b - R), kv * il->g + (e - R), 0) != 0)
        return AMZ_ENOMEM;
    }
  }
  amz__rangeset_normalize(out);
  return 0;
}

static int il_fn(uint64_t vb, uint64_t ve, void *arg) {
  interleave_t *il = arg;
  return il_runs(il, vb, ve, il_call, il);
}

/* Collectors that turn virtual ranges into real ones. */
typedef struct il_ranges {
  amz__rangeset_t *set;
  int code, rc;
} il_ranges_t;

static int il_add_range(uint64_t b, uint64_t e, void *ctx) {
  il_ranges_t *c = ctx;
  if (c->rc == 0) c->rc = amz__rangeset_add(c->set, b, e, c->code);
  return 0;
}

typedef struct il_samples {
  amz__sample_t *v;
  size_t n, cap;
  amz__sample_t src; /* the virtual block being split */
  int rc;
} il_samples_t;

/* A block's time goes to its runs in proportion to their items. */
static int il_add_sample(uint64_t b, uint64_t e, void *ctx) {
  il_samples_t *c = ctx;
  if (c->rc) return 0;
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 256;
    amz__sample_t *v = realloc(c->v, cap * sizeof *v);
    if (!v) {
      c->rc = AMZ_ENOMEM;
      return 0;
    }
    c->v = v;
    c->cap = cap;
  }
  double f = (double)(e - b) / (double)(c->src.end - c->src.begin);
  c->v[c->n++] = (amz__sample_t){b, e, c->src.wall_s * f, c->src.cpu_s * f, c->src.concurrent,
                                 c->src.own_cpu_s * f, c->src.runq_s * f,
                                 c->src.queued_s * f, c->src.contended};
  return 0;
}

typedef struct il_recs {
  amz__chunk_rec_t *v;
  int *w;
  size_t n, cap;
  amz__chunk_rec_t src;
  int worker, rc;
} il_recs_t;

static int il_add_rec(uint64_t b, uint64_t e, void *ctx) {
  il_recs_t *c = ctx;
  if (c->rc) return 0;
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 256;
    amz__chunk_rec_t *v = realloc(c->v, cap * sizeof *v);
    int *w = v ? realloc(c->w, cap * sizeof *w) : NULL;
    if (v) c->v = v;
    if (!v || !w) {
      c->rc = AMZ_ENOMEM;
      return 0;
    }
    c->w = w;
    c->cap = cap;
  }
  c->v[c->n] = c->src;
  c->v[c->n].begin = b;
  c->v[c->n].end = e;
  c->w[c->n++] = c->worker;
  return 0;
}

/* Maps the sampler's virtual outputs to real item ranges, in place. */
static int il_map_back(interleave_t *il, amz_plan_t *p, amz__sample_t **samples,
                       size_t *n_samples, amz__rangeset_t *done, amz__rangeset_t *failed) {
  il_samples_t cs = {0};
  for (size_t i = 0; i < *n_samples && cs.rc == 0; i++) {
    cs.src = (*samples)[i];
    il_runs(il, cs.src.begin, cs.src.end, il_add_sample, &cs);
  }
  il_recs_t cr = {0};
  for (size_t i = 0; i < p->n_sample_recs && cr.rc == 0; i++) {
    cr.src = p->sample_recs[i];
    cr.worker = p->sample_rec_workers[i];
    il_runs(il, cr.src.begin, cr.src.end, il_add_rec, &cr);
  }
  amz__rangeset_t d = {0};
  il_ranges_t cd = {&d, 0, 0};
  for (size_t i = 0; i < done->n; i++) il_runs(il, done->v[i].begin, done->v[i].end, il_add_range, &cd);
  int rc = cs.rc ? cs.rc : cr.rc ? cr.rc : cd.rc ? cd.rc : il->oom ? AMZ_ENOMEM : 0;
  free(*samples);
  *samples = cs.v;
  *n_samples = cs.n;
  free(p->sample_recs);
  free(p->sample_rec_workers);
  p->sample_recs = cr.v;
  p->sample_rec_workers = cr.w;
  p->n_sample_recs = cr.n;
  /* Failed items: the runs the wrapper saw fail, not whole virtual blocks. */
  amz__rangeset_free(done);
  amz__rangeset_free(failed);
  amz__rangeset_sort(&d);
  amz__rangeset_sort(&il->failed);
  *done = d;
  *failed = il->failed;
  il->failed = (amz__rangeset_t){0};
  return rc ? amz__fail(rc, "out of memory while mapping the sampled ranges") : 0;
}

/* What each rank tells the others after sampling. */
typedef struct samp_header {
  uint64_t n_samples, n_failed, sampled_items;
  double contention, rel_error, wall_s; /* contention: this rank's own figure */
  double runq_share, load_share; /* this rank's threads' wait for a CPU */
  int contention_workers, threads;
  uint64_t map_pieces, map_bytes; /* map mode: pieces moved while sampling */
  double map_moved_s;
  char stop[72];
  int n_pair_log;                       /* the contention pairs' log ratios, pooled */
  double pair_log[AMZ__PAIR_LOG_MAX];
} samp_header_t;

/* Gathers variable-length byte arrays from every rank of comm into *all (malloc'ed),
 * waiting politely. counts[r] are bytes. */
static int allgatherv_bytes(MPI_Comm comm, int size, const void *mine, const uint64_t *bytes,
                            void **all) {
  int *cnt = malloc((size_t)size * sizeof *cnt), *dsp = malloc((size_t)size * sizeof *dsp);
  uint64_t total = 0;
  if (!cnt || !dsp) {
    free(cnt);
    free(dsp);
    return amz__fail(AMZ_ENOMEM, "cannot allocate gather counts");
  }
  for (int r = 0; r < size; r++) {
    if (bytes[r] > INT32_MAX || total + bytes[r] > INT32_MAX) {
      free(cnt);
      free(dsp);
      return amz__fail(AMZ_ERANGE, "sample exchange of %llu bytes exceeds the MPI count limit",
                       (unsigned long long)(total + bytes[r]));
    }
    cnt[r] = (int)bytes[r];
    dsp[r] = (int)total;
    total += bytes[r];
  }
  *all = malloc(total ? total : 1);
  int rc = *all ? 0 : amz__fail(AMZ_ENOMEM, "cannot allocate %llu bytes of samples",
                                (unsigned long long)total);
  if (rc == 0) {
    MPI_Request req;
    int me;
    MPI_Comm_rank(comm, &me);
    rc = amz__mpi_check(MPI_Iallgatherv(mine, cnt[me], MPI_BYTE, *all, cnt, dsp, MPI_BYTE,
                                        comm, &req),
                        "MPI_Iallgatherv(samples)");
    if (rc == 0) rc = amz__mpi_wait_polite(&req, NULL);
  }
  free(cnt);
  free(dsp);
  return rc;
}

static uint64_t decision_fingerprint(const amz_plan_t *p) {
  uint64_t h = AMZ__FNV_BASIS;
  for (size_t i = 0; i < p->dec.n_cands; i++) {
    const amz_candidate_t *c = &p->dec.cands[i];
    h = amz__fnv1a(h, &c->ranks, sizeof c->ranks);
    h = amz__fnv1a(h, &c->workers, sizeof c->workers);
    h = amz__fnv1a(h, &c->schedule, sizeof c->schedule);
    h = amz__fnv1a(h, &c->chunk, sizeof c->chunk);
    h = amz__fnv1a(h, &c->predicted_s, sizeof c->predicted_s);
  }
  h = amz__fnv1a(h, &p->dec.chosen, sizeof p->dec.chosen);
  return h;
}

/* Samples this rank's stratum and exchanges the samples; builds p->wl, p->sampled,
 * p->sampled_failed on every rank identically. */
/* Options that shape the plan must be the same on every rank: each rank plans
 * alone from the same data, and a rank with other options would plan otherwise
 * (or wait in another collective). Compared here so that every rank returns the
 * same error, naming the option. Paths (profile, checkpoint) are rank 0's. */
static int options_agree(amz_plan_t *p, MPI_Comm comm) {
  const amz__constraints_t *c = &p->cons;
  const char *names[] = {"workers",        "ranks",          "schedule",
                         "chunk",          "retries",        "sampling budget (seconds)",
                         "sampling error target", "timeout seconds", "timeout factor",
                         "timeout action (0 error, 1 abort)"};
  double mine[] = {(double)c->workers, (double)c->ranks,           (double)c->schedule,
                   (double)c->chunk,   (double)c->retries,         p->opts.sample_seconds,
                   p->opts.sample_rel_error, c->timeout_s, c->timeout_factor,
                   (double)c->timeout_abort};
  enum { K = sizeof mine / sizeof mine[0] };
  double lo[K], hi[K];
  int rc = amz__mpi_check(MPI_Allreduce(mine, lo, K, MPI_DOUBLE, MPI_MIN, comm),
                          "MPI_Allreduce(options)");
  if (rc == 0)
    rc = amz__mpi_check(MPI_Allreduce(mine, hi, K, MPI_DOUBLE, MPI_MAX, comm),
                        "MPI_Allreduce(options)");
  if (rc != 0) return amz__mpi_agree(comm, rc);
  for (int k = 0; k < K; k++)
    if (lo[k] != hi[k])
      return amz__fail(AMZ_ECONFLICT,
                       "option '%s' differs between ranks (from %g to %g): every rank must "
                       "pass the same options and environment",
                       names[k], lo[k], hi[k]);
  return 0;
}

/* The checkpoint: rank 0's path; rank 0 creates or reads it and tells everyone
 * what was completed and where this session's records go; every rank opens it. */
static int ckpt_sync(amz_plan_t *p, amz__mpi_t *m, MPI_Comm comm) {
  int rc = amz__mpi_bcast_str(comm, m->rank, &p->ckpt_path, "checkpoint path");
  if (rc != 0 || !p->ckpt_path) return rc;
  const char *path = p->ckpt_path;
  if (m->map) /* the same on every rank */
    return amz__fail(AMZ_ECONFLICT, "a checkpoint (%s) cannot be used in map mode: the outputs "
                     "of items completed by an earlier job are not available", p->ckpt_from);
  int lrc = 0;
  p->ckpt_open = 1; /* closed by amz_plan_destroy, also after a failure */
  if (m->rank == 0) {
    lrc = amz__ckpt_open(&p->ckpt, path, p->name, p->task.n_items, 1, &p->resumed, &p->ckpt_info);
    if (lrc != 0) lrc = amz__fail(lrc, "%s: %s", p->ckpt_from, amz_last_error());
  }
  rc = amz__mpi_agree(comm, lrc);
  struct {
    uint64_t base, ranges, completed, records, damaged;
    double cost;
  } h = {p->ckpt.base, p->resumed.n, p->ckpt_info.completed, p->ckpt_info.records,
         p->ckpt_info.damaged, p->ckpt.write_cost_s};
  if (rc == 0)
    rc = amz__mpi_agree(comm, amz__mpi_check(MPI_Bcast(&h, sizeof h, MPI_BYTE, 0, comm),
                                             "MPI_Bcast(checkpoint)"));
  if (rc == 0 && h.ranges * sizeof(amz__range_t) > INT32_MAX)
    rc = amz__fail(AMZ_ENOMEM, "checkpoint '%s' holds %llu separate ranges: too many to share",
                   path, (unsigned long long)h.ranges);
  if (rc == 0) {
    lrc = 0;
    if (m->rank != 0) {
      p->resumed.v = malloc((h.ranges ? h.ranges : 1) * sizeof *p->resumed.v);
      if (!p->resumed.v) lrc = amz__fail(AMZ_ENOMEM, "cannot receive the checkpoint's ranges");
      p->resumed.n = p->resumed.cap = p->resumed.v ? h.ranges : 0;
    }
    rc = amz__mpi_agree(comm, lrc); /* collective: every rank */
  }
  if (rc == 0 && h.ranges > 0)
    rc = amz__mpi_agree(comm, amz__mpi_check(MPI_Bcast(p->resumed.v,
                                                       (int)(h.ranges * sizeof(amz__range_t)),
                                                       MPI_BYTE, 0, comm),
                                             "MPI_Bcast(checkpoint ranges)"));
  if (rc == 0) {
    lrc = 0;
    if (m->rank != 0) {
      lrc = amz__ckpt_open(&p->ckpt, path, p->name, p->task.n_items, 0, NULL, &p->ckpt_info);
      p->ckpt_info.completed = h.completed;
      p->ckpt_info.records = h.records;
      p->ckpt_info.damaged = h.damaged;
      p->ckpt.write_cost_s = h.cost;
    }
    rc = amz__mpi_agree(comm, lrc); /* collective: every rank */
  }
  if (rc == 0) amz__ckpt_set_writer(&p->ckpt, m->rank, m->size, h.base);
  return rc;
}

/* The end of sampling, agreed without idling: a rank that reaches its error target
 * posts a non-blocking barrier and keeps sampling its own items (the sampler's linger
 * hook) until every rank has posted; the items are real work, counted as done. With
 * one rank slowed by another process on its core, the others would otherwise wait
 * for it with their cores idle (2 ranks: about 25 ms of a 48 ms sample). */
typedef struct linger {
  MPI_Comm comm;
  MPI_Request req;
  int posted, done, rc;
  int any_thread; /* MPI_THREAD_MULTIPLE: the sampler may ask from a helper thread */
} linger_t;

static int linger_post(linger_t *l) {
  if (l->posted) return l->rc;
  l->posted = 1;
  l->rc = amz__mpi_check(MPI_Ibarrier(l->comm, &l->req), "MPI_Ibarrier(end of sampling)");
  if (l->rc != 0) l->done = 1;
  return l->rc;
}

static int linger_more(void *ctx) {
  linger_t *l = ctx;
  /* The sampler asks from its worker 0: the calling thread, or a helper when a
   * timeout is watched. Below MPI_THREAD_MULTIPLE a helper may not call MPI: the
   * rank then stops and waits at the barrier (linger_end, on the calling thread). */
  int main_thread = 0;
  if (!l->any_thread && (MPI_Is_thread_main(&main_thread) != MPI_SUCCESS || !main_thread))
    return 0;
  if (linger_post(l) != 0 || l->done) return 0;
  int flag = 0;
  l->rc = amz__mpi_check(MPI_Test(&l->req, &flag, MPI_STATUS_IGNORE), "MPI_Test(end of sampling)");
  l->done = flag || l->rc != 0;
  return !l->done;
}

/* Every rank passes the barrier once, sampling or not, failed or not. */
static int linger_end(linger_t *l) {
  if (linger_post(l) == 0 && !l->done) {
    l->rc = amz__mpi_wait_polite(&l->req, NULL);
    l->done = 1;
  }
  return l->rc;
}

/* The node gate (amz__node_gate_t): the sampling ranks of a node pass a sequence of
 * ranks + 2 barriers on their own communicator. Rank i runs the halves of its
 * contention pairs that run alone between barriers i and i + 1, while the others
 * wait in one of them without spinning a core. The last barrier is a start line:
 * a blocking one, so that the ranks leave it within microseconds (a sleeping wait
 * wakes up to 200 us late, and the busy halves of a pair take about 20 us each:
 * with the ranks' starts that far apart, 2 ranks that slow each other down 1.5x
 * measured 1.30x to 1.42x). Every member passes every barrier once, whatever
 * happens to its sampler: all() passes what is left. */
typedef struct node_gate {
  MPI_Comm comm;
  int idx, size;
  int passed; /* barriers passed */
  int rc;
} node_gate_t;

static int gate_pass(node_gate_t *g, int upto) {
  while (g->rc == 0 && g->passed <= upto && g->passed <= g->size + 1) {
    if (g->passed == g->size + 1) {
      g->rc = amz__mpi_check(MPI_Barrier(g->comm), "MPI_Barrier(node contention start)");
    } else {
      MPI_Request req;
      g->rc = amz__mpi_check(MPI_Ibarrier(g->comm, &req), "MPI_Ibarrier(node contention turns)");
      if (g->rc == 0) g->rc = amz__mpi_wait_polite(&req, NULL);
    }
    g->passed++;
  }
  return g->rc;
}

static int gate_turn(void *ctx) {
  node_gate_t *g = ctx;
  return gate_pass(g, g->idx);
}

static int gate_all(void *ctx) {
  node_gate_t *g = ctx;
  return gate_pass(g, g->size + 1);
}

/* Sets up the gate of this rank's node when two or more of its ranks sample:
 * collective over m->comm whenever some node has two sampling ranks. Returns 0 with
 * g->comm = MPI_COMM_NULL when this rank has no gate. The sampler's worker 0 calls
 * it: a helper thread when a timeout is watched, which needs MPI_THREAD_MULTIPLE;
 * below it no rank measures across ranks (the same decision everywhere). */
static int gate_open(const amz__mpi_t *m, int S, int member, int level, int watched,
                     node_gate_t *g, int *node_ranks) {
  *g = (node_gate_t){.comm = MPI_COMM_NULL};
  *node_ranks = 0;
  if (watched && level != MPI_THREAD_MULTIPLE) return 0;
  int any = 0, mine = 0;
  for (int n = 0, k = 0, s = 0; n < m->nodes; n++) {
    int take = m->ni[n].ranks < m->ni[n].cores ? m->ni[n].ranks : m->ni[n].cores, here = 0;
    for (int i = 0; i < m->ni[n].ranks; i++, k++)
      if (i < take && s < S) here++, s++;
    if (here >= 2) any = 1;
    if (n == m->ri[m->rank].node) mine = here;
  }
  if (!any) return 0;
  MPI_Comm c = MPI_COMM_NULL;
  int rc = amz__mpi_check(MPI_Comm_split(m->comm, member && mine >= 2 ? m->ri[m->rank].node
                                                                    : MPI_UNDEFINED,
                                         m->rank, &c),
                          "MPI_Comm_split(node sampling ranks)");
  if (rc != 0 || c == MPI_COMM_NULL) return rc;
  g->comm = c;
  MPI_Comm_rank(c, &g->idx);
  MPI_Comm_size(c, &g->size);
  *node_ranks = g->size;
  return 0;
}

/* server: rank 0's progress thread while it serves map mode's data, else NULL. */
static int distributed_sample(amz_plan_t *p, amz__mpi_t *m, const amz_task_t *task,
                              const pthread_t *server) {
  const uint64_t N = task->n_items;
  /* Sampling ranks: on each node as many as it has cores (more would only share
   * them and distort the timings), each with its share of the node's cores. */
  int S = 0, my_stratum = -1, threads = 1;
  for (int n = 0, k = 0; n < m->nodes; n++) {
    int take = m->ni[n].ranks < m->ni[n].cores ? m->ni[n].ranks : m->ni[n].cores;
    for (int i = 0; i < m->ni[n].ranks; i++, k++) {
      if (i >= take) continue;
      if (m->order[k] == m->rank) {
        my_stratum = S;
        threads = amz__mpi_threads_cap(m, n, take);
      }
      S++;
    }
  }
  if (N > 0 && (uint64_t)S > N) S = (int)N;
  if (my_stratum >= S) my_stratum = -1;
  if (p->cons.workers > 0) threads = p->cons.workers;
  m->sample_ranks = S;
  m->sample_threads = threads;

  samp_header_t h;
  memset(&h, 0, sizeof h);
  amz__sample_t *samples = NULL;
  size_t n_samples = 0;
  amz__rangeset_t done = {0}, failed = {0};
  int rc = 0;
  int level = MPI_THREAD_SINGLE;
  MPI_Query_thread(&level);
  linger_t lg = {.comm = m->comm, .req = MPI_REQUEST_NULL,
                 .any_thread = level == MPI_THREAD_MULTIPLE};
  node_gate_t gs;
  int gate_ranks = 0;
  rc = gate_open(m, S, my_stratum >= 0 && N > 0, level, amz__plan_watch(p) != NULL, &gs,
                 &gate_ranks);
  amz__node_gate_t gate = {.turn = gate_turn, .all = gate_all, .ctx = &gs,
                           .ranks = gate_ranks, .node_workers = gate_ranks * threads};
  size_t n_pair_log = 0;
  if (rc == 0 && my_stratum >= 0 && N > 0) {
    /* Groups of G items, 256 per sampling rank: fine enough that a sample block
     * (at most 1/64 of a rank's items) spans a few neighbouring groups. */
    uint64_t G = N / ((uint64_t)S * 256);
    interleave_t il = {.t = task, .n = N, .g = G ? G : 1, .r = my_stratum, .s = S,
                       .retries = p->cons.retries, .ckpt = p->ckpt_open ? &p->ckpt : NULL,
                       .inner_wrapped = m->map};
    pthread_mutex_init(&il.mu, NULL);
    amz_task_t sub = {p->name, il_size(&il), il_fn, &il};
    amz__rangeset_t excl = {0};
    rc = il_exclude(&il, &p->resumed, &excl);
    amz__sampler_params_t sp = {.task = &sub,
                                .exclude = &excl,
                                .workers = threads,
                                .max_seconds = p->opts.sample_seconds,
                                .rel_error = p->opts.sample_rel_error,
                                .clock = p->opts.clock,
                                .pool = &p->pool,
                                .samples_out = &samples,
                                .n_samples_out = &n_samples,
                                .watch = amz__plan_watch(p),
                                .kernel_wrapped = 1 /* il_fn: its real calls publish */,
                                .linger = S > 1 ? linger_more : NULL,
                                .linger_ctx = &lg,
                                .gate = gs.comm != MPI_COMM_NULL ? &gate : NULL,
                                .pair_log_out = h.pair_log,
                                .n_pair_log_out = &n_pair_log,
                                /* Its CPU time serving the other ranks' data read as
                                 * the kernel's own threads: 1.3 to 1.5 cores a call
                                 * for a kernel of one thread, and predictions 2x to
                                 * 3x the run (bench_mpi --only map). */
                                .aux_threads = server,
                                .n_aux_threads = server != NULL};
    amz__workload_t wl;
    if (rc == 0)
      rc = amz__sample(&sp, &wl, &done, &failed, &p->sample_recs, &p->n_sample_recs,
                       &p->sample_rec_workers);
    else
      rc = amz__fail(rc, "out of memory mapping the resumed items");
    amz__rangeset_free(&excl);
    p->sample_retry_calls = atomic_load(&il.retry_calls);
    p->sample_recovered = atomic_load(&il.recovered);
    if (rc == 0) rc = il_map_back(&il, p, &samples, &n_samples, &done, &failed);
    amz__rangeset_free(&il.failed);
    pthread_mutex_destroy(&il.mu);
    if (rc == 0) {
      h.n_samples = n_samples;
      h.n_failed = failed.n;
      h.sampled_items = amz__rangeset_items(&done);
      h.contention = wl.contention;
      h.contention_workers = wl.contention_workers;
      h.rel_error = wl.rel_error;
      h.wall_s = wl.sample_wall_s;
      h.threads = wl.sample_workers;
      h.runq_share = wl.runq_share;
      h.load_share = wl.load_share;
      h.map_pieces = atomic_load(&m->map_pieces);
      h.map_bytes = atomic_load(&m->map_bytes);
      h.map_moved_s = (double)atomic_load(&m->map_moved_ns) * 1e-9;
      snprintf(h.stop, sizeof h.stop, "%s", wl.stop_reason ? wl.stop_reason : "-");
    }
  }
  if (gs.comm != MPI_COMM_NULL) {
    /* Every member passes every barrier, whatever its sampler did. */
    int grc = gate_all(&gs);
    if (rc == 0) rc = grc;
    MPI_Comm_free(&gs.comm);
  }
  h.n_pair_log = (int)n_pair_log;
  int lrc = linger_end(&lg);
  if (rc == 0) rc = lrc;
  m->local_sampled = h.sampled_items;
  m->local_sampled_failed = amz__rangeset_items(&failed);
  m->local_sampled_ranges = done;
  rc = amz__mpi_agree(m->comm, rc);
  samp_header_t *hs = malloc((size_t)m->size * sizeof *hs);
  uint64_t *bytes = malloc((size_t)m->size * sizeof *bytes);
  void *all_s = NULL, *all_f = NULL;
  if (rc == 0 && (!hs || !bytes)) rc = amz__fail(AMZ_ENOMEM, "cannot allocate sample headers");
  rc = amz__mpi_agree(m->comm, rc);
  if (rc == 0) {
    MPI_Request req;
    rc = amz__mpi_check(MPI_Iallgather(&h, sizeof h, MPI_BYTE, hs, sizeof h, MPI_BYTE,
                                       m->comm, &req),
                        "MPI_Iallgather(sample headers)");
    if (rc == 0) rc = amz__mpi_wait_polite(&req, NULL);
  }
  if (rc == 0) {
    for (int r = 0; r < m->size; r++) bytes[r] = hs[r].n_samples * sizeof(amz__sample_t);
    rc = allgatherv_bytes(m->comm, m->size, samples, bytes, &all_s);
  }
  if (rc == 0) {
    for (int r = 0; r < m->size; r++) bytes[r] = hs[r].n_failed * sizeof(amz__range_t);
    rc = allgatherv_bytes(m->comm, m->size, failed.v, bytes, &all_f);
  }
  if (rc == 0) {
    uint64_t ns = 0, nf = 0;
    for (int r = 0; r < m->size; r++) ns += hs[r].n_samples, nf += hs[r].n_failed;
    amz__sample_t *as = all_s;
    const amz__range_t *af = all_f;
    /* Contention from the pairs of every rank that ran some, pooled (each rank's
     * own few pairs seldom pass the significance test alone), measured with the
     * node's workers busy where its ranks took turns (node gate), else with the
     * rank's threads. Each rank scaled its busy blocks by its own figure: they are
     * rescaled to the pooled one. */
    double pooled[64 * AMZ__PAIR_LOG_MAX]; /* the first 64 ranks' are plenty */
    size_t np = 0;
    int cw = 1;
    for (int r = 0; r < m->size; r++) {
      if (hs[r].n_samples == 0 || hs[r].n_pair_log <= 0) continue;
      if (hs[r].contention_workers > cw) cw = hs[r].contention_workers;
      for (int i = 0; i < hs[r].n_pair_log && i < AMZ__PAIR_LOG_MAX; i++)
        if (np < sizeof pooled / sizeof pooled[0]) pooled[np++] = hs[r].pair_log[i];
    }
    double craw = amz__contention_from_pairs(pooled, np), cont = craw > 1.0 ? craw : 1.0;
    uint64_t at = 0;
    for (int r = 0; r < m->size; at += hs[r].n_samples, r++) {
      double f = hs[r].contention > 0 ? hs[r].contention / cont : 1.0;
      if (f == 1.0) continue;
      for (uint64_t i = 0; i < hs[r].n_samples; i++)
        if (as[at + i].contended) as[at + i].wall_s *= f, as[at + i].cpu_s *= f;
    }
    amz__workload_from_samples(&p->wl, N, as, (size_t)ns);
    for (uint64_t i = 0; i < ns && rc == 0; i++)
      rc = amz__rangeset_add(&p->sampled, as[i].begin, as[i].end, 0);
    for (uint64_t i = 0; i < nf && rc == 0; i++)
      rc = amz__rangeset_add(&p->sampled_failed, af[i].begin, af[i].end, af[i].code);
    amz__rangeset_sort(&p->sampled);
    amz__rangeset_sort(&p->sampled_failed);
    /* The per-rank statistics, combined in rank order (identical everywhere): the
     * error of the pooled mean from the ranks' errors, wall time of the slowest. */
    double e2 = 0, wall = 0;
    int kw = 0, thr = 0;
    for (int r = 0; r < m->size; r++) {
      if (hs[r].n_samples == 0) continue;
      kw++;
      thr += hs[r].threads;
      e2 += hs[r].rel_error * hs[r].rel_error;
      if (hs[r].wall_s > wall) wall = hs[r].wall_s;
    }
    amz__workload_t *wl = &p->wl;
    wl->contention = cont;
    wl->contention_raw = craw;
    wl->contention_workers = np > 0 ? cw : 1;
    wl->rel_error = kw ? sqrt(e2) / kw : 0.0;
    wl->sample_wall_s = wall;
    wl->sample_workers = thr ? thr : 1;
    /* The wait for a CPU, per sampling thread: each rank sampled its own share of
     * items, so a slowed rank's blocks span more time than a free one's and the
     * pooled samples would weigh its wait by that. The mean over threads is the
     * capacity the run meets: 2 ranks, one sharing its core with another process,
     * wait 0.25 of their time (the pooled samples said 0.4). */
    double rq = 0, lq = 0;
    for (int r = 0; r < m->size; r++)
      if (hs[r].n_samples > 0)
        rq += hs[r].threads * hs[r].runq_share, lq += hs[r].threads * hs[r].load_share;
    wl->runq_share = thr ? rq / thr : 0.0;
    wl->load_share = thr ? lq / thr : 0.0;
    /* The cores the sampling ranks could use: a node's when its ranks share them,
     * else each rank's own. */
    int cs = 0;
    for (int n = 0; n < m->nodes; n++) {
      int any = 0, own = 0;
      for (int r = 0; r < m->size; r++)
        if (m->ri[r].node == n && hs[r].n_samples > 0) any = 1, own += m->ri[r].usable_cores;
      if (any) cs += m->ni[n].shared ? m->ni[n].cores : own;
    }
    wl->sample_cores = cs > 0 ? cs : 1;
    m->sample_rel_error = wl->rel_error;
    /* Map mode: what a piece's exchanges with rank 0 really cost while every rank
     * sampled (server wake-ups under load included), beyond its bytes. */
    uint64_t pieces = 0, bytes = 0;
    double moved = 0;
    for (int r = 0; r < m->size; r++)
      pieces += hs[r].map_pieces, bytes += hs[r].map_bytes, moved += hs[r].map_moved_s;
    double bw = m->net.bw_net > 0 ? m->net.bw_net : m->net.bw_shm;
    if (pieces > 0) {
      double extra = (moved - (bw > 0 ? (double)bytes / bw : 0.0)) / (double)pieces;
      m->piece_s = extra > 0 ? extra : 0.0;
    }
    snprintf(m->stop_reason, sizeof m->stop_reason, "rank 0: %s", hs[0].stop);
    wl->stop_reason = m->stop_reason; /* lives as long as the plan */
  }
  free(samples);
  free(hs);
  free(bytes);
  free(all_s);
  free(all_f);
  amz__rangeset_free(&failed);
  return amz__mpi_agree(m->comm, rc);
}

/* Predicts the installed choice for the next run and the serial reference. */
static int mpi_predict_choice(amz_plan_t *p) {
  amz__mpi_t *m = p->ext;
  amz__mpi_model_t mm = {&p->wl, &p->machine, m,
                         m->map ? (double)(m->mt.bytes_in + m->mt.bytes_out) : 0.0, 1};
  double rem = 1.0;
  if (p->runs == 0 && p->task.n_items > 0)
    rem = 1.0 - (double)amz__rangeset_items(&p->skip_first) / (double)p->task.n_items;
  int rc = amz__mpi_predict(&mm, p->ranks, p->workers, p->schedule, p->chunk, rem,
                            &p->next_terms);
  if (rc == 0)
    rc = amz__mpi_predict(&mm, p->ranks, p->workers, p->schedule, p->chunk, 1.0,
                          &p->full_terms);
  amz_terms_t serial;
  if (rc == 0) rc = amz__mpi_predict(&mm, 1, 1, AMZ_SCHED_STATIC, 0, 1.0, &serial);
  p->serial_pred_s = serial.total;
  return rc;
}

int amz__mpi_decide(amz_plan_t *p) {
  amz__mpi_t *m = p->ext;
  amz__decision_free(&p->dec);
  amz__mpi_model_t mm = {&p->wl, &p->machine, m,
                         m->map ? (double)(m->mt.bytes_in + m->mt.bytes_out) : 0.0, 0};
  double t0 = amz__clock_now(p->opts.clock);
  int rc = amz__mpi_search(&mm, &p->cons, &p->dec, m->why, sizeof m->why);
  if (rc != 0) return rc;
  p->search_s = amz__clock_now(p->opts.clock) - t0;
  const amz_candidate_t *c = &p->dec.cands[p->dec.chosen];
  p->ranks = c->ranks;
  p->workers = c->workers;
  p->schedule = c->schedule;
  p->chunk = c->chunk;
  m->ranks = c->ranks;
  m->threads = c->workers;
  return mpi_predict_choice(p);
}

int amz__mpi_repredict(amz_plan_t *p) { return mpi_predict_choice(p); }

/* After a run: search threads, schedule and chunk again with the refined model. The
 * ranks stay those of the plan (their communicators and node windows exist), and so
 * does the explanation of that choice. Identical on every running rank: the refined
 * model comes from data all of them exchanged. */
int amz__mpi_replan(amz_plan_t *p) {
  amz__mpi_t *m = p->ext;
  amz__constraints_t saved = p->cons;
  char why[sizeof m->why];
  memcpy(why, m->why, sizeof why);
  p->cons.ranks = m->ranks;
  p->cons.ranks_from = saved.ranks_from ? saved.ranks_from : "the plan (ranks stay across runs)";
  int rc = amz__mpi_decide(p);
  p->cons = saved;
  memcpy(m->why, why, sizeof why);
  return rc;
}

/* ---- the MPI plan's steps of creation (amz__plan_make) --------------------- */

static const char *create_fn(const amz__mpi_t *m) {
  return m->map ? "amz_mpi_map_plan_create" : "amz_mpi_plan_create";
}

static int mpi_agree_all(void *ext, int rc) { return amz__mpi_agree(((amz__mpi_t *)ext)->comm, rc); }

/* Checks and agreements before anything is measured: the ranks asked for, the same
 * loop on every rank, the same options, profile and checkpoint. */
static int mpi_open(void *ext, amz_plan_t *p, int rc) {
  amz__mpi_t *m = ext;
  MPI_Comm dup = m->comm;
  const char *fn_name = create_fn(m);
  if (rc == 0 && p->cons.ranks > m->size)
    rc = amz__fail(AMZ_EINVAL, "ranks = %d (from %s) but only %d ranks were launched",
                   p->cons.ranks, p->cons.ranks_from, m->size);
  /* The same N everywhere, or the strata would not tile the range; the same task
   * (by a hash of its name), or ranks would execute each other's items. */
  const char *name = p->task.name ? p->task.name : "";
  /* Map mode: the same item sizes (0 for a plain loop), or rank 0 would send and
   * receive items of another size than the others read and write. */
  uint64_t mine[4] = {p->task.n_items, amz__fnv1a(AMZ__FNV_BASIS, name, strlen(name)),
                      m->map ? (uint64_t)m->mt.bytes_in + 1 : 0,
                      m->map ? (uint64_t)m->mt.bytes_out + 1 : 0};
  uint64_t lo[4], hi[4];
  MPI_Allreduce(mine, lo, 4, MPI_UINT64_T, MPI_MIN, dup);
  MPI_Allreduce(mine, hi, 4, MPI_UINT64_T, MPI_MAX, dup);
  if (rc == 0 && lo[0] != hi[0])
    rc = amz__fail(AMZ_EINVAL, "%s: n_items differs between ranks (from %llu to %llu)",
                   fn_name, (unsigned long long)lo[0], (unsigned long long)hi[0]);
  else if (rc == 0 && (lo[2] == 0) != (hi[2] == 0))
    rc = amz__fail(AMZ_EINVAL, "%s: some ranks plan a map-mode loop "
                               "(amz_mpi_map_plan_create), others a plain one: every rank "
                               "must call the same function", fn_name);
  else if (rc == 0 && (lo[2] != hi[2] || lo[3] != hi[3]))
    rc = amz__fail(AMZ_EINVAL, "%s: item sizes differ between ranks (bytes_in from %llu to "
                               "%llu, bytes_out from %llu to %llu)", fn_name,
                   (unsigned long long)lo[2] - 1, (unsigned long long)hi[2] - 1,
                   (unsigned long long)lo[3] - 1, (unsigned long long)hi[3] - 1);
  else if (rc == 0 && lo[1] != hi[1])
    rc = amz__fail(AMZ_ECONFLICT, "%s: the task name differs between ranks ('%s' on rank %d); "
                                  "every rank must plan the same loop", fn_name, name, m->rank);
  rc = amz__mpi_agree(dup, rc);
  if (rc == 0) rc = options_agree(p, dup);
  if (rc == 0) rc = amz__mpi_profile_sync(p, dup, m->rank);
  if (rc == 0) rc = ckpt_sync(p, m, dup);
  return rc;
}

/* Probe: every rank its own topology; rank 0 the thread costs for all (the model
 * must be the same everywhere); then the network. */
static int mpi_probe(void *ext, amz_plan_t *p, const char *dir) {
  amz__mpi_t *m = ext;
  MPI_Comm dup = m->comm;
  amz__topology_t topo;
  memset(&topo, 0, sizeof topo);
  int rc = amz__mpi_agree(dup, amz__topology_probe_in(&topo, dir));
  if (rc == 0) rc = amz__mpi_agree(dup, amz__mpi_topology(m, &topo));
  if (rc == 0) {
    int lrc = 0;
    if (p->opts.machine) {
      p->machine = *p->opts.machine;
    } else if (m->rank == 0) {
      p->machine.topo = topo;
      lrc = amz__costs_probe(&topo, dir, &p->machine.costs);
    }
    rc = amz__mpi_agree(dup, lrc);
  }
  if (rc == 0) {
    MPI_Request req;
    rc = amz__mpi_check(MPI_Ibcast(&p->machine, sizeof p->machine, MPI_BYTE, 0, dup, &req),
                        "MPI_Ibcast(machine)");
    if (rc == 0) rc = amz__mpi_wait_polite(&req, NULL);
    rc = amz__mpi_agree(dup, rc);
  }
  if (rc == 0) rc = amz__mpi_agree(dup, amz__mpi_net_probe(m, dir));
  return rc;
}

/* Sampling spread over the ranks; in map mode rank 0 serves the sampled blocks'
 * data from a progress thread meanwhile. */
static int mpi_sample(void *ext, amz_plan_t *p) {
  amz__mpi_t *m = ext;
  MPI_Comm dup = m->comm;
  int rc = 0;
  pthread_t server;
  int serving = 0, map_phase = m->map && m->size > 1;
  if (map_phase) {
    m->data_comm = dup;
    if (m->rank == 0) {
      amz__server_params_t sp = {.m = m, .comm = dup, .peers = m->size - 1};
      rc = amz__server_start(&sp, &server);
      serving = rc == 0;
    }
    rc = amz__mpi_agree(dup, rc);
    if (rc != 0) map_phase = 0; /* only rank 0 can fail here: no server runs */
  }
  if (rc == 0) rc = distributed_sample(p, m, &p->task, serving ? &server : NULL);
  if (map_phase) {
    if (m->rank != 0) amz__map_done(dup);
    if (serving) amz__server_join(server);
  }
  return rc;
}

/* The search, on every rank from the same inputs; the ranks check that they chose
 * the same plan. */
static int mpi_decide(void *ext, amz_plan_t *p) {
  amz__mpi_t *m = ext;
  int rc = amz__mpi_agree(m->comm, amz__mpi_decide(p));
  if (rc != 0) return rc;
  m->fingerprint = decision_fingerprint(p);
  uint64_t fmin = m->fingerprint, fmax = m->fingerprint;
  MPI_Allreduce(&m->fingerprint, &fmin, 1, MPI_UINT64_T, MPI_MIN, m->comm);
  MPI_Allreduce(&m->fingerprint, &fmax, 1, MPI_UINT64_T, MPI_MAX, m->comm);
  if (fmin != fmax)
    rc = amz__fail(AMZ_EMPI, "the ranks computed different plans (fingerprints %016llx "
                             "to %016llx): their inputs differ",
                   (unsigned long long)fmin, (unsigned long long)fmax);
  return rc;
}

/* Every rank, excluded ones included, learns whether the run's set-up worked: a
 * plan made on some ranks only would leave the others alone in its collectives. */
static int mpi_ready(void *ext, amz_plan_t *p) {
  amz__mpi_t *m = ext;
  return amz__mpi_agree(m->comm, amz__mpi_setup_run(p));
}

static const amz__create_ops_t mpi_create_ops = {.agree = mpi_agree_all,
                                                 .open = mpi_open,
                                                 .probe = mpi_probe,
                                                 .sample = mpi_sample,
                                                 .decide = mpi_decide,
                                                 .ready = mpi_ready};

static int plan_create(MPI_Comm comm, const amz_task_t *task, const amz_map_task_t *mt,
                       const amz_options_t *opts, amz_plan_t **plan) {
  const char *fn_name = mt ? "amz_mpi_map_plan_create" : "amz_mpi_plan_create";
  if (plan) *plan = NULL; /* on every failure, the early ones included */
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (!init || fin)
    return amz__fail(AMZ_EINVAL, "%s: MPI is %s; call it between MPI_Init and MPI_Finalize",
                     fn_name, fin ? "already finalized" : "not initialized");
  int crc = amz__mpi_intracomm(comm, fn_name);
  if (crc != 0) return crc;
  /* Every local check is agreed on before returning: a rank that returned alone
   * would leave the others waiting in the next collective. */
  int rc = 0;
  if (!plan) rc = amz__fail(AMZ_EINVAL, "%s: plan (the output) is NULL", fn_name);
  else *plan = NULL;
  if (rc == 0 && !task) rc = amz__fail(AMZ_EINVAL, "%s: task is NULL", fn_name);
  if (rc == 0 && !task->fn)
    rc = amz__fail(AMZ_EINVAL, "%s: task '%s' has a NULL kernel (fn)", fn_name,
                   task->name ? task->name : "(unnamed)");
  amz_plan_t *p = rc == 0 ? calloc(1, sizeof *p) : NULL;
  amz__mpi_t *m = p ? calloc(1, sizeof *m) : NULL;
  if (rc == 0 && (!p || !m)) rc = amz__fail(AMZ_ENOMEM, "%s: out of memory", fn_name);
  MPI_Comm dup = MPI_COMM_NULL;
  int mrc = MPI_Comm_dup(comm, &dup);
  if (mrc != MPI_SUCCESS) {
    free(p);
    free(m);
    return amz__mpi_check(mrc, "MPI_Comm_dup");
  }
  rc = amz__mpi_agree(dup, rc);
  if (rc != 0) {
    MPI_Comm_free(&dup);
    free(p);
    free(m);
    return rc;
  }
  m->comm = dup;
  m->run = m->run_node = MPI_COMM_NULL;
  m->win = MPI_WIN_NULL;
  MPI_Comm_rank(dup, &m->rank);
  MPI_Comm_size(dup, &m->size);
  MPI_Query_thread(&m->thread_level);
  p->ext_ops = &mpi_ops;
  p->ext = m;
  p->watch.rank = m->rank;
  p->watch.abort_fn = watch_abort;
  p->watch.abort_ctx = m;
  rc = amz__plan_init(p, task, opts);
  const amz__clock_t *clk = p->opts.clock;
  double t0 = amz__clock_now(clk);
  if (mt) {
    m->map = 1;
    m->mt = *mt;
    p->task.arg = m; /* the map wrapper kernel finds everything through the plan */
    if (m->rank == 0 && mt->n_items > 0 &&
        ((mt->bytes_in && !mt->input) || (mt->bytes_out && !mt->output)))
      rc = amz__fail(AMZ_EINVAL, "%s: rank 0 must pass the %s buffer (%zu bytes per item)",
                     fn_name, mt->bytes_in && !mt->input ? "input" : "output",
                     mt->bytes_in && !mt->input ? mt->bytes_in : mt->bytes_out);
    if (rc == 0 && m->size > 1 && m->thread_level < MPI_THREAD_MULTIPLE)
      rc = amz__fail(AMZ_EMPI,
                     "%s: map mode over %d ranks needs MPI_THREAD_MULTIPLE (rank 0 serves "
                     "data from a thread), but MPI provides thread level %d; initialize "
                     "with MPI_Init_thread(..., MPI_THREAD_MULTIPLE, ...)",
                     fn_name, m->size, m->thread_level);
  }
  rc = amz__plan_make(p, &mpi_create_ops, m, opts, rc, t0, plan);
  if (rc == 0) m->totals_armed = 1; /* made on every rank: amz__plan_make agreed */
  return rc;
}

int amz_mpi_plan_create(MPI_Comm comm, const amz_task_t *task, const amz_options_t *opts,
                        amz_plan_t **plan) {
  return plan_create(comm, task, NULL, opts, plan);
}

int amz_mpi_map_plan_create(MPI_Comm comm, const amz_map_task_t *mt, const amz_options_t *opts,
                            amz_plan_t **plan) {
  if (!mt) return plan_create(comm, NULL, NULL, opts, plan);
  amz_task_t t = {mt->name, mt->n_items, mt->fn ? amz__map_kernel : NULL, NULL};
  return plan_create(comm, &t, mt, opts, plan);
}

int amz_plan_ranks(const amz_plan_t *p) { return p ? (p->ranks > 0 ? p->ranks : 1) : 0; }

int amz_mpi_plan_used(const amz_plan_t *p) {
  if (!p) return 0;
  if (!p->ext_ops || p->ext_ops != &mpi_ops) return 1;
  return ((const amz__mpi_t *)p->ext)->used;
}

int amz__mpi_is_plan(const amz_plan_t *p) { return p && p->ext_ops == &mpi_ops; }

/* Runs a new plan once and destroys it (the *_for calls). */
static int run_once(amz_plan_t *p, int rc, const char *fn_name, amz_result_t **result) {
  if (rc != 0) return rc;
  if (!result) {
    rc = amz__fail(AMZ_EINVAL, "%s: result (the output) is NULL", fn_name);
    rc = amz__mpi_agree(((amz__mpi_t *)p->ext)->comm, rc);
  } else {
    rc = amz_mpi_run(p, result);
    if (*result) (*result)->setup_s = p->setup_s;
  }
  amz_plan_destroy(p);
  return rc;
}

int amz_mpi_for(MPI_Comm comm, const amz_task_t *task, const amz_options_t *opts,
                amz_result_t **result) {
  if (result) *result = NULL;
  amz_plan_t *p = NULL;
  int rc = amz_mpi_plan_create(comm, task, opts, &p);
  return run_once(p, rc, "amz_mpi_for", result);
}

int amz_mpi_map_for(MPI_Comm comm, const amz_map_task_t *task, const amz_options_t *opts,
                    amz_result_t **result) {
  if (result) *result = NULL;
  amz_plan_t *p = NULL;
  int rc = amz_mpi_map_plan_create(comm, task, opts, &p);
  return run_once(p, rc, "amz_mpi_map_for", result);
}
