/*
 * The machine's description (topology.c): read from hwloc once per process, or
 * from the cache directory where an earlier process wrote it. Both sources must
 * give the same machine and the same binding, a damaged or foreign cache must be
 * read afresh, and HWLOC_* variables must keep the cache out of the way. The
 * description loads once per process, so each probe runs in a child process and
 * sends its result back through a pipe.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

typedef struct probe_out {
  int rc, source;
  amz__topology_t t;
} probe_out_t;

/* Probes in a child: with the cache directory dir (NULL: none), bound to one CPU
 * when cpu >= 0, with HWLOC_HIDE_ERRORS set when hwloc_env. */
static probe_out_t probe_child(const char *dir, int cpu, int hwloc_env) {
  probe_out_t out;
  memset(&out, 0, sizeof out);
  out.rc = -99;
  int fd[2];
  if (pipe(fd) != 0) return out;
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    probe_out_t o;
    memset(&o, 0, sizeof o);
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) _exit(2);
    }
    if (hwloc_env) setenv("HWLOC_HIDE_ERRORS", "1", 1);
    o.rc = amz__topology_probe_in(&o.t, dir);
    o.source = amz__topology_source();
    ssize_t w = write(fd[1], &o, sizeof o);
    _exit(w == (ssize_t)sizeof o ? 0 : 3);
  }
  close(fd[1]);
  ssize_t r = pid > 0 ? read(fd[0], &out, sizeof out) : -1;
  close(fd[0]);
  int st = 0;
  if (pid > 0) waitpid(pid, &st, 0);
  if (r != (ssize_t)sizeof out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) out.rc = -98;
  return out;
}

/* Every field, one by one (the struct's padding is not compared). */
static void check_same(const amz__topology_t *a, const amz__topology_t *b) {
  CU_ASSERT_EQUAL(a->pus_total, b->pus_total);
  CU_ASSERT_EQUAL(a->cores_total, b->cores_total);
  CU_ASSERT_EQUAL(a->numa_nodes, b->numa_nodes);
  CU_ASSERT_EQUAL(a->pus_bound, b->pus_bound);
  CU_ASSERT_EQUAL(a->cores_bound, b->cores_bound);
  CU_ASSERT_DOUBLE_EQUAL(a->cpu_quota, b->cpu_quota, 0.0);
  CU_ASSERT_EQUAL(a->mem_total, b->mem_total);
  CU_ASSERT_EQUAL(a->mem_limit, b->mem_limit);
  CU_ASSERT_EQUAL(a->l3_bytes, b->l3_bytes);
  CU_ASSERT_EQUAL(a->usable_cores, b->usable_cores);
  CU_ASSERT_STRING_EQUAL(a->host, b->host);
  CU_ASSERT_STRING_EQUAL(a->cpu_model, b->cpu_model);
  CU_ASSERT_STRING_EQUAL(a->binding, b->binding);
  CU_ASSERT_EQUAL(memcmp(a->cpumask, b->cpumask, sizeof a->cpumask), 0);
  CU_ASSERT_EQUAL(amz__topology_fingerprint(a), amz__topology_fingerprint(b));
}

static char g_dir[256];

/* The topology-*.txt files in g_dir: how many, and the path of the last one. */
static int cache_files(char *path, size_t len) {
  DIR *d = opendir(g_dir);
  int n = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, "topology-", 9) == 0 && strstr(e->d_name, ".tmp") == NULL) {
      n++;
      if (path) snprintf(path, len, "%s/%s", g_dir, e->d_name);
    }
  closedir(d);
  return n;
}

static void empty_dir(void) {
  char path[512];
  while (cache_files(path, sizeof path) > 0) unlink(path);
}

static void test_cache_gives_what_hwloc_gives(void) {
  empty_dir();
  probe_out_t a = probe_child(NULL, -1, 0);
  CU_ASSERT_EQUAL_FATAL(a.rc, 0);
  CU_ASSERT_EQUAL(a.source, 1);
  CU_ASSERT_EQUAL(cache_files(NULL, 0), 0); /* no directory: nothing written */
  probe_out_t b = probe_child(g_dir, -1, 0);
  CU_ASSERT_EQUAL_FATAL(b.rc, 0);
  CU_ASSERT_EQUAL(b.source, 1); /* the first one loads hwloc, and writes */
  CU_ASSERT_EQUAL(cache_files(NULL, 0), 1);
  probe_out_t c = probe_child(g_dir, -1, 0);
  CU_ASSERT_EQUAL_FATAL(c.rc, 0);
  CU_ASSERT_EQUAL(c.source, 2);
  check_same(&a.t, &b.t);
  check_same(&a.t, &c.t);
  CU_ASSERT(c.t.pus_total >= 1 && c.t.cores_total >= 1 && c.t.pus_bound >= 1);
  CU_ASSERT(c.t.cores_bound >= 1 && c.t.cores_bound <= c.t.pus_bound);
  CU_ASSERT(c.t.binding[0] != '\0');
}

