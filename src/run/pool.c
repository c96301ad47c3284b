/*
 * A persistent fork-join thread pool. The calling thread is worker 0, so a run on
 * one worker starts no thread and a run on P workers wakes P - 1 helpers. Helpers
 * sleep on a condition variable between jobs; the pool lives as long as its plan,
 * so iterative codes that run the same plan every time step pay thread creation once.
 *
 * fork() copies the pool but not its threads: a child that ran the plan would wait
 * forever for helpers that do not exist. The pool remembers its process; in another
 * one it starts afresh (new lock, no helpers) and grows new threads when needed.
 *
 * A watched job (AMZ_TIMEOUT) runs every worker on a helper while the caller
 * watches: each helper publishes its kernel call in its slot (items, start time).
 * A call past its limit is reported; then the process ends, or the run is given
 * up: the pool is marked lost, workers end their thread at their next kernel call,
 * and a stuck worker ends its thread when its call returns, before it touches
 * anything of the abandoned run. A lost pool is never run again; its slots stay
 * allocated for the stuck threads to read.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

typedef struct helper_arg {
  amz__pool_t *pool;
  int id;
  uint64_t generation; /* the last job started before this helper existed */
} helper_arg_t;

static _Thread_local amz__watch_slot_t *tls_slot;

amz__watch_slot_t *amz__watch_current(void) { return tls_slot; }

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static _Noreturn void slot_exit(amz__watch_slot_t *s) {
  atomic_store(&s->state, AMZ__SLOT_EXITED);
  pthread_exit(NULL);
}

/* The state is sequentially consistent on purpose: the watcher sets `abandoned`
 * then reads the state, a worker sets its state then reads `abandoned`; one of
 * them sees the other, so the watcher never frees a run that a worker is still
 * inside. The call's items and start go through a seqlock (one writer: the
 * slot's thread), so that the watcher never pairs one call's items with
 * another's start. While the user's kernel runs, the thread has no slot: a kernel
 * that runs another plan does not publish into this one. */
void amz__watch_enter(amz__watch_slot_t *s, uint64_t b, uint64_t e) {
  unsigned q = atomic_load_explicit(&s->seq, memory_order_relaxed);
  atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&s->b, b, memory_order_relaxed);
  atomic_store_explicit(&s->e, e, memory_order_relaxed);
  atomic_store_explicit(&s->t0, mono_now(), memory_order_relaxed);
  atomic_store_explicit(&s->seq, q + 2, memory_order_release);
  atomic_store(&s->state, AMZ__SLOT_KERNEL);
  if (atomic_load(s->abandoned)) slot_exit(s);
  tls_slot = NULL;
}

void amz__watch_leave(amz__watch_slot_t *s) {
  tls_slot = s;
  atomic_store(&s->state, AMZ__SLOT_LIB);
  if (atomic_load(s->abandoned)) slot_exit(s);
}

/* A consistent copy of a slot's call, or 0 when the slot is being written. */
static int slot_read(amz__watch_slot_t *s, double *t0, uint64_t *b, uint64_t *e) {
  unsigned q = atomic_load_explicit(&s->seq, memory_order_acquire);
  if (q & 1) return 0;
  *b = atomic_load_explicit(&s->b, memory_order_relaxed);
  *e = atomic_load_explicit(&s->e, memory_order_relaxed);
  *t0 = atomic_load_explicit(&s->t0, memory_order_relaxed);
  atomic_thread_fence(memory_order_acquire);
  return atomic_load_explicit(&s->seq, memory_order_relaxed) == q;
}

int amz__watch_call(const amz_task_t *t, uint64_t b, uint64_t e, amz__watch_slot_t *slot) {
  /* Once the call is published nothing but `slot` is read: a run given up frees
   * the rest (the task included) as soon as it sees the call. */
  amz_range_fn fn = t->fn;
  void *arg = t->arg;
  amz__watch_enter(slot, b, e);
  int rc = fn(b, e, arg);
  amz__watch_leave(slot);
  return rc;
}

double amz__threads_cpu(const pthread_t *threads, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    clockid_t id;
    struct timespec ts;
    if (pthread_getcpuclockid(threads[i], &id) == 0 && clock_gettime(id, &ts) == 0)
      s += (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
  }
  return s;
}

