/* Sorted sets of disjoint item ranges: sampled items, failures. */
#include <stdlib.h>

#include "internal.h"

int amz__rangeset_add(amz__rangeset_t *s, uint64_t begin, uint64_t end, int code) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    amz__range_t *v = realloc(s->v, cap * sizeof *v);
    if (!v) return AMZ_ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = (amz__range_t){begin, end, code};
  return 0;
}

static int cmp_range(const void *a, const void *b) {
  const amz__range_t *x = a, *y = b;
  return (x->begin > y->begin) - (x->begin < y->begin);
}

void amz__rangeset_sort(amz__rangeset_t *s) {
  if (s->n > 1) qsort(s->v, s->n, sizeof *s->v, cmp_range);
}

size_t amz__rangeset_lower(const amz__rangeset_t *s, uint64_t x) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->v[mid].end > x)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

uint64_t amz__rangeset_items(const amz__rangeset_t *s) {
  uint64_t t = 0;
  for (size_t i = 0; i < s->n; i++) t += s->v[i].end - s->v[i].begin;
  return t;
}

int amz__rangeset_overlaps(const amz__rangeset_t *s, uint64_t begin, uint64_t end) {
  size_t i = amz__rangeset_lower(s, begin);
  return i < s->n && s->v[i].begin < end;
}

uint64_t amz__rangeset_items_in(const amz__rangeset_t *s, uint64_t begin, uint64_t end) {
  uint64_t k = 0;
  for (size_t i = amz__rangeset_lower(s, begin); i < s->n && s->v[i].begin < end; i++) {
    uint64_t lo = s->v[i].begin > begin ? s->v[i].begin : begin;
    uint64_t hi = s->v[i].end < end ? s->v[i].end : end;
    k += hi - lo;
  }
  return k;
}

void amz__rangeset_free(amz__rangeset_t *s) {
  free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

void amz__rangeset_normalize(amz__rangeset_t *s) {
  amz__rangeset_sort(s);
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (k > 0 && s->v[i].begin <= s->v[k - 1].end) {
      if (s->v[i].end > s->v[k - 1].end) s->v[k - 1].end = s->v[i].end;
      continue;
    }
    s->v[k] = s->v[i];
    s->v[k++].code = 0;
  }
  s->n = k;
}

int amz__rangeset_union(const amz__rangeset_t *a, const amz__rangeset_t *b, amz__rangeset_t *out) {
  for (size_t i = 0; i < a->n; i++)
    if (amz__rangeset_add(out, a->v[i].begin, a->v[i].end, 0) != 0) return AMZ_ENOMEM;
  for (size_t i = 0; i < b->n; i++)
    if (amz__rangeset_add(out, b->v[i].begin, b->v[i].end, 0) != 0) return AMZ_ENOMEM;
  amz__rangeset_normalize(out);
  return 0;
}
