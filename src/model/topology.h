/*
 * The machine as hwloc and the cgroup limits describe it (topology.c): cores, PUs,
 * binding, quota, memory. Used by the planner, the MPI layer's node probe and the
 * tool's `amorsize probe`.
 */
#ifndef AMORSIZE_TOPOLOGY_H
#define AMORSIZE_TOPOLOGY_H

#include "common.h"

typedef struct amz__topology {
  int pus_total;        /* processing units on the machine */
  int cores_total;      /* physical cores on the machine */
  int numa_nodes;
  int pus_bound;        /* PUs in this process's CPU binding */
  int cores_bound;      /* physical cores with at least one bound PU */
  double cpu_quota;     /* cgroup CPU quota in cores; 0 = none */
  uint64_t mem_total;   /* bytes of RAM on the machine */
  uint64_t mem_limit;   /* cgroup memory limit in bytes; 0 = none */
  uint64_t l3_bytes;    /* largest last-level cache, bytes; 0 = unknown */
  int usable_cores;     /* what compute-bound work can use: min(bound cores, quota) */
  char host[64];
  char cpu_model[96];
  char binding[128];    /* bound CPUs as a list, e.g. "0-1" */
  /* Bound PUs as a bit mask (OS indexes below AMZ__CPUMASK_BITS), so that ranks on
   * one node can tell whether their bindings overlap. */
#define AMZ__CPUMASK_BITS 1024
  uint64_t cpumask[AMZ__CPUMASK_BITS / 64];
} amz__topology_t;

/* Probes the machine, the binding and the cgroup limits. The machine's description
 * comes from hwloc once per process, or from cache_dir when a process has written
 * this machine's there (since its last boot); NULL or "" = hwloc. Returns 0 or
 * AMZ_ETOPO. */
AMZ__EXT int amz__topology_probe_in(amz__topology_t *t, const char *cache_dir);
/* The same without a cache directory. */
int amz__topology_probe(amz__topology_t *t);
/* Where this process's machine description came from: 0 not loaded, 1 hwloc, 2 the
 * cache. For tests. */
int amz__topology_source(void);
/* Fills the derived usable_cores from the other fields (also for synthetic ones). */
void amz__topology_finish(amz__topology_t *t);
/* 64-bit FNV-1a fingerprint of what makes measured costs valid. */
uint64_t amz__topology_fingerprint(const amz__topology_t *t);

#endif /* AMORSIZE_TOPOLOGY_H */
