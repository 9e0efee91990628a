/*
 * The vector loops of fleetchat's GroupQueryAttention kernel (see gqa_simd.h): AVX2/FMA scores and weighted values
 * that take the query heads of a group (up to three at a time) together, so that each cached key and value is loaded
 * once per group, and exp; for a float16 cache the same loops load eight halves at a time through F16C
 * (_mm256_cvtph_ps) — half the bytes of the cache streamed per step, each converted once. Plain C where the CPU lacks
 * them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gqa_simd.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static int g_avx2 = -1, g_f16c = 0;

void gqa_simd_init(void) {
  if (g_avx2 >= 0) return;
#if defined(__x86_64__)
  __builtin_cpu_init();
  const int scalar = getenv("FLEETCHAT_GQA_SCALAR") != NULL;
  g_f16c = !scalar && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  g_avx2 = !scalar && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  g_avx2 = 0;
#endif
}

/* ---- IEEE half, plain C (round to nearest even, as F16C's _MM_FROUND_TO_NEAREST_INT) ---- */
static uint16_t to_half_c(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  const uint32_t sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u)); /* inf, nan */
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);                                     /* rounds past 65504 */
  if (a < 0x38800000u) {                                                                       /* below 2^-14: subnormal */
    float v;
    memcpy(&v, &a, sizeof v);
    return (uint16_t)(sign | (uint32_t)lrintf(v * 16777216.f)); /* exact scaling, rounded to nearest even */
  }
  const uint32_t r = a - 0x38000000u; /* rebias the exponent (127 - 15) */
  return (uint16_t)(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
}
static float from_half_c(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {
    const float v = ldexpf((float)m, -24);
    return sign ? -v : v;
  }
  const uint32_t x = sign | (e == 31 ? 0x7f800000u | (m << 13) : ((e + 112u) << 23) | (m << 13));
  float f;
  memcpy(&f, &x, sizeof f);
  return f;
}

