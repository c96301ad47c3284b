/*
 * The machine's measured costs (probe.c): thread start, pool wake, per-chunk
 * dispatch of each kind, cached per machine fingerprint. Used by the cost model,
 * the MPI layer and the tool's `amorsize probe`.
 */
#ifndef AMORSIZE_PROBE_H
#define AMORSIZE_PROBE_H

#include "common.h"
#include "topology.h"

typedef struct amz__costs {
  double thread_start_s; /* create + join one thread */
  double pool_wake_s;    /* fork-join of the pool with all workers, empty job */
  double chunk_static_s; /* per chunk, pre-assigned schedules: clock reads, record */
  double chunk_atomic_s; /* per chunk, shared counter, one worker */
  double chunk_contended_s; /* per chunk, shared counter, all workers hammering */
  double chunk_awf_s;    /* per chunk, AWF compare-and-swap and re-weighting */
  double run_serial_s;   /* amz_run's setup and result assembly, fixed part */
  double chunk_log_s;    /* per chunk: the checkpoint record (0 without one; not cached) */
  int probe_workers;     /* workers used when measuring contended costs */
  int from_cache;        /* 1 when read from the cache file */
  char cache_path[512];  /* file used, "" when the cache is disabled */
} amz__costs_t;

/* Measures the costs (or reads them from the cache dir when it holds a valid
 * entry for this fingerprint, and writes it back otherwise). dir NULL/"" = no cache. */
AMZ__EXT int amz__costs_probe(const amz__topology_t *topo, const char *cache_dir,
                     amz__costs_t *out);

#endif /* AMORSIZE_PROBE_H */
