/*
 * The cluster planner: candidates are (ranks R, threads per rank T, schedule,
 * chunk). Each is predicted by the core cost model over the R*T workers, with the
 * cores those R ranks really have (ranks are taken node by node, so a plan with
 * fewer ranks leaves whole nodes or a node's last ranks idle), plus the terms the
 * distribution adds, all in seconds:
 *
 *   serial    + collectives that start and end a run: a node barrier and the
 *               result exchange, ceil(log2 R) latency steps each (binomial trees);
 *   dispatch  + for dynamic schedules over several nodes, batch refills: each
 *               costs a round trip to rank 0 plus its progress thread's poll
 *               interval, paid by one worker of the node while the others go on;
 *               the per-chunk counter is the measured node-shared atomic;
 *   data      map mode: bytes of the items that run off rank 0 over the measured
 *               bandwidth plus three messages per piece times the latency; rank 0's
 *               progress thread serves all of them, so the term is the larger of a
 *               remote worker's own waiting and the server's excess over compute.
 *
 * Dispatch inside a node uses the same chunk sequence (schedule.c) as threads, so
 * the core model's list scheduling and Kruskal-Weiss tail apply unchanged.
 *
 * At scale (several nodes, or many workers) the closed form misses what the
 * hierarchy does: nodes wait for refills, batches of big chunks bind work early,
 * a costly region lands on one node. There the search ranks all candidates by the
 * closed form, then simulates (simulate.c, the run's own distribution rules) the
 * two best chunks of each schedule at the chosen ranks x threads and takes the
 * fastest simulated; the installed choice's prediction is simulated too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_sim.h"
#include "mpi_internal.h"

/* The core planner's choice rule (internal.h). */
#define PREFER_FEWER AMZ__PREFER_FEWER
/* Linux CFS minimum granularity on a multi-core machine (0.75 ms x (1 + log2 cores),
 * 3 ms from 8 cores on): the extra finish of a preempted worker when threads
 * outnumber cores. */
#define TIME_SLICE_S 3e-3
/* Worst case wait of rank 0's progress thread between two polls (mpi_map.c: naps
 * of up to 100 us, plus the scheduler's wake-up), and the expected wait of a request
 * that finds it asleep: half of it. */
#define SERVER_WAKE_S (AMZ__SERVER_POLL_S / 2)

/* Cores the first R ranks (node by node) may use together, and nodes they span. */
static int used_cores(const amz__mpi_t *m, int R, int T, int *nodes_used, int *tmax) {
  int cores = 0, nu = 0, cap = 1 << 30;
  for (int n = 0, k = 0; n < m->nodes && k < R; n++) {
    int u = m->ni[n].ranks < R - k ? m->ni[n].ranks : R - k;
    k += u;
    nu++;
    int c = amz__mpi_threads_cap(m, n, u);
    if (c < cap) cap = c;
    if (m->ni[n].shared)
      cores += m->ni[n].cores;
    else
      cores += u * c;
  }
  (void)T;
  *nodes_used = nu;
  *tmax = cap == (1 << 30) ? 1 : cap;
  return cores < 1 ? 1 : cores;
}

/* Workers the first R ranks with T threads each keep busy on their fullest node, at
 * most its cores: the contention the run meets grows with them, not with all the
 * workers of the run (the nodes' memories are apart). */
static int node_workers(const amz__mpi_t *m, int R, int T) {
  int most = 1;
  for (int n = 0, k = 0; n < m->nodes && k < R; n++) {
    int u = m->ni[n].ranks < R - k ? m->ni[n].ranks : R - k;
    k += u;
    int busy = u * T < m->ni[n].cores ? u * T : m->ni[n].cores;
    if (busy > most) most = busy;
  }
  return most;
}

static int ilog2_ceil(int x) {
  int k = 0;
  while ((1 << k) < x) k++;
  return k;
}

/* Batches a dynamic run over `nodes` nodes takes (equal node speeds): the run's
 * own rule (amz__deal over every round). */
static void count_take(void *ctx, int node, uint64_t first, uint64_t n) {
  (void)node, (void)first, (void)n;
  *(double *)ctx += 1.0;
}

