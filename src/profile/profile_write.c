/* Writing a run's HDF5 profile (schema version 1, docs/PROFILE_FORMAT.md).
 *
 * One code path for both kinds of run: a serial run writes every row itself; in an
 * MPI run every rank of the run calls amz__profile_write() with an MPI-IO file
 * access list, writes its own rows of /chunks and /workers at its offsets in one
 * collective transfer per table, and rank 0 alone selects the rows of the shared
 * tables (the others select none, as collective writes require). No per-node files,
 * no merge step. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profile.h"

/* ---- HDF5 error text ------------------------------------------------------------ */

typedef struct h5msg {
  char text[256];
} h5msg_t;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
  h5msg_t *m = data;
  if (n == 0 && e->desc) snprintf(m->text, sizeof m->text, "%s (in %s)", e->desc, e->func_name);
  return 0;
}

/* The innermost message of HDF5's error stack, for our own one-line errors. */
static const char *h5_error(h5msg_t *m) {
  snprintf(m->text, sizeof m->text, "unknown HDF5 error");
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, m);
  return m->text;
}

/* ---- provenance ------------------------------------------------------------------ */

void amz__profile_provenance(amz__prov_t *pv) {
  memset(pv, 0, sizeof *pv);
  /* SOURCE_DATE_EPOCH (reproducible builds) pins the time for golden outputs. */
  time_t now = time(NULL);
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  uint64_t u;
  /* Years 1970 to 9999 only: a larger value would make a negative or five-digit
   * year. A value out of that range is ignored (the time of writing is used). */
  if (sde && amz__parse_u64(sde, &u) == 0 && u <= 253402300799ULL) now = (time_t)u;
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(pv->created, sizeof pv->created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  int fd = open("/proc/self/cmdline", O_RDONLY);
  if (fd >= 0) {
    ssize_t n = read(fd, pv->command_line, sizeof pv->command_line - 1);
    close(fd);
    for (ssize_t i = 0; i + 1 < n; i++)
      if (pv->command_line[i] == '\0') pv->command_line[i] = ' ';
    if (n > 0) pv->command_line[n] = '\0';
  }
  gethostname(pv->host, sizeof pv->host - 1);
  const char *j = getenv("SLURM_JOB_ID");
  if (j) snprintf(pv->slurm_job_id, sizeof pv->slurm_job_id, "%s", j);
  /* What the job asked Slurm for, to read a profile against its allocation. */
  static const char *const vars[] = {
      "SLURM_JOB_ID",        "SLURM_JOB_NAME",      "SLURM_CLUSTER_NAME", "SLURM_JOB_PARTITION",
      "SLURM_JOB_NUM_NODES", "SLURM_JOB_NODELIST",  "SLURM_NTASKS",       "SLURM_NTASKS_PER_NODE",
      "SLURM_CPUS_PER_TASK", "SLURM_CPU_BIND",      "SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU",
      "SLURM_ARRAY_JOB_ID",  "SLURM_ARRAY_TASK_ID", "SLURM_STEP_ID"};
  size_t k = 0;
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (!v) continue;
    int n = snprintf(pv->slurm + k, sizeof pv->slurm - k, "%s=%s\n", vars[i], v);
    if (n < 0 || (size_t)n >= sizeof pv->slurm - k) break; /* keep whole lines only */
    k += (size_t)n;
  }
  pv->slurm[k] = '\0';
}

/* ---- writing helpers ------------------------------------------------------------- */

typedef struct wctx {
  const char *path;
  const amz__prof_part_t *part;
  int rc;
  h5msg_t msg;
} wctx_t;

/* Records the first failure with HDF5's reason; later calls are skipped. */
static int bad(wctx_t *w, const char *what) {
  if (w->rc == 0)
    w->rc = amz__fail(AMZ_EIO, "cannot write profile '%s': %s: %s", w->path, what,
                      h5_error(&w->msg));
  return w->rc;
}

static void attr(wctx_t *w, hid_t loc, const char *name, hid_t type, const void *v) {
  if (w->rc) return;
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = sp < 0 ? -1 : H5Acreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, type, v) < 0) bad(w, name);
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
}

