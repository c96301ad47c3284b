/*
 * Porting pattern 6: a kernel that calls MPI itself (docs/PORTING.md).
 *
 *   mpirun -np R ./fetch_mpi [ITEMS] [--check] [--busy]
 *
 * The items' input records live on rank 0 only (as when one rank reads a table that
 * is too large to copy to every rank). A kernel on another rank asks rank 0 for
 * record i with a point-to-point message and computes on the reply; a thread of
 * rank 0 serves the requests. The rules this follows (PORTING.md, "Kernels that call
 * MPI"):
 *
 *   - MPI_THREAD_MULTIPLE: kernels run on the library's worker threads, several at
 *     once (without it the program says so and exits with 77);
 *   - a communicator of its own, duplicated before the plan: the library's own
 *     collectives run on the plan's communicator meanwhile;
 *   - no collective inside the kernel: items run on any rank, in any order, some
 *     while sampling and some twice, so nothing can match a collective;
 *   - a server on a thread of its own, not in a kernel: rank 0 serves even when the
 *     plan leaves it out. It polls politely (MPI_Iprobe, then a 50 us sleep) so that
 *     it does not take a core from the workers, as a blocking MPI_Recv would;
 *   - a reply tag per request, so that two threads of one rank waiting at once each
 *     get their own record.
 *
 * The outputs are gathered to rank 0 (range mode); --check recomputes every item
 * serially there and compares, bit for bit. --busy makes the server poll without
 * sleeping, as a blocking receive does in most MPI libraries, to measure what the
 * sleep saves (docs/BENCHMARKS.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amorsize_mpi.h"

enum { RECORD = 32,          /* doubles per input record */
       REQUEST_TAG = 1,      /* requests: {item, reply tag} */
       FIRST_REPLY_TAG = 2,  /* replies: tags FIRST_REPLY_TAG ... + REPLY_TAGS - 1 */
       REPLY_TAGS = 30000 }; /* MPI guarantees tags up to 32767 */

typedef struct {
  MPI_Comm comm;          /* the kernels' own communicator */
  const double *table;    /* rank 0: every record; NULL elsewhere */
  double *out;            /* every rank: full-size output array */
  atomic_uint next_tag;   /* reply tags handed out by this process */
  atomic_ulong fetched;   /* records this process asked rank 0 for */
  atomic_int stop;        /* rank 0: the server ends */
  atomic_ulong served;    /* rank 0: requests answered */
  double server_cpu_s;    /* rank 0: the server thread's CPU time */
  int busy;               /* rank 0: poll without sleeping (--busy, for comparison) */
} job_t;

/* Record i, as rank 0 would read it from its file. */
static void make_record(uint64_t i, double *rec) {
  for (int k = 0; k < RECORD; k++) rec[k] = 0.5 + 0.25 * sin((double)(i * RECORD + k));
}

/* The computation on one record: a fixed-point iteration per value, 200 to 1,600
 * steps (the items are uneven). The result depends on the record alone. */
static double compute(uint64_t i, const double *rec) {
  int steps = 200 * (1 + (int)(i * 2654435761u % 8));
  double sum = 0;
  for (int k = 0; k < RECORD; k++) {
    double x = rec[k];
    for (int s = 0; s < steps; s++) x = cos(x) + 0.5 * rec[k];
    sum += x;
  }
  return sum;
}

/* Ask rank 0 for record i: one request, one reply on a tag of this call's own. */
static int fetch(job_t *job, uint64_t i, double *rec) {
  unsigned t = atomic_fetch_add(&job->next_tag, 1) % REPLY_TAGS;
  uint64_t req[2] = {i, FIRST_REPLY_TAG + t};
  int rc = MPI_Send(req, 2, MPI_UINT64_T, 0, REQUEST_TAG, job->comm);
  if (rc == MPI_SUCCESS)
    rc = MPI_Recv(rec, RECORD, MPI_DOUBLE, 0, (int)req[1], job->comm, MPI_STATUS_IGNORE);
  atomic_fetch_add(&job->fetched, 1);
  return rc == MPI_SUCCESS ? 0 : rc;
}

static int kernel(uint64_t begin, uint64_t end, void *arg) {
  job_t *job = arg;
  double rec[RECORD];
  for (uint64_t i = begin; i < end; i++) {
    if (job->table) {
      memcpy(rec, job->table + i * RECORD, sizeof rec); /* rank 0 reads its own table */
    } else {
      int rc = fetch(job, i, rec);
      if (rc != 0) return rc; /* the library reports the failed items */
    }
    job->out[i] = compute(i, rec);
  }
  return 0;
}

/* Rank 0's server thread: answers requests until told to stop, sleeping 50 us when
 * there is none, so that it costs little CPU. */
