/*
 * Rank 0's progress thread and the map-mode data path.
 *
 * Open MPI 4.1 does not progress passive-target one-sided operations across nodes
 * while the target computes (DESIGN.md section 4), and a rank that answers
 * requests only between its own chunks starves the others when chunks are long.
 * So rank 0 answers from a thread of its own that sleeps when idle: it polls with
 * MPI_Iprobe and pauses up to SERVER_PAUSE_MAX between polls, so it costs well
 * under 1% of a core and answers within about that pause plus the latency. It
 * serves two kinds of requests:
 *  - batch refills from other nodes (weighted factoring over the node-0 counter);
 *  - map mode: inputs of a piece to the rank that runs it, outputs of a piece back
 *    into rank 0's output array.
 * It ends when every peer said DONE and every remote node got its last batch.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_internal.h"

#define SERVER_PAUSE_MAX_NS 100000
/* Pieces larger than this are moved in several messages (MPI counts are int). */
#define MAX_PIECE_BYTES ((size_t)1 << 28)

static void *server_main(void *arg) {
  amz__server_params_t sp = *(amz__server_params_t *)arg;
  free(arg);
  amz__mpi_t *m = sp.m;
  int done = 0, finals = 0;
  long pause_ns = 0;
  char *buf = NULL;
  size_t cap = 0;
  while ((done < sp.peers || finals < sp.refill_nodes) &&
         !(sp.stop && atomic_load_explicit(sp.stop, memory_order_acquire))) {
    int flag = 0;
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, sp.comm, &flag, &st) != MPI_SUCCESS) break;
    if (!flag) {
      pause_ns = pause_ns ? pause_ns * 2 : 1000;
      if (pause_ns > SERVER_PAUSE_MAX_NS) pause_ns = SERVER_PAUSE_MAX_NS;
      struct timespec ts = {0, pause_ns};
      nanosleep(&ts, NULL);
      continue;
    }
    pause_ns = 0;
    int src = st.MPI_SOURCE, count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    if ((size_t)count > cap) {
      char *nb = realloc(buf, (size_t)count);
      if (!nb) break; /* the peers' sends would hang: nothing better to do */
      buf = nb;
      cap = (size_t)count;
    }
    MPI_Recv(buf, count, MPI_BYTE, src, st.MPI_TAG, sp.comm, MPI_STATUS_IGNORE);
    switch (st.MPI_TAG) {
      case AMZ__TAG_REFILL: {
        double req[2];
        memcpy(req, buf, sizeof req);
        int node = (int)req[0];
        if (node > 0 && node < sp.run_nodes && req[1] > 0) {
          uint64_t bits;
          memcpy(&bits, &req[1], sizeof bits);
          atomic_store_explicit(&sp.node0->rate_bits[node], bits, memory_order_relaxed);
        }
        uint64_t rep[2] = {0, 0};
        rep[1] = amz__take_batch(sp.node0, sp.sched, sp.run_nodes, node, sp.min_batch, &rep[0]);
        MPI_Send(rep, 2, MPI_UINT64_T, src, AMZ__TAG_BATCH, sp.comm);
        if (rep[1] == 0) finals++;
        break;
      }
      case AMZ__TAG_DATA_REQ: {
        uint64_t req[3];
        memcpy(req, buf, sizeof req);
        size_t bin = m->mt.bytes_in;
        const char *in = (const char *)m->mt.input + req[0] * bin;
        MPI_Send(bin ? in : NULL, (int)((req[1] - req[0]) * bin), MPI_BYTE, src, (int)req[2],
                 sp.comm);
        break;
      }
      case AMZ__TAG_DATA_OUT: {
        /* {k, b1, e1, ...}: the k ranges' outputs follow from the same rank
         * (messages between two ranks do not overtake each other): receive each
         * where it belongs, no copy. */
        uint64_t k, tag;
        memcpy(&k, buf, sizeof k);
        memcpy(&tag, buf + sizeof k, sizeof tag);
        size_t bout = m->mt.bytes_out;
        for (uint64_t i = 0; i < k; i++) {
          uint64_t r[2];
          memcpy(r, buf + (2 + 2 * i) * sizeof(uint64_t), sizeof r);
          char *dst = bout ? (char *)m->mt.output + r[0] * bout : NULL;
          MPI_Recv(dst, (int)((r[1] - r[0]) * bout), MPI_BYTE, src, (int)tag, sp.comm,
                   MPI_STATUS_IGNORE);
        }
        break;
      }
      case AMZ__TAG_DONE:
        done++;
        break;
      default:
        break; /* not ours: dropped */
    }
  }
  free(buf);
  return NULL;
}