static void attr_i(wctx_t *w, hid_t loc, const char *name, int32_t v) {
  attr(w, loc, name, H5T_NATIVE_INT32, &v);
}
static void attr_u(wctx_t *w, hid_t loc, const char *name, uint64_t v) {
  attr(w, loc, name, H5T_NATIVE_UINT64, &v);
}
static void attr_d(wctx_t *w, hid_t loc, const char *name, double v) {
  attr(w, loc, name, H5T_NATIVE_DOUBLE, &v);
}
/* Strings are fixed-length UTF-8, sized to the value: variable-length strings would
 * live in HDF5's global heap, the one metadata structure without a checksum. h5py
 * reads them as bytes, h5dump as text. */
static void attr_s(wctx_t *w, hid_t loc, const char *name, const char *v) {
  if (w->rc) return;
  const char *s = v ? v : "";
  hid_t t = amz__h5t_str(strlen(s) + 1);
  attr(w, loc, name, t, s);
  H5Tclose(t);
}

/* Creates table `name` of `total` rows and writes this process's `count` rows at
 * `off` in one (collective when MPI-IO) transfer. Large tables are chunked and
 * compressed (shuffle + deflate); small ones are contiguous. */
static void table(wctx_t *w, hid_t loc, const char *name, hid_t mtype, const void *rows,
                  uint64_t off, uint64_t count, uint64_t total) {
  if (w->rc) return;
  hid_t ftype = H5Tcopy(mtype);
  hsize_t dims = total, one = 1;
  hid_t space = H5Screate_simple(1, &dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t ds = -1, fsp = -1, msp = -1;
  if (ftype < 0 || H5Tpack(ftype) < 0 || space < 0 || dcpl < 0) {
    bad(w, name);
    goto out;
  }
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  if (total >= AMZ__PROFILE_COMPRESS_ROWS) {
    hsize_t chunk = total < AMZ__PROFILE_CHUNK_ROWS ? total : AMZ__PROFILE_CHUNK_ROWS;
    if (H5Pset_chunk(dcpl, 1, &chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
        H5Pset_deflate(dcpl, 1) < 0) {
      bad(w, name);
      goto out;
    }
  }
  ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0) {
    bad(w, name);
    goto out;
  }
  if (total == 0) goto out;
  fsp = H5Dget_space(ds);
  hsize_t start = off, cnt = count;
  msp = H5Screate_simple(1, count ? &cnt : &one, NULL);
  if (fsp < 0 || msp < 0) {
    bad(w, name);
    goto out;
  }
  if (count) {
    H5Sselect_hyperslab(fsp, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
  } else {
    H5Sselect_none(fsp);
    H5Sselect_none(msp);
  }
  /* Rows go out in the file's packed layout: parallel HDF5 writes compressed data
   * only collectively, and a type conversion inside H5Dwrite would break the
   * transfer into independent writes. The conversion happens here, locally. */
  size_t msize = H5Tget_size(mtype), fsize = H5Tget_size(ftype);
  void *packed = malloc(count ? count * (msize > fsize ? msize : fsize) : 64);
  if (!packed) {
    w->rc = amz__fail(AMZ_ENOMEM, "cannot write profile '%s': out of memory", w->path);
    goto out;
  }
  if (count) {
    memcpy(packed, rows, count * msize);
    /* Compound conversion needs a background buffer of destination rows. */
    void *bkg = calloc(count, fsize);
    if (!bkg || H5Tconvert(mtype, ftype, count, packed, bkg, H5P_DEFAULT) < 0) {
      free(bkg);
      free(packed);
      if (!w->rc) bad(w, name);
      goto out;
    }
    free(bkg);
  }
  if (H5Dwrite(ds, ftype, msp, fsp, w->part->dxpl, packed) < 0) bad(w, name);
  free(packed);
out:
  if (msp >= 0) H5Sclose(msp);
  if (fsp >= 0) H5Sclose(fsp);
  if (ds >= 0) H5Dclose(ds);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  if (ftype >= 0) H5Tclose(ftype);
}

/* A table of rows built by the writer process only. */
static void shared_table(wctx_t *w, hid_t loc, const char *name, hid_t (*mtype_fn)(void),
                         const void *rows, uint64_t n) {
  if (w->rc) return;
  hid_t t = mtype_fn();
  if (t < 0) {
    bad(w, name);
    return;
  }
  table(w, loc, name, t, rows, 0, w->part->writer ? n : 0, n);
  H5Tclose(t);
}

static hid_t group(wctx_t *w, hid_t loc, const char *name) {
  if (w->rc) return -1;
  hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) bad(w, name);
  return g;
}

static void copy_str(char *dst, size_t len, const char *src) {
  memset(dst, 0, len);
  snprintf(dst, len, "%s", src ? src : "");
}

/* ---- the profile ----------------------------------------------------------------- */

static void root_attrs(wctx_t *w, hid_t f, const amz_plan_t *p, const amz_result_t *r) {
  const amz__prof_part_t *pt = w->part;
  attr_i(w, f, "schema_version", AMZ_PROFILE_SCHEMA_VERSION);
  attr_s(w, f, "library_version", amz_version_string());
  attr_s(w, f, "created", pt->prov->created);
  attr_s(w, f, "task", r->task_name);
  attr_s(w, f, "kind", pt->kind);
  attr_s(w, f, "mode", pt->mode);
  attr_s(w, f, "schedule", amz_schedule_name(r->schedule));
  attr_s(w, f, "command_line", pt->prov->command_line);
  attr_s(w, f, "host", pt->prov->host);
  if (pt->prov->slurm_job_id[0]) attr_s(w, f, "slurm_job_id", pt->prov->slurm_job_id);
  if (pt->prov->slurm[0]) attr_s(w, f, "slurm", pt->prov->slurm);
  if (pt->prov->mpi_library[0]) attr_s(w, f, "mpi_library", pt->prov->mpi_library);
  attr_u(w, f, "n_items", r->n_items);
  attr_u(w, f, "chunk", r->chunk);
  attr_u(w, f, "items_done", r->items_done);
  attr_u(w, f, "items_failed", r->items_failed);
  attr_u(w, f, "sampled_items", r->sampled_items);
  attr_u(w, f, "items_resumed", r->items_resumed);
  attr_u(w, f, "items_recovered", r->items_recovered);
  attr_u(w, f, "retry_calls", r->retry_calls);
  attr_s(w, f, "checkpoint", r->checkpoint_path ? r->checkpoint_path : "");
  attr_u(w, f, "chunks_total", pt->chunks_total);
  attr_u(w, f, "chunks_dropped", pt->chunks_dropped);
  attr_i(w, f, "run_index", r->run_index);
  attr_i(w, f, "ranks_launched", pt->ranks_launched);
  attr_i(w, f, "ranks_used", pt->ranks_used);
  attr_i(w, f, "nodes", pt->nodes_used);
  attr_i(w, f, "threads", r->workers);
  attr_d(w, f, "wall_s", r->wall_s);
  attr_d(w, f, "predicted_s", r->predicted.total);
  attr_d(w, f, "predicted_lo_s", r->predicted_iv.lo_s);
  attr_d(w, f, "predicted_hi_s", r->predicted_iv.hi_s);
  attr_s(w, f, "predicted_widest", r->predicted_iv.widest ? r->predicted_iv.widest : "");
  attr_d(w, f, "predicted_serial_s", r->serial_pred_s);
  attr_d(w, f, "setup_s", r->setup_s);
  attr_d(w, f, "mean_item_s", p->wl.mean_s);
}

static void plan_group(wctx_t *w, hid_t f, const amz_plan_t *p) {
  hid_t g = group(w, f, "plan");
  if (g < 0) return;
  const amz__decision_t *d = &p->dec;
  attr_s(w, g, "why", d->why);
  attr_i(w, g, "chosen", (int32_t)d->chosen);
  attr_d(w, g, "search_s", p->search_s);
  amz__row_cand_t *rows = NULL;
  size_t n = w->part->writer ? d->n_cands : 0;
  if (n && !(rows = calloc(n, sizeof *rows)))
    w->rc = amz__fail(AMZ_ENOMEM, "cannot write profile '%s': out of memory", w->path);
  for (size_t i = 0; i < n && rows; i++) {
    const amz_candidate_t *c = &d->cands[i];
    amz__row_cand_t *o = &rows[i];
    o->ranks = c->ranks > 0 ? c->ranks : 1;
    o->threads = c->workers;
    copy_str(o->schedule, sizeof o->schedule, amz_schedule_name(c->schedule));
    o->chunk = c->chunk;
    o->predicted_s = c->predicted_s;
    o->startup_s = c->terms.startup;
    o->compute_s = c->terms.compute;
    o->dispatch_s = c->terms.dispatch;
    o->imbalance_s = c->terms.imbalance;
    o->serial_s = c->terms.serial;
    o->data_s = c->terms.data;
    o->chosen = i == d->chosen;
  }
  shared_table(w, g, "candidates", amz__h5t_cand, rows, d->n_cands);
  free(rows);
  H5Gclose(g);
}

static void model_group(wctx_t *w, hid_t f, const amz_plan_t *p) {
  hid_t g = group(w, f, "model");
  if (g < 0) return;
  const amz__workload_t *wl = &p->wl;
  const amz__costs_t *c = &p->machine.costs;
  const amz__prof_part_t *pt = w->part;
  attr_u(w, g, "sampled_items", wl->sampled_items);
  attr_u(w, g, "sample_blocks", wl->sampled_blocks);
  attr_u(w, g, "block_items", wl->block_items);
  attr_d(w, g, "mean_s", wl->mean_s);
  attr_d(w, g, "median_s", wl->median_s);
  attr_d(w, g, "mad_s", wl->mad_s);
  attr_d(w, g, "cv", wl->cv);
  attr_d(w, g, "max_item_s", wl->max_item_s);
  attr_d(w, g, "trend", wl->trend);
  attr_d(w, g, "cpu_ratio", wl->cpu_ratio);
  attr_d(w, g, "contention", wl->contention);
  attr_d(w, g, "rel_error", wl->rel_error);
  attr_d(w, g, "sample_wall_s", wl->sample_wall_s);
  attr_s(w, g, "stop_reason", wl->stop_reason);
  attr_d(w, g, "thread_start_s", c->thread_start_s);
  attr_d(w, g, "pool_wake_s", c->pool_wake_s);
  attr_d(w, g, "chunk_static_s", c->chunk_static_s);
  attr_d(w, g, "chunk_atomic_s", c->chunk_atomic_s);
  attr_d(w, g, "chunk_contended_s", c->chunk_contended_s);
  attr_d(w, g, "chunk_awf_s", c->chunk_awf_s);
  attr_d(w, g, "latency_shm_s", pt->lat_shm_s);
  attr_d(w, g, "bandwidth_shm_Bps", pt->bw_shm);
  attr_d(w, g, "latency_net_s", pt->lat_net_s);
  attr_d(w, g, "bandwidth_net_Bps", pt->bw_net);
  attr_d(w, g, "counter_s", pt->counter_s);
  if (!w->rc) {
    hsize_t n = (hsize_t)(wl->bins > 0 ? wl->bins : 0);
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t ds = sp < 0 ? -1
                      : H5Dcreate2(g, "cost_profile", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
                                   H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0) bad(w, "cost_profile");
    /* Collective transfers need every rank; the values are the same everywhere. */
    else if (n > 0 && H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, pt->dxpl, wl->density) < 0)
      bad(w, "cost_profile");
    if (ds >= 0) {
      attr_s(w, ds, "unit", "seconds per item, bins of equal item counts over [0, n_items)");
      H5Dclose(ds);
    }
    if (sp >= 0) H5Sclose(sp);
  }
  H5Gclose(g);
}

