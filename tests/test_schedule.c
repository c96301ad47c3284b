/*
 * Chunk sequences of every schedule (schedule.c). The executor, the cost model and
 * the sampler-free model all take their chunks from here, so a gap or an overlap
 * would silently skip or repeat user items everywhere.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const amz_schedule_t k_fixed_kinds[] = {
    AMZ_SCHED_STATIC, AMZ_SCHED_CYCLIC, AMZ_SCHED_DYNAMIC, AMZ_SCHED_GUIDED, AMZ_SCHED_FACTORING};
static const uint64_t k_sizes[] = {0, 1, 2, 7, 13, 97, 1000, 10000000};
static const int k_workers[] = {1, 2, 3, 4, 8, 64};
static const uint64_t k_chunks[] = {0, 1, 3, 1000};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/* Walks chunks 0..n_chunks-1 and checks they tile [0, n): each starts where the
 * previous ended, none is empty, the last ends at n. Returns 1 when they do. Needs
 * no memory proportional to n, so it also runs on 10^7 items. */
static int chunks_tile(const amz__sched_t *s) {
  uint64_t pos = 0;
  for (uint64_t k = 0; k < s->n_chunks; k++) {
    uint64_t b = 0, e = 0;
    amz__sched_chunk(s, k, &b, &e);
    if (b != pos || e <= b || e > s->n) return 0;
    pos = e;
  }
  return pos == s->n;
}

/* Reference chunk size of GUIDED and FAC2 from the documented formulas, written
 * independently of schedule.c's table builder. */
typedef struct ref_state {
  uint64_t batch_size, batch_left;
} ref_state_t;

static uint64_t ref_size(amz_schedule_t kind, uint64_t rem, uint64_t P, uint64_t minc,
                         ref_state_t *st) {
  uint64_t c;
  if (kind == AMZ_SCHED_GUIDED) {
    c = ceil_div(rem, P);
  } else {
    if (st->batch_left == 0) {
      st->batch_size = ceil_div(rem, 2 * P);
      st->batch_left = P;
    }
    st->batch_left--;
    c = st->batch_size;
  }
  if (c < minc) c = minc;
  if (c > rem) c = rem;
  return c;
}

