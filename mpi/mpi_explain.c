/* The explanation of an MPI plan: the cluster as probed, the decision on ranks and
 * threads and why, the distribution used, and the best alternative per rank count. */
#include <stdio.h>
#include <string.h>

#include "mpi_internal.h"

#define T(x) amz__fmt_seconds((char[32]){0}, 32, (x))

static const char *rate(char *buf, size_t len, double bps) {
  if (!(bps > 0)) snprintf(buf, len, "-");
  else if (bps >= 1e9) snprintf(buf, len, "%.2f GB/s", bps / 1e9);
  else snprintf(buf, len, "%.1f MB/s", bps / 1e6);
  return buf;
}
#define BW(x) rate((char[32]){0}, 32, (x))

static void choice(FILE *o, const amz_candidate_t *c, uint64_t n) {
  fprintf(o, "%d rank%s x %d thread%s, %s", c->ranks, c->ranks == 1 ? "" : "s", c->workers,
          c->workers == 1 ? "" : "s", amz_schedule_name(c->schedule));
  int W = c->ranks * c->workers;
  if (c->schedule == AMZ_SCHED_STATIC)
    fprintf(o, " (blocks of ~%llu items)", (unsigned long long)(W ? n / (uint64_t)W : n));
  else if (c->schedule == AMZ_SCHED_CYCLIC || c->schedule == AMZ_SCHED_DYNAMIC)
    fprintf(o, ", chunk %llu", (unsigned long long)c->chunk);
  else
    fprintf(o, ", min chunk %llu", (unsigned long long)c->chunk);
}

static const char *level_name(int l) {
  switch (l) {
    case MPI_THREAD_SINGLE: return "single";
    case MPI_THREAD_FUNNELED: return "funneled";
    case MPI_THREAD_SERIALIZED: return "serialized";
    default: return "multiple";
  }
}