static void overheads(wctx_t *w, hid_t f, const amz_result_t *r) {
  static const char *const names[7] = {"startup", "compute", "dispatch", "imbalance",
                                       "serial",  "data",    "total"};
  const amz_terms_t *pr = &r->predicted, *me = &r->measured;
  double pv[7] = {pr->startup, pr->compute, pr->dispatch, pr->imbalance, pr->serial, pr->data,
                  pr->total};
  double mv[7] = {me->startup, me->compute, me->dispatch, me->imbalance, me->serial, me->data,
                  me->total};
  amz__row_term_t rows[7];
  for (int i = 0; i < 7; i++) {
    copy_str(rows[i].term, sizeof rows[i].term, names[i]);
    rows[i].predicted_s = pv[i];
    rows[i].measured_s = mv[i];
  }
  shared_table(w, f, "overheads", amz__h5t_term, rows, 7);
}

static void system_table(wctx_t *w, hid_t f, const amz_plan_t *p) {
  const amz__prof_part_t *pt = w->part;
  const amz__topology_t *t = &p->machine.topo;
  size_t n = pt->writer ? (size_t)pt->n_nodes : 0;
  amz__row_node_t *rows = calloc(n ? n : 1, sizeof *rows);
  if (!rows) {
    w->rc = amz__fail(AMZ_ENOMEM, "cannot write profile '%s': out of memory", w->path);
    return;
  }
  uint64_t mem = t->mem_limit && t->mem_limit < t->mem_total ? t->mem_limit : t->mem_total;
  for (size_t i = 0; i < n; i++) {
    const amz__prof_node_t *s = &pt->nodes[i];
    amz__row_node_t *o = &rows[i];
    o->node = (int32_t)i;
    copy_str(o->host, sizeof o->host, s->host);
    /* Rank 0 probed its own machine; the others are assumed alike (homogeneous
     * cluster, as the model assumes), which the docs say. */
    copy_str(o->cpu_model, sizeof o->cpu_model, t->cpu_model);
    o->ranks = s->ranks;
    o->ranks_used = s->ranks_used;
    o->cores = s->cores;
    o->pus = t->pus_total;
    o->numa_nodes = t->numa_nodes;
    o->shared = s->shared;
    o->mem_bytes = mem;
    o->pus_bound = s->pus_bound;
  }
  shared_table(w, f, "system", amz__h5t_node, rows, (uint64_t)pt->n_nodes);
  free(rows);
}