double amz__pool_helpers_cpu(const amz__pool_t *p) {
  return amz__threads_cpu(p->threads, p->n_helpers);
}

static void *helper_main(void *arg) {
  helper_arg_t a = *(helper_arg_t *)arg;
  free(arg);
  amz__pool_t *p = a.pool;
  uint64_t seen = a.generation;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->generation == seen && !p->shutdown) pthread_cond_wait(&p->cv_start, &p->mu);
    if (p->shutdown) break;
    seen = p->generation;
    int w = a.id - p->job_base;
    if (w >= p->job_workers) continue; /* not part of this job */
    amz__job_fn job = p->job;
    void *ctx = p->ctx;
    amz__watch_slot_t *slot = p->job_base ? &p->slots[a.id] : NULL;
    pthread_mutex_unlock(&p->mu);
    if (slot) {
      atomic_store(&slot->tid, (long)syscall(SYS_gettid));
      atomic_store(&slot->state, AMZ__SLOT_LIB);
      tls_slot = slot;
    }
    job(ctx, w);
    if (slot) {
      tls_slot = NULL;
      atomic_store(&slot->state, AMZ__SLOT_OUT);
    }
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0) pthread_cond_signal(&p->cv_done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* cv_done waits on the monotonic clock: the watcher's waits are timed. */
static void pool_sync_init(amz__pool_t *p) {
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv_start, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->cv_done, &ca);
  pthread_condattr_destroy(&ca);
}

int amz__pool_init(amz__pool_t *p, int n_helpers) {
  *p = (amz__pool_t){0};
  pool_sync_init(p);
  p->pid = getpid();
  return amz__pool_grow(p, n_helpers);
}

int amz__pool_check(const amz__pool_t *p, const char *what) {
  if (!p->lost[0]) return 0;
  return amz__fail(AMZ_ETIMEOUT, "%s: an earlier run gave up on a kernel call that has not "
                                 "returned (%s); the plan cannot run again: destroy it",
                   what, p->lost);
}

/* In a child of fork(): the helpers stayed in the parent, and the lock may have
 * been copied held. Forget them (their handles belong to the parent) and start
 * with a fresh lock and no helpers. */
static void adopt_after_fork(amz__pool_t *p) {
  pid_t me = getpid();
  if (p->pid == me) return;
  free(p->threads);
  free(p->slots); /* copies: a stuck thread of the parent reads the parent's */
  free((void *)p->abandoned);
  *p = (amz__pool_t){0};
  pool_sync_init(p);
  p->pid = me;
}

int amz__pool_grow(amz__pool_t *p, int n_helpers) {
  adopt_after_fork(p);
  int rc = amz__pool_check(p, "thread pool");
  if (rc != 0) return rc;
  if (n_helpers <= p->n_helpers) return 0;
  pthread_t *t = realloc(p->threads, (size_t)n_helpers * sizeof *t);
  if (!t) return amz__fail(AMZ_ENOMEM, "cannot grow the thread pool to %d threads", n_helpers);
  p->threads = t;
  /* Slots for watched jobs, index = helper id (0 unused). No job runs now, so
   * moving them is safe. */
  if (!p->abandoned && !(p->abandoned = calloc(1, sizeof *p->abandoned)))
    return amz__fail(AMZ_ENOMEM, "cannot grow the thread pool");
  amz__watch_slot_t *sl = realloc(p->slots, ((size_t)n_helpers + 1) * sizeof *sl);
  if (!sl) return amz__fail(AMZ_ENOMEM, "cannot grow the thread pool to %d threads", n_helpers);
  p->slots = sl;
  for (int i = 0; i <= n_helpers; i++) {
    sl[i] = (amz__watch_slot_t){0};
    sl[i].abandoned = p->abandoned;
  }
  while (p->n_helpers < n_helpers) {
    helper_arg_t *a = malloc(sizeof *a);
    if (!a) return amz__fail(AMZ_ENOMEM, "cannot grow the thread pool");
    /* Helper ids start at 1: worker 0 is the caller. Lock so the new helper reads a
     * generation consistent with jobs started later. */
    pthread_mutex_lock(&p->mu);
    a->pool = p;
    a->id = p->n_helpers + 1;
    a->generation = p->generation;
    int rc = pthread_create(&p->threads[p->n_helpers], NULL, helper_main, a);
    if (rc == 0) p->n_helpers++;
    pthread_mutex_unlock(&p->mu);
    if (rc != 0) {
      free(a);
      return amz__fail(AMZ_ESYS, "pthread_create failed for helper %d of %d (errno %d)",
                       p->n_helpers + 1, n_helpers, rc);
    }
  }
  return 0;
}

