/* Error codes, messages and the thread-local failure detail behind amz_last_error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Large enough for a message quoting a full path (PATH_MAX) with its reason. */
static _Thread_local char last_error[8192];

const char *amz_strerror(int code) {
  switch (code) {
    case AMZ_OK:
      return "success";
#define AMZ__ERR_MSG(name, value, msg) \
  case AMZ_##name:                     \
    return msg;
      AMZ_ERROR_MAP(AMZ__ERR_MSG)
#undef AMZ__ERR_MSG
    default:
      return "unknown error";
  }
}

const char *amz_error_name(int code) {
  switch (code) {
    case AMZ_OK:
      return "AMZ_OK";
#define AMZ__ERR_NAME(name, value, msg) \
  case AMZ_##name:                      \
    return "AMZ_" #name;
      AMZ_ERROR_MAP(AMZ__ERR_NAME)
#undef AMZ__ERR_NAME
    default:
      return "AMZ_UNKNOWN";
  }
}

const char *amz_last_error(void) { return last_error; }

const char *amz_version_string(void) { return AMZ_VERSION_STRING; }
int amz_version(void) { return AMZ_VERSION_NUMBER; }

int amz__fail(int code, const char *fmt, ...) {
  /* Formatted aside first: a caller may wrap the previous detail, passing
   * amz_last_error() itself as an argument ("AMZ_PROFILE: %s"). */
  char buf[sizeof last_error];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  memcpy(last_error, buf, sizeof buf);
  return code;
}
