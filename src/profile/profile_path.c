/* Where a profile goes: path patterns, the private directory it is written in and
 * the final rename that never replaces a file unless asked. Base layer: no state;
 * the core, the MPI layer and the profile library each link a copy. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile_path.h"

int amz__profile_expand(const char *pattern, int run, char *out, size_t len) {
  size_t k = 0;
  char num[32];
  for (const char *s = pattern; *s; s++) {
    const char *add = NULL;
    char one[2] = {*s, 0};
    if (*s != '%') {
      add = one;
    } else {
      s++;
      if (*s == 'r') {
        snprintf(num, sizeof num, "%d", run);
        add = num;
      } else if (*s == 'j') {
        const char *j = getenv("SLURM_JOB_ID");
        add = j && j[0] ? j : "nojob";
      } else if (*s == '%') {
        add = "%";
      } else {
        return amz__fail(AMZ_EINVAL,
                         "profile path '%s': unknown placeholder '%%%s'; expected %%r (run "
                         "index), %%j (Slurm job id) or %%%%",
                         pattern, *s ? (char[2]){*s, 0} : "");
      }
    }
    size_t n = strlen(add);
    if (k + n + 1 > len)
      return amz__fail(AMZ_EINVAL, "profile path '%s' is longer than %zu bytes once expanded",
                       pattern, len - 1);
    memcpy(out + k, add, n);
    k += n;
    if (!*s) break;
  }
  out[k] = '\0';
  if (k == 0) return amz__fail(AMZ_EINVAL, "profile path is empty");
  return 0;
}

/* The suffix of the private directory a profile is written in, and the file's
 * name inside it. */

int amz__profile_tmp_create(const char *path, char *dir, size_t dlen, char *tmp, size_t tlen) {
  /* A directory of our own (mode 0700, a random name, created exclusively) in the
   * profile's directory: nobody else can plant a symlink or a file under the name
   * HDF5 then creates, even in a shared group directory, and the names of jobs on
   * other nodes or in other PID namespaces never collide. The same file system as
   * the final name, for an atomic rename. */
  size_t n = (size_t)snprintf(dir, dlen, "%s" AMZ__PROFILE_TMP_SUFFIX, path);
  if (n >= dlen || n + sizeof AMZ__PROFILE_TMP_FILE > tlen)
    return amz__fail(AMZ_EINVAL, "profile path '%s' is too long for its temporary name", path);
  if (!mkdtemp(dir))
    return amz__fail(AMZ_EIO, "cannot create a temporary directory for profile '%s': %s", path,
                     strerror(errno));
  snprintf(tmp, tlen, "%s" AMZ__PROFILE_TMP_FILE, dir);
  return 0;
}

void amz__profile_tmp_remove(const char *dir, const char *tmp) {
  if (!dir[0]) return;
  unlink(tmp);
  rmdir(dir);
}

int amz__profile_commit(const char *tmp, const char *path, int overwrite) {
  if (overwrite) {
    if (rename(tmp, path) == 0) return 0;
    int e = errno;
    unlink(tmp);
    return amz__fail(AMZ_EIO, "cannot rename profile '%s' to '%s': %s", tmp, path, strerror(e));
  }
  /* Atomic no-replace: the kernel refuses when path exists, even if another job
   * created it a moment ago. File systems without RENAME_NOREPLACE get link(). */
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
  int e = errno;
  if (e == EINVAL || e == ENOSYS) {
    if (link(tmp, path) == 0) {
      unlink(tmp);
      return 0;
    }
    e = errno;
  }
  unlink(tmp);
  if (e == EEXIST)
    return amz__fail(AMZ_EEXIST,
                     "profile '%s' exists and is not overwritten; remove it, use %%r in the "
                     "path, or allow overwriting (amz_options_set_profile_overwrite, "
                     "AMZ_PROFILE_OVERWRITE=1)",
                     path);
  return amz__fail(AMZ_EIO, "cannot move profile '%s' to '%s': %s", tmp, path, strerror(e));
}