static void test_every_schedule_tiles_the_range_on_the_grid(void) {
  int bad = 0;
  for (size_t a = 0; a < COUNT(k_fixed_kinds); a++)
    for (size_t b = 0; b < COUNT(k_sizes); b++)
      for (size_t c = 0; c < COUNT(k_workers); c++)
        for (size_t d = 0; d < COUNT(k_chunks); d++) {
          amz__sched_t s;
          int rc = amz__sched_init(&s, k_fixed_kinds[a], k_sizes[b], k_workers[c], k_chunks[d]);
          int ok = rc == 0 && chunks_tile(&s);
          if (!ok && bad++ < 5)
            fprintf(stderr, "\n  %s n=%llu P=%d chunk=%llu: rc=%d, chunks do not tile [0, n)",
                    amz_schedule_name(k_fixed_kinds[a]), (unsigned long long)k_sizes[b],
                    k_workers[c], (unsigned long long)k_chunks[d], rc);
          amz__sched_free(&s);
        }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_chunk_counts_match_the_formulas_on_the_grid(void) {
  int bad = 0;
  for (size_t b = 0; b < COUNT(k_sizes); b++)
    for (size_t c = 0; c < COUNT(k_workers); c++)
      for (size_t d = 0; d < COUNT(k_chunks); d++) {
        uint64_t n = k_sizes[b], P = (uint64_t)k_workers[c], ch = k_chunks[d] ? k_chunks[d] : 1;
        amz__sched_t st, cy, dy;
        CU_ASSERT_EQUAL_FATAL(amz__sched_init(&st, AMZ_SCHED_STATIC, n, k_workers[c], k_chunks[d]),
                              0);
        CU_ASSERT_EQUAL_FATAL(amz__sched_init(&cy, AMZ_SCHED_CYCLIC, n, k_workers[c], k_chunks[d]),
                              0);
        CU_ASSERT_EQUAL_FATAL(amz__sched_init(&dy, AMZ_SCHED_DYNAMIC, n, k_workers[c], k_chunks[d]),
                              0);
        /* STATIC: one block per worker, fewer when there are fewer items; it takes no
         * chunk parameter. CYCLIC/DYNAMIC: fixed chunks, 0 meaning 1. */
        bad += st.n_chunks != (n < P ? n : P) || st.chunk != 0;
        bad += cy.n_chunks != ceil_div(n, ch) || cy.chunk != ch;
        bad += dy.n_chunks != ceil_div(n, ch) || dy.chunk != ch;
        /* Only GUIDED and FACTORING keep a boundary table. */
        bad += st.bounds != NULL || cy.bounds != NULL || dy.bounds != NULL;
        amz__sched_free(&st);
        amz__sched_free(&cy);
        amz__sched_free(&dy);
      }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_static_blocks_are_balanced_on_the_grid(void) {
  int bad = 0;
  for (size_t b = 0; b < COUNT(k_sizes); b++)
    for (size_t c = 0; c < COUNT(k_workers); c++) {
      uint64_t n = k_sizes[b];
      amz__sched_t s;
      CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, AMZ_SCHED_STATIC, n, k_workers[c], 0), 0);
      uint64_t lo = UINT64_MAX, hi = 0;
      for (uint64_t k = 0; k < s.n_chunks; k++) {
        uint64_t bb, e;
        amz__sched_chunk(&s, k, &bb, &e);
        if (e - bb < lo) lo = e - bb;
        if (e - bb > hi) hi = e - bb;
      }
      /* Balanced: sizes differ by at most one item, and the largest is the block size
       * amz_plan_chunk reports for STATIC, ceil(n / workers). */
      if (s.n_chunks > 0) bad += hi - lo > 1 || hi != ceil_div(n, (uint64_t)k_workers[c]);
      amz__sched_free(&s);
    }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_fixed_chunk_schedules_cut_equal_chunks_but_the_last(void) {
  int bad = 0;
  for (size_t b = 0; b < COUNT(k_sizes); b++)
    for (size_t d = 0; d < COUNT(k_chunks); d++) {
      uint64_t n = k_sizes[b];
      amz__sched_t s;
      CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, AMZ_SCHED_DYNAMIC, n, 4, k_chunks[d]), 0);
      for (uint64_t k = 0; k < s.n_chunks; k++) {
        uint64_t bb, e;
        amz__sched_chunk(&s, k, &bb, &e);
        uint64_t want = k + 1 < s.n_chunks ? s.chunk : n - k * s.chunk;
        if (bb != k * s.chunk || e - bb != want) bad++;
      }
      amz__sched_free(&s);
    }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_guided_and_factoring_follow_their_formulas_on_the_grid(void) {
  static const amz_schedule_t kinds[] = {AMZ_SCHED_GUIDED, AMZ_SCHED_FACTORING};
  int bad = 0;
  for (size_t a = 0; a < COUNT(kinds); a++)
    for (size_t b = 0; b < COUNT(k_sizes); b++)
      for (size_t c = 0; c < COUNT(k_workers); c++)
        for (size_t d = 0; d < COUNT(k_chunks); d++) {
          uint64_t n = k_sizes[b], P = (uint64_t)k_workers[c];
          uint64_t minc = k_chunks[d] ? k_chunks[d] : 1;
          amz__sched_t s;
          CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, kinds[a], n, k_workers[c], k_chunks[d]), 0);
          ref_state_t rs = {0, 0};
          uint64_t pos = 0, prev = UINT64_MAX, k = 0;
          for (; k < s.n_chunks; k++) {
            uint64_t bb, e;
            amz__sched_chunk(&s, k, &bb, &e);
            uint64_t want = ref_size(kinds[a], n - pos, P, minc, &rs);
            /* Sizes follow the formula and never grow: both schedules hand out big
             * chunks first and shrink towards the end to balance the tail. */
            if (bb != pos || e - bb != want || e - bb > prev) {
              if (bad++ < 5)
                fprintf(stderr,
                        "\n  %s n=%llu P=%d min=%llu chunk %llu = [%llu, %llu), want size %llu",
                        amz_schedule_name(kinds[a]), (unsigned long long)n, k_workers[c],
                        (unsigned long long)minc, (unsigned long long)k, (unsigned long long)bb,
                        (unsigned long long)e, (unsigned long long)want);
              break;
            }
            prev = e - bb;
            pos = e;
          }
          bad += pos != n;
          amz__sched_free(&s);
        }
  CU_ASSERT_EQUAL(bad, 0);
}