static float dot_c(const float *a, const float *b, int n) {
  float s = 0.f;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
static void axpy_c(float *y, float a, const float *x, int n) {
  for (int i = 0; i < n; i++) y[i] += a * x[i];
}
static float max_c(const float *x, int n) {
  float m = x[0];
  for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}
static float exp_sum_c(float *x, int n, float max) {
  float s = 0.f;
  for (int i = 0; i < n; i++) s += (x[i] = expf(x[i] - max));
  return s;
}

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))
#define F16C __attribute__((target("avx2,fma,f16c")))
AVX2 static float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
AVX2 static float dot_avx2(const float *a, const float *b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum8(_mm256_add_ps(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}
AVX2 static void store4(float *out, __m256 s0, __m256 s1, __m256 s2, __m256 s3) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}
#define LOADH(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
/* the loops over a group's heads and a row's 32 values, unrolled so that the accumulators live in registers */
#define UNROLL _Pragma("GCC unroll 4")
/* Scores of G (1..3) query heads against keys t and t + 1: each key's eight values are loaded (and, from a float16
 * cache, converted) once for all the heads of the group: a conversion per head bounded a half cache's step. */
#define SCORES2_BODY(LOAD, PREFETCH)                                                                                 \
  __m256 acc[3][2];                                                                                                  \
  UNROLL for (int g = 0; g < G; g++) acc[g][0] = acc[g][1] = _mm256_setzero_ps();                                    \
  PREFETCH                                                                                                           \
  for (int i = 0; i < d; i += 8) {                                                                                   \
    const __m256 x0 = LOAD(k + i), x1 = LOAD(k + d + i);                                                             \
    UNROLL for (int g = 0; g < G; g++) {                                                                             \
      const __m256 q = _mm256_loadu_ps(qs + g * d + i);                                                              \
      acc[g][0] = _mm256_fmadd_ps(q, x0, acc[g][0]);                                                                 \
      acc[g][1] = _mm256_fmadd_ps(q, x1, acc[g][1]);                                                                 \
    }                                                                                                                \
  }                                                                                                                  \
  float four[4];                                                                                                     \
  UNROLL for (int g = 0; g < G; g += 2) {                                                                            \
    const __m256 z = _mm256_setzero_ps();                                                                            \
    store4(four, acc[g][0], acc[g][1], g + 1 < G ? acc[g + 1][0] : z, g + 1 < G ? acc[g + 1][1] : z);                \
    out[g * len] = four[0], out[g * len + 1] = four[1];                                                              \
    if (g + 1 < G) out[(g + 1) * len] = four[2], out[(g + 1) * len + 1] = four[3];                                   \
  }
#define INLINE __attribute__((always_inline)) inline
/* a half cache's keys sixteen rows ahead (its compute no longer hides memory's latency; a float32 cache's does) */
#define PREFETCH_KEYS                                                                                                \
  for (int i = 0; i < d; i += 32)                                                                                    \
    _mm_prefetch((const char *)(k + 16 * d + i), _MM_HINT_T0), _mm_prefetch((const char *)(k + 17 * d + i), _MM_HINT_T0);
AVX2 static INLINE void scores2_f32(float *out, const float *qs, int G, const float *k, int d, int64_t len) { SCORES2_BODY(_mm256_loadu_ps, ) }
F16C static INLINE void scores2_f16(float *out, const float *qs, int G, const uint16_t *k, int d, int64_t len) { SCORES2_BODY(LOADH, PREFETCH_KEYS) }
/* The group's size as a constant at each call (1, 2 or 3): the inlined loops then keep their accumulators in registers. */
#define BY_GROUP(group, CALL)                                                                                        \
  do {                                                                                                               \
    if ((group) == 1) CALL(1);                                                                                       \
    else if ((group) == 2) CALL(2);                                                                                  \
    else CALL(3);                                                                                                    \
  } while (0)
/* keys [0, len & ~1), two at a time */
#define SCORES_CALLS(FN, T, G)                                                                                       \
  for (int64_t t = 0; t + 2 <= len; t += 2) FN(scores + t, qs, G, (const T *)kc + t * d, d, len)
#define SCORES_F32(G) SCORES_CALLS(scores2_f32, float, G)
#define SCORES_F16(G) SCORES_CALLS(scores2_f16, uint16_t, G)
AVX2 static void scores_f32(float *scores, const float *qs, int group, const void *kc, int64_t len, int d) { BY_GROUP(group, SCORES_F32); }
F16C static void scores_f16(float *scores, const float *qs, int group, const void *kc, int64_t len, int d) { BY_GROUP(group, SCORES_F16); }
/* acc[g * d + c .. + 31] = sum over t < len of p[g * len + t] · v_t[c .. c + 31] for G (1..3) heads: each value row's
 * 32 values loaded (converted) once for the group; twelve accumulators in registers */
#define PV32_BODY(LOAD)                                                                                              \
  __m256 a[3][4];                                                                                                    \
  UNROLL for (int g = 0; g < G; g++) a[g][0] = a[g][1] = a[g][2] = a[g][3] = _mm256_setzero_ps();                    \
  for (int64_t t = 0; t < len; t++) {                                                                                \
    __m256 w[3];                                                                                                     \
    UNROLL for (int g = 0; g < G; g++) w[g] = _mm256_broadcast_ss(p + g * len + t);                                  \
    UNROLL for (int j = 0; j < 4; j++) {                                                                             \
      const __m256 x = LOAD(v + t * d + c + 8 * j);                                                                  \
      UNROLL for (int g = 0; g < G; g++) a[g][j] = _mm256_fmadd_ps(w[g], x, a[g][j]);                                \
    }                                                                                                                \
  }                                                                                                                  \
  UNROLL for (int g = 0; g < G; g++)                                                                                 \
    UNROLL for (int j = 0; j < 4; j++) _mm256_storeu_ps(acc + g * d + c + 8 * j, a[g][j]);
AVX2 static INLINE void pv32_f32(float *acc, const float *p, int G, const float *v, int64_t len, int d, int c) { PV32_BODY(_mm256_loadu_ps) }
F16C static INLINE void pv32_f16(float *acc, const float *p, int G, const uint16_t *v, int64_t len, int d, int c) { PV32_BODY(LOADH) }
/* the head dimension in runs of 32 values */
#define PV_CALLS(FN, T, G) for (int c = 0; c < d; c += 32) FN(acc, p, G, (const T *)vc, len, d, c)
#define PV_F32(G) PV_CALLS(pv32_f32, float, G)
#define PV_F16(G) PV_CALLS(pv32_f16, uint16_t, G)
AVX2 static void pv_f32(float *acc, const float *p, int group, const void *vc, int64_t len, int d) { BY_GROUP(group, PV_F32); }
F16C static void pv_f16(float *acc, const float *p, int group, const void *vc, int64_t len, int d) { BY_GROUP(group, PV_F16); }
AVX2 static void axpy_avx2(float *y, float a, const float *x, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] += a * x[i];
}
/* exp for x <= 0 (Cephes' expf polynomial, ~1 ulp), 8 lanes */
AVX2 static __m256 exp8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}
AVX2 static float max_avx2(const float *x, int n) {
  float m = x[0];
  int i = 0;
  if (n >= 8) {
    __m256 v = _mm256_loadu_ps(x);
    for (i = 8; i + 8 <= n; i += 8) v = _mm256_max_ps(v, _mm256_loadu_ps(x + i));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    m = _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
  }
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}
AVX2 static float exp_sum_avx2(float *x, int n, float max) {
  const __m256 m = _mm256_set1_ps(max);
  __m256 s = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(x + i, e);
    s = _mm256_add_ps(s, e);
  }
  float sum = hsum8(s);
  for (; i < n; i++) sum += (x[i] = expf(x[i] - max));
  return sum;
}
F16C static void to_half_f16c(uint16_t *dst, const float *src, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++) dst[i] = to_half_c(src[i]);
}
F16C static void from_half_f16c(float *dst, const uint16_t *src, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, LOADH(src + i));
  for (; i < n; i++) dst[i] = from_half_c(src[i]);
}
#endif

