/*
 * Who runs where: ranks grouped into nodes (MPI_Comm_split_type), the cores each
 * node's ranks may use together and whether their bindings overlap
 * (oversubscription), and the measured costs of talking between them (ping-pong
 * latency and bandwidth inside a node and between node leaders, and the node-shared
 * counter), cached per cluster shape.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mpi_internal.h"

int amz__mpi_check(int rc, const char *what) {
  if (rc == MPI_SUCCESS) return 0;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "code %d", rc);
  return amz__fail(AMZ_EMPI, "%s failed: %s", what, msg);
}

/* Tests req until it completes: busily for spin_s, then with sleeps whose pause
 * doubles from 1 us up to 200 us, or up to rel x the time waited so far when that
 * is longer (at most 10 ms). */
static int wait_sleeping(MPI_Request *req, MPI_Status *st, double spin_s, double rel) {
  long pause_ns = 1000;
  const double t0 = MPI_Wtime();
  for (;;) {
    int flag = 0;
    int rc = MPI_Test(req, &flag, st ? st : MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return amz__mpi_check(rc, "MPI_Test");
    if (flag) return 0;
    double waited = MPI_Wtime() - t0;
    if (waited < spin_s) continue;
    struct timespec ts = {0, pause_ns};
    nanosleep(&ts, NULL);
    double cap = rel * waited * 1e9;
    cap = cap < 200e3 ? 200e3 : cap > 10e6 ? 10e6 : cap;
    pause_ns = 2.0 * (double)pause_ns < cap ? 2 * pause_ns : (long)cap;
  }
}

/* Ranks that arrive together (a barrier at the start of a run) should not pay a
 * sleep's timer slack (~50 us): 50 us of busy tests first. */
int amz__mpi_wait_polite(MPI_Request *req, MPI_Status *st) {
  return wait_sleeping(req, st, 50e-6, 0.0);
}

int amz__mpi_wait_long(MPI_Request *req, MPI_Status *st) {
  return wait_sleeping(req, st, 0.0, 0.01);
}

int amz__mpi_agree(MPI_Comm comm, int rc) {
  int all = rc;
  MPI_Request req;
  if (MPI_Iallreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm, &req) != MPI_SUCCESS)
    return rc ? rc : amz__fail(AMZ_EMPI, "MPI_Iallreduce failed while agreeing on a status");
  if (amz__mpi_wait_polite(&req, NULL) != 0) return rc ? rc : AMZ_EMPI;
  if (all == 0) return 0;
  /* Every rank learns why: the lowest rank that failed with the agreed code sends
   * its message (a stuck kernel's diagnosis, the option that differs ...). */
  int me = 0, mine, origin = INT_MAX;
  MPI_Comm_rank(comm, &me);
  mine = rc == all ? me : INT_MAX;
  char why[1024] = "";
  int told = MPI_Iallreduce(&mine, &origin, 1, MPI_INT, MPI_MIN, comm, &req) == MPI_SUCCESS &&
             amz__mpi_wait_polite(&req, NULL) == 0 && origin != INT_MAX;
  if (told && me == origin) snprintf(why, sizeof why, "%s", amz_last_error());
  told = told && MPI_Ibcast(why, (int)sizeof why, MPI_CHAR, origin, comm, &req) == MPI_SUCCESS &&
         amz__mpi_wait_polite(&req, NULL) == 0;
  why[sizeof why - 1] = '\0';
  if (rc == 0 || (rc != all && told)) {
    if (told && why[0])
      amz__fail(all, "another rank (%d) failed with %s: %s", origin, amz_error_name(all), why);
    else
      amz__fail(all, "another rank failed with %s; this rank stops with it",
                amz_error_name(all));
  }
  return all;
}

int amz__mpi_intracomm(MPI_Comm comm, const char *fn) {
  if (comm == MPI_COMM_NULL) return amz__fail(AMZ_EINVAL, "%s: comm is MPI_COMM_NULL", fn);
  int inter = 0;
  if (MPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter)
    return amz__fail(AMZ_EINVAL, "%s: comm is an intercommunicator; expected an "
                                 "intracommunicator (MPI_Intercomm_merge makes one)", fn);
  return 0;
}