static void test_one_cpu_binding_from_both(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t mine;
  if (cpus < 2 || sched_getaffinity(0, sizeof mine, &mine) != 0) return;
  int last = -1;
  for (int i = 0; i < CPU_SETSIZE; i++)
    if (CPU_ISSET(i, &mine)) last = i;
  if (last < 1) return; /* bound to CPU 0 alone: nothing to narrow */
  empty_dir();
  probe_out_t a = probe_child(g_dir, last, 0); /* hwloc, writes */
  probe_out_t b = probe_child(g_dir, last, 0); /* the cache */
  CU_ASSERT_EQUAL_FATAL(a.rc, 0);
  CU_ASSERT_EQUAL_FATAL(b.rc, 0);
  CU_ASSERT_EQUAL(a.source, 1);
  CU_ASSERT_EQUAL(b.source, 2);
  check_same(&a.t, &b.t);
  char want[16];
  snprintf(want, sizeof want, "%d", last);
  CU_ASSERT_STRING_EQUAL(b.t.binding, want);
  CU_ASSERT_EQUAL(b.t.pus_bound, 1);
  CU_ASSERT_EQUAL(b.t.cores_bound, 1);
  CU_ASSERT_EQUAL(b.t.usable_cores, 1);
  CU_ASSERT(b.t.cpumask[last / 64] == (uint64_t)1 << (last % 64));
  /* The cache holds the machine, not the binding: an unbound child reads the
   * same file and sees every CPU it may use. */
  probe_out_t c = probe_child(g_dir, -1, 0);
  CU_ASSERT_EQUAL(c.source, 2);
  CU_ASSERT(c.t.pus_bound >= 2);
}

static void test_damaged_cache_is_read_afresh(void) {
  empty_dir();
  probe_out_t a = probe_child(g_dir, -1, 0);
  CU_ASSERT_EQUAL_FATAL(a.rc, 0);
  char path[512];
  CU_ASSERT_EQUAL_FATAL(cache_files(path, sizeof path), 1);
  const char *bad[] = {
      "garbage\n",
      "# amorsize\nhost x\ncpu_model y\npus 2\ncores 2\nnuma_nodes 1\nmem_bytes 1\n",
      "host x\ncpu_model y\npus 2\ncores 2\nnuma_nodes 1\nmem_bytes 1\nl3_bytes 0\n"
      "max_pu 1\ncore 0\ncore 1-x\n",
      "host x\ncpu_model y\npus 2\ncores 2\nnuma_nodes 1\nmem_bytes 1\nl3_bytes 0\n"
      "max_pu 1\ncore 0\ncore 7\n", /* a PU beyond max_pu */
      "host x\ncpu_model y\npus 2\ncores 3\nnuma_nodes 1\nmem_bytes 1\nl3_bytes 0\n"
      "max_pu 1\ncore 0\ncore 1\n", /* fewer core lines than cores */
      "host x\ncpu_model y\npus 2\ncores 3\nnuma_nodes 1\nmem_bytes 1\nl3_bytes 0\n"
      "max_pu 1\ncore 0\ncore 1\ncore 1\n", /* more cores than PUs */
      "host x\ncpu_model y\npus 4\ncores 2\nnuma_nodes 1\nmem_bytes 1\nl3_bytes 0\n"
      "max_pu 1\ncore 0\ncore 1\n", /* PUs beyond the highest index */
      "host x\ncpu_model y\npus 2\ncores 2\nnuma_nodes 99999\nmem_bytes 1\nl3_bytes 0\n"
      "max_pu 1\ncore 0\ncore 1\n", /* absurd NUMA count */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(bad[i], f);
    fclose(f);
    probe_out_t b = probe_child(g_dir, -1, 0);
    CU_ASSERT_EQUAL(b.rc, 0);
    CU_ASSERT_EQUAL(b.source, 1); /* refused, hwloc again, and rewritten */
    check_same(&a.t, &b.t);
    probe_out_t c = probe_child(g_dir, -1, 0);
    CU_ASSERT_EQUAL(c.source, 2);
    check_same(&a.t, &c.t);
  }
}

static void test_hwloc_variables_bypass_the_cache(void) {
  empty_dir();
  probe_out_t a = probe_child(g_dir, -1, 1);
  CU_ASSERT_EQUAL(a.rc, 0);
  CU_ASSERT_EQUAL(a.source, 1);
  CU_ASSERT_EQUAL(cache_files(NULL, 0), 0);
  probe_out_t b = probe_child(g_dir, -1, 0); /* written now */
  CU_ASSERT_EQUAL(b.source, 1);
  probe_out_t c = probe_child(g_dir, -1, 1); /* and still not read */
  CU_ASSERT_EQUAL(c.source, 1);
  check_same(&a.t, &c.t);
}

extern char **environ;

int main(void) {
  /* The suite's own environment has no HWLOC_* variable (they bypass the cache). */
  for (int again = 1; again;) {
    again = 0;
    for (char **e = environ; *e; e++)
      if (strncmp(*e, "HWLOC_", 6) == 0) {
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
        unsetenv(name);
        again = 1;
        break;
      }
  }
  snprintf(g_dir, sizeof g_dir, "/tmp/amz-topology-XXXXXX");
  if (!mkdtemp(g_dir)) {
    perror("mkdtemp");
    return 1;
  }
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("topology", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "the cache gives what hwloc gives", test_cache_gives_what_hwloc_gives);
  CU_add_test(s, "bound to one CPU: the same from both", test_one_cpu_binding_from_both);
  CU_add_test(s, "a damaged cache is read afresh", test_damaged_cache_is_read_afresh);
  CU_add_test(s, "HWLOC_* variables bypass the cache", test_hwloc_variables_bypass_the_cache);
  int rc = amz_test_run();
  empty_dir();
  rmdir(g_dir);
  return rc;
}
