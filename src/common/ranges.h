/*
 * The internal interface of sorted disjoint item ranges (ranges.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_RANGES_H
#define AMORSIZE_RANGES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"

typedef struct amz__range {
  uint64_t begin, end;
  int code; /* failure code; 0 for plain ranges */
} amz__range_t;

typedef struct amz__rangeset {
  amz__range_t *v;
  size_t n, cap;
} amz__rangeset_t;

int amz__rangeset_add(amz__rangeset_t *s, uint64_t begin, uint64_t end, int code);
void amz__rangeset_sort(amz__rangeset_t *s);
/* Index of the first range with end > x in a sorted set (n if none). */
size_t amz__rangeset_lower(const amz__rangeset_t *s, uint64_t x);
uint64_t amz__rangeset_items(const amz__rangeset_t *s);
/* 1 when [begin, end) overlaps a range of the sorted set. */
int amz__rangeset_overlaps(const amz__rangeset_t *s, uint64_t begin, uint64_t end);
/* Items of [begin, end) that a sorted set of disjoint ranges holds. */
uint64_t amz__rangeset_items_in(const amz__rangeset_t *s, uint64_t begin, uint64_t end);
void amz__rangeset_free(amz__rangeset_t *s);
/* Sorts and merges overlapping or adjacent ranges (codes are dropped: for sets of
 * completed items). */
void amz__rangeset_normalize(amz__rangeset_t *s);
/* out = a ∪ b, normalized. Returns 0 or AMZ_ENOMEM. */
int amz__rangeset_union(const amz__rangeset_t *a, const amz__rangeset_t *b,
                                   amz__rangeset_t *out);

#endif /* AMORSIZE_RANGES_H */