static double count_batches(const amz__sched_t *s, int nodes, uint64_t min_batch) {
  double k = 0;
  amz__deal(s, nodes, min_batch, 0, count_take, &k);
  return k;
}

/* Candidates with more chunks than this keep the closed form: simulating them
 * would cost the planner seconds. */
#define SIM_MAX_CHUNKS ((uint64_t)1 << 21)

static int sim_applies(const amz__mpi_model_t *mm, int R, int T, int nodes_used,
                       amz_schedule_t kind, uint64_t chunk) {
  uint64_t N = mm->wl->n_items;
  if (!mm->simulate || mm->bytes_per_item > 0 || R < 2 || N == 0) return 0;
  if (nodes_used < 2 && R * T < AMZ__SIM_MIN_WORKERS) return 0;
  if ((kind == AMZ_SCHED_CYCLIC || kind == AMZ_SCHED_DYNAMIC) &&
      N / (chunk ? chunk : 1) > SIM_MAX_CHUNKS)
    return 0;
  return 1;
}

/* The simulated makespan of a candidate: the sampled cost profile (per-item cost in
 * equal bins, with the measured slowdown of sharing the cores and the measured
 * random spread), the measured latencies and counter cost. */
static int sim_makespan(const amz__mpi_model_t *mm, const amz__machine_t *mach, int R, int T,
                        int nodes_used, amz_schedule_t kind, uint64_t chunk, double remaining,
                        double startup_s, double *out) {
  const amz__workload_t *wl = mm->wl;
  const amz__mpi_t *m = mm->m;
  enum { B = AMZ__PROFILE_BINS };
  uint64_t ends[B];
  double item[B];
  int bins = wl->bins > 0 && wl->bins <= B ? wl->bins : 0;
  double slow = amz__model_slowdown(wl, mach, R * T) * remaining;
  uint64_t N = wl->n_items;
  amz_sim_workload_t w;
  amz_sim_workload_defaults(&w, AMZ_SIM_TABLE, N, wl->mean_s > 0 ? wl->mean_s : 1e-9);
  if (bins > 0) {
    for (int i = 0; i < bins; i++) {
      ends[i] = (uint64_t)((unsigned __int128)N * (uint64_t)(i + 1) / (uint64_t)bins);
      item[i] = wl->density[i] * slow;
    }
  } else {
    bins = 1;
    ends[0] = N;
    item[0] = wl->mean_s * slow;
  }
  w.segments = (size_t)bins;
  w.segment_end = ends;
  w.segment_item_s = item;
  double cv = wl->mean_s > 0 ? wl->sigma_item_s / wl->mean_s : 0;
  w.cv = cv > 0 && cv <= 10 ? cv : 0;
  amz_sim_machine_t sm;
  amz_sim_machine_defaults(&sm, nodes_used, (R + nodes_used - 1) / nodes_used);
  sm.threads_per_rank = T;
  const amz__net_t *n = &m->net;
  if (n->lat_net_s > 0) sm.latency_s = n->lat_net_s;
  if (n->bw_net > 0) sm.bandwidth = n->bw_net;
  if (n->lat_shm_s > 0) sm.latency_node_s = n->lat_shm_s;
  int hammer = m->ni[0].ranks < m->ni[0].cores ? m->ni[0].ranks : m->ni[0].cores;
  if (n->atomic_s > 0) sm.counter_s = n->atomic_s / (hammer > 1 ? hammer : 1);
  if (mach->costs.chunk_static_s > 0) sm.chunk_s = mach->costs.chunk_static_s;
  sm.startup_s = startup_s;
  amz_sim_result_t r;
  amz_sim_costs_t *c;
  /* 2^16 noise blocks: built in a millisecond, fine enough for 64 cost bins. */
  int rc = amz__sim_costs_create(&w, (uint64_t)1 << 16, &c);
  if (rc != 0) return rc;
  rc = amz_simulate_costs(c, &sm, kind, chunk, NULL, &r);
  amz_sim_costs_destroy(c);
  *out = r.makespan_s;
  return rc;
}