/* Checks chunk boundaries of a schedule against an exact, hand-computed list. */
static void expect_bounds(amz_schedule_t kind, uint64_t n, int P, uint64_t chunk,
                          const uint64_t *want, size_t n_want) {
  amz__sched_t s;
  CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, kind, n, P, chunk), 0);
  CU_ASSERT_EQUAL(s.n_chunks, n_want - 1);
  for (uint64_t k = 0; k < s.n_chunks && k + 1 < n_want; k++) {
    uint64_t b, e;
    amz__sched_chunk(&s, k, &b, &e);
    CU_ASSERT_EQUAL(b, want[k]);
    CU_ASSERT_EQUAL(e, want[k + 1]);
  }
  amz__sched_free(&s);
}

static void test_guided_exact_sequences(void) {
  /* n = 10, P = 3: ceil(10/3) = 4, ceil(6/3) = 2, ceil(4/3) = 2, ceil(2/3) = 1, 1. */
  const uint64_t a[] = {0, 4, 6, 8, 9, 10};
  expect_bounds(AMZ_SCHED_GUIDED, 10, 3, 1, a, COUNT(a));
  /* Minimum 3: 4, then max(3, 2) = 3, then max(3, 1) = 3. */
  const uint64_t b[] = {0, 4, 7, 10};
  expect_bounds(AMZ_SCHED_GUIDED, 10, 3, 3, b, COUNT(b));
  /* n = 100, P = 4: 25, 19, 14, 11, 8, 6, 5, 3, 3, 2, 1, 1, 1, 1. */
  const uint64_t c[] = {0, 25, 44, 58, 69, 77, 83, 88, 91, 94, 96, 97, 98, 99, 100};
  expect_bounds(AMZ_SCHED_GUIDED, 100, 4, 0, c, COUNT(c));
  /* One worker takes everything at once. */
  const uint64_t d[] = {0, 13};
  expect_bounds(AMZ_SCHED_GUIDED, 13, 1, 1, d, COUNT(d));
}

static void test_factoring_exact_sequences(void) {
  /* n = 100, P = 4 (FAC2): batches of 4 chunks of ceil(100/8) = 13, ceil(48/8) = 6,
   * ceil(24/8) = 3, ceil(12/8) = 2, ceil(4/8) = 1. */
  const uint64_t a[] = {0,  13, 26, 39, 52, 58, 64, 70, 76, 79, 82,
                        85, 88, 90, 92, 94, 96, 97, 98, 99, 100};
  expect_bounds(AMZ_SCHED_FACTORING, 100, 4, 1, a, COUNT(a));
  /* Minimum 5: the third batch is raised to 5 each (96 covered), the last batch
   * would be 1, raised to 5 and cut to the 4 remaining items. */
  const uint64_t b[] = {0, 13, 26, 39, 52, 58, 64, 70, 76, 81, 86, 91, 96, 100};
  expect_bounds(AMZ_SCHED_FACTORING, 100, 4, 5, b, COUNT(b));
  /* n = 10, P = 2: ceil(10/4) = 3 twice, then ceil(4/4) = 1 twice, ceil(2/4) = 1. */
  const uint64_t c[] = {0, 3, 6, 7, 8, 9, 10};
  expect_bounds(AMZ_SCHED_FACTORING, 10, 2, 0, c, COUNT(c));
}

