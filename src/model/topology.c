/*
 * What this process is really granted: the machine (cores, PUs, NUMA nodes,
 * caches, from hwloc once per process or from the cache directory), the CPU
 * binding it actually has, and the cgroup CPU quota and memory limit (v1 and v2).
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ALLOC */
#include <hwloc.h>
#include <math.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* What cannot change while the machine runs: its PUs and cores (each core's PUs,
 * for the binding), NUMA nodes, memory, last-level cache, name and CPU model. Read
 * from hwloc once per process, or from the cache directory, where the first
 * process that loaded hwloc wrote it: loading hwloc (its plugins included) costs
 * 7 ms on a quiet 2-core VM and 14 to 40 ms in an MPI rank, on every process's
 * first plan. */
typedef struct machine_desc {
  amz__topology_t st; /* the static fields only */
  int n_cores;        /* cores listed in core[] (0: hwloc saw no cores) */
  uint64_t (*core)[AMZ__CPUMASK_BITS / 64];
  int max_pu;         /* highest PU OS index */
} machine_desc_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static machine_desc_t g_desc;
static int g_loaded; /* 0 = not yet, 1 = from hwloc, 2 = from the cache */
static hwloc_topology_t g_topo; /* kept where hwloc was loaded (non-Linux bindings) */
static void cpu_model(char *out, size_t len);

static void mask_set(uint64_t *m, int i) {
  if (i >= 0 && i < AMZ__CPUMASK_BITS) m[i / 64] |= (uint64_t)1 << (i % 64);
}
static int mask_test(const uint64_t *m, int i) {
  return i >= 0 && i < AMZ__CPUMASK_BITS && (m[i / 64] >> (i % 64)) & 1;
}

static int load_hwloc(machine_desc_t *d) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) return -1;
  if (hwloc_topology_load(topo) != 0) {
    hwloc_topology_destroy(topo);
    return -1;
  }
  amz__topology_t *t = &d->st;
  t->pus_total = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  t->cores_total = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  if (t->cores_total <= 0) t->cores_total = t->pus_total;
  t->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  if (t->numa_nodes <= 0) t->numa_nodes = 1;
  /* hwloc counts only the memory of the NUMA nodes it could read (in containers
   * often less than the machine has); the kernel's page count is the floor. */
  t->mem_total = hwloc_get_root_obj(topo)->total_memory;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && (uint64_t)pages * (uint64_t)page > t->mem_total)
    t->mem_total = (uint64_t)pages * (uint64_t)page;
  for (int depth = 0; depth < hwloc_topology_get_depth(topo); depth++) {
    hwloc_obj_t o = hwloc_get_obj_by_depth(topo, depth, 0);
    if (o && hwloc_obj_type_is_cache(o->type) && o->attr->cache.depth >= 2 &&
        o->attr->cache.size > t->l3_bytes)
      t->l3_bytes = o->attr->cache.size;
  }
  d->max_pu = hwloc_bitmap_last(hwloc_topology_get_topology_cpuset(topo));
  int nc = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  d->core = nc > 0 ? calloc((size_t)nc, sizeof *d->core) : NULL;
  d->n_cores = d->core ? nc : 0;
  hwloc_obj_t core = NULL;
  for (int k = 0; k < d->n_cores && (core = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, core));
       k++)
    for (int i = hwloc_bitmap_first(core->cpuset); i >= 0; i = hwloc_bitmap_next(core->cpuset, i))
      mask_set(d->core[k], i);
  g_topo = topo;
  return 0;
}

static int read_line(const char *path, char *buf, size_t len);

/* The CPUs of this process's cpuset cgroup (hwloc leaves the others out of the
 * machine it describes): v2, then v1's two names; "" when none is readable. */
