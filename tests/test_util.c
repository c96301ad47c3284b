#include "test_util.h"

#include <string.h>

int amz_test_run(void) {
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  unsigned ran = CU_get_number_of_tests_run();
  CU_cleanup_registry();
  if (ran == 0) return 1; /* a suite that runs nothing is a failure, not a pass */
  return failed ? 1 : 0;
}

amz__machine_t amz_test_machine(int cores) {
  amz__machine_t m;
  memset(&m, 0, sizeof m);
  m.topo.pus_total = m.topo.cores_total = cores;
  m.topo.pus_bound = m.topo.cores_bound = cores;
  m.topo.numa_nodes = 1;
  m.topo.mem_total = 16ULL << 30;
  snprintf(m.topo.host, sizeof m.topo.host, "synthetic");
  snprintf(m.topo.cpu_model, sizeof m.topo.cpu_model, "synthetic %d-core", cores);
  snprintf(m.topo.binding, sizeof m.topo.binding, "0-%d", cores - 1);
  amz__topology_finish(&m.topo);
  m.costs.thread_start_s = 50e-6;
  m.costs.pool_wake_s = 20e-6;
  m.costs.chunk_static_s = 50e-9;
  m.costs.chunk_atomic_s = 60e-9;
  m.costs.chunk_contended_s = 200e-9;
  m.costs.chunk_awf_s = 400e-9;
  m.costs.run_serial_s = 2e-6;
  m.costs.probe_workers = cores;
  return m;
}

amz__workload_t amz_test_uniform_workload(uint64_t n, double cost, double sigma) {
  amz__workload_t wl;
  memset(&wl, 0, sizeof wl);
  wl.n_items = n;
  wl.mean_s = wl.median_s = cost;
  wl.sigma_item_s = sigma;
  wl.cv = cost > 0 ? sigma / cost : 0;
  wl.max_item_s = cost + 3 * sigma;
  wl.cpu_ratio = 1.0;
  wl.contention = wl.contention_raw = 1.0;
  wl.contention_workers = 2;
  wl.bins = 1;
  wl.density[0] = cost;
  wl.cumulative[0] = 0.0;
  wl.cumulative[1] = cost * (double)n;
  return wl;
}

double amz_fake_now(void *ctx) { return ((amz_fake_clock_t *)ctx)->t; }

void amz_fake_advance(amz_fake_clock_t *c, double dt) {
  double old = c->t;
  while (!atomic_compare_exchange_weak(&c->t, &old, old + dt)) {
  }
}
