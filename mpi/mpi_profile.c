/* The profile of an MPI run: one HDF5 file written collectively with parallel HDF5
 * (MPI-IO) by the ranks of the run, each writing its own rows of /chunks and
 * /workers at offsets from an exclusive scan. Rank 0 provides the provenance and
 * the temporary name, seals the closed file and renames it; every rank returns the
 * same status. The core's writer (src/profile/profile_write.c) does the HDF5 part. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_internal.h"
#ifndef AMZ_NO_PROFILE
#include "profile.h"
#endif

int amz__mpi_profile_sync(amz_plan_t *p, MPI_Comm comm, int rank) {
  /* Rank 0's setting wins: launchers pass the same environment to all ranks, but
   * one file needs one name. */
  int ow = p->profile_overwrite;
  int rc = amz__mpi_agree(comm, amz__mpi_check(MPI_Bcast(&ow, 1, MPI_INT, 0, comm),
                                               "MPI_Bcast(profile)"));
  if (rc == 0) rc = amz__mpi_bcast_str(comm, rank, &p->profile, "profile path");
  if (rc != 0) return rc;
  p->profile_overwrite = ow;
  if (!p->profile) return 0;
  return amz__mpi_agree(comm, rank == 0 ? amz__profile_precheck(p) : 0);
}

#ifdef AMZ_NO_PROFILE
/* A build without profiles: amz__mpi_profile_sync() refuses a plan that asks for
 * one (amz__profile_precheck), so this is not reached. */
int amz__mpi_profile(amz_plan_t *p, amz__mpi_t *m, amz_result_t *r, uint64_t dropped) {
  (void)m, (void)r, (void)dropped;
  return p->profile ? amz__fail(AMZ_ENOTSUP, "cannot write profile '%s': this build writes "
                                "no profiles (AMORSIZE_PROFILE=OFF)", p->profile)
                    : 0;
}
#else
/* What rank 0 tells the others before a profile is written. */
typedef struct prof_hdr {
  char path[PATH_MAX];
  char dir[PATH_MAX + 16]; /* rank 0's private directory, "" when none */
  char tmp[PATH_MAX + 32];
  int overwrite;
  int rc;
  amz__prov_t prov;
} prof_hdr_t;

static int agree_cb(void *ctx, int rc) { return amz__mpi_agree(*(MPI_Comm *)ctx, rc); }

/* The MPI library that runs, as "<its version string's first line> (MPI x.y)", with
 * runs of blanks made one space ("MPICH Version:\t4.0.2" -> "MPICH Version: 4.0.2"). */
static void mpi_library(char *buf, size_t len) {
  char v[MPI_MAX_LIBRARY_VERSION_STRING];
  int n = 0, major = 0, minor = 0;
  if (MPI_Get_library_version(v, &n) != MPI_SUCCESS) n = 0;
  v[n > 0 && n < (int)sizeof v ? n : 0] = '\0';
  v[strcspn(v, "\r\n")] = '\0';
  size_t k = 0;
  for (size_t i = 0; v[i]; i++) {
    int blank = v[i] == ' ' || v[i] == '\t';
    if (blank && (k == 0 || v[k - 1] == ' ')) continue;
    v[k++] = blank ? ' ' : v[i];
  }
  while (k > 0 && v[k - 1] == ' ') k--;
  v[k] = '\0';
  MPI_Get_version(&major, &minor);
  snprintf(buf, len, "%.200s (MPI %d.%d)", v[0] ? v : "unknown MPI library", major, minor);
}