static void failures(wctx_t *w, hid_t f, const amz_result_t *r) {
  size_t n = w->part->writer ? r->failures.n : 0;
  amz__row_failure_t *rows = calloc(n ? n : 1, sizeof *rows);
  if (!rows) {
    w->rc = amz__fail(AMZ_ENOMEM, "cannot write profile '%s': out of memory", w->path);
    return;
  }
  for (size_t i = 0; i < n; i++)
    rows[i] = (amz__row_failure_t){r->failures.v[i].begin, r->failures.v[i].end,
                                   r->failures.v[i].code};
  shared_table(w, f, "failures", amz__h5t_failure, rows, r->failures.n);
  free(rows);
}

int amz__profile_write(const char *path, const amz_plan_t *p, const amz_result_t *r,
                       const amz__prof_part_t *pt) {
  wctx_t w = {.path = path, .part = pt};
  /* This process's rows, built before any collective HDF5 call. */
  amz__row_chunk_t *ch = malloc((r->n_chunks ? r->n_chunks : 1) * sizeof *ch);
  amz__row_worker_t *wk = malloc((r->workers > 0 ? (size_t)r->workers : 1) * sizeof *wk);
  if (!ch || !wk) w.rc = amz__fail(AMZ_ENOMEM, "cannot write profile '%s': out of memory", path);
  for (size_t i = 0; ch && i < r->n_chunks; i++) {
    const amz_chunk_info_t *c = &r->chunks[i];
    ch[i] = (amz__row_chunk_t){.rank = pt->rank, .thread = c->worker, .node = pt->node,
                               .status = c->status, .sampled = c->t_start < 0,
                               .begin = c->begin, .end = c->end,
                               .t_start = c->t_start, .t_end = c->t_end};
  }
  for (int i = 0; wk && i < r->workers; i++) {
    const amz_worker_stats_t *s = &r->wstats[i];
    wk[i] = (amz__row_worker_t){.rank = pt->rank, .thread = i, .node = pt->node,
                                .items = s->items, .chunks = s->chunks,
                                .failures = s->failures, .busy_s = s->busy_s,
                                .dispatch_s = s->dispatch_s, .idle_s = s->idle_s,
                                .data_s = r->wdata_s ? r->wdata_s[i] : 0.0, .taken = s->taken};
  }
  if (pt->agree) w.rc = pt->agree(pt->agree_ctx, w.rc);
  if (w.rc != 0) {
    free(ch);
    free(wk);
    return w.rc;
  }

  /* HDF5 prints its error stack to stderr by default; we report one line instead. */
  H5E_auto2_t old_fn;
  void *old_data;
  H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
  if (!getenv("AMZ_HDF5_ERRORS")) H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  hid_t fapl = H5Pcopy(pt->fapl == H5P_DEFAULT ? H5P_FILE_ACCESS_DEFAULT : pt->fapl);
  hid_t f = -1;
  /* The user block holds the seal. The 1.10 file format checksums all its metadata
   * (superblock, object headers, chunk indexes), so that a damaged file is an error
   * in HDF5 rather than a wild read; HDF5 >= 1.10 (h5py, h5dump, HDFView 3) reads it. */
  if (fcpl < 0 || fapl < 0 || H5Pset_userblock(fcpl, AMZ__PROFILE_HEADER) < 0 ||
      H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0)
    bad(&w, "property lists");
  if (!w.rc) {
    f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    if (f < 0) bad(&w, "create");
  }
  if (f >= 0) {
    root_attrs(&w, f, p, r);
    hid_t t = amz__h5t_chunk();
    if (t < 0) bad(&w, "chunks type");
    table(&w, f, "chunks", t, ch, pt->chunk_off, r->n_chunks, pt->chunk_total);
    if (t >= 0) H5Tclose(t);
    t = amz__h5t_worker();
    if (t < 0) bad(&w, "workers type");
    table(&w, f, "workers", t, wk, pt->worker_off, (uint64_t)r->workers, pt->worker_total);
    if (t >= 0) H5Tclose(t);
    plan_group(&w, f, p);
    model_group(&w, f, p);
    overheads(&w, f, r);
    system_table(&w, f, p);
    failures(&w, f, r);
    if (H5Fclose(f) < 0) bad(&w, "close");
  }
  if (fcpl >= 0) H5Pclose(fcpl);
  if (fapl >= 0) H5Pclose(fapl);
  H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
  free(ch);
  free(wk);
  return w.rc;
}