static void test_static_exact_sequences(void) {
  /* n = 12, P = 4: equal blocks of 3. */
  const uint64_t a[] = {0, 3, 6, 9, 12};
  expect_bounds(AMZ_SCHED_STATIC, 12, 4, 0, a, COUNT(a));
  /* Fewer items than workers: one item per block, no empty blocks. */
  const uint64_t b[] = {0, 1, 2};
  expect_bounds(AMZ_SCHED_STATIC, 2, 4, 0, b, COUNT(b));
  /* A chunk parameter does not change STATIC: it takes none. */
  expect_bounds(AMZ_SCHED_STATIC, 12, 4, 5, a, COUNT(a));
}

static void test_static_first_blocks_get_the_extra_items(void) {
  /* schedule.c documents STATIC as "balanced blocks: the first n % P blocks get one
   * item more". n = 10, P = 4: blocks of 3, 3, 2, 2. */
  const uint64_t a[] = {0, 3, 6, 8, 10};
  expect_bounds(AMZ_SCHED_STATIC, 10, 4, 0, a, COUNT(a));
  /* n = 7, P = 3: 3, 2, 2. */
  const uint64_t b[] = {0, 3, 5, 7};
  expect_bounds(AMZ_SCHED_STATIC, 7, 3, 0, b, COUNT(b));
}

static void test_cyclic_and_dynamic_exact_sequences(void) {
  const uint64_t a[] = {0, 3, 6, 9, 10};
  expect_bounds(AMZ_SCHED_DYNAMIC, 10, 2, 3, a, COUNT(a));
  expect_bounds(AMZ_SCHED_CYCLIC, 10, 2, 3, a, COUNT(a));
  /* Chunk 0 means 1 item per chunk. */
  const uint64_t b[] = {0, 1, 2, 3};
  expect_bounds(AMZ_SCHED_DYNAMIC, 3, 8, 0, b, COUNT(b));
  /* A chunk larger than n is one chunk of n. */
  const uint64_t c[] = {0, 7};
  expect_bounds(AMZ_SCHED_CYCLIC, 7, 4, 1000, c, COUNT(c));
}

static void test_empty_range_has_no_chunks(void) {
  for (size_t a = 0; a < COUNT(k_fixed_kinds); a++) {
    amz__sched_t s;
    CU_ASSERT_EQUAL(amz__sched_init(&s, k_fixed_kinds[a], 0, 4, 3), 0);
    CU_ASSERT_EQUAL(s.n_chunks, 0);
    amz__sched_free(&s);
  }
}

