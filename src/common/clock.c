/* Clocks: the real monotonic clock and the thread CPU clock. The executor and the
 * sampler take an amz__clock_t so that tests can substitute fake time. */
#include <time.h>

#include "internal.h"

double amz__monotonic_now(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double amz__thread_cpu_now(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double amz__process_cpu_now(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

_Thread_local double amz__tls_excluded_s = 0.0;
_Thread_local double amz__tls_excluded_cpu_s = 0.0;

const amz__clock_t amz__real_clock = {amz__monotonic_now, NULL, amz__thread_cpu_now,
                                      amz__process_cpu_now};