int amz__mpi_bcast_str(MPI_Comm comm, int rank, char **s, const char *what) {
  int len = *s ? (int)strlen(*s) : -1;
  int rc = amz__mpi_agree(comm, amz__mpi_check(MPI_Bcast(&len, 1, MPI_INT, 0, comm), what));
  if (rc != 0) return rc;
  char *mine = *s;
  *s = NULL;
  char *copy = len < 0 ? NULL : malloc((size_t)len + 1);
  rc = amz__mpi_agree(comm, len >= 0 && !copy ? amz__fail(AMZ_ENOMEM, "cannot copy the %s", what) : 0);
  if (rc == 0 && copy) {
    if (rank == 0) memcpy(copy, mine, (size_t)len + 1);
    rc = amz__mpi_agree(comm, amz__mpi_check(MPI_Bcast(copy, len + 1, MPI_CHAR, 0, comm), what));
  }
  free(mine);
  if (rc != 0) {
    free(copy);
    return rc;
  }
  *s = copy;
  return 0;
}

static int popcount_mask(const uint64_t *m) {
  int n = 0;
  for (int i = 0; i < AMZ__CPUMASK_BITS / 64; i++) n += __builtin_popcountll(m[i]);
  return n;
}

int amz__mpi_topology(amz__mpi_t *m, const amz__topology_t *topo) {
  MPI_Comm node;
  int rc = amz__mpi_check(MPI_Comm_split_type(m->comm, MPI_COMM_TYPE_SHARED, m->rank,
                                              MPI_INFO_NULL, &node),
                          "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)");
  if (rc) return rc;
  int node_rank, leader = 0;
  MPI_Comm_rank(node, &node_rank);
  /* The node's lowest rank names it. */
  MPI_Allreduce(&m->rank, &leader, 1, MPI_INT, MPI_MIN, node);
  MPI_Comm_free(&node);
  amz__rankinfo_t mine;
  memset(&mine, 0, sizeof mine);
  mine.node = leader; /* renumbered below */
  mine.node_rank = node_rank;
  mine.usable_cores = topo->usable_cores > 0 ? topo->usable_cores : 1;
  mine.machine_pus = topo->pus_total;
  memcpy(mine.cpumask, topo->cpumask, sizeof mine.cpumask);
  snprintf(mine.host, sizeof mine.host, "%s", topo->host);
  m->ri = calloc((size_t)m->size, sizeof *m->ri);
  m->order = calloc((size_t)m->size, sizeof *m->order);
  /* Agreed before the exchange: a rank that left here alone would leave the
   * others waiting in MPI_Allgather. */
  rc = (!m->ri || !m->order) ? amz__fail(AMZ_ENOMEM, "cannot allocate rank tables") : 0;
  rc = amz__mpi_agree(m->comm, rc);
  if (rc) return rc;
  rc = amz__mpi_check(MPI_Allgather(&mine, sizeof mine, MPI_BYTE, m->ri, sizeof mine,
                                    MPI_BYTE, m->comm),
                      "MPI_Allgather(rank topology)");
  if (rc) return rc;
  /* Number nodes in the order of their lowest rank. */
  int nodes = 0;
  for (int r = 0; r < m->size; r++)
    if (m->ri[r].node == r) nodes++;
  m->ni = calloc((size_t)nodes, sizeof *m->ni);
  if (!m->ni) return amz__fail(AMZ_ENOMEM, "cannot allocate node tables");
  int *index_of_leader = calloc((size_t)m->size, sizeof *index_of_leader);
  if (!index_of_leader) return amz__fail(AMZ_ENOMEM, "cannot allocate node tables");
  for (int r = 0, k = 0; r < m->size; r++)
    if (m->ri[r].node == r) {
      index_of_leader[r] = k;
      m->ni[k].first_rank = r;
      snprintf(m->ni[k].host, sizeof m->ni[k].host, "%s", m->ri[r].host);
      k++;
    }
  for (int r = 0; r < m->size; r++) m->ri[r].node = index_of_leader[m->ri[r].node];
  free(index_of_leader);
  m->nodes = nodes;
  /* Cores per node: ranks with disjoint bindings add their cores; ranks whose
   * bindings overlap (mpirun --bind-to none, or several ranks on one core) share
   * the union, approximated by the largest single rank's cores. */
  int k = 0;
  for (int n = 0; n < nodes; n++) {
    uint64_t uni[AMZ__CPUMASK_BITS / 64] = {0};
    int sum = 0, maxc = 0, pus = 0, shared = 0;
    for (int r = 0; r < m->size; r++) {
      if (m->ri[r].node != n) continue;
      m->order[k++] = r;
      m->ni[n].ranks++;
      for (int i = 0; i < AMZ__CPUMASK_BITS / 64; i++) {
        if (uni[i] & m->ri[r].cpumask[i]) shared = 1;
        uni[i] |= m->ri[r].cpumask[i];
      }
      pus += popcount_mask(m->ri[r].cpumask);
      sum += m->ri[r].usable_cores;
      if (m->ri[r].usable_cores > maxc) maxc = m->ri[r].usable_cores;
    }
    (void)pus;
    m->ni[n].shared = shared;
    m->ni[n].pus_bound = popcount_mask(uni);
    m->ni[n].pus = m->ri[m->order[k - 1]].machine_pus;
    m->ni[n].cores = shared ? maxc : sum;
    if (m->ni[n].cores < 1) m->ni[n].cores = 1;
  }
  return 0;
}