int amz__server_start(amz__server_params_t *sp, pthread_t *th) {
  amz__server_params_t *copy = malloc(sizeof *copy);
  if (!copy) return amz__fail(AMZ_ENOMEM, "cannot allocate the progress thread's state");
  *copy = *sp;
  int rc = pthread_create(th, NULL, server_main, copy);
  if (rc != 0) {
    free(copy);
    return amz__fail(AMZ_ESYS, "cannot start rank 0's progress thread: %s", strerror(rc));
  }
  return 0;
}

int amz__server_join(pthread_t th) {
  pthread_join(th, NULL);
  return 0;
}

int amz__map_done(MPI_Comm comm) {
  return amz__mpi_check(MPI_Send(NULL, 0, MPI_BYTE, 0, AMZ__TAG_DONE, comm), "MPI_Send(done)");
}

/* Per-thread staging state of remote map kernels, on a pthread key so that it is
 * freed when a pool thread ends:
 *  - buf: inputs then outputs of the current chunk [b0, e0) (run) or piece;
 *  - out: the pieces of the chunk whose kernel succeeded, sent back together. */
typedef struct stage {
  char *buf;
  size_t cap;
  int slot;
  int have;          /* inputs of [b0, e0) are in buf */
  uint64_t b0, e0;
  uint64_t *out;     /* k, tag, then k (begin, end) pairs: the header as sent */
  size_t n_out, cap_out;
} stage_t;

static _Atomic int next_slot;
static pthread_key_t stage_key;
static pthread_once_t stage_once = PTHREAD_ONCE_INIT;

static void stage_free(void *p) {
  stage_t *s = p;
  if (s) {
    free(s->buf);
    free(s->out);
  }
  free(s);
}

static void stage_key_init(void) { pthread_key_create(&stage_key, stage_free); }

static stage_t *get_stage(void) {
  pthread_once(&stage_once, stage_key_init);
  stage_t *s = pthread_getspecific(stage_key);
  if (!s && (s = calloc(1, sizeof *s))) {
    s->slot = atomic_fetch_add(&next_slot, 1) % 4096; /* tags stay below 32767 */
    if (pthread_setspecific(stage_key, s) != 0) {
      free(s);
      s = NULL;
    }
  }
  return s;
}

static int stage_reserve(stage_t *st, size_t need) {
  if (need == 0) need = 1;
  if (need <= st->cap) return 0;
  char *nb = realloc(st->buf, need);
  if (!nb) return AMZ_ENOMEM;
  st->buf = nb;
  st->cap = need;
  return 0;
}

/* Accounts time (and CPU) spent moving data: kept out of the kernel's cost. */
static void account(amz__mpi_t *m, double wall, double cpu, uint64_t pieces, uint64_t bytes) {
  amz__tls_excluded_s += wall;
  amz__tls_excluded_cpu_s += cpu;
  if (pieces) atomic_fetch_add_explicit(&m->map_pieces, pieces, memory_order_relaxed);
  atomic_fetch_add_explicit(&m->map_bytes, bytes, memory_order_relaxed);
  atomic_fetch_add_explicit(&m->map_moved_ns, (uint64_t)(wall * 1e9), memory_order_relaxed);
}

