/*
 * What this process is really granted: hwloc topology (cores, PUs, NUMA nodes,
 * caches), the CPU binding it actually has, and the cgroup CPU quota and memory
 * limit (v1 and v2). The hwloc topology is loaded once per process.
 */
#include <hwloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static hwloc_topology_t g_topo;
static int g_topo_rc = -1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void load_topology(void) {
  if (hwloc_topology_init(&g_topo) != 0) return;
  if (hwloc_topology_load(g_topo) != 0) {
    hwloc_topology_destroy(g_topo);
    return;
  }
  g_topo_rc = 0;
}

static int read_line(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int ok = fgets(buf, (int)len, f) != NULL;
  fclose(f);
  if (!ok) return -1;
  buf[strcspn(buf, "\n")] = '\0';
  return 0;
}

/* Finds the cgroup path of a controller ("cpu", "memory") from /proc/self/cgroup;
 * "" selects the v2 unified hierarchy. */
static int cgroup_path(const char *ctrl, char *out, size_t len) {
  FILE *f = fopen("/proc/self/cgroup", "r");
  if (!f) return -1;
  char line[512];
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':');
    if (!c1) continue;
    char *c2 = strchr(c1 + 1, ':');
    if (!c2) continue;
    *c2 = '\0';
    const char *ctrls = c1 + 1;
    int match = 0;
    if (ctrl[0] == '\0') {
      match = ctrls[0] == '\0';
    } else {
      char tmp[256];
      snprintf(tmp, sizeof tmp, "%s", ctrls);
      for (char *save = NULL, *tok = strtok_r(tmp, ",", &save); tok;
           tok = strtok_r(NULL, ",", &save))
        if (strcmp(tok, ctrl) == 0) match = 1;
    }
    if (match) {
      snprintf(out, len, "%s", c2 + 1);
      found = 0;
      break;
    }
  }
  fclose(f);
  return found;
}

/* Reads a cgroup file, trying the process's own group first, then the mount root
 * (containers often mount their own group as the root). */
static int cgroup_read(const char *mount, const char *ctrl, const char *file, char *buf,
                       size_t len) {
  char rel[256] = "", path[768];
  if (cgroup_path(ctrl, rel, sizeof rel) == 0) {
    snprintf(path, sizeof path, "%s%s/%s", mount, rel, file);
    if (read_line(path, buf, len) == 0) return 0;
  }
  snprintf(path, sizeof path, "%s/%s", mount, file);
  return read_line(path, buf, len);
}

static void probe_cgroup(amz__topology_t *t) {
  char buf[128];
  t->cpu_quota = 0.0;
  t->mem_limit = 0;
  /* cgroup v2: cpu.max = "<quota> <period>" or "max <period>". */
  if (cgroup_read("/sys/fs/cgroup", "", "cpu.max", buf, sizeof buf) == 0 ||
      cgroup_read("/sys/fs/cgroup/unified", "", "cpu.max", buf, sizeof buf) == 0) {
    long long q, per;
    if (sscanf(buf, "%lld %lld", &q, &per) == 2 && q > 0 && per > 0)
      t->cpu_quota = (double)q / (double)per;
  } else {
    char q[64], per[64];
    if (cgroup_read("/sys/fs/cgroup/cpu", "cpu", "cpu.cfs_quota_us", q, sizeof q) == 0 &&
        cgroup_read("/sys/fs/cgroup/cpu", "cpu", "cpu.cfs_period_us", per, sizeof per) == 0) {
      long long qq = atoll(q), pp = atoll(per);
      if (qq > 0 && pp > 0) t->cpu_quota = (double)qq / (double)pp;
    }
  }
  if (cgroup_read("/sys/fs/cgroup", "", "memory.max", buf, sizeof buf) == 0 ||
      cgroup_read("/sys/fs/cgroup/unified", "", "memory.max", buf, sizeof buf) == 0) {
    if (strcmp(buf, "max") != 0) t->mem_limit = strtoull(buf, NULL, 10);
  } else if (cgroup_read("/sys/fs/cgroup/memory", "memory", "memory.limit_in_bytes", buf,
                         sizeof buf) == 0) {
    unsigned long long v = strtoull(buf, NULL, 10);
    /* v1 reports "no limit" as a huge page-aligned number. */
    if (v > 0 && v < (1ULL << 60)) t->mem_limit = v;
  }
  if (t->mem_limit >= t->mem_total && t->mem_total > 0) t->mem_limit = 0;
}