static void cpuset_cpus(char *out, size_t len) {
  char rel[256] = "", path[600];
  out[0] = '\0';
  if (read_line("/proc/self/cpuset", rel, sizeof rel) != 0) return;
  if (strcmp(rel, "/") == 0) rel[0] = '\0';
  const char *fmt[] = {"/sys/fs/cgroup%s/cpuset.cpus.effective",
                       "/sys/fs/cgroup/cpuset%s/cpuset.effective_cpus",
                       "/sys/fs/cgroup/cpuset%s/cpuset.cpus"};
  for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
    snprintf(path, sizeof path, fmt[i], rel);
    if (read_line(path, out, len) == 0) return;
  }
  out[0] = '\0';
}

/* The cache file: "key value" lines, one "core" line per core with its PUs as a
 * list. Its name holds a fingerprint of the library version, the host, the
 * kernel's boot id (a machine changed at a reboot is read afresh) and the cpuset
 * cgroup's CPUs (jobs on one node with different cpusets, a shared home). Returns
 * 0, or -1 when the cache must not be used: HWLOC_* variables change what hwloc
 * sees (a synthetic or saved topology, components). */
extern char **environ;
static int desc_path(const char *dir, char *out, size_t len) {
  for (char **e = environ; e && *e; e++)
    if (strncmp(*e, "HWLOC_", 6) == 0) return -1;
  char boot[64] = "", host[64] = "", cpus[256];
  if (read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot) != 0) return -1;
  if (gethostname(host, sizeof host) != 0) host[0] = '\0';
  host[sizeof host - 1] = '\0';
  cpuset_cpus(cpus, sizeof cpus);
  char key[512];
  int n = snprintf(key, sizeof key, "%s|%s|%s|%s", AMZ_VERSION_STRING, host, boot, cpus);
  snprintf(out, len, "%s/topology-%016llx.txt", dir,
           (unsigned long long)amz__fnv1a(AMZ__FNV_BASIS, key, (size_t)(n > 0 ? n : 0)));
  return 0;
}

/* Parses a PU list ("0-3,8") into m; returns 0, or -1 on anything else. */
static int parse_list(const char *s, uint64_t *m, int *max) {
  memset(m, 0, AMZ__CPUMASK_BITS / 8);
  while (*s && *s != '\n') {
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s || a < 0) return -1;
    s = end;
    if (*s == '-') {
      b = strtol(s + 1, &end, 10);
      if (end == s + 1 || b < a) return -1;
      s = end;
    }
    for (long i = a; i <= b && i < AMZ__CPUMASK_BITS; i++) mask_set(m, (int)i);
    if (b > *max) *max = (int)b;
    if (*s == ',') s++;
    else if (*s && *s != '\n') return -1;
  }
  return 0;
}

static int read_desc(const char *path, machine_desc_t *d) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  memset(d, 0, sizeof *d);
  amz__topology_t *t = &d->st;
  char line[4096];
  int seen = 0, bad = 0, cap = 0, max_list = -1;
  d->max_pu = -1;
  while (!bad && fgets(line, sizeof line, f)) {
    char *v = strchr(line, ' ');
    if (line[0] == '#' || !v) continue;
    *v++ = '\0';
    v[strcspn(v, "\n")] = '\0';
    long long x = atoll(v);
    if (strcmp(line, "pus") == 0) t->pus_total = (int)x, seen |= 1;
    else if (strcmp(line, "cores") == 0) t->cores_total = (int)x, seen |= 2;
    else if (strcmp(line, "numa_nodes") == 0) t->numa_nodes = (int)x, seen |= 4;
    else if (strcmp(line, "mem_bytes") == 0) t->mem_total = (uint64_t)x, seen |= 8;
    else if (strcmp(line, "l3_bytes") == 0) t->l3_bytes = (uint64_t)x, seen |= 16;
    else if (strcmp(line, "max_pu") == 0) d->max_pu = (int)x, seen |= 32;
    else if (strcmp(line, "host") == 0) snprintf(t->host, sizeof t->host, "%s", v), seen |= 64;
    else if (strcmp(line, "cpu_model") == 0)
      snprintf(t->cpu_model, sizeof t->cpu_model, "%s", v), seen |= 128;
    else if (strcmp(line, "core") == 0) {
      if (d->n_cores == cap) {
        cap = cap ? 2 * cap : 64;
        void *c = realloc(d->core, (size_t)cap * sizeof *d->core);
        if (!c) {
          bad = 1;
          break;
        }
        d->core = c;
      }
      bad = parse_list(v, d->core[d->n_cores++], &max_list) != 0;
    }
  }
  fclose(f);
  /* Only what hwloc could have written: a crafted or damaged file is refused. */
  if (bad || seen != 255 || t->pus_total < 1 || t->pus_total > (1 << 20) || t->cores_total < 1 ||
      t->cores_total > t->pus_total || t->numa_nodes < 1 || t->numa_nodes > 4096 ||
      t->mem_total == 0 || d->max_pu < t->pus_total - 1 || d->max_pu >= (1 << 22) ||
      max_list > d->max_pu || (d->n_cores != 0 && d->n_cores != t->cores_total)) {
    free(d->core);
    memset(d, 0, sizeof *d);
    return -1;
  }
  return 0;
}