int amz__mpi_threads_cap(const amz__mpi_t *m, int node, int used) {
  const amz__nodeinfo_t *n = &m->ni[node];
  if (used < 1) used = 1;
  if (!n->shared) {
    /* Disjoint bindings: each rank has its own cores; the smallest limits all. */
    int minc = 1 << 30;
    for (int r = 0; r < m->size; r++)
      if (m->ri[r].node == node && m->ri[r].usable_cores < minc) minc = m->ri[r].usable_cores;
    return minc < 1 || minc == (1 << 30) ? 1 : minc;
  }
  int t = n->cores / used;
  return t < 1 ? 1 : t;
}

/* ---- network probe ------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median round trip of `reps` ping-pongs of `bytes` between ranks a and b of comm
 * (only they take part). Returns seconds on a, 0 elsewhere. */
static double pingpong(MPI_Comm comm, int me, int a, int b, size_t bytes, int reps,
                       char *buf) {
  if (me != a && me != b) return 0.0;
  int peer = me == a ? b : a;
  double t[64]; /* on the stack: a failed allocation on one side would hang the other */
  if (reps > 64) reps = 64;
  for (int i = -3; i < reps; i++) { /* three warm-ups */
    double t0 = MPI_Wtime();
    if (me == a) {
      MPI_Send(buf, (int)bytes, MPI_BYTE, peer, AMZ__TAG_PING, comm);
      MPI_Recv(buf, (int)bytes, MPI_BYTE, peer, AMZ__TAG_PING, comm, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(buf, (int)bytes, MPI_BYTE, peer, AMZ__TAG_PING, comm, MPI_STATUS_IGNORE);
      MPI_Send(buf, (int)bytes, MPI_BYTE, peer, AMZ__TAG_PING, comm);
    }
    if (i >= 0) t[i] = MPI_Wtime() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  double med = t[reps / 2];
  return me == a ? med : 0.0;
}

/* Latency (half the median 8-byte round trip) and bandwidth between rank 0 and
 * rank b, on rank 0 (0 elsewhere). Collective over m->comm: the ranks outside the
 * pair wait in a polite barrier (asleep after 50 us) until the pair is done. Were
 * they to spin in the next collective instead, a node with more ranks than cores
 * would hand the pair a core only once per scheduler tick, and the probe would
 * measure the tick (4 ms) instead of the link. */
static int probe_pair(amz__mpi_t *m, int b, char *buf, size_t mid, size_t big, double *lat,
                      double *bw) {
  double t8 = pingpong(m->comm, m->rank, 0, b, 8, 50, buf);
  double tm = pingpong(m->comm, m->rank, 0, b, mid, 5, buf);
  double tb = pingpong(m->comm, m->rank, 0, b, big, 3, buf);
  /* 1 MiB messages stay in the caches; the bandwidth a plan should count on for
   * real data is the smaller of that and 16 MiB messages (memory-bound). */
  double bm = tm > t8 ? (double)mid / ((tm - t8) / 2) : 0.0;
  double bb = tb > t8 ? (double)big / ((tb - t8) / 2) : 0.0;
  *lat = t8 / 2;
  *bw = bb > 0 && bb < bm ? bb : bm;
  MPI_Request req;
  int rc = amz__mpi_check(MPI_Ibarrier(m->comm, &req), "MPI_Ibarrier(network probe)");
  return rc ? rc : amz__mpi_wait_polite(&req, NULL);
}

/* The cluster's shape: hosts and ranks per node, in order. */
static uint64_t shape_fingerprint(const amz__mpi_t *m) {
  uint64_t h = AMZ__FNV_BASIS;
  h = amz__fnv1a(h, &m->nodes, sizeof m->nodes);
  for (int n = 0; n < m->nodes; n++) {
    h = amz__fnv1a(h, m->ni[n].host, strlen(m->ni[n].host));
    h = amz__fnv1a(h, &m->ni[n].ranks, sizeof m->ni[n].ranks);
    h = amz__fnv1a(h, &m->ni[n].cores, sizeof m->ni[n].cores);
  }
  return h;
}

/* 3: probes from version 2 could hold a scheduler tick (4 ms) as the latency. */
#define NET_CACHE_VERSION 3

static int read_cache(const char *path, amz__net_t *n) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int v = 0;
  amz__net_t t = *n;
  int ok = fscanf(f, "amorsize-net %d %lg %lg %lg %lg %lg", &v, &t.lat_shm_s, &t.bw_shm,
                  &t.lat_net_s, &t.bw_net, &t.atomic_s) == 6 &&
           v == NET_CACHE_VERSION;
  fclose(f);
  if (!ok || !(t.atomic_s >= 0) || !(t.lat_shm_s >= 0) || !(t.lat_net_s >= 0)) return -1;
  *n = t;
  return 0;
}

static void write_cache(const char *dir, const char *path, const amz__net_t *n) {
  mkdir(dir, 0755); /* may exist; a failure shows at fopen */
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "amorsize-net %d %.9g %.9g %.9g %.9g %.9g\n", NET_CACHE_VERSION, n->lat_shm_s,
          n->bw_shm, n->lat_net_s, n->bw_net, n->atomic_s);
  if (fclose(f) == 0) rename(tmp, path);
  else remove(tmp);
}

