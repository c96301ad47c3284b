/* Shared helpers for the CUnit suites: running a registry, fake clocks, synthetic
 * machines and workloads. */
#ifndef AMZ_TEST_UTIL_H
#define AMZ_TEST_UTIL_H

#include <CUnit/Basic.h>

#include "internal.h"

/* Runs all registered suites; returns the process exit code (0 = all passed). */
int amz_test_run(void);

/* A synthetic machine: `cores` usable cores and round measured costs. */
amz__machine_t amz_test_machine(int cores);

/* A synthetic uniform workload of n items of `cost` seconds, sd `sigma`. */
amz__workload_t amz_test_uniform_workload(uint64_t n, double cost, double sigma);

/* A fake clock advanced by hand or by kernels; thread-safe. */
typedef struct amz_fake_clock {
  _Atomic double t;
} amz_fake_clock_t;
double amz_fake_now(void *ctx);
void amz_fake_advance(amz_fake_clock_t *c, double dt);

#endif