static void test_huge_n_fixed_schedules_without_tables(void) {
  /* Near 2^40 items: STATIC, CYCLIC and DYNAMIC must be computed, not stored. We
   * check the chunk count, the first and last chunks and the seams around chunks
   * spread over the range, instead of walking 2^40 chunks. */
  const uint64_t n = ((uint64_t)1 << 40) + 12345;
  static const amz_schedule_t kinds[] = {AMZ_SCHED_STATIC, AMZ_SCHED_CYCLIC, AMZ_SCHED_DYNAMIC};
  static const uint64_t chunks[] = {0, 1, 3, 1000};
  for (size_t a = 0; a < COUNT(kinds); a++)
    for (size_t c = 0; c < COUNT(k_workers); c++)
      for (size_t d = 0; d < COUNT(chunks); d++) {
        amz__sched_t s;
        CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, kinds[a], n, k_workers[c], chunks[d]), 0);
        CU_ASSERT_PTR_NULL(s.bounds);
        if (kinds[a] == AMZ_SCHED_STATIC) CU_ASSERT(chunks_tile(&s));
        uint64_t want = kinds[a] == AMZ_SCHED_STATIC ? (uint64_t)k_workers[c]
                                                     : ceil_div(n, chunks[d] ? chunks[d] : 1);
        CU_ASSERT_EQUAL(s.n_chunks, want);
        uint64_t b, e, b2, e2;
        amz__sched_chunk(&s, 0, &b, &e);
        CU_ASSERT_EQUAL(b, 0);
        CU_ASSERT(e > b);
        amz__sched_chunk(&s, s.n_chunks - 1, &b, &e);
        CU_ASSERT_EQUAL(e, n);
        CU_ASSERT(e > b);
        /* 64 seams spread over the chunk indices, plus the ones next to the end. */
        for (uint64_t i = 0; i <= 64; i++) {
          uint64_t k = (s.n_chunks - 1) / 64 * i;
          if (k + 1 >= s.n_chunks) k = s.n_chunks >= 2 ? s.n_chunks - 2 : 0;
          if (s.n_chunks < 2) break;
          amz__sched_chunk(&s, k, &b, &e);
          amz__sched_chunk(&s, k + 1, &b2, &e2);
          CU_ASSERT(e > b);
          CU_ASSERT_EQUAL(e, b2);
          CU_ASSERT(e2 > b2);
          CU_ASSERT(e2 <= n);
        }
        amz__sched_free(&s);
      }
}

static void test_huge_n_guided_and_factoring_tables_stay_short(void) {
  /* Their tables are O(P log n): a few thousand entries for 2^40 items, walked here
   * in full. */
  const uint64_t n = ((uint64_t)1 << 40) + 12345;
  static const amz_schedule_t kinds[] = {AMZ_SCHED_GUIDED, AMZ_SCHED_FACTORING};
  for (size_t a = 0; a < COUNT(kinds); a++)
    for (size_t c = 0; c < COUNT(k_workers); c++) {
      amz__sched_t s;
      CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, kinds[a], n, k_workers[c], 1), 0);
      CU_ASSERT(s.n_chunks <= (uint64_t)k_workers[c] * 44);
      CU_ASSERT(chunks_tile(&s));
      amz__sched_free(&s);
    }
}

static void test_awf_sizes_cover_the_range(void) {
  /* With equal weights, repeatedly asking for a chunk of what remains must cover
   * [0, n) exactly with non-empty chunks. */
  int bad = 0;
  for (size_t b = 0; b < COUNT(k_sizes); b++)
    for (size_t c = 0; c < COUNT(k_workers); c++)
      for (size_t d = 0; d < COUNT(k_chunks); d++) {
        uint64_t n = k_sizes[b];
        amz__sched_t s;
        CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, AMZ_SCHED_AWF, n, k_workers[c], k_chunks[d]), 0);
        CU_ASSERT_EQUAL(s.n_chunks, 0);
        CU_ASSERT_EQUAL(s.chunk, k_chunks[d] ? k_chunks[d] : 1);
        uint64_t pos = 0, steps = 0;
        while (pos < n && steps < 100000) {
          uint64_t sz = amz__sched_awf_size(&s, n - pos, 1.0);
          if (sz == 0 || sz > n - pos) break;
          pos += sz;
          steps++;
        }
        bad += pos != n;
        amz__sched_free(&s);
      }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_awf_sizes_scale_with_weight(void) {
  amz__sched_t s;
  CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, AMZ_SCHED_AWF, 1000000, 4, 1), 0);
  /* FAC2 share of 8000 remaining with 4 workers is 8000 / 8 = 1000 at weight 1. */
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 8000, 1.0), 1000);
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 8000, 2.0), 2000);
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 8000, 0.5), 500);
  /* Rounded up, never down to a zero-item chunk. */
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 9, 1.0), 2);
  /* A faster worker never gets a smaller chunk than a slower one. */
  uint64_t prev = 0;
  for (double w = 0.1; w <= 10.0; w *= 1.3) {
    uint64_t sz = amz__sched_awf_size(&s, 80000, w);
    CU_ASSERT(sz >= prev);
    prev = sz;
  }
  amz__sched_free(&s);
}