/* Cost of one fetch-and-add on a node-shared counter while up to `cores` ranks of
 * node 0 hammer it: the dispatch a node's workers pay per chunk. */
static double shared_counter_cost(amz__mpi_t *m) {
  MPI_Comm node;
  if (MPI_Comm_split_type(m->comm, MPI_COMM_TYPE_SHARED, m->rank, MPI_INFO_NULL, &node) !=
      MPI_SUCCESS)
    return 0.0;
  int nr, ns;
  MPI_Comm_rank(node, &nr);
  MPI_Comm_size(node, &ns);
  MPI_Win win;
  _Atomic uint64_t *ctr = NULL;
  double cost = 0.0;
  if (MPI_Win_allocate_shared(nr == 0 ? 128 : 0, 1, MPI_INFO_NULL, node, &ctr, &win) ==
      MPI_SUCCESS) {
    MPI_Aint sz;
    int du;
    MPI_Win_shared_query(win, 0, &sz, &du, &ctr);
    ctr = (_Atomic uint64_t *)(((uintptr_t)ctr + 63) & ~(uintptr_t)63); /* own line */
    if (nr == 0) atomic_store(ctr, 0);
    MPI_Barrier(node);
    /* Only as many ranks as the node has cores hammer: more would measure the
     * scheduler, not the counter. */
    int cores = m->ni[m->ri[m->rank].node].cores;
    int active = nr < cores;
    const int K = 200000;
    double t = 0.0;
    if (active) {
      double t0 = MPI_Wtime();
      for (int i = 0; i < K; i++) atomic_fetch_add_explicit(ctr, 1, memory_order_relaxed);
      t = (MPI_Wtime() - t0) / K;
    }
    /* The idle ranks wait asleep, leaving the cores to the ranks that hammer. */
    double tmax = 0.0;
    MPI_Request req;
    if (MPI_Iallreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, node, &req) == MPI_SUCCESS &&
        amz__mpi_wait_polite(&req, NULL) == 0)
      cost = tmax;
    MPI_Win_free(&win);
  }
  MPI_Comm_free(&node);
  return cost;
}