int amz__mpi_predict(const amz__mpi_model_t *mm, int R, int T, amz_schedule_t kind,
                     uint64_t chunk, double remaining, amz_terms_t *out) {
  const amz__mpi_t *m = mm->m;
  if (kind == AMZ_SCHED_AWF) kind = AMZ_SCHED_FACTORING; /* see amorsize_mpi.h */
  int nodes_used, tmax;
  amz__machine_t mach = *mm->machine;
  mach.topo.usable_cores = used_cores(m, R, T, &nodes_used, &tmax);
  mach.node_workers = node_workers(m, R, T);
  int dynamic = !amz__sched_preassigned(kind);
  if (dynamic && R > 1) {
    /* Chunks come from a counter shared by the node's processes. */
    double c = m->net.atomic_s + mach.costs.chunk_static_s;
    if (c > mach.costs.chunk_contended_s) mach.costs.chunk_contended_s = c;
  }
  int W = R * T;
  /* Static blocks: a rank's threads take from each other's blocks, ranks do not;
   * in map mode ranks other than 0 keep theirs (mpi_run.c). */
  int group = mm->bytes_per_item > 0 ? 1 : T;
  int rc = amz__model_predict_grouped(mm->wl, &mach, W, group, kind, chunk, remaining, T - 1,
                                      out);
  if (rc != 0) return rc;
  /* More compute threads than cores on a node: the time-slicing averages out in the
   * compute term (slowdown), but the run ends on a scheduler time slice: a worker
   * preempted near the end finishes up to one slice late. */
  double r = mm->wl->cpu_ratio, slice = 0.0; /* cores per kernel call */
  for (int n = 0, k = 0; n < m->nodes && k < R; n++) {
    int u = m->ni[n].ranks < R - k ? m->ni[n].ranks : R - k;
    k += u;
    if ((double)(u * T) * r > (double)m->ni[n].cores + 0.5 && remaining > 0 && mm->wl->n_items > 0) {
      out->imbalance += TIME_SLICE_S;
      out->total += TIME_SLICE_S;
      slice = TIME_SLICE_S;
      break;
    }
  }
  if (R == 1) return 0;
  const amz__net_t *n = &m->net;
  double lat_node = n->lat_shm_s > 0 ? n->lat_shm_s : 1e-6;
  double lat = nodes_used > 1 ? (n->lat_net_s > 0 ? n->lat_net_s : 50e-6) : lat_node;
  double bw = nodes_used > 1 ? n->bw_net : n->bw_shm;
  if (!(bw > 0)) bw = 1e9;
  /* Start: a barrier inside each node; end: the result exchange (two collectives). */
  double coll = ilog2_ceil(R) * lat;
  out->serial += 2.0 * ilog2_ceil(R) * lat_node + 3.0 * coll;
  const uint64_t N = mm->wl->n_items;
  amz__sched_t s;
  if ((dynamic && nodes_used > 1) || mm->bytes_per_item > 0) {
    rc = amz__sched_init(&s, kind, N, W, chunk);
    if (rc != 0) return rc;
  }
  if (dynamic && nodes_used > 1 && N > 0) {
    uint64_t min_batch = s.n_chunks / AMZ__MAX_BATCHES + 1;
    double batches = count_batches(&s, nodes_used, min_batch);
    double per_node = batches / nodes_used;
    double rtt = 2.0 * lat + AMZ__SERVER_POLL_S;
    out->dispatch += per_node * rtt / T;
  }
  if (mm->bytes_per_item > 0 && N > 0) {
    /* Pieces that run off rank 0 and their bytes. */
    double f_off = (double)(R - 1) / (double)R;
    double pieces = (double)s.n_chunks; /* one piece per chunk (static: per worker) */
    double bytes = (double)N * remaining * f_off * mm->bytes_per_item;
    /* A piece costs its remote worker two exchanges with rank 0's server (inputs
     * asked for and received; outputs announced and taken), plus its bytes. The
     * exchanges' cost is measured while sampling (piece_s: latencies and the
     * server's wake-ups on a loaded node); before that, two latencies plus the
     * expected wake-up each. */
    double server = 3.0 * pieces * f_off * lat + bytes / bw;
    double piece = m->piece_s > 0 ? m->piece_s : 2.0 * (lat + SERVER_WAKE_S);
    double per_worker = pieces / W * piece + bytes / ((R - 1) * T) / bw;
    double compute = out->compute + out->imbalance;
    double excess = server - compute;
    out->data = per_worker > excess ? per_worker : excess;
  }
  if ((dynamic && nodes_used > 1) || mm->bytes_per_item > 0) amz__sched_free(&s);
  if (sim_applies(mm, R, T, nodes_used, kind, chunk) && remaining > 0) {
    double sim;
    rc = sim_makespan(mm, &mach, R, T, nodes_used, kind, chunk, remaining,
                      out->startup + mach.costs.run_serial_s, &sim);
    if (rc != 0) return rc;
    double rest = out->startup + out->compute + out->dispatch + out->serial;
    out->imbalance = sim + slice - rest > 0 ? sim + slice - rest : 0.0;
  }
  out->total = out->startup + out->compute + out->dispatch + out->imbalance + out->serial +
               out->data;
  return 0;
}

