/* Clocks: the real monotonic clock and the thread CPU clock. The executor and the
 * sampler take an amz__clock_t so that tests can substitute fake time. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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

double amz__thread_runq_now(void *ctx) {
  (void)ctx;
  /* "on-CPU ns, run-queue wait ns, timeslices" (Documentation/scheduler/
   * sched-stats.rst); read fresh each time: the sampler asks twice per block. */
  int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0.0;
  char buf[96];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0.0;
  buf[n] = '\0';
  char *end;
  strtoull(buf, &end, 10);
  if (end == buf) return 0.0;
  char *q = end;
  unsigned long long wait_ns = strtoull(q, &end, 10);
  if (end == q) return 0.0;
  return 1e-9 * (double)wait_ns;
}

_Thread_local double amz__tls_excluded_s = 0.0;
_Thread_local double amz__tls_excluded_cpu_s = 0.0;

const amz__clock_t amz__real_clock = {amz__monotonic_now, NULL, amz__thread_cpu_now,
                                      amz__process_cpu_now, amz__thread_runq_now};