/* Asks rank 0 for the inputs of [b, e) into dst. */
static int fetch(amz__mpi_t *m, const stage_t *st, uint64_t b, uint64_t e, char *dst) {
  size_t bin = m->mt.bytes_in;
  uint64_t req[3] = {b, e, (uint64_t)(AMZ__TAG_DATA_IN + st->slot)};
  if (MPI_Send(req, 3, MPI_UINT64_T, 0, AMZ__TAG_DATA_REQ, m->data_comm) != MPI_SUCCESS ||
      MPI_Recv(dst, (int)((e - b) * bin), MPI_BYTE, 0, AMZ__TAG_DATA_IN + st->slot,
               m->data_comm, MPI_STATUS_IGNORE) != MPI_SUCCESS)
    return AMZ_EMPI;
  return 0;
}

/* Sends outputs: a header {k, tag, b1, e1, ...}, then each range's bytes with the
 * thread's own tag (another thread of this rank may be sending at the same time). */
static int send_outputs(amz__mpi_t *m, const stage_t *st, uint64_t *hdr,
                        const char *const *bodies) {
  size_t bout = m->mt.bytes_out;
  uint64_t k = hdr[0];
  int tag = AMZ__TAG_DATA_BODY0 + st->slot;
  hdr[1] = (uint64_t)tag;
  if (MPI_Send(hdr, (int)(2 + 2 * k), MPI_UINT64_T, 0, AMZ__TAG_DATA_OUT, m->data_comm) !=
      MPI_SUCCESS)
    return AMZ_EMPI;
  for (uint64_t i = 0; i < k; i++)
    if (MPI_Send(bodies[i], (int)((hdr[3 + 2 * i] - hdr[2 + 2 * i]) * bout), MPI_BYTE, 0, tag,
                 m->data_comm) != MPI_SUCCESS)
      return AMZ_EMPI;
  return 0;
}

/* One piece on its own (sampling, or chunks too large to stage): inputs, kernel,
 * outputs. */
/* The user's map kernel on items [b, e), watched when a timeout is set: the user's
 * call alone, not the data movement around it. A run given up meanwhile ends this
 * thread at the leave. */
static int user_call(const amz_map_task_t *t, uint64_t b, uint64_t e, const void *in,
                     void *out) {
  amz__watch_slot_t *ws = amz__watch_current();
  if (ws) amz__watch_enter(ws, b, e);
  int rc = t->fn(b, e, in, out, t->arg);
  if (ws) amz__watch_leave(ws);
  return rc;
}

static int run_piece(amz__mpi_t *m, stage_t *st, uint64_t b, uint64_t e) {
  const amz_map_task_t *t = &m->mt;
  size_t bin = t->bytes_in, bout = t->bytes_out, n = (size_t)(e - b);
  if (stage_reserve(st, n * (bin + bout)) != 0) return AMZ_ENOMEM;
  st->have = 0;
  char *in = st->buf, *out = in + n * bin;
  double t0 = amz__monotonic_now(NULL), c0 = amz__thread_cpu_now(NULL);
  if (fetch(m, st, b, e, in) != 0) return AMZ_EMPI;
  double t1 = amz__monotonic_now(NULL), c1 = amz__thread_cpu_now(NULL);
  int rc = user_call(t, b, e, in, out);
  double t2 = amz__monotonic_now(NULL), c2 = amz__thread_cpu_now(NULL);
  if (rc == 0) {
    uint64_t hdr[4] = {1, 0, b, e};
    const char *body = out;
    if (send_outputs(m, st, hdr, &body) != 0) rc = AMZ_EMPI;
  }
  account(m, (t1 - t0) + (amz__monotonic_now(NULL) - t2),
          (c1 - c0) + (amz__thread_cpu_now(NULL) - c2), 1, n * (bin + bout));
  return rc;
}

