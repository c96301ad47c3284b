/*
 * Quick start: plan a loop, read the explanation, run it, read what happened.
 *
 * The kernel computes the Mandelbrot escape count for each row of an image of the
 * upper half-plane (y in [0, 1.5]): rows near the real axis cost far more than rows
 * at the top, so the cost depends on the index and a naive equal split is uneven.
 *
 *   ./quickstart [rows] [columns]
 */
#include <stdio.h>
#include <stdlib.h>

#include "amorsize.h"

typedef struct image {
  int rows, cols, max_iter;
  unsigned short *pixels;
} image_t;

static int mandelbrot_rows(uint64_t begin, uint64_t end, void *arg) {
  image_t *img = arg;
  for (uint64_t r = begin; r < end; r++) {
    double y = 1.5 * (double)r / img->rows;
    for (int c = 0; c < img->cols; c++) {
      double x = -2.0 + 2.6 * c / img->cols, zr = 0, zi = 0;
      int k = 0;
      while (k < img->max_iter && zr * zr + zi * zi < 4.0) {
        double t = zr * zr - zi * zi + x;
        zi = 2 * zr * zi + y;
        zr = t;
        k++;
      }
      img->pixels[r * (uint64_t)img->cols + (uint64_t)c] = (unsigned short)k;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  image_t img = {argc > 1 ? atoi(argv[1]) : 1200, argc > 2 ? atoi(argv[2]) : 1200, 500, NULL};
  if (img.rows <= 0 || img.cols <= 0) {
    fprintf(stderr, "usage: %s [rows > 0] [columns > 0]\n", argv[0]);
    return 2;
  }
  img.pixels = calloc((size_t)img.rows * (size_t)img.cols, sizeof *img.pixels);
  if (!img.pixels) return 1;

  amz_task_t task = {"mandelbrot rows", (uint64_t)img.rows, mandelbrot_rows, &img};
  amz_plan_t *plan = NULL;
  int rc = amz_plan_create(&task, NULL, &plan);
  if (rc != 0) {
    fprintf(stderr, "amz_plan_create: %s: %s\n", amz_strerror(rc), amz_last_error());
    free(img.pixels);
    return 1;
  }
  amz_plan_explain(plan, stdout);

  amz_result_t *res = NULL;
  rc = amz_run(plan, &res);
  if (rc != 0 && rc != AMZ_EITEMS) {
    fprintf(stderr, "amz_run: %s: %s\n", amz_strerror(rc), amz_last_error());
    amz_plan_destroy(plan);
    free(img.pixels);
    return 1;
  }
  printf("\n");
  amz_result_explain(res, stdout);

  /* A checksum over the image proves every row was computed. */
  unsigned long long sum = 0;
  for (size_t i = 0; i < (size_t)img.rows * (size_t)img.cols; i++) sum += img.pixels[i];
  printf("\nchecksum %llu over %d x %d pixels; items done %llu of %d\n", sum, img.rows,
         img.cols, (unsigned long long)amz_result_items_done(res), img.rows);

  int ok = amz_result_items_done(res) == (uint64_t)img.rows;
  amz_result_destroy(res);
  amz_plan_destroy(plan);
  free(img.pixels);
  return ok ? 0 : 1;
}