/* At the chosen ranks x threads, when the simulator applies there: simulates the
 * two best chunks (by the closed form) of each schedule and picks the fastest
 * simulated. Their predictions become the simulated ones. *simulated receives how
 * many were simulated (0: the closed form stands). Static blocks get no preference:
 * an MPI run does not measure the profile's shape, so none confirms it. */
static int refine_by_simulation(const amz__mpi_model_t *mm, amz__cand_list_t *l, size_t *best,
                                int *simulated) {
  *simulated = 0;
  const amz_candidate_t *ch = &l->v[*best];
  int R = ch->ranks, T = ch->workers, nodes_used, tmax;
  used_cores(mm->m, R, T, &nodes_used, &tmax);
  amz__mpi_model_t ms = *mm;
  ms.simulate = 1;
  if (!sim_applies(&ms, R, T, nodes_used, AMZ_SCHED_STATIC, 0)) return 0;
  int per[AMZ_SCHED_COUNT] = {0};
  size_t pick = *best;
  double pick_t = 0;
  for (size_t i = 0; i < l->n; i++) {
    amz_candidate_t *c = &l->v[i];
    if (c->ranks != R || c->workers != T || per[c->schedule] >= 2) continue;
    if (!sim_applies(&ms, R, T, nodes_used, c->schedule, c->chunk)) continue;
    per[c->schedule]++;
    int rc = amz__mpi_predict(&ms, R, T, c->schedule, c->chunk, 1.0, &c->terms);
    if (rc != 0) return rc;
    c->predicted_s = c->terms.total;
    (*simulated)++;
    if (*simulated == 1 || c->predicted_s < pick_t) {
      pick = i;
      pick_t = c->predicted_s;
    }
  }
  if (*simulated > 0) *best = pick;
  return 0;
}