void gqa_to_half(uint16_t *dst, const float *src, int64_t n) {
#if defined(__x86_64__)
  if (g_f16c) {
    to_half_f16c(dst, src, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++) dst[i] = to_half_c(src[i]);
}

void gqa_from_half(float *dst, const uint16_t *src, int64_t n) {
#if defined(__x86_64__)
  if (g_f16c) {
    from_half_f16c(dst, src, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++) dst[i] = from_half_c(src[i]);
}

static float dot(const float *a, const float *b, int n) {
#if defined(__x86_64__)
  if (g_avx2) return dot_avx2(a, b, n);
#endif
  return dot_c(a, b, n);
}
static void axpy(float *y, float a, const float *x, int n) {
#if defined(__x86_64__)
  if (g_avx2) {
    axpy_avx2(y, a, x, n);
    return;
  }
#endif
  axpy_c(y, a, x, n);
}

float gqa_max(const float *x, int n) {
#if defined(__x86_64__)
  if (g_avx2) return max_avx2(x, n);
#endif
  return max_c(x, n);
}

float gqa_exp_sum(float *x, int n, float max) {
#if defined(__x86_64__)
  if (g_avx2) return exp_sum_avx2(x, n, max);
#endif
  return exp_sum_c(x, n, max);
}

/* key or value row t as float32: the cache's own memory, or converted into tmp */
static const float *row_of(const void *cache, int half, int64_t t, int64_t d, float *tmp) {
  if (!half) return (const float *)cache + t * d;
  gqa_from_half(tmp, (const uint16_t *)cache + t * d, d);
  return tmp;
}

/* the group's heads in chunks of at most three (the vector loops' accumulators fit the sixteen registers) */
static int64_t chunk_of(int64_t group, int64_t g) { return group - g > 3 ? (group - g == 4 ? 2 : 3) : group - g; }

void gqa_scores(float *scores, const float *qs, int64_t group, const void *kc, int half, int64_t len, int64_t d, float *tmp) {
  int64_t t = 0;
#if defined(__x86_64__)
  if ((half ? g_f16c : g_avx2) && d % 8 == 0) {
    for (int64_t g = 0; g < group; g += chunk_of(group, g)) {
      if (half) scores_f16(scores + g * len, qs + g * d, (int)chunk_of(group, g), kc, len, (int)d);
      else scores_f32(scores + g * len, qs + g * d, (int)chunk_of(group, g), kc, len, (int)d);
    }
    t = len & ~(int64_t)1;
  }
#endif
  for (; t < len; t++) {
    const float *k = row_of(kc, half, t, d, tmp);
    for (int64_t g = 0; g < group; g++) scores[g * len + t] = dot(qs + g * d, k, (int)d);
  }
}

void gqa_weighted_values(float *acc, const float *scores, int64_t group, const void *vc, int half, int64_t len, int64_t d, float *tmp) {
#if defined(__x86_64__)
  if ((half ? g_f16c : g_avx2) && d % 32 == 0) {
    for (int64_t g = 0; g < group; g += chunk_of(group, g)) {
      if (half) pv_f16(acc + g * d, scores + g * len, (int)chunk_of(group, g), vc, len, (int)d);
      else pv_f32(acc + g * d, scores + g * len, (int)chunk_of(group, g), vc, len, (int)d);
    }
    return;
  }
#endif
  memset(acc, 0, group * d * sizeof(float));
  for (int64_t t = 0; t < len; t++) {
    const float *v = row_of(vc, half, t, d, tmp);
    for (int64_t g = 0; g < group; g++) axpy(acc + g * d, scores[g * len + t], v, (int)d);
  }
}