int amz__mpi_profile(amz_plan_t *p, amz__mpi_t *m, amz_result_t *r, uint64_t dropped) {
  MPI_Comm comm = m->run;
  prof_hdr_t *h = calloc(1, sizeof *h);
  int rc = h ? 0 : amz__fail(AMZ_ENOMEM, "cannot write the profile: out of memory");
  rc = amz__mpi_agree(comm, rc);
  if (rc != 0) {
    free(h);
    return rc;
  }
  if (m->run_rank == 0) {
    h->rc = amz__profile_expand(p->profile, r->run_index, h->path, sizeof h->path);
    if (h->rc == 0)
      h->rc = amz__profile_tmp_create(h->path, h->dir, sizeof h->dir, h->tmp, sizeof h->tmp);
    if (h->rc != 0) h->dir[0] = '\0';
    amz__profile_provenance(&h->prov);
    mpi_library(h->prov.mpi_library, sizeof h->prov.mpi_library);
    /* The plan replaces its own earlier file (a path without %r). */
    h->overwrite = p->profile_overwrite ||
                   (p->profile_last && strcmp(p->profile_last, h->path) == 0);
  }
  rc = amz__mpi_check(MPI_Bcast(h, (int)sizeof *h, MPI_BYTE, 0, comm), "MPI_Bcast(profile)");
  if (rc == 0 && h->rc != 0) rc = m->run_rank == 0 ? h->rc : amz__fail(h->rc, "%s", "rank 0 "
                                                                       "cannot name the profile");
  /* Row offsets: ranks write their rows one after another, in the order of their
   * rank in the plan's communicator (run ranks go node by node: not that order). */
  uint64_t mine[4] = {(uint64_t)m->rank, r->n_chunks, (uint64_t)r->workers, dropped};
  uint64_t off[3] = {0, 0, 0}, tot[3] = {0, 0, 0};
  uint64_t *all = calloc(4 * (size_t)m->run_size, sizeof *all);
  if (rc == 0 && !all) rc = amz__fail(AMZ_ENOMEM, "cannot write the profile: out of memory");
  rc = amz__mpi_agree(comm, rc);
  if (rc == 0)
    rc = amz__mpi_check(MPI_Allgather(mine, 4, MPI_UINT64_T, all, 4, MPI_UINT64_T, comm),
                        "MPI_Allgather(profile rows)");
  for (int q = 0; rc == 0 && q < m->run_size; q++)
    for (int k = 0; k < 3; k++) {
      tot[k] += all[4 * q + 1 + k];
      if (all[4 * q] < (uint64_t)m->rank) off[k] += all[4 * q + 1 + k];
    }
  free(all);
  amz__prof_node_t *nodes = calloc((size_t)m->nodes, sizeof *nodes);
  if (rc == 0 && !nodes) rc = amz__fail(AMZ_ENOMEM, "cannot write the profile: out of memory");
  uint64_t chunks = 0;
  for (int i = 0; nodes && i < m->nodes; i++) {
    nodes[i].ranks = m->ni[i].ranks;
    nodes[i].cores = m->ni[i].cores;
    nodes[i].shared = m->ni[i].shared;
    nodes[i].pus_bound = m->ni[i].pus_bound;
    snprintf(nodes[i].host, sizeof nodes[i].host, "%s", m->ni[i].host);
  }
  const amz__result_ext_t *x = r->ext;
  for (int i = 0; nodes && x && x->per_rank && i < x->ranks; i++) {
    int node = m->ri[x->per_rank[i].rank].node;
    if (node >= 0 && node < m->nodes) nodes[node].ranks_used++;
    chunks += x->per_rank[i].chunks;
  }
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (rc == 0 && (fapl < 0 || dxpl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
                  H5Pset_all_coll_metadata_ops(fapl, 1) < 0 ||
                  H5Pset_coll_metadata_write(fapl, 1) < 0 ||
                  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0))
    rc = amz__fail(AMZ_EIO, "cannot write the profile: HDF5 has no MPI-IO file driver");
  rc = amz__mpi_agree(comm, rc);
  if (rc == 0) {
    MPI_Comm agree_comm = comm;
    amz__prof_part_t part = {.fapl = fapl, .dxpl = dxpl, .rank = m->rank,
                             .node = m->ri[m->rank].node, .writer = m->run_rank == 0,
                             .chunk_off = off[0], .chunk_total = tot[0],
                             .worker_off = off[1], .worker_total = tot[1],
                             .chunks_total = chunks, .chunks_dropped = tot[2],
                             .ranks_launched = m->size, .ranks_used = m->run_size,
                             .nodes_used = m->run_nodes, .nodes = nodes, .n_nodes = m->nodes,
                             .kind = "mpi", .mode = m->map ? "map" : "range", .prov = &h->prov,
                             .lat_shm_s = m->net.lat_shm_s, .bw_shm = m->net.bw_shm,
                             .lat_net_s = m->net.lat_net_s, .bw_net = m->net.bw_net,
                             .counter_s = m->net.atomic_s,
                             .agree = agree_cb, .agree_ctx = &agree_comm};
    rc = amz__profile_write(h->tmp, p, r, &part);
    rc = amz__mpi_agree(comm, rc);
    /* The file is closed on every rank: rank 0 seals and renames it. */
    if (m->run_rank == 0) {
      if (rc == 0) rc = amz__profile_seal(h->tmp);
      if (rc == 0) rc = amz__profile_commit(h->tmp, h->path, h->overwrite);
    }
    int rc0 = rc;
    rc = amz__mpi_check(MPI_Bcast(&rc0, 1, MPI_INT, 0, comm), "MPI_Bcast(profile status)");
    if (rc == 0 && rc0 != 0 && m->run_rank != 0)
      rc = amz__fail(rc0, "rank 0 could not finish the profile '%s' (%s)", h->path,
                     amz_strerror(rc0));
    else if (rc == 0)
      rc = rc0;
  }
  /* Whatever happened, rank 0 removes its directory (and a file left in it). */
  if (m->run_rank == 0) amz__profile_tmp_remove(h->dir, h->tmp);
  if (fapl >= 0) H5Pclose(fapl);
  if (dxpl >= 0) H5Pclose(dxpl);
  free(nodes);
  if (rc == 0) {
    free(r->profile_path);
    free(p->profile_last);
    r->profile_path = strdup(h->path);
    p->profile_last = strdup(h->path);
  }
  free(h);
  return rc;
}
#endif /* AMZ_NO_PROFILE */
