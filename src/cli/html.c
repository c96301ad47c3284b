/* Placeholder: the HTML report is being written (see amz_cli_html in cli.h). */
#include "cli.h"

int amz_cli_html(FILE *out, const amz_profile_t *const *profiles, const char *const *paths,
                 size_t n) {
  (void)out;
  (void)profiles;
  (void)paths;
  (void)n;
  fprintf(stderr, "amorsize html: not built yet\n");
  return AMZ_CLI_FAIL;
}
