/*
 * An LD_PRELOAD shim for the tests: flock() fails with ENOLCK, as on NFS without a
 * lock daemon or Lustre mounted without flock. Every other call is the C
 * library's own.
 */
#include <errno.h>
#include <sys/file.h>

int flock(int fd, int op) {
  (void)fd;
  (void)op;
  errno = ENOLCK;
  return -1;
}