int amz__map_flush(amz__mpi_t *m) {
  if (m->rank == 0) return 0;
  stage_t *st = get_stage();
  if (!st || !st->have) return 0;
  int rc = 0;
  if (st->n_out > 0) {
    double t0 = amz__monotonic_now(NULL), c0 = amz__thread_cpu_now(NULL);
    size_t k = st->n_out, bin = m->mt.bytes_in, bout = m->mt.bytes_out;
    const char **bodies = malloc(k * sizeof *bodies);
    if (!bodies) return AMZ_ENOMEM;
    uint64_t bytes = 0;
    char *outs = st->buf + (st->e0 - st->b0) * bin;
    for (size_t i = 0; i < k; i++) {
      bodies[i] = outs + (st->out[2 + 2 * i] - st->b0) * bout;
      bytes += (st->out[3 + 2 * i] - st->out[2 + 2 * i]) * bout;
    }
    st->out[0] = k;
    rc = send_outputs(m, st, st->out, bodies);
    free(bodies);
    account(m, amz__monotonic_now(NULL) - t0, amz__thread_cpu_now(NULL) - c0, 0, bytes);
  }
  st->n_out = 0;
  st->have = 0;
  return rc;
}

int amz__map_prefetch(amz__mpi_t *m, uint64_t b, uint64_t e) {
  if (m->rank == 0) return 0;
  stage_t *st = get_stage();
  if (!st) return AMZ_ENOMEM;
  int rc = amz__map_flush(m);
  if (rc != 0) return rc;
  size_t bin = m->mt.bytes_in, bout = m->mt.bytes_out;
  if ((e - b) * (bin + bout) > MAX_PIECE_BYTES) return 0; /* the kernel moves it in parts */
  if (stage_reserve(st, (size_t)(e - b) * (bin + bout)) != 0) return AMZ_ENOMEM;
  double t0 = amz__monotonic_now(NULL), c0 = amz__thread_cpu_now(NULL);
  if (fetch(m, st, b, e, st->buf) != 0) return AMZ_EMPI;
  account(m, amz__monotonic_now(NULL) - t0, amz__thread_cpu_now(NULL) - c0, 1,
          (e - b) * (bin + bout));
  st->b0 = b;
  st->e0 = e;
  st->have = 1;
  st->n_out = 0;
  return 0;
}

int amz__map_kernel(uint64_t b, uint64_t e, void *arg) {
  amz__mpi_t *m = arg;
  const amz_map_task_t *t = &m->mt;
  if (m->rank == 0) {
    const char *in = t->bytes_in ? (const char *)t->input + b * t->bytes_in : NULL;
    char *out = t->bytes_out ? (char *)t->output + b * t->bytes_out : NULL;
    return user_call(t, b, e, in, out);
  }
  stage_t *st = get_stage();
  if (!st) return AMZ_ENOMEM;
  if (st->have && st->b0 <= b && e <= st->e0) {
    /* Inside the chunk the source fetched: compute from the staged inputs, send the
     * outputs with the chunk's others (amz__map_flush). */
    size_t bin = t->bytes_in, bout = t->bytes_out;
    char *in = st->buf + (b - st->b0) * bin;
    char *out = st->buf + (st->e0 - st->b0) * bin + (b - st->b0) * bout;
    int rc = user_call(t, b, e, in, out);
    if (rc == 0) {
      if (2 * st->n_out + 4 > st->cap_out) {
        size_t cap = st->cap_out ? 2 * st->cap_out : 64;
        uint64_t *o = realloc(st->out, cap * sizeof *o);
        if (!o) return AMZ_ENOMEM;
        st->out = o;
        st->cap_out = cap;
      }
      st->out[2 + 2 * st->n_out] = b;
      st->out[3 + 2 * st->n_out] = e;
      st->n_out++;
    }
    return rc;
  }
  size_t per = t->bytes_in + t->bytes_out;
  uint64_t step = per ? MAX_PIECE_BYTES / per : (uint64_t)1 << 40;
  if (step < 1) step = 1;
  int first_rc = 0;
  for (uint64_t pb = b; pb < e; pb += step) {
    uint64_t pe = e - pb > step ? pb + step : e;
    int rc = run_piece(m, st, pb, pe);
    if (rc != 0 && first_rc == 0) first_rc = rc;
  }
  if (st->cap > MAX_PIECE_BYTES) { /* do not keep huge buffers */
    free(st->buf);
    st->buf = NULL;
    st->cap = 0;
  }
  return first_rc;
}