void amz__pool_run(amz__pool_t *p, int workers, amz__job_fn job, void *ctx) {
  adopt_after_fork(p); /* then at most the caller runs, until the pool grows again */
  if (workers > p->n_helpers + 1) workers = p->n_helpers + 1;
  if (workers <= 1) {
    job(ctx, 0);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->job = job;
  p->ctx = ctx;
  p->job_workers = workers;
  p->job_base = 0;
  p->pending = workers - 1;
  p->generation++;
  pthread_cond_broadcast(&p->cv_start);
  pthread_mutex_unlock(&p->mu);
  job(ctx, 0);
  pthread_mutex_lock(&p->mu);
  while (p->pending > 0) pthread_cond_wait(&p->cv_done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

/* A call's predicted time: its items' cost in the sampled profile (their place
 * in the range counts), slowed by the measured contention; 0 while unknown. */
static double watch_predicted(const amz__watch_t *w, uint64_t b, uint64_t e) {
  if (!w->wl) return 0.0;
  double c = amz__workload_range_cost(w->wl, b, e);
  if (!(c > 0)) c = (double)(e - b) * w->wl->mean_s;
  if (w->wl->contention > 1.0) c *= w->wl->contention;
  return c;
}

/* The limit of a call of items [b, e). */
static double watch_limit(const amz__watch_t *w, uint64_t b, uint64_t e) {
  double lim = w->seconds;
  if (w->factor > 0) {
    double f = w->factor * watch_predicted(w, b, e);
    if (f > lim) lim = f;
  }
  return lim;
}

/* Worker w's call, when it is past its limit: the diagnosis into why. */
static int slot_stuck(const amz__watch_t *wt, amz__watch_slot_t *s, int w, double now, char *why,
                      size_t len) {
  if (atomic_load(&s->state) != AMZ__SLOT_KERNEL) return 0;
  double t0;
  uint64_t b, e;
  if (!slot_read(s, &t0, &b, &e) || atomic_load(&s->state) != AMZ__SLOT_KERNEL) return 0;
  double lim = watch_limit(wt, b, e), el = now - t0;
  if (!(el > lim)) return 0;
  char where[320] = "", host[128] = "";
  if (wt->rank >= 0) {
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "?");
    snprintf(where, sizeof where, "rank %d (host %s, pid %ld), ", wt->rank, host,
             (long)getpid());
  } else {
    snprintf(where, sizeof where, "pid %ld, ", (long)getpid());
  }
  char basis[160];
  if (wt->factor > 0 && wt->wl && lim > wt->seconds)
    snprintf(basis, sizeof basis, "%gx its predicted %.3g s", wt->factor,
             watch_predicted(wt, b, e));
  else
    snprintf(basis, sizeof basis, "%s", wt->factor > 0 && wt->wl
                                            ? "the seconds bound, above the factor's"
                                            : "the seconds bound");
  snprintf(why, len,
           "timeout: task '%s': %sworker %d (thread %ld) has been in one kernel call on items "
           "[%llu, %llu) for %.3g s; the limit is %.3g s (%s)",
           wt->task ? wt->task : "?", where, w, atomic_load(&s->tid), (unsigned long long)b,
           (unsigned long long)e, el, lim, basis);
  return 1;
}

/* Slots that threads stuck in abandoned calls may still read: kept, and reachable
 * from here so that leak checkers do not take them for leaks. */
typedef struct kept {
  void *slots, *flag;
  struct kept *next;
} kept_t;
static kept_t *kept_head;
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;

static void keep_for_stuck(void *slots, void *flag) {
  kept_t *k = malloc(sizeof *k);
  if (!k) return; /* then they are merely unreachable: still never freed */
  *k = (kept_t){slots, flag, NULL};
  pthread_mutex_lock(&kept_mu);
  k->next = kept_head;
  kept_head = k;
  pthread_mutex_unlock(&kept_mu);
}

int amz__pool_run_watched(amz__pool_t *p, int workers, amz__job_fn job, void *ctx,
                          const amz__watch_t *wt) {
  if (!wt) {
    amz__pool_run(p, workers, job, ctx);
    return 0;
  }
  adopt_after_fork(p);
  if (workers < 1) workers = 1;
  int rc = amz__pool_grow(p, workers);
  if (rc != 0) return rc;
  for (int i = 1; i <= workers; i++) atomic_store(&p->slots[i].state, AMZ__SLOT_WAITING);
  pthread_mutex_lock(&p->mu);
  p->job = job;
  p->ctx = ctx;
  p->job_workers = workers;
  p->job_base = 1;
  p->pending = workers;
  p->generation++;
  pthread_cond_broadcast(&p->cv_start);
  /* Look often enough that a stuck call is seen within an eighth of the bound. */
  double period = wt->seconds / 8;
  if (period < 0.002) period = 0.002;
  if (period > 0.25) period = 0.25;
  char why[sizeof p->lost] = "";
  while (p->pending > 0) {
    double until = mono_now() + period;
    struct timespec ts = {(time_t)until, (long)((until - floor(until)) * 1e9)};
    pthread_cond_timedwait(&p->cv_done, &p->mu, &ts);
    if (p->pending == 0) break;
    double now = mono_now();
    int stuck = 0;
    for (int i = 1; i <= workers && !stuck; i++)
      stuck = slot_stuck(wt, &p->slots[i], i - 1, now, why, sizeof why);
    if (stuck) break;
  }
  /* job_base stays 1: after a timeout, helpers not yet started still read it. */
  pthread_mutex_unlock(&p->mu);
  if (!why[0]) return 0;
  fprintf(stderr, "\namorsize: %s\n", why);
  fflush(stderr);
  if (wt->abort_job) {
    if (wt->abort_fn) wt->abort_fn(wt->abort_ctx, why);
    abort();
  }
  /* Give up: every worker leaves at its next kernel call. Wait until none is in
   * the library's code of this run (starting the job or between calls), and until
   * the calls in flight have returned (their threads then end) or passed their own
   * limit: only calls past their limit are left running. */
  atomic_store(p->abandoned, 1);
  int left = 0;
  for (;;) {
    int busy = 0;
    double now = mono_now();
    left = 0;
    for (int i = 1; i <= workers; i++) {
      amz__watch_slot_t *s = &p->slots[i];
      int st = atomic_load(&s->state);
      if (st == AMZ__SLOT_WAITING || st == AMZ__SLOT_LIB) {
        busy++;
      } else if (st == AMZ__SLOT_KERNEL) {
        double t0;
        uint64_t b, e;
        if (!slot_read(s, &t0, &b, &e)) busy++;
        else if (now - t0 <= watch_limit(wt, b, e)) busy++;
        else left++;
      }
    }
    if (!busy) break;
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  if (left > 1) {
    size_t len = strlen(why);
    snprintf(why + len, sizeof why - len, "; %d calls in all are past their limit and left "
                                          "running", left);
  }
  snprintf(p->lost, sizeof p->lost, "%s", why);
  return amz__fail(AMZ_ETIMEOUT, "%s", why);
}

void amz__pool_destroy(amz__pool_t *p) {
  adopt_after_fork(p); /* in a child: no helpers to join (the parent's are not ours) */
  pthread_mutex_lock(&p->mu);
  p->shutdown = 1;
  pthread_cond_broadcast(&p->cv_start);
  pthread_mutex_unlock(&p->mu);
  int left = 0;
  for (int i = 0; i < p->n_helpers; i++) {
    /* A thread still in a call its run gave up on ends when the call returns,
     * reading only its slot: let it go, and keep the slots. */
    if (p->lost[0] && atomic_load(&p->slots[i + 1].state) == AMZ__SLOT_KERNEL) {
      pthread_detach(p->threads[i]);
      left++;
    } else {
      pthread_join(p->threads[i], NULL);
    }
  }
  free(p->threads);
  if (left) {
    keep_for_stuck(p->slots, (void *)p->abandoned);
  } else {
    free(p->slots);
    free((void *)p->abandoned);
  }
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv_start);
  pthread_cond_destroy(&p->cv_done);
  *p = (amz__pool_t){0};
}