static void *serve(void *arg) {
  job_t *job = arg;
  const struct timespec nap = {0, 50000};
  for (;;) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    MPI_Improbe(MPI_ANY_SOURCE, REQUEST_TAG, job->comm, &flag, &msg, &st);
    if (!flag) {
      if (atomic_load(&job->stop)) {
        struct timespec cpu;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        job->server_cpu_s = (double)cpu.tv_sec + 1e-9 * (double)cpu.tv_nsec;
        return NULL;
      }
      if (!job->busy) nanosleep(&nap, NULL);
      continue;
    }
    uint64_t req[2];
    MPI_Mrecv(req, 2, MPI_UINT64_T, &msg, MPI_STATUS_IGNORE);
    MPI_Send(job->table + req[0] * RECORD, RECORD, MPI_DOUBLE, st.MPI_SOURCE, (int)req[1],
             job->comm);
    atomic_fetch_add(&job->served, 1);
  }
}

static void die(int rank, const char *what, int rc) {
  fprintf(stderr, "rank %d: %s: %s: %s\n", rank, what, amz_error_name(rc), amz_last_error());
  MPI_Abort(MPI_COMM_WORLD, 1);
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (provided < MPI_THREAD_MULTIPLE) {
    if (rank == 0)
      printf("SKIP: kernels that call MPI need MPI_THREAD_MULTIPLE; this MPI library "
             "provides level %d\n", provided);
    MPI_Finalize();
    return 77;
  }
  uint64_t n = 2000;
  int check = 0, busy = 0, pos = 0;
  for (int i = 1; i < argc; i++) {
    char *end;
    if (strcmp(argv[i], "--check") == 0) {
      check = 1;
    } else if (strcmp(argv[i], "--busy") == 0) {
      busy = 1;
    } else if (pos++ == 0 && argv[i][0] != '-' && (errno = 0, n = strtoull(argv[i], &end, 10),
                                                   !errno && *end == 0 && n > 0)) {
      continue;
    } else {
      if (rank == 0)
        fprintf(stderr, "fetch_mpi: bad argument '%s': expected ITEMS (a positive count), "
                        "--check or --busy\n", argv[i]);
      MPI_Finalize();
      return 2;
    }
  }
  job_t job = {.busy = busy};
  MPI_Comm_dup(MPI_COMM_WORLD, &job.comm); /* before the plan: the kernels' own */
  double *table = NULL;
  job.out = calloc(n, sizeof *job.out);
  if (rank == 0) table = malloc(n * RECORD * sizeof *table);
  if (!job.out || (rank == 0 && !table)) {
    fprintf(stderr, "rank %d: cannot allocate %" PRIu64 " items\n", rank, n);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  pthread_t server;
  if (rank == 0) {
    for (uint64_t i = 0; i < n; i++) make_record(i, table + i * RECORD);
    job.table = table;
    if (pthread_create(&server, NULL, serve, &job) != 0) {
      fprintf(stderr, "rank 0: cannot start the server thread\n");
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }

  amz_task_t task = {"fetch from rank 0", n, kernel, &job};
  amz_result_t *res = NULL;
  int rc = amz_mpi_for(MPI_COMM_WORLD, &task, NULL, &res);
  if (rc != 0) die(rank, "amz_mpi_for", rc);
  /* Rank 0 returns from the gather once every rank has sent its items, that is once
   * no kernel anywhere can still ask for a record: then the server may stop. */
  rc = amz_mpi_gather_items(MPI_COMM_WORLD, res, job.out, sizeof *job.out, 0);
  if (rc != 0) die(rank, "amz_mpi_gather_items", rc);
  if (rank == 0) {
    atomic_store(&job.stop, 1);
    pthread_join(server, NULL);
  }
  unsigned long fetched = atomic_load(&job.fetched), all_fetched = 0;
  rc = amz_mpi_allreduce(MPI_COMM_WORLD, &fetched, &all_fetched, 1, MPI_UNSIGNED_LONG, MPI_SUM);
  if (rc != 0) die(rank, "amz_mpi_allreduce", rc);

  int status = 0;
  if (rank == 0) {
    double total = 0;
    for (uint64_t i = 0; i < n; i++) total += job.out[i];
    printf("fetch: %" PRIu64 " items on %d of %d ranks x %d workers, %.3f s; %lu records "
           "fetched from rank 0, %lu requests served with %.3f s of CPU; sum %.9f\n",
           n, amz_result_ranks(res), size, amz_result_workers(res), amz_result_seconds(res),
           all_fetched, (unsigned long)atomic_load(&job.served), job.server_cpu_s, total);
    if (check) {
      uint64_t bad = 0;
      double rec[RECORD];
      for (uint64_t i = 0; i < n; i++) {
        make_record(i, rec);
        bad += compute(i, rec) != job.out[i];
      }
      printf("serial check: %s\n", bad ? "DIFFERENT" : "identical");
      status = bad != 0;
    }
    status |= all_fetched != atomic_load(&job.served);
  }
  int all = 0;
  if (amz_mpi_allreduce(MPI_COMM_WORLD, &status, &all, 1, MPI_INT, MPI_MAX) != 0) all = 1;
  amz_result_destroy(res);
  MPI_Comm_free(&job.comm);
  free(table);
  free(job.out);
  MPI_Finalize();
  return all;
}
