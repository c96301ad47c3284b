/*
 * Internal declarations of the HDF5 profile writer and reader (profile_*.c). Only
 * the profile sources include <hdf5.h>: HDF5's parallel build pulls <mpi.h> in
 * with it, and the rest of the core stays free of both.
 */
#ifndef AMORSIZE_PROFILE_INTERNAL_H
#define AMORSIZE_PROFILE_INTERNAL_H

#include <hdf5.h>

#include "amorsize_profile.h"
#include "plan.h"
#include "profile_path.h"
#include "profile_ops.h"

#pragma GCC visibility push(default)

/* Bytes of the text header (an HDF5 user block) that seals a profile. */
#define AMZ__PROFILE_HEADER 512
/* Rows per HDF5 chunk of the large tables, and the row count from which a table is
 * chunked and compressed instead of stored contiguously. */
#define AMZ__PROFILE_CHUNK_ROWS 32768
#define AMZ__PROFILE_COMPRESS_ROWS 4096

/* ---- the tables' rows (profile_types.c): one definition for writer and reader --
 * Each struct is the memory layout of one table row; its HDF5 type names the
 * fields (the names are the schema) and the file stores the packed version. */
typedef struct amz__row_chunk {
  int32_t rank, thread, node, status;
  int8_t sampled;
  uint64_t begin, end;
  double t_start, t_end;
} amz__row_chunk_t;

typedef struct amz__row_worker {
  int32_t rank, thread, node;
  uint64_t items, chunks, failures;
  double busy_s, dispatch_s, idle_s, data_s;
  uint64_t taken; /* items run from other workers' static blocks */
} amz__row_worker_t;

#define AMZ__SCHED_NAME_LEN 16
typedef struct amz__row_cand {
  int32_t ranks, threads;
  char schedule[AMZ__SCHED_NAME_LEN];
  uint64_t chunk;
  double predicted_s, startup_s, compute_s, dispatch_s, imbalance_s, serial_s, data_s;
  int8_t chosen;
} amz__row_cand_t;

typedef struct amz__row_term {
  char term[AMZ__SCHED_NAME_LEN];
  double predicted_s, measured_s;
} amz__row_term_t;

typedef struct amz__row_node {
  int32_t node;
  char host[64];
  char cpu_model[96];
  int32_t ranks, ranks_used, cores, pus, numa_nodes, shared;
  uint64_t mem_bytes;
  int32_t pus_bound; /* added within schema 1: 0 when read from older files */
} amz__row_node_t;

typedef struct amz__row_failure {
  uint64_t begin, end;
  int32_t code;
} amz__row_failure_t;

/* Memory types of the rows (new handles: the caller closes them). */
hid_t amz__h5t_chunk(void);
hid_t amz__h5t_worker(void);
hid_t amz__h5t_cand(void);
hid_t amz__h5t_term(void);
hid_t amz__h5t_node(void);
hid_t amz__h5t_failure(void);
/* A fixed-length, NUL-terminated string type of len bytes. */
hid_t amz__h5t_str(size_t len);

/* One row of /system as the writer sees it (the rest comes from rank 0's probe). */
typedef struct amz__prof_node {
  int ranks, ranks_used, cores, shared;
  int pus_bound; /* CPUs in at least one of the node's ranks' bindings; 0 = not known */
  char host[64];
} amz__prof_node_t;

/* Provenance recorded by rank 0 (a plain struct: the MPI layer broadcasts it). */
typedef struct amz__prov {
  char created[32];       /* UTC, ISO 8601; SOURCE_DATE_EPOCH when set */
  char command_line[1024];
  char host[64];
  char slurm_job_id[32];  /* "" when not under Slurm */
  char slurm[1024];       /* the job's Slurm variables, "NAME=value" lines; "" = none */
  char mpi_library[256];  /* the MPI library that ran (MPI layer only); "" without MPI */
} amz__prov_t;

/* Fills the provenance of this process. */
void amz__profile_provenance(amz__prov_t *pv);

/* How this process takes part in writing one profile. The serial writer fills it
 * for one process; the MPI layer for each rank of the run, with an MPI-IO file
 * access list and a collective transfer list. Every rank passes the same values for
 * everything but the row offsets and `writer`. */
typedef struct amz__prof_part {
  hid_t fapl;                  /* file access list; H5P_DEFAULT when serial */
  hid_t dxpl;                  /* transfer list; H5P_DEFAULT when serial */
  int rank, node;              /* this process: rank in the plan's comm, node index */
  int writer;                  /* 1 on the one process that writes the shared tables */
  uint64_t chunk_off, chunk_total;   /* this process's first row of /chunks; all rows */
  uint64_t worker_off, worker_total; /* the same for /workers */
  uint64_t chunks_total;       /* chunks the run executed over all processes */
  uint64_t chunks_dropped;     /* of those, not recorded (the record bound) */
  int ranks_launched, ranks_used, nodes_used;
  const amz__prof_node_t *nodes; /* rows of /system */
  int n_nodes;
  const char *kind, *mode;     /* "threads" / "mpi"; "range" / "map" */
  const amz__prov_t *prov;     /* rank 0's provenance */
  double lat_shm_s, bw_shm, lat_net_s, bw_net, counter_s; /* MPI costs; 0 = n/a */
  /* Called once the rows are in memory, before the first (collective) HDF5 call:
   * returns the status agreed by all processes, so that none enters HDF5 alone.
   * NULL when serial. */
  int (*agree)(void *ctx, int rc);
  void *agree_ctx;
} amz__prof_part_t;

/* Writes the profile of a finished run to path (a temporary name: the caller seals
 * and renames it). Collective over the part's processes when the lists are MPI-IO.
 * Called before the plan re-plans, so that the candidates are those that ran. */
int amz__profile_write(const char *path, const amz_plan_t *plan, const amz_result_t *res,
                       const amz__prof_part_t *part);

/* Writes the profile of a finished threads-only run (the core reaches it as
 * amz__profile_ops.after_run): expand the path, write, seal, commit. Local. */
int amz__profile_write_serial(amz_plan_t *p, amz_result_t *r);

/* Writes the text header (schema, length, CRC-32 of the rest) into the user block of
 * a closed profile. Local. */
int amz__profile_seal(const char *path);

/* Checks a file's seal before HDF5 opens it: the magic line, schema version, length
 * and (unless flags has AMZ_PROFILE_NO_VERIFY) the CRC-32. Local. Returns 0 with
 * *schema set, AMZ_EIO or AMZ_EFORMAT. */
int amz__profile_verify(const char *path, unsigned flags, int *schema);

#pragma GCC visibility pop

#endif /* AMORSIZE_PROFILE_INTERNAL_H */
