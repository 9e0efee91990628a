/*
 * The vector loops of fleetchat's GroupQueryAttention kernel (see gqa_simd.h): AVX2/FMA dot products (four keys per
 * step), axpys and exp, and for a float16 cache the same loops loading eight halves at a time through F16C
 * (_mm256_cvtph_ps) — half the bytes of the cache streamed per step. Plain C where the CPU lacks them.
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
/* out[0..3] = a · k[0..3] where the four keys follow each other (stride n); n a multiple of 8; LOAD reads 8 keys' values */
#define DOT4_BODY(LOAD)                                                                                   \
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps(); \
  for (int i = 0; i < n; i += 8) {                                                                        \
    const __m256 q = _mm256_loadu_ps(a + i);                                                              \
    s0 = _mm256_fmadd_ps(q, LOAD(k + i), s0);                                                             \
    s1 = _mm256_fmadd_ps(q, LOAD(k + n + i), s1);                                                         \
    s2 = _mm256_fmadd_ps(q, LOAD(k + 2 * n + i), s2);                                                     \
    s3 = _mm256_fmadd_ps(q, LOAD(k + 3 * n + i), s3);                                                     \
  }                                                                                                       \
  store4(out, s0, s1, s2, s3);
#define LOADH(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
AVX2 static void dot4_avx2(float *out, const float *a, const float *k, int n) { DOT4_BODY(_mm256_loadu_ps) }
/* the same over four float16 keys */
F16C static void dot4_f16c(float *out, const float *a, const uint16_t *k, int n) { DOT4_BODY(LOADH) }
/* out[0..63] = sum over t < len of p[t] · v[t][0..63] (head dim 64: the accumulator stays in registers) */
#define PV64_BODY(LOAD)                                                                  \
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0; \
  for (int64_t t = 0; t < len; t++) {                                                    \
    const __m256 w = _mm256_broadcast_ss(p + t);                                         \
    a0 = _mm256_fmadd_ps(w, LOAD(v + t * 64), a0);                                       \
    a1 = _mm256_fmadd_ps(w, LOAD(v + t * 64 + 8), a1);                                   \
    a2 = _mm256_fmadd_ps(w, LOAD(v + t * 64 + 16), a2);                                  \
    a3 = _mm256_fmadd_ps(w, LOAD(v + t * 64 + 24), a3);                                  \
    a4 = _mm256_fmadd_ps(w, LOAD(v + t * 64 + 32), a4);                                  \
    a5 = _mm256_fmadd_ps(w, LOAD(v + t * 64 + 40), a5);                                  \
    a6 = _mm256_fmadd_ps(w, LOAD(v + t * 64 + 48), a6);                                  \
    a7 = _mm256_fmadd_ps(w, LOAD(v + t * 64 + 56), a7);                                  \
  }                                                                                      \
  const __m256 acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};                                \
  for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + 8 * i, acc[i]);
AVX2 static void pv64_avx2(float *out, const float *p, const float *v, int64_t len) { PV64_BODY(_mm256_loadu_ps) }
F16C static void pv64_f16c(float *out, const float *p, const uint16_t *v, int64_t len) { PV64_BODY(LOADH) }
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

void gqa_scores(float *scores, const float *qs, int64_t group, const void *kc, int half, int64_t len, int64_t d, float *tmp) {
  int64_t t = 0;
#if defined(__x86_64__)
  if ((half ? g_f16c : g_avx2) && d % 8 == 0) {
    float four[4];
    for (; t + 4 <= len; t += 4)
      for (int64_t g = 0; g < group; g++) {
        if (half) dot4_f16c(four, qs + g * d, (const uint16_t *)kc + t * d, (int)d);
        else dot4_avx2(four, qs + g * d, (const float *)kc + t * d, (int)d);
        memcpy(scores + g * len + t, four, sizeof four);
      }
  }
#endif
  for (; t < len; t++) {
    const float *k = row_of(kc, half, t, d, tmp);
    for (int64_t g = 0; g < group; g++) scores[g * len + t] = dot(qs + g * d, k, (int)d);
  }
}

void gqa_weighted_values(float *acc, const float *scores, int64_t group, const void *vc, int half, int64_t len, int64_t d, float *tmp) {
#if defined(__x86_64__)
  if ((half ? g_f16c : g_avx2) && d == 64) {
    for (int64_t g = 0; g < group; g++) {
      if (half) pv64_f16c(acc + g * d, scores + g * len, (const uint16_t *)vc, len);
      else pv64_avx2(acc + g * d, scores + g * len, (const float *)vc, len);
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