/* Formats the PUs of m as a list, "0-3,8" (hwloc's list format). */
static void format_list(const uint64_t *m, char *out, size_t len) {
  size_t n = 0;
  out[0] = '\0';
  for (int i = 0; i < AMZ__CPUMASK_BITS && n < len; i++) {
    if (!mask_test(m, i)) continue;
    int j = i;
    while (j + 1 < AMZ__CPUMASK_BITS && mask_test(m, j + 1)) j++;
    int w = j > i ? snprintf(out + n, len - n, "%s%d-%d", n ? "," : "", i, j)
                  : snprintf(out + n, len - n, "%s%d", n ? "," : "", i);
    n += w > 0 ? (size_t)w : 0;
    i = j;
  }
  if (n >= len && len > 0) out[len - 1] = '\0';
}

static void write_desc(const char *dir, const char *path, const machine_desc_t *d) {
  const amz__topology_t *t = &d->st;
  size_t cap = 1024 + (size_t)d->n_cores * 80, n = 0;
  char *text = malloc(cap);
  if (!text) return;
  n += (size_t)snprintf(text + n, cap - n,
                        "# amorsize %s machine description (from hwloc)\n"
                        "host %s\ncpu_model %s\npus %d\ncores %d\nnuma_nodes %d\n"
                        "mem_bytes %llu\nl3_bytes %llu\nmax_pu %d\n",
                        AMZ_VERSION_STRING, t->host, t->cpu_model, t->pus_total,
                        t->cores_total, t->numa_nodes, (unsigned long long)t->mem_total,
                        (unsigned long long)t->l3_bytes, d->max_pu);
  for (int k = 0; k < d->n_cores && n < cap; k++) {
    char list[64];
    format_list(d->core[k], list, sizeof list);
    n += (size_t)snprintf(text + n, cap - n, "core %s\n", list);
  }
  if (n < cap) amz__cache_publish(dir, path, text); /* failure: no cache */
  free(text);
}

/* Loads the description once per process: from the cache when cache_dir has this
 * machine's, else from hwloc (then written there). */