/* ---- serial runs ----------------------------------------------------------------- */

int amz__profile_write_serial(amz_plan_t *p, amz_result_t *r) {
  if (!p->profile) return 0;
  char path[PATH_MAX], dir[PATH_MAX + 16] = "", tmp[PATH_MAX + 32];
  int rc = amz__profile_expand(p->profile, r->run_index, path, sizeof path);
  if (rc == 0) rc = amz__profile_tmp_create(path, dir, sizeof dir, tmp, sizeof tmp);
  if (rc != 0) return rc;
  amz__prov_t prov;
  amz__profile_provenance(&prov);
  uint64_t chunks = 0, recorded = 0;
  for (int i = 0; i < r->workers; i++) chunks += r->wstats[i].chunks;
  for (size_t i = 0; i < r->n_chunks; i++) recorded += r->chunks[i].t_start >= 0;
  amz__prof_node_t node = {.ranks = 1, .ranks_used = 1,
                           .cores = p->machine.topo.usable_cores, .shared = 0,
                           .pus_bound = p->machine.topo.pus_bound};
  copy_str(node.host, sizeof node.host, prov.host);
  amz__prof_part_t part = {.fapl = H5P_DEFAULT, .dxpl = H5P_DEFAULT, .writer = 1,
                           .chunk_total = r->n_chunks, .worker_total = (uint64_t)r->workers,
                           .chunks_total = chunks,
                           .chunks_dropped = chunks > recorded ? chunks - recorded : 0,
                           .ranks_launched = 1, .ranks_used = 1, .nodes_used = 1,
                           .nodes = &node, .n_nodes = 1, .kind = "threads", .mode = "range",
                           .prov = &prov};
  rc = amz__profile_write(tmp, p, r, &part);
  if (rc == 0) rc = amz__profile_seal(tmp);
  /* The plan replaces its own earlier file (a path without %r): it was not there
   * before the plan, so nothing of the user's is lost. */
  int own = p->profile_last && strcmp(p->profile_last, path) == 0;
  if (rc == 0) rc = amz__profile_commit(tmp, path, p->profile_overwrite || own);
  amz__profile_tmp_remove(dir, tmp);
  if (rc != 0) return rc;
  free(r->profile_path);
  r->profile_path = strdup(path);
  free(p->profile_last);
  p->profile_last = strdup(path);
  if (!r->profile_path || !p->profile_last)
    return amz__fail(AMZ_ENOMEM, "profile '%s' written, but out of memory recording it", path);
  return 0;
}