static void test_awf_sizes_respect_min_chunk_and_remaining(void) {
  amz__sched_t s;
  CU_ASSERT_EQUAL_FATAL(amz__sched_init(&s, AMZ_SCHED_AWF, 1000000, 4, 50), 0);
  /* 800 / 8 = 100 at weight 1, but a slow worker still gets the minimum 50. */
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 800, 1.0), 100);
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 800, 0.1), 50);
  /* Never more than what remains, even for the minimum or a huge weight. */
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 30, 1.0), 30);
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 1000, 1000.0), 1000);
  CU_ASSERT_EQUAL(amz__sched_awf_size(&s, 0, 1.0), 0);
  /* Nonsense weights (0, negative, NaN) are clamped, not turned into 0 or garbage. */
  uint64_t z = amz__sched_awf_size(&s, 100000, 0.0);
  CU_ASSERT(z >= 50 && z <= 100000);
  uint64_t neg = amz__sched_awf_size(&s, 100000, -3.0);
  CU_ASSERT(neg >= 50 && neg <= 100000);
  uint64_t nan_sz = amz__sched_awf_size(&s, 100000, NAN);
  CU_ASSERT(nan_sz >= 50 && nan_sz <= 100000);
  amz__sched_free(&s);
}

static void test_init_rejects_bad_arguments(void) {
  amz__sched_t s;
  CU_ASSERT_EQUAL(amz__sched_init(&s, AMZ_SCHED_DYNAMIC, 10, 0, 1), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz__sched_init(&s, AMZ_SCHED_STATIC, 10, -2, 1), AMZ_EINVAL);
  /* AUTO is a request to the planner, not a schedule that cuts chunks. */
  CU_ASSERT_EQUAL(amz__sched_init(&s, AMZ_SCHED_AUTO, 10, 2, 1), AMZ_ESCHED);
  CU_ASSERT_EQUAL(amz__sched_init(&s, (amz_schedule_t)99, 10, 2, 1), AMZ_ESCHED);
  /* Freeing after a failed init is safe (no table was made). */
  amz__sched_free(&s);
  CU_ASSERT_PTR_NULL(s.bounds);
}

static void test_preassigned_is_static_and_cyclic_only(void) {
  CU_ASSERT_TRUE(amz__sched_preassigned(AMZ_SCHED_STATIC));
  CU_ASSERT_TRUE(amz__sched_preassigned(AMZ_SCHED_CYCLIC));
  CU_ASSERT_FALSE(amz__sched_preassigned(AMZ_SCHED_DYNAMIC));
  CU_ASSERT_FALSE(amz__sched_preassigned(AMZ_SCHED_GUIDED));
  CU_ASSERT_FALSE(amz__sched_preassigned(AMZ_SCHED_FACTORING));
  CU_ASSERT_FALSE(amz__sched_preassigned(AMZ_SCHED_AWF));
}

/* ---- static blocks with a way out (amz__steal_sim) ---- */

/* Item i costs 1, but item `giant` costs `big`. */
typedef struct unit_costs {
  uint64_t giant;
  double big;
} unit_costs_t;

static double unit_cost(const void *ctx, uint64_t b, uint64_t e) {
  const unit_costs_t *u = ctx;
  double c = (double)(e - b);
  if (u->giant >= b && u->giant < e) c += u->big - 1.0;
  return c;
}