static void cpu_model(char *out, size_t len) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  snprintf(out, len, "unknown");
  if (!f) return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) {
        c++;
        while (*c == ' ') c++;
        c[strcspn(c, "\n")] = '\0';
        snprintf(out, len, "%s", c);
      }
      break;
    }
  }
  fclose(f);
}

void amz__topology_finish(amz__topology_t *t) {
  int usable = t->cores_bound > 0 ? t->cores_bound : 1;
  if (t->cpu_quota > 0.0) {
    int q = (int)ceil(t->cpu_quota - 1e-9);
    if (q < 1) q = 1;
    if (q < usable) usable = q;
  }
  t->usable_cores = usable;
}

int amz__topology_probe(amz__topology_t *t) {
  memset(t, 0, sizeof *t);
  pthread_once(&g_once, load_topology);
  if (g_topo_rc != 0) return amz__fail(AMZ_ETOPO, "hwloc could not load the topology");
  hwloc_topology_t topo = g_topo;
  t->pus_total = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  t->cores_total = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  if (t->cores_total <= 0) t->cores_total = t->pus_total;
  t->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  if (t->numa_nodes <= 0) t->numa_nodes = 1;
  hwloc_obj_t root = hwloc_get_root_obj(topo);
  t->mem_total = root->total_memory;
  for (int depth = 0; depth < hwloc_topology_get_depth(topo); depth++) {
    hwloc_obj_t o = hwloc_get_obj_by_depth(topo, depth, 0);
    if (o && hwloc_obj_type_is_cache(o->type) && o->attr->cache.depth >= 2 &&
        o->attr->cache.size > t->l3_bytes)
      t->l3_bytes = o->attr->cache.size;
  }

  /* The binding this process really has (taskset, mpirun --bind-to, Slurm). */
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  if (!set) return amz__fail(AMZ_ENOMEM, "hwloc bitmap allocation failed");
  if (hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) != 0)
    hwloc_bitmap_copy(set, hwloc_topology_get_allowed_cpuset(topo));
  hwloc_bitmap_and(set, set, hwloc_topology_get_allowed_cpuset(topo));
  t->pus_bound = hwloc_bitmap_weight(set);
  if (t->pus_bound <= 0) t->pus_bound = 1;
  t->cores_bound = 0;
  hwloc_obj_t core = NULL;
  while ((core = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, core)) != NULL)
    if (hwloc_bitmap_intersects(core->cpuset, set)) t->cores_bound++;
  if (t->cores_bound == 0) t->cores_bound = t->pus_bound;
  hwloc_bitmap_list_snprintf(t->binding, sizeof t->binding, set);
  hwloc_bitmap_free(set);

  probe_cgroup(t);
  if (gethostname(t->host, sizeof t->host) != 0) snprintf(t->host, sizeof t->host, "?");
  t->host[sizeof t->host - 1] = '\0';
  cpu_model(t->cpu_model, sizeof t->cpu_model);
  amz__topology_finish(t);
  return 0;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t amz__topology_fingerprint(const amz__topology_t *t) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "%s|%s|%s|%d|%d|%s|%.3f", AMZ_VERSION_STRING, t->host,
                   t->cpu_model, t->pus_total, t->cores_total, t->binding, t->cpu_quota);
  return fnv1a(14695981039346656037ULL, buf, (size_t)(n > 0 ? n : 0));
}
