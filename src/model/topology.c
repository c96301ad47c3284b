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

/* What cannot change while the process lives: the machine, its name and CPU. */
static amz__topology_t g_static;
static void cpu_model(char *out, size_t len);

static void load_topology(void) {
  if (hwloc_topology_init(&g_topo) != 0) return;
  if (hwloc_topology_load(g_topo) != 0) {
    hwloc_topology_destroy(g_topo);
    return;
  }
  amz__topology_t *t = &g_static;
  t->pus_total = hwloc_get_nbobjs_by_type(g_topo, HWLOC_OBJ_PU);
  t->cores_total = hwloc_get_nbobjs_by_type(g_topo, HWLOC_OBJ_CORE);
  if (t->cores_total <= 0) t->cores_total = t->pus_total;
  t->numa_nodes = hwloc_get_nbobjs_by_type(g_topo, HWLOC_OBJ_NUMANODE);
  if (t->numa_nodes <= 0) t->numa_nodes = 1;
  /* hwloc counts only the memory of the NUMA nodes it could read (in containers
   * often less than the machine has); the kernel's page count is the floor. */
  t->mem_total = hwloc_get_root_obj(g_topo)->total_memory;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && (uint64_t)pages * (uint64_t)page > t->mem_total)
    t->mem_total = (uint64_t)pages * (uint64_t)page;
  for (int depth = 0; depth < hwloc_topology_get_depth(g_topo); depth++) {
    hwloc_obj_t o = hwloc_get_obj_by_depth(g_topo, depth, 0);
    if (o && hwloc_obj_type_is_cache(o->type) && o->attr->cache.depth >= 2 &&
        o->attr->cache.size > t->l3_bytes)
      t->l3_bytes = o->attr->cache.size;
  }
  if (gethostname(t->host, sizeof t->host) != 0) snprintf(t->host, sizeof t->host, "?");
  t->host[sizeof t->host - 1] = '\0';
  cpu_model(t->cpu_model, sizeof t->cpu_model);
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

/* /proc/self/cgroup, read once per probe: "id:controllers:path" lines. */
typedef struct cgroup_map {
  char text[2048];
} cgroup_map_t;

static void cgroup_map_load(cgroup_map_t *m) {
  m->text[0] = '\0';
  FILE *f = fopen("/proc/self/cgroup", "r");
  if (!f) return;
  size_t n = fread(m->text, 1, sizeof m->text - 1, f);
  m->text[n] = '\0';
  fclose(f);
}

/* The cgroup path of a controller ("cpu", "memory"); "" selects the v2 unified
 * hierarchy (the line with an empty controller list). */
static int cgroup_path(const cgroup_map_t *m, const char *ctrl, char *out, size_t len) {
  const char *line = m->text;
  while (*line) {
    const char *eol = strchr(line, '\n');
    size_t ll = eol ? (size_t)(eol - line) : strlen(line);
    const char *c1 = memchr(line, ':', ll);
    const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;
    if (c2) {
      const char *ctrls = c1 + 1;
      size_t cl = (size_t)(c2 - ctrls), want = strlen(ctrl);
      int match = 0;
      if (want == 0) {
        match = cl == 0;
      } else {
        /* Comma-separated list, e.g. "cpu,cpuacct". */
        for (const char *tok = ctrls; tok < c2;) {
          const char *comma = memchr(tok, ',', (size_t)(c2 - tok));
          size_t tl = comma ? (size_t)(comma - tok) : (size_t)(c2 - tok);
          if (tl == want && memcmp(tok, ctrl, want) == 0) match = 1;
          tok += tl + 1;
        }
      }
      if (match) {
        size_t pl = ll - (size_t)(c2 + 1 - line);
        snprintf(out, len, "%.*s", (int)pl, c2 + 1);
        return 0;
      }
    }
    if (!eol) break;
    line = eol + 1;
  }
  return -1;
}

/* Reads a cgroup file, trying the process's own group first, then the mount root
 * (containers often mount their own group as the root). */
static int cgroup_read(const cgroup_map_t *m, const char *mount, const char *ctrl,
                       const char *file, char *buf, size_t len) {
  char rel[256] = "", path[768];
  if (cgroup_path(m, ctrl, rel, sizeof rel) == 0 && rel[0] && strcmp(rel, "/") != 0) {
    snprintf(path, sizeof path, "%s%s/%s", mount, rel, file);
    if (read_line(path, buf, len) == 0) return 0;
  }
  snprintf(path, sizeof path, "%s/%s", mount, file);
  return read_line(path, buf, len);
}

static void probe_cgroup(amz__topology_t *t) {
  char buf[128];
  cgroup_map_t m;
  cgroup_map_load(&m);
  t->cpu_quota = 0.0;
  t->mem_limit = 0;
  /* cgroup v2 when the unified hierarchy holds the controllers, else v1. */
  int v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  const char *v2root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
  /* v2: cpu.max = "<quota> <period>" or "max <period>". */
  if (cgroup_read(&m, v2root, "", "cpu.max", buf, sizeof buf) == 0) {
    long long q, per;
    if (sscanf(buf, "%lld %lld", &q, &per) == 2 && q > 0 && per > 0)
      t->cpu_quota = (double)q / (double)per;
  } else {
    char q[64], per[64];
    if (cgroup_read(&m, "/sys/fs/cgroup/cpu", "cpu", "cpu.cfs_quota_us", q, sizeof q) == 0 &&
        cgroup_read(&m, "/sys/fs/cgroup/cpu", "cpu", "cpu.cfs_period_us", per, sizeof per) == 0) {
      long long qq = atoll(q), pp = atoll(per);
      if (qq > 0 && pp > 0) t->cpu_quota = (double)qq / (double)pp;
    }
  }
  if (cgroup_read(&m, v2root, "", "memory.max", buf, sizeof buf) == 0) {
    if (strcmp(buf, "max") != 0) t->mem_limit = strtoull(buf, NULL, 10);
  } else if (cgroup_read(&m, "/sys/fs/cgroup/memory", "memory", "memory.limit_in_bytes", buf,
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
  pthread_once(&g_once, load_topology);
  if (g_topo_rc != 0) return amz__fail(AMZ_ETOPO, "hwloc could not load the topology");
  *t = g_static;
  hwloc_topology_t topo = g_topo;

  /* The binding this thread really has (taskset, mpirun --bind-to, Slurm): the
   * pool threads inherit it from the thread that creates them. Asking for the whole
   * process would read every thread of it from /proc. */
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  if (!set) return amz__fail(AMZ_ENOMEM, "hwloc bitmap allocation failed");
  if (hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_THREAD) != 0)
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
  memset(t->cpumask, 0, sizeof t->cpumask);
  for (int i = hwloc_bitmap_first(set); i >= 0 && i < AMZ__CPUMASK_BITS;
       i = hwloc_bitmap_next(set, i))
    t->cpumask[i / 64] |= (uint64_t)1 << (i % 64);
  hwloc_bitmap_free(set);

  /* Binding and cgroup limits are read on every probe: they can change at run time
   * (taskset -p, a batch system resizing the job). */
  probe_cgroup(t);
  amz__topology_finish(t);
  return 0;
}

uint64_t amz__topology_fingerprint(const amz__topology_t *t) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "%s|%s|%s|%d|%d|%s|%.3f", AMZ_VERSION_STRING, t->host,
                   t->cpu_model, t->pus_total, t->cores_total, t->binding, t->cpu_quota);
  return amz__fnv1a(AMZ__FNV_BASIS, buf, (size_t)(n > 0 ? n : 0));
}