int amz__mpi_net_probe(amz__mpi_t *m, const char *cache_dir) {
  amz__net_t *n = &m->net;
  memset(n, 0, sizeof *n);
  int found = 0;
  if (m->rank == 0 && cache_dir && cache_dir[0]) {
    snprintf(n->cache_path, sizeof n->cache_path, "%s/mpi-net-%016llx.txt", cache_dir,
             (unsigned long long)shape_fingerprint(m));
    found = read_cache(n->cache_path, n) == 0;
  }
  double v[6] = {n->lat_shm_s, n->bw_shm, n->lat_net_s, n->bw_net, n->atomic_s, found};
  int rc = amz__mpi_check(MPI_Bcast(v, 6, MPI_DOUBLE, 0, m->comm), "MPI_Bcast(net cache)");
  if (rc) return rc;
  if (v[5] != 0) {
    n->lat_shm_s = v[0], n->bw_shm = v[1], n->lat_net_s = v[2], n->bw_net = v[3];
    n->atomic_s = v[4];
    n->from_cache = 1;
    return 0;
  }
  const size_t big = (size_t)16 << 20, mid = (size_t)1 << 20;
  char *buf = calloc(1, big);
  rc = amz__mpi_agree(m->comm, buf ? 0 : amz__fail(AMZ_ENOMEM, "cannot allocate the %zu-byte "
                                                              "network probe buffer", big));
  if (rc) {
    free(buf);
    return rc;
  }
  /* Inside node 0: rank 0 and the node's second rank. */
  if (m->ni[0].ranks > 1) {
    double lat, bw;
    rc = probe_pair(m, m->order[1], buf, mid, big, &lat, &bw);
    if (m->rank == 0) n->lat_shm_s = lat, n->bw_shm = bw;
  }
  /* Between node leaders: rank 0 and each other node's first rank; the slowest
   * link counts (a plan must not assume the best one). */
  for (int k = 1; k < m->nodes && rc == 0; k++) {
    double lat, bw;
    rc = probe_pair(m, m->ni[k].first_rank, buf, mid, big, &lat, &bw);
    if (m->rank == 0) {
      if (lat > n->lat_net_s) n->lat_net_s = lat;
      if (n->bw_net == 0 || (bw > 0 && bw < n->bw_net)) n->bw_net = bw;
    }
  }
  if (rc) {
    free(buf);
    return rc;
  }
  free(buf);
  double atomic = shared_counter_cost(m);
  if (m->rank == 0) n->atomic_s = atomic;
  double w[5] = {n->lat_shm_s, n->bw_shm, n->lat_net_s, n->bw_net, n->atomic_s};
  rc = amz__mpi_check(MPI_Bcast(w, 5, MPI_DOUBLE, 0, m->comm), "MPI_Bcast(net probe)");
  if (rc) return rc;
  n->lat_shm_s = w[0], n->bw_shm = w[1], n->lat_net_s = w[2], n->bw_net = w[3];
  n->atomic_s = w[4];
  if (m->rank == 0 && n->cache_path[0]) write_cache(cache_dir, n->cache_path, n);
  return 0;
}
