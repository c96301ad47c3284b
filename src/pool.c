/*
 * A persistent fork-join thread pool. The calling thread is worker 0, so a run on
 * one worker starts no thread and a run on P workers wakes P - 1 helpers. Helpers
 * sleep on a condition variable between jobs; the pool lives as long as its plan,
 * so iterative codes that run the same plan every time step pay thread creation once.
 *
 * fork() copies the pool but not its threads: a child that ran the plan would wait
 * forever for helpers that do not exist. The pool remembers its process; in another
 * one it starts afresh (new lock, no helpers) and grows new threads when needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

typedef struct helper_arg {
  amz__pool_t *pool;
  int id;
  uint64_t generation; /* the last job started before this helper existed */
} helper_arg_t;

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
    if (a.id >= p->job_workers) continue; /* not part of this job */
    amz__job_fn job = p->job;
    void *ctx = p->ctx;
    pthread_mutex_unlock(&p->mu);
    job(ctx, a.id);
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0) pthread_cond_signal(&p->cv_done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int amz__pool_init(amz__pool_t *p, int n_helpers) {
  *p = (amz__pool_t){0};
  if (pthread_mutex_init(&p->mu, NULL) != 0) return AMZ_ESYS;
  pthread_cond_init(&p->cv_start, NULL);
  pthread_cond_init(&p->cv_done, NULL);
  p->pid = getpid();
  return amz__pool_grow(p, n_helpers);
}

/* In a child of fork(): the helpers stayed in the parent, and the lock may have
 * been copied held. Forget them (their handles belong to the parent) and start
 * with a fresh lock and no helpers. */
static void adopt_after_fork(amz__pool_t *p) {
  pid_t me = getpid();
  if (p->pid == me) return;
  free(p->threads);
  *p = (amz__pool_t){0};
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv_start, NULL);
  pthread_cond_init(&p->cv_done, NULL);
  p->pid = me;
}

int amz__pool_grow(amz__pool_t *p, int n_helpers) {
  adopt_after_fork(p);
  if (n_helpers <= p->n_helpers) return 0;
  pthread_t *t = realloc(p->threads, (size_t)n_helpers * sizeof *t);
  if (!t) return amz__fail(AMZ_ENOMEM, "cannot grow the thread pool to %d threads", n_helpers);
  p->threads = t;
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
  p->pending = workers - 1;
  p->generation++;
  pthread_cond_broadcast(&p->cv_start);
  pthread_mutex_unlock(&p->mu);
  job(ctx, 0);
  pthread_mutex_lock(&p->mu);
  while (p->pending > 0) pthread_cond_wait(&p->cv_done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

void amz__pool_destroy(amz__pool_t *p) {
  adopt_after_fork(p); /* in a child: no helpers to join (the parent's are not ours) */
  pthread_mutex_lock(&p->mu);
  p->shutdown = 1;
  pthread_cond_broadcast(&p->cv_start);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->n_helpers; i++) pthread_join(p->threads[i], NULL);
  free(p->threads);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv_start);
  pthread_cond_destroy(&p->cv_done);
  *p = (amz__pool_t){0};
}