int amz__mpi_search(const amz__mpi_model_t *mm, const amz__constraints_t *c,
                    amz__decision_t *d, char *why, size_t why_len) {
  const amz__mpi_t *m = mm->m;
  const amz__workload_t *wl = mm->wl;
  memset(d, 0, sizeof *d);
  uint64_t N = wl->n_items;
  int maxR = m->size;
  if (N < (uint64_t)maxR) maxR = N > 0 ? (int)N : 1;
  int rl[64], nr;
  if (c->ranks > 0) {
    rl[0] = c->ranks;
    nr = 1;
  } else {
    nr = amz__count_list(16, maxR, rl, 64);
  }
  amz_schedule_t slist[AMZ_SCHED_COUNT];
  int ns = 0;
  if (c->schedule != AMZ_SCHED_AUTO)
    slist[ns++] = c->schedule;
  else
    for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++) slist[ns++] = (amz_schedule_t)s;
  amz__cand_list_t l = {0};
  int rc = 0;
  for (int i = 0; i < nr && rc == 0; i++) {
    int R = rl[i], nodes_used, tmax;
    used_cores(m, R, 1, &nodes_used, &tmax);
    /* Threads per rank: the rank's share of its node's cores, or more for kernels
     * that mostly wait (the core's rule, on that share). */
    amz__machine_t share = *mm->machine;
    share.topo.usable_cores = tmax;
    amz__workload_t wr = *wl;
    wr.n_items = N / (uint64_t)R > 0 ? N / (uint64_t)R : 1;
    int maxT = amz__planner_max_workers(&wr, &share);
    int tl[64], nt;
    if (c->workers > 0) {
      tl[0] = c->workers;
      nt = 1;
    } else {
      nt = amz__count_list(16, maxT, tl, 64);
    }
    d->max_workers = d->max_workers > maxT ? d->max_workers : maxT;
    for (int j = 0; j < nt && rc == 0; j++) {
      int T = tl[j], W = R * T;
      if (N > 0 && (uint64_t)W > N && c->workers == 0) continue;
      amz__machine_t mw = *mm->machine;
      mw.topo.usable_cores = tmax * R;
      for (int k = 0; k < ns && rc == 0; k++) {
        if (W == 1 && amz__planner_one_worker_skips(c, wl, slist[k])) continue;
        uint64_t chunks[16];
        size_t nc;
        if (c->chunk > 0) {
          chunks[0] = slist[k] == AMZ_SCHED_STATIC ? 0 : c->chunk;
          nc = 1;
        } else {
          nc = amz__planner_chunk_grid(wl, &mw, slist[k], W, chunks, 16);
        }
        for (size_t q = 0; q < nc && rc == 0; q++) {
          if (amz__planner_chunk_too_long(c, wl, slist[k], (uint64_t)W, chunks[q])) continue;
          amz_candidate_t cand = {.workers = T, .ranks = R, .schedule = slist[k],
                                  .chunk = chunks[q]};
          rc = amz__mpi_predict(mm, R, T, slist[k], chunks[q], 1.0, &cand.terms);
          if (rc == 0) {
            cand.predicted_s = cand.terms.total;
            rc = amz__cand_list_push(&l, &cand);
          }
        }
      }
    }
  }
  if (rc == 0 && l.n == 0) rc = AMZ_EINVAL;
  if (rc != 0) {
    free(l.v);
    return rc == AMZ_ENOMEM ? amz__fail(rc, "out of memory while planning")
                            : amz__fail(rc, "no candidate fits the constraints");
  }
  size_t fewer, best;
  /* No static preference (refine_by_simulation says why). */
  amz__cand_list_choose(&l, mm->wl->n_items, 0, &fewer, &best);
  size_t closed = best;
  int simulated = 0;
  rc = refine_by_simulation(mm, &l, &best, &simulated);
  if (rc != 0) {
    free(l.v);
    return rc == AMZ_ENOMEM ? amz__fail(rc, "out of memory while simulating candidates") : rc;
  }
  d->cands = l.v;
  d->n_cands = l.n;
  d->chosen = best;
  const amz_candidate_t *ch = &l.v[best];
  d->serial_best = ch->ranks * ch->workers == 1 && (maxR > 1 || d->max_workers > 1) &&
                   c->workers == 0 && c->ranks == 0;
  if (fewer != 0)
    snprintf(d->why, sizeof d->why,
             "within %.0f%% of the fastest candidate (%d rank%s x %d thread%s) with fewer "
             "workers",
             (PREFER_FEWER - 1) * 100, l.v[0].ranks, l.v[0].ranks == 1 ? "" : "s",
             l.v[0].workers, l.v[0].workers == 1 ? "" : "s");
  else if (best != fewer)
    snprintf(d->why, sizeof d->why,
             "within %.0f%% of the fastest of %zu candidates, the one that commits the "
             "fewest items at once (%llu): robust to a rare costly item the sample missed",
             (AMZ__PREFER_ROBUST - 1) * 100, l.n,
             (unsigned long long)amz__cand_exposure(ch, mm->wl->n_items));
  else
    snprintf(d->why, sizeof d->why, "fastest predicted of %zu candidates", l.n);
  if (simulated > 0) {
    char a[32], b[32];
    const amz_candidate_t *cf = &l.v[closed];
    if (best != closed)
      snprintf(d->why, sizeof d->why,
               "simulated the %d best candidates at %d ranks x %d threads: %s chunk %llu "
               "finishes in %s, the closed form's first choice (%s chunk %llu) in %s",
               simulated, ch->ranks, ch->workers, amz_schedule_name(ch->schedule),
               (unsigned long long)ch->chunk, amz__fmt_seconds(a, sizeof a, ch->predicted_s),
               amz_schedule_name(cf->schedule), (unsigned long long)cf->chunk,
               amz__fmt_seconds(b, sizeof b, cf->predicted_s));
    else
      snprintf(d->why, sizeof d->why,
               "fastest of the %d best candidates simulated at %d ranks x %d threads (%s)",
               simulated, ch->ranks, ch->workers, amz__fmt_seconds(a, sizeof a, ch->predicted_s));
  }

  /* The ranks story: why not all of them. */
  char a[32], b[32];
  if (ch->ranks == m->size) {
    snprintf(why, why_len, "launched %d rank%s, use all of them", m->size,
             m->size == 1 ? "" : "s");
  } else if (c->ranks > 0) {
    snprintf(why, why_len, "launched %d ranks, use %d: fixed by %s", m->size, ch->ranks,
             c->ranks_from ? c->ranks_from : "option");
  } else if (N < (uint64_t)m->size) {
    snprintf(why, why_len, "launched %d ranks, use %d: the loop has only %llu item%s",
             m->size, ch->ranks, (unsigned long long)N, N == 1 ? "" : "s");
  } else {
    const amz_candidate_t *all = NULL;
    for (size_t i = 0; i < l.n; i++)
      if (l.v[i].ranks == m->size) {
        all = &l.v[i];
        break;
      }
    int oversub = 0;
    for (int n = 0; n < m->nodes; n++)
      if (m->ni[n].ranks > m->ni[n].cores) oversub = 1;
    if (all && all->predicted_s <= ch->predicted_s * PREFER_FEWER)
      snprintf(why, why_len,
               "launched %d ranks, use %d: %d rank%s predicted %s, within %.0f%% of the "
               "best with all %d ranks (%s), so the other ranks are left free%s",
               m->size, ch->ranks, ch->ranks, ch->ranks == 1 ? " is" : "s are",
               amz__fmt_seconds(a, sizeof a, ch->predicted_s),
               (PREFER_FEWER - 1) * 100, m->size,
               amz__fmt_seconds(b, sizeof b, all->predicted_s),
               oversub ? " (the nodes have fewer cores than ranks: extra ranks only share "
                         "the same cores)"
                       : "");
    else if (all) {
      double dlt = 0;
      const char *term = "start-up";
      double dv[6] = {all->terms.startup - ch->terms.startup,
                      all->terms.compute - ch->terms.compute,
                      all->terms.dispatch - ch->terms.dispatch,
                      all->terms.imbalance - ch->terms.imbalance,
                      all->terms.serial - ch->terms.serial, all->terms.data - ch->terms.data};
      const char *nm[6] = {"start-up", "compute", "dispatch", "imbalance", "serial part",
                           "data movement"};
      for (int i = 0; i < 6; i++)
        if (dv[i] > dlt) dlt = dv[i], term = nm[i];
      snprintf(why, why_len,
               "launched %d ranks, use %d: the best plan with all %d ranks is predicted %s "
               "against %s, mostly more %s (+%s)%s",
               m->size, ch->ranks, m->size, amz__fmt_seconds(a, sizeof a, all->predicted_s),
               amz__fmt_seconds(b, sizeof b, ch->predicted_s), term,
               amz__fmt_seconds((char[32]){0}, 32, dlt),
               oversub ? "; the nodes have fewer cores than ranks" : "");
    } else {
      snprintf(why, why_len, "launched %d ranks, use %d", m->size, ch->ranks);
    }
  }
  return 0;
}