static void test_steal_pieces_and_takes(void) {
  CU_ASSERT_EQUAL(amz__steal_piece(0), 0);
  CU_ASSERT_EQUAL(amz__steal_piece(1), 1);
  CU_ASSERT_EQUAL(amz__steal_piece(8), 1);
  CU_ASSERT_EQUAL(amz__steal_piece(9), 2);
  CU_ASSERT_EQUAL(amz__steal_piece(1000), 125);
  CU_ASSERT_EQUAL(amz__steal_take(1), 1);
  CU_ASSERT_EQUAL(amz__steal_take(7), 4);
  CU_ASSERT_EQUAL(amz__steal_pieces(0), 0);
  CU_ASSERT_EQUAL(amz__steal_pieces(1), 1);
  CU_ASSERT_EQUAL(amz__steal_pieces(8), 8);
  /* Pieces of 1/8 of what is left: about 7.5 ln(n) + 8 of them. */
  uint64_t k = amz__steal_pieces(UINT64_MAX);
  CU_ASSERT(k > 300 && k < 400);
}

static void test_steal_sim_even_workers_keep_their_blocks(void) {
  unit_costs_t u = {UINT64_MAX, 1.0};
  uint64_t b[4] = {0, 250, 500, 750}, e[4] = {250, 500, 750, 1000};
  double fin[4], pieces[4];
  CU_ASSERT_EQUAL_FATAL(amz__steal_sim(4, b, e, NULL, NULL, 0.5, unit_cost, &u, fin, pieces), 0);
  for (int w = 0; w < 4; w++) {
    CU_ASSERT_DOUBLE_EQUAL(pieces[w], (double)amz__steal_pieces(250), 0.0);
    CU_ASSERT_DOUBLE_EQUAL(fin[w], 250.0 + 0.5 * pieces[w], 1e-9);
  }
  CU_ASSERT_EQUAL(amz__steal_sim(0, b, e, NULL, NULL, 0.5, unit_cost, &u, fin, pieces),
                  AMZ_EINVAL);
  /* One worker alone: its block in one piece. */
  CU_ASSERT_EQUAL_FATAL(amz__steal_sim(1, b, e, NULL, NULL, 0.5, unit_cost, &u, fin, pieces), 0);
  CU_ASSERT_DOUBLE_EQUAL(pieces[0], 1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(fin[0], 250.5, 1e-9);
}

static void test_steal_sim_follows_a_slow_worker(void) {
  /* 1000 items of cost 1, worker 1 at a quarter speed: fixed blocks would end at
   * 500 / 0.25 = 2000; the ideal is 1000 / 1.25 = 800. */
  unit_costs_t u = {UINT64_MAX, 1.0};
  uint64_t b[2] = {0, 500}, e[2] = {500, 1000};
  double speed[2] = {1.0, 0.25}, t0[2] = {0.0, 0.0}, fin[2], pieces[2];
  CU_ASSERT_EQUAL_FATAL(amz__steal_sim(2, b, e, t0, speed, 0.0, unit_cost, &u, fin, pieces), 0);
  double end = fin[0] > fin[1] ? fin[0] : fin[1];
  CU_ASSERT(end >= 800.0 && end < 830.0);
  /* The fast worker ran its block and took from the slow one's. */
  CU_ASSERT(pieces[0] > (double)amz__steal_pieces(500));
  /* A late start counts: worker 1 starting at 100 at full speed. */
  speed[1] = 1.0;
  t0[1] = 100.0;
  CU_ASSERT_EQUAL_FATAL(amz__steal_sim(2, b, e, t0, speed, 0.0, unit_cost, &u, fin, pieces), 0);
  end = fin[0] > fin[1] ? fin[0] : fin[1];
  CU_ASSERT(end >= 550.0 && end < 560.0);
}

static void test_steal_sim_many_workers_fluid(void) {
  /* Above AMZ__STEAL_SIM_MAX workers, the fluid limit: 100 workers with blocks of
   * 100 items of cost 1, one at a quarter speed, end together at 10000 / 99.25
   * plus the pieces of a block. */
  enum { W = 100 };
  unit_costs_t u = {UINT64_MAX, 1.0};
  uint64_t b[W], e[W];
  double speed[W], fin[W], pieces[W];
  for (int w = 0; w < W; w++) b[w] = 100 * (uint64_t)w, e[w] = b[w] + 100, speed[w] = 1.0;
  speed[7] = 0.25;
  CU_ASSERT_EQUAL_FATAL(amz__steal_sim(W, b, e, NULL, speed, 0.5, unit_cost, &u, fin, pieces), 0);
  double want = 10000.0 / 99.25 + 0.5 * (double)amz__steal_pieces(100);
  for (int w = 0; w < W; w++) CU_ASSERT_DOUBLE_EQUAL(fin[w], want, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(pieces[0], (double)amz__steal_pieces(100), 0.0);
}

static void test_steal_sim_works_around_a_giant_item(void) {
  /* 2001 items of cost 1 but item 0, which costs 1000 (a third of the work): its
   * worker's first piece, [0, 126), costs 1125 and holds it; the other worker runs
   * its own block and then the rest of the giant's block. Fixed blocks: 2000. */
  unit_costs_t u = {0, 1000.0};
  uint64_t b[2] = {0, 1001}, e[2] = {1001, 2001};
  double fin[2], pieces[2];
  CU_ASSERT_EQUAL_FATAL(amz__steal_sim(2, b, e, NULL, NULL, 0.0, unit_cost, &u, fin, pieces), 0);
  double end = fin[0] > fin[1] ? fin[0] : fin[1];
  CU_ASSERT(end >= 1500.0 && end < 1520.0);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("schedule", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "every schedule tiles [0, n) on the grid",
              test_every_schedule_tiles_the_range_on_the_grid);
  CU_add_test(s, "chunk counts match the formulas on the grid",
              test_chunk_counts_match_the_formulas_on_the_grid);
  CU_add_test(s, "static blocks are balanced on the grid",
              test_static_blocks_are_balanced_on_the_grid);
  CU_add_test(s, "fixed-chunk schedules cut equal chunks but the last",
              test_fixed_chunk_schedules_cut_equal_chunks_but_the_last);
  CU_add_test(s, "guided and factoring follow their formulas on the grid",
              test_guided_and_factoring_follow_their_formulas_on_the_grid);
  CU_add_test(s, "guided exact sequences", test_guided_exact_sequences);
  CU_add_test(s, "factoring exact sequences", test_factoring_exact_sequences);
  CU_add_test(s, "static exact sequences", test_static_exact_sequences);
  CU_add_test(s, "static: the first n % P blocks get the extra items",
              test_static_first_blocks_get_the_extra_items);
  CU_add_test(s, "cyclic and dynamic exact sequences", test_cyclic_and_dynamic_exact_sequences);
  CU_add_test(s, "an empty range has no chunks", test_empty_range_has_no_chunks);
  CU_add_test(s, "huge n: static, cyclic, dynamic computed without tables",
              test_huge_n_fixed_schedules_without_tables);
  CU_add_test(s, "huge n: guided and factoring tables stay short",
              test_huge_n_guided_and_factoring_tables_stay_short);
  CU_add_test(s, "AWF sizes cover the range", test_awf_sizes_cover_the_range);
  CU_add_test(s, "AWF sizes scale with weight", test_awf_sizes_scale_with_weight);
  CU_add_test(s, "AWF sizes respect min chunk and remaining",
              test_awf_sizes_respect_min_chunk_and_remaining);
  CU_add_test(s, "init rejects bad arguments", test_init_rejects_bad_arguments);
  CU_add_test(s, "preassigned is static and cyclic only",
              test_preassigned_is_static_and_cyclic_only);
  CU_add_test(s, "static way out: pieces and takes", test_steal_pieces_and_takes);
  CU_add_test(s, "static way out: even workers keep their blocks",
              test_steal_sim_even_workers_keep_their_blocks);
  CU_add_test(s, "static way out: follows a slow worker", test_steal_sim_follows_a_slow_worker);
  CU_add_test(s, "static way out: many workers, the fluid limit", test_steal_sim_many_workers_fluid);
  CU_add_test(s, "static way out: works around a giant item",
              test_steal_sim_works_around_a_giant_item);
  return amz_test_run();
}