int amz__mpi_explain(const amz_plan_t *p, FILE *o) {
  const amz__mpi_t *m = p->ext;
  const uint64_t N = p->task.n_items;
  const amz__costs_t *c = &p->machine.costs;
  fprintf(o, "Amorsize MPI plan for \"%s\" (amorsize %s)%s\n\n", p->name, AMZ_VERSION_STRING,
          m->map ? ", map mode" : "");
  amz__explain_workload(p, o);
  fprintf(o, "  sampling ranks       %d rank%s at once, %d thread%s each, on interleaved groups "
             "of the index range\n\n",
          m->sample_ranks, m->sample_ranks == 1 ? "" : "s", m->sample_threads,
          m->sample_threads == 1 ? "" : "s");

  fprintf(o, "Cluster\n");
  fprintf(o, "  launched             %d rank%s on %d node%s; MPI thread level %s\n", m->size,
          m->size == 1 ? "" : "s", m->nodes, m->nodes == 1 ? "" : "s",
          level_name(m->thread_level));
  for (int n = 0; n < m->nodes && n < 16; n++) {
    const amz__nodeinfo_t *ni = &m->ni[n];
    fprintf(o, "  node %-3d %-12s %d rank%s, %d core%s for them%s%s\n", n, ni->host, ni->ranks,
            ni->ranks == 1 ? "" : "s", ni->cores, ni->cores == 1 ? "" : "s",
            ni->shared && ni->ranks > 1 ? " (bindings overlap: the ranks share the cores)" : "",
            ni->ranks > ni->cores ? " OVERSUBSCRIBED: more ranks than cores" : "");
  }
  if (m->nodes > 16) fprintf(o, "  ... and %d more nodes\n", m->nodes - 16);
  /* Cores the launcher's binding leaves to no rank: the plan cannot use them. */
  for (int n = 0, said = 0; n < m->nodes && !said; n++) {
    const amz__nodeinfo_t *ni = &m->ni[n];
    if (ni->pus <= 0 || ni->pus_bound <= 0 || ni->pus_bound >= ni->pus) continue;
    fprintf(o, "  binding              node %d (%s): the ranks' bindings cover %d of its %d CPUs; "
               "%d idle whatever the plan.\n"
               "                       " AMZ__BINDING_FIX "\n"
               "                       (Slurm's srun does not inherit --cpus-per-task from "
               "sbatch.)\n",
            n, ni->host, ni->pus_bound, ni->pus, ni->pus - ni->pus_bound);
    said = 1;
  }
  if (m->net.lat_shm_s > 0)
    fprintf(o, "  inside a node        latency %s, bandwidth %s (ping-pong)\n", T(m->net.lat_shm_s),
            BW(m->net.bw_shm));
  if (m->net.lat_net_s > 0)
    fprintf(o, "  between nodes        latency %s, bandwidth %s (slowest leader link)\n",
            T(m->net.lat_net_s), BW(m->net.bw_net));
  if (m->map && m->piece_s > 0)
    fprintf(o, "  map data path        %s per piece beyond its bytes (two exchanges with rank 0's "
               "progress thread, measured while sampling)\n",
            T(m->piece_s));
  fprintf(o, "  node-shared counter  %s per fetch-and-add with the node's ranks at once%s\n",
          T(m->net.atomic_s), m->net.from_cache ? " [network costs from cache]" : "");
  if (c->probe_workers > 1)
    fprintf(o, "  threads (rank 0)     start %s, pool wake %s, per chunk: static %s, shared "
               "counter %s contended%s\n\n",
            T(c->thread_start_s), T(c->pool_wake_s), T(c->chunk_static_s),
            T(c->chunk_contended_s), c->from_cache ? " [from cache]" : "");
  else /* one usable core: there was no pool to wake nor counter to contend */
    fprintf(o, "  threads (rank 0)     start %s, per chunk: static %s, shared counter %s (one "
               "usable core: no pool to wake)%s\n\n",
            T(c->thread_start_s), T(c->chunk_static_s), T(c->chunk_atomic_s),
            c->from_cache ? " [from cache]" : "");

  fprintf(o, "Decision\n");
  const amz_candidate_t *ch = &p->dec.cands[p->dec.chosen];
  fprintf(o, "  ");
  choice(o, ch, N);
  fprintf(o, " = %d workers\n", ch->ranks * ch->workers);
  fprintf(o, "  ranks: %s\n", m->why);
  fprintf(o, "  why: %s\n", p->dec.why);
  if (p->runs > 0)
    fprintf(o, "  (threads, schedule and chunk re-planned with the model refined by %d run%s; "
               "the ranks stay)\n",
            p->runs, p->runs == 1 ? "" : "s");
  int nodes_used = 0;
  for (int n = 0, k = 0; n < m->nodes && k < ch->ranks; n++, nodes_used++) k += m->ni[n].ranks;
  int cross = nodes_used > 1 && m->thread_level >= MPI_THREAD_MULTIPLE;
  if (amz__sched_preassigned(p->schedule))
    fprintf(o, "  distribution: %s chunks preassigned to the %d workers, no messages\n",
            amz_schedule_name(p->schedule), ch->ranks * ch->workers);
  else if (nodes_used <= 1)
    fprintf(o, "  distribution: one node: all chunks from the node-shared counter, no messages%s\n",
            p->schedule == AMZ_SCHED_AWF ? " (awf runs as factoring chunks)" : "");
  else if (cross)
    fprintf(o, "  distribution: node-shared counters; %d nodes refilled in batches (weighted "
               "factoring by measured node speed) by rank 0's progress thread%s\n",
            nodes_used, p->schedule == AMZ_SCHED_AWF ? "; awf runs as factoring chunks" : "");
  else
    fprintf(o, "  distribution: node-shared counters; batches dealt to nodes round-robin in "
               "advance (MPI thread level below multiple: no cross-node refills)\n");
  if (m->used)
    fprintf(o, "  this rank (%d) runs as %d thread%s\n", m->rank, m->threads,
            m->threads == 1 ? "" : "s");
  else
    fprintf(o, "  this rank (%d) is excluded and returns at once from amz_mpi_run\n", m->rank);
  fprintf(o, "\n");

  const amz_terms_t *nt = &p->next_terms;
  double sp = amz_plan_predicted_speedup(p);
  fprintf(o, "Prediction for the next run%s\n", p->runs == 0 ? " (sampled items are already done)" : "");
  fprintf(o, "  time %s, speedup x%.2f over one thread (%.0f%% efficiency on %d workers)\n",
          T(nt->total), sp, 100.0 * sp / (ch->ranks * ch->workers), ch->ranks * ch->workers);
  amz__explain_interval(p, o);
  const char *names[6] = {"start-up", "compute", "dispatch", "imbalance", "serial", "data"};
  double v[6] = {nt->startup, nt->compute, nt->dispatch, nt->imbalance, nt->serial, nt->data};
  for (int i = 0; i < 6; i++) {
    if (i == 5 && !m->map) continue;
    fprintf(o, "    %-12s %10s  %5.1f%%\n", names[i], T(v[i]),
            nt->total > 0 ? 100.0 * v[i] / nt->total : 0.0);
  }
  fprintf(o, "\n");

  fprintf(o, "Best candidate per rank count (full run of all items)\n");
  int shown = 0;
  for (int R = 1; R <= m->size && shown < 12; R++) {
    for (size_t i = 0; i < p->dec.n_cands; i++) {
      const amz_candidate_t *a = &p->dec.cands[i];
      if (a->ranks != R) continue;
      fprintf(o, "  %s ", i == p->dec.chosen ? "*" : " ");
      choice(o, a, N);
      fprintf(o, ": %s", T(a->predicted_s));
      if (ch->predicted_s > 0 && i != p->dec.chosen)
        fprintf(o, " (%+.1f%%)", 100.0 * (a->predicted_s / ch->predicted_s - 1.0));
      fprintf(o, "\n");
      shown++;
      break;
    }
  }
  fprintf(o, "  (%zu candidates evaluated; * = chosen)\n\n", p->dec.n_cands);

  fprintf(o, "Constraints\n");
  int any = 0;
  if (p->cons.ranks_from)
    fprintf(o, "  ranks = %d (from %s)\n", p->cons.ranks, p->cons.ranks_from), any = 1;
  if (p->cons.workers_from)
    fprintf(o, "  threads per rank = %d (from %s)\n", p->cons.workers, p->cons.workers_from), any = 1;
  if (p->cons.schedule_from)
    fprintf(o, "  schedule = %s (from %s)\n", amz_schedule_name(p->cons.schedule),
            p->cons.schedule_from), any = 1;
  if (p->cons.chunk_from)
    fprintf(o, "  chunk = %llu (from %s)\n", (unsigned long long)p->cons.chunk, p->cons.chunk_from),
        any = 1;
  if (p->cons.retries_from)
    fprintf(o, "  retries = %d (from %s)\n", p->cons.retries, p->cons.retries_from), any = 1;
  if (!any) fprintf(o, "  none: everything chosen by the model\n");
  if (p->ckpt_path) {
    if (p->runs > 0)
      fprintf(o, "\nCheckpoint\n  %s: closed after the first run\n", p->ckpt_path);
    else
      fprintf(o, "\nCheckpoint\n  %s (rank 0's, from %s): %llu of %llu items completed by "
                 "earlier jobs are skipped; every rank logs its chunks into this one file\n",
              p->ckpt_path, p->ckpt_from, (unsigned long long)amz__rangeset_items(&p->resumed),
              (unsigned long long)p->task.n_items);
  }
  return (fflush(o) != 0 || ferror(o)) ? amz__fail(AMZ_EIO, "amz_plan_explain: write failed") : 0;
}