static int load_desc(const char *cache_dir) {
  pthread_mutex_lock(&g_mu);
  if (!g_loaded) {
    char path[600] = "";
    machine_desc_t d;
    memset(&d, 0, sizeof d);
    if (cache_dir && cache_dir[0] && desc_path(cache_dir, path, sizeof path) != 0)
      path[0] = '\0';
#ifdef __linux__
    if (path[0] && read_desc(path, &d) == 0) g_loaded = 2;
#endif
    if (!g_loaded && load_hwloc(&d) == 0) {
      if (gethostname(d.st.host, sizeof d.st.host) != 0)
        snprintf(d.st.host, sizeof d.st.host, "?");
      d.st.host[sizeof d.st.host - 1] = '\0';
      cpu_model(d.st.cpu_model, sizeof d.st.cpu_model);
      g_loaded = 1;
      if (path[0]) write_desc(cache_dir, path, &d);
    }
    if (g_loaded) g_desc = d;
  }
  int ok = g_loaded != 0;
  pthread_mutex_unlock(&g_mu);
  return ok ? 0 : -1;
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

/* The PUs this thread may run on, as a mask: sched_getaffinity on Linux (what
 * taskset, mpirun --bind-to and Slurm set; the kernel keeps it inside the cgroup's
 * cpuset), hwloc elsewhere. The pool threads inherit it from the thread that
 * creates them. Returns the number of PUs. */
static int bound_pus(const machine_desc_t *d, uint64_t *mask) {
  memset(mask, 0, AMZ__CPUMASK_BITS / 8);
#ifdef __linux__
  int ncpu = d->max_pu + 1 > AMZ__CPUMASK_BITS ? d->max_pu + 1 : AMZ__CPUMASK_BITS;
  cpu_set_t *set = CPU_ALLOC(ncpu);
  size_t size = CPU_ALLOC_SIZE(ncpu);
  int n = 0;
  if (set && sched_getaffinity(0, size, set) == 0) {
    for (int i = 0; i < ncpu; i++)
      if (CPU_ISSET_S(i, size, set)) {
        mask_set(mask, i);
        n++;
      }
  }
  CPU_FREE(set);
  if (n > 0) return n;
#endif
  if (g_topo) {
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set) {
      if (hwloc_get_cpubind(g_topo, set, HWLOC_CPUBIND_THREAD) != 0)
        hwloc_bitmap_copy(set, hwloc_topology_get_allowed_cpuset(g_topo));
      hwloc_bitmap_and(set, set, hwloc_topology_get_allowed_cpuset(g_topo));
      int n = 0;
      for (int i = hwloc_bitmap_first(set); i >= 0; i = hwloc_bitmap_next(set, i), n++)
        mask_set(mask, i);
      hwloc_bitmap_free(set);
      if (n > 0) return n;
    }
  }
  /* Nothing readable: every PU the description knows. */
  int all = 0;
  for (int i = 0; i <= d->max_pu && i < AMZ__CPUMASK_BITS; i++, all++) mask_set(mask, i);
  return all > 0 ? all : 1;
}

int amz__topology_probe_in(amz__topology_t *t, const char *cache_dir) {
  if (load_desc(cache_dir) != 0)
    return amz__fail(AMZ_ETOPO, "hwloc could not load the topology");
  const machine_desc_t *d = &g_desc;
  *t = d->st;
  /* Binding and cgroup limits are read on every probe: they can change at run time
   * (taskset -p, a batch system resizing the job). */
  t->pus_bound = bound_pus(d, t->cpumask);
  t->cores_bound = 0;
  for (int k = 0; k < d->n_cores; k++)
    for (int w = 0; w < AMZ__CPUMASK_BITS / 64; w++)
      if (d->core[k][w] & t->cpumask[w]) {
        t->cores_bound++;
        break;
      }
  if (t->cores_bound == 0) t->cores_bound = t->pus_bound;
  format_list(t->cpumask, t->binding, sizeof t->binding);
  probe_cgroup(t);
  amz__topology_finish(t);
  return 0;
}

int amz__topology_probe(amz__topology_t *t) { return amz__topology_probe_in(t, NULL); }

int amz__topology_source(void) { return g_loaded; }

uint64_t amz__topology_fingerprint(const amz__topology_t *t) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "%s|%s|%s|%d|%d|%s|%.3f", AMZ_VERSION_STRING, t->host,
                   t->cpu_model, t->pus_total, t->cores_total, t->binding, t->cpu_quota);
  return amz__fnv1a(AMZ__FNV_BASIS, buf, (size_t)(n > 0 ? n : 0));
}
