/*
 * fleetchat's CPU kernel for com.microsoft GroupQueryAttention, registered through onnxruntime's custom-op C API on
 * the addon's CPU sessions when asked (createSession's `attention` argument "fleetchat"): the fused graphs keep
 * their standard contrib node, only the kernel that runs it changes.
 *
 * Why: onnxruntime's CPU kernel computes each query head on its own (q·Kᵀ through MLAS, softmax, P·V), so every
 * KV head's keys and values are read once per query head — three times per step for SmolLM2's 9 query / 3 KV heads —
 * and, with a scale other than 1, MLAS copies (packs) the keys before the one-row product. This kernel walks each KV
 * head's cache once per query row for all the query heads that share it (scores for the group, a softmax, then one
 * pass over the values), with AVX2/FMA dot products, axpys and exp where the CPU has them.
 *
 * Semantics are onnxruntime's for the subset the fused graphs use: packed q|k|v input ([batch, seq, (heads +
 * 2 kvHeads) × headDim]) or separate query / key / value inputs, a past/present cache of fixed capacity [batch, kvHeads, capacity, headDim] (the same
 * memory when the caller binds it so; copied first otherwise), rotary embedding inside (cos/sin tables
 * [positions, rotaryDim / 2], rotary dim = head dim, interleaved or not), float32. Per row b: total = seqlens_k[b] + 1
 * positions after this pass; a first prompt (sequence length > 1 and equal to total_sequence_length) starts at
 * position 0, any other pass at total - sequence length; the new keys and values are written at those positions and
 * query row s attends causally to positions 0 .. past + s (never past total). Anything else (local window, softcap,
 * smooth softmax, float16) is refused when the session is created, with an error naming it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ort_api.h"
#include "gqa_cpu.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct OrtKernelInfo OrtKernelInfo;
typedef struct OrtKernelContext OrtKernelContext;

/* onnxruntime's OrtCustomOp (onnxruntime_c_api.h), fields in order; `version` tells it which ones exist. */
typedef struct OrtCustomOp {
  uint32_t version;
  void *(*CreateKernel)(const struct OrtCustomOp *op, const OrtApi *api, const OrtKernelInfo *info);
  const char *(*GetName)(const struct OrtCustomOp *op);
  const char *(*GetExecutionProviderType)(const struct OrtCustomOp *op);
  int (*GetInputType)(const struct OrtCustomOp *op, size_t index);
  size_t (*GetInputTypeCount)(const struct OrtCustomOp *op);
  int (*GetOutputType)(const struct OrtCustomOp *op, size_t index);
  size_t (*GetOutputTypeCount)(const struct OrtCustomOp *op);
  void (*KernelCompute)(void *kernel, OrtKernelContext *context);
  void (*KernelDestroy)(void *kernel);
  int (*GetInputCharacteristic)(const struct OrtCustomOp *op, size_t index);
  int (*GetOutputCharacteristic)(const struct OrtCustomOp *op, size_t index);
  int (*GetInputMemoryType)(const struct OrtCustomOp *op, size_t index);
  int (*GetVariadicInputMinArity)(const struct OrtCustomOp *op);
  int (*GetVariadicInputHomogeneity)(const struct OrtCustomOp *op);
  int (*GetVariadicOutputMinArity)(const struct OrtCustomOp *op);
  int (*GetVariadicOutputHomogeneity)(const struct OrtCustomOp *op);
  OrtStatus *(*CreateKernelV2)(const struct OrtCustomOp *op, const OrtApi *api, const OrtKernelInfo *info, void **kernel);
  OrtStatus *(*KernelComputeV2)(void *kernel, OrtKernelContext *context);
  void *InferOutputShapeFn; /* version 17 and later: not offered */
  void *GetStartVersion;
  void *GetEndVersion;
} OrtCustomOp;

/* Custom-op API version: CreateKernelV2 / KernelComputeV2 (errors as statuses) exist from 16. */
#define GQA_OP_VERSION 16
enum { ORT_FAIL = 1, ORT_INVALID_ARGUMENT = 2, IO_REQUIRED = 0, IO_OPTIONAL = 1 };
enum { IN_QUERY, IN_KEY, IN_VALUE, IN_PAST_KEY, IN_PAST_VALUE, IN_SEQLENS, IN_TOTAL, IN_COS, IN_SIN, N_INPUTS };

#define FN(idx, ret, ...) ((ret(*)(__VA_ARGS__))api->fn[idx])

typedef struct {
  const OrtApi *api;
  int64_t heads, kv_heads;
  float scale; /* 0: 1 / sqrt(head dim) */
  int rotary, interleaved;
} Kernel;

static OrtStatus *fail(const OrtApi *api, int code, const char *fmt, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, what);
  return FN(I_CreateStatus, OrtStatus *, int, const char *)(code, msg);
}

static int64_t attr_int(const OrtApi *api, const OrtKernelInfo *info, const char *name, int64_t fallback) {
  int64_t v = fallback;
  OrtStatus *st = FN(I_KernelInfoGetAttribute_int64, OrtStatus *, const OrtKernelInfo *, const char *, int64_t *)(info, name, &v);
  if (st) {
    FN(I_ReleaseStatus, void, OrtStatus *)(st);
    return fallback;
  }
  return v;
}

static float attr_float(const OrtApi *api, const OrtKernelInfo *info, const char *name, float fallback) {
  float v = fallback;
  OrtStatus *st = FN(I_KernelInfoGetAttribute_float, OrtStatus *, const OrtKernelInfo *, const char *, float *)(info, name, &v);
  if (st) {
    FN(I_ReleaseStatus, void, OrtStatus *)(st);
    return fallback;
  }
  return v;
}

/* ---- vector helpers: AVX2/FMA where the CPU has them, plain C otherwise ---- */
static int g_avx2 = -1;

static float dot_c(const float *a, const float *b, int n) {
  float s = 0.f;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
static void axpy_c(float *y, float a, const float *x, int n) {
  for (int i = 0; i < n; i++) y[i] += a * x[i];
}
/* x[i] = exp(x[i] - max), returns the sum */
static float exp_sum_c(float *x, int n, float max) {
  float s = 0.f;
  for (int i = 0; i < n; i++) s += (x[i] = expf(x[i] - max));
  return s;
}

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))
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
/* out[0..3] = a · k[0..3] where the four keys follow each other (stride n); n a multiple of 8 */
AVX2 static void dot4_avx2(float *out, const float *a, const float *k, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) {
    const __m256 q = _mm256_loadu_ps(a + i);
    s0 = _mm256_fmadd_ps(q, _mm256_loadu_ps(k + i), s0);
    s1 = _mm256_fmadd_ps(q, _mm256_loadu_ps(k + n + i), s1);
    s2 = _mm256_fmadd_ps(q, _mm256_loadu_ps(k + 2 * n + i), s2);
    s3 = _mm256_fmadd_ps(q, _mm256_loadu_ps(k + 3 * n + i), s3);
  }
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}
/* out[0..63] = sum over t < len of p[t] · v[t][0..63] (head dim 64: the accumulator stays in registers) */
AVX2 static void pv64_avx2(float *out, const float *p, const float *v, int64_t len) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (int64_t t = 0; t < len; t++) {
    const __m256 w = _mm256_broadcast_ss(p + t);
    const float *r = v + t * 64;
    a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r), a0);
    a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 8), a1);
    a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 16), a2);
    a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 24), a3);
    a4 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 32), a4);
    a5 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 40), a5);
    a6 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 48), a6);
    a7 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 56), a7);
  }
  _mm256_storeu_ps(out, a0);
  _mm256_storeu_ps(out + 8, a1);
  _mm256_storeu_ps(out + 16, a2);
  _mm256_storeu_ps(out + 24, a3);
  _mm256_storeu_ps(out + 32, a4);
  _mm256_storeu_ps(out + 40, a5);
  _mm256_storeu_ps(out + 48, a6);
  _mm256_storeu_ps(out + 56, a7);
}
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
#endif

static int use_avx2(void) {
  if (g_avx2 < 0) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    g_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && getenv("FLEETCHAT_GQA_SCALAR") == NULL;
#else
    g_avx2 = 0;
#endif
  }
  return g_avx2;
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
static float exp_sum(float *x, int n, float max) {
#if defined(__x86_64__)
  if (g_avx2) return exp_sum_avx2(x, n, max);
#endif
  return exp_sum_c(x, n, max);
}

/* scores[g * len + t] = q_g · k_t for the `group` query vectors and keys 0 .. len - 1 */
static void scores_of(float *scores, const float *qs, int64_t group, const float *kc, int64_t len, int64_t d) {
  int64_t t = 0;
#if defined(__x86_64__)
  if (g_avx2 && d % 8 == 0) {
    float four[4];
    for (; t + 4 <= len; t += 4)
      for (int64_t g = 0; g < group; g++) {
        dot4_avx2(four, qs + g * d, kc + t * d, (int)d);
        memcpy(scores + g * len + t, four, sizeof four);
      }
  }
#endif
  for (; t < len; t++)
    for (int64_t g = 0; g < group; g++) scores[g * len + t] = dot(qs + g * d, kc + t * d, (int)d);
}

/* acc[g * d ..] = sum over t of p_g[t] · v_t (unnormalised) */
static void weighted_values(float *acc, const float *scores, int64_t group, const float *vc, int64_t len, int64_t d) {
#if defined(__x86_64__)
  if (g_avx2 && d == 64) {
    for (int64_t g = 0; g < group; g++) pv64_avx2(acc + g * d, scores + g * len, vc, len);
    return;
  }
#endif
  memset(acc, 0, group * d * sizeof(float));
  for (int64_t t = 0; t < len; t++)
    for (int64_t g = 0; g < group; g++) axpy(acc + g * d, scores[g * len + t], vc + t * d, (int)d);
}

/* out = x rotated by position `pos` (cos/sin rows of half = d / 2 values), times `mul` */
static void rotate(float *out, const float *x, int d, const float *cos, const float *sin, int interleaved, float mul) {
  const int half = d / 2;
  for (int i = 0; i < half; i++) {
    const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
    const float x1 = x[a], x2 = x[b];
    out[a] = (x1 * cos[i] - x2 * sin[i]) * mul;
    out[b] = (x2 * cos[i] + x1 * sin[i]) * mul;
  }
}

typedef struct {
  const float *data;
  int64_t dims[4];
  size_t rank;
} View;

static OrtStatus *view(const OrtApi *api, const OrtValue *v, View *out) {
  OrtTensorTypeAndShapeInfo *info = NULL;
  OrtStatus *st = FN(I_GetTensorTypeAndShape, OrtStatus *, const OrtValue *, OrtTensorTypeAndShapeInfo **)(v, &info);
  if (st) return st;
  st = FN(I_GetDimensionsCount, OrtStatus *, const OrtTensorTypeAndShapeInfo *, size_t *)(info, &out->rank);
  if (!st && out->rank > 4) st = fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): an input of rank > 4%s", "");
  if (!st) st = FN(I_GetDimensions, OrtStatus *, const OrtTensorTypeAndShapeInfo *, int64_t *, size_t)(info, out->dims, out->rank);
  FN(I_ReleaseTensorTypeAndShapeInfo, void, OrtTensorTypeAndShapeInfo *)(info);
  if (st) return st;
  void *data = NULL;
  st = FN(I_GetTensorMutableData, OrtStatus *, OrtValue *, void **)((OrtValue *)v, &data);
  out->data = (const float *)data;
  return st;
}

static OrtStatus *input(const OrtApi *api, OrtKernelContext *ctx, size_t i, View *out, const char *name) {
  const OrtValue *v = NULL;
  OrtStatus *st = FN(I_KernelContext_GetInput, OrtStatus *, const OrtKernelContext *, size_t, const OrtValue **)(ctx, i, &v);
  if (st) return st;
  if (!v) return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): input %s is required", name);
  return view(api, v, out);
}

static OrtStatus *output(const OrtApi *api, OrtKernelContext *ctx, size_t i, const int64_t *dims, size_t rank, float **out) {
  OrtValue *v = NULL;
  OrtStatus *st = FN(I_KernelContext_GetOutput, OrtStatus *, OrtKernelContext *, size_t, const int64_t *, size_t, OrtValue **)(ctx, i, dims, rank, &v);
  if (st) return st;
  void *data = NULL;
  st = FN(I_GetTensorMutableData, OrtStatus *, OrtValue *, void **)(v, &data);
  *out = (float *)data;
  return st;
}

static OrtStatus *compute(void *handle, OrtKernelContext *ctx) {
  const Kernel *k = (const Kernel *)handle;
  const OrtApi *api = k->api;
  View q, kin = {0}, vin = {0}, pk, pv, sl, tl, cs = {0}, sn = {0};
  OrtStatus *st;
  const OrtValue *key = NULL;
  if ((st = FN(I_KernelContext_GetInput, OrtStatus *, const OrtKernelContext *, size_t, const OrtValue **)(ctx, IN_KEY, &key))) return st;
  if (key && ((st = view(api, key, &kin)) || (st = input(api, ctx, IN_VALUE, &vin, "value")))) return st;
  if ((st = input(api, ctx, IN_QUERY, &q, "query")) || (st = input(api, ctx, IN_PAST_KEY, &pk, "past_key")) ||
      (st = input(api, ctx, IN_PAST_VALUE, &pv, "past_value")) || (st = input(api, ctx, IN_SEQLENS, &sl, "seqlens_k")) ||
      (st = input(api, ctx, IN_TOTAL, &tl, "total_sequence_length")))
    return st;
  if (k->rotary && ((st = input(api, ctx, IN_COS, &cs, "cos_cache")) || (st = input(api, ctx, IN_SIN, &sn, "sin_cache")))) return st;
  const int64_t heads = k->heads, kvh = k->kv_heads, group = heads / kvh;
  if (q.rank != 3 || pk.rank != 4 || pv.rank != 4) return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s", "query must be [batch, seq, hidden] and the caches [batch, kvHeads, capacity, headDim]");
  const int64_t batch = q.dims[0], seq = q.dims[1];
  const int64_t d = pk.dims[3], cap = pk.dims[2];
  /* rows of q, k and v: one packed q|k|v row, or separate query / key / value inputs */
  const int64_t q_stride = q.dims[2], kv_stride = key ? kvh * d : q.dims[2];
  const float *k_base = key ? kin.data : q.data + heads * d, *v_base = key ? vin.data : q.data + (heads + kvh) * d;
  const int shapes_ok = key ? q_stride == heads * d && kin.rank == 3 && vin.rank == 3 && kin.dims[0] == batch && kin.dims[1] == seq && kin.dims[2] == kv_stride && memcmp(kin.dims, vin.dims, sizeof kin.dims) == 0
                            : q_stride == (heads + 2 * kvh) * d;
  if (!shapes_ok || pk.dims[0] != batch || pk.dims[1] != kvh || memcmp(pk.dims, pv.dims, sizeof pk.dims) != 0)
    return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s", "q / k / v widths, batch or cache shapes disagree");
  if (k->rotary && (cs.rank != 2 || cs.dims[1] * 2 != d || memcmp(cs.dims, sn.dims, sizeof cs.dims) != 0))
    return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s", "cos/sin caches must be [positions, headDim / 2] (partial rotary is not supported)");
  const int32_t *seqlens = (const int32_t *)sl.data;
  const int32_t total_all = ((const int32_t *)tl.data)[0];
  const int64_t out_dims[3] = {batch, seq, heads * d};
  float *out, *ck, *cv;
  if ((st = output(api, ctx, 0, out_dims, 3, &out)) || (st = output(api, ctx, 1, pk.dims, 4, &ck)) || (st = output(api, ctx, 2, pv.dims, 4, &cv))) return st;
  const size_t cache_floats = (size_t)batch * kvh * cap * d;
  if (ck != pk.data) memcpy(ck, pk.data, cache_floats * sizeof(float));
  if (cv != pv.data) memcpy(cv, pv.data, cache_floats * sizeof(float));
  const int first_prompt = seq > 1 && seq == total_all;
  const float scale = k->scale != 0.f ? k->scale : 1.f / sqrtf((float)d);
  use_avx2();
  float *scratch = malloc(((size_t)group * (size_t)cap + (size_t)group * (size_t)d * 2) * sizeof(float));
  if (!scratch) return fail(api, ORT_FAIL, "GroupQueryAttention (fleetchat): out of memory%s", "");
  float *qs = scratch, *acc = scratch + group * d, *scores = acc + group * d;
  for (int64_t b = 0; b < batch; b++) {
    const int64_t total = (int64_t)seqlens[b] + 1, past = first_prompt ? 0 : total - seq;
    if (past < 0 || past + seq > cap || total > cap) {
      free(scratch);
      return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s", "seqlens_k and the sequence length do not fit the cache");
    }
    /* the new keys (rotated) and values into the cache at past .. past + seq - 1 */
    for (int64_t s = 0; s < seq; s++) {
      const int64_t pos = past + s;
      const size_t r = (size_t)b * seq + s;
      for (int64_t j = 0; j < kvh; j++) {
        float *kd = ck + (((size_t)b * kvh + j) * cap + pos) * d, *vd = cv + (((size_t)b * kvh + j) * cap + pos) * d;
        const float *ks = k_base + r * kv_stride + j * d, *vs = v_base + r * kv_stride + j * d;
        if (k->rotary) {
          const int64_t p = pos < cs.dims[0] ? pos : cs.dims[0] - 1;
          rotate(kd, ks, (int)d, cs.data + p * (d / 2), sn.data + p * (d / 2), k->interleaved, 1.f);
        } else {
          memcpy(kd, ks, d * sizeof(float));
        }
        memcpy(vd, vs, d * sizeof(float));
      }
    }
    for (int64_t s = 0; s < seq; s++) {
      const int64_t pos = past + s;
      int64_t len = pos + 1 < total ? pos + 1 : total;
      if (len < 1) len = 1;
      const float *row = q.data + ((size_t)b * seq + s) * q_stride;
      for (int64_t j = 0; j < kvh; j++) {
        const float *kc = ck + ((size_t)b * kvh + j) * cap * d, *vc = cv + ((size_t)b * kvh + j) * cap * d;
        for (int64_t g = 0; g < group; g++) {
          const float *qh = row + (j * group + g) * d;
          if (k->rotary) {
            const int64_t p = pos < cs.dims[0] ? pos : cs.dims[0] - 1;
            rotate(qs + g * d, qh, (int)d, cs.data + p * (d / 2), sn.data + p * (d / 2), k->interleaved, scale);
          } else {
            for (int64_t i = 0; i < d; i++) qs[g * d + i] = qh[i] * scale;
          }
        }
        /* scores of every query head of the group, each cached key read once (four keys at a time) */
        scores_of(scores, qs, group, kc, len, d);
        float inv[64];
        float *invp = group <= 64 ? inv : malloc(group * sizeof(float));
        for (int64_t g = 0; g < group; g++) {
          float *sc = scores + g * len, mx = sc[0];
          for (int64_t t = 1; t < len; t++) mx = sc[t] > mx ? sc[t] : mx;
          invp[g] = 1.f / exp_sum(sc, (int)len, mx);
        }
        /* P·V: with head dim 64 per query head, its accumulator in registers (the group's values stay in cache) */
        weighted_values(acc, scores, group, vc, len, d);
        float *o = out + ((size_t)b * seq + s) * heads * d + j * group * d;
        for (int64_t g = 0; g < group; g++)
          for (int64_t i = 0; i < d; i++) o[g * d + i] = acc[g * d + i] * invp[g];
        if (invp != inv) free(invp);
      }
    }
  }
  free(scratch);
  return NULL;
}

static OrtStatus *create_kernel(const OrtCustomOp *op, const OrtApi *api, const OrtKernelInfo *info, void **out) {
  Kernel k = {.api = api};
  k.heads = attr_int(api, info, "num_heads", 0);
  k.kv_heads = attr_int(api, info, "kv_num_heads", 0);
  k.scale = attr_float(api, info, "scale", 0.f);
  k.rotary = attr_int(api, info, "do_rotary", 0) == 1;
  k.interleaved = attr_int(api, info, "rotary_interleaved", 0) == 1;
  if (k.heads <= 0 || k.kv_heads <= 0 || k.heads % k.kv_heads != 0)
    return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s", "num_heads must be a positive multiple of kv_num_heads");
  if (attr_int(api, info, "local_window_size", -1) != -1) return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s is not supported", "local_window_size");
  if (attr_float(api, info, "softcap", 0.f) != 0.f) return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s is not supported", "softcap");
  if (attr_int(api, info, "smooth_softmax", 0) != 0) return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s is not supported", "smooth_softmax");
  Kernel *h = malloc(sizeof k);
  if (!h) return fail(api, ORT_FAIL, "GroupQueryAttention (fleetchat): out of memory%s", "");
  *h = k;
  *out = h;
  return NULL;
}

static void *create_kernel_v1(const OrtCustomOp *op, const OrtApi *api, const OrtKernelInfo *info) { return NULL; }
static void compute_v1(void *kernel, OrtKernelContext *context) {}
static void destroy(void *kernel) { free(kernel); }
static const char *op_name(const OrtCustomOp *op) { return "GroupQueryAttention"; }
static const char *op_ep(const OrtCustomOp *op) { return "CPUExecutionProvider"; }
static int in_type(const OrtCustomOp *op, size_t i) { return i == IN_SEQLENS || i == IN_TOTAL ? ORT_INT32 : ORT_FLOAT; }
static size_t in_count(const OrtCustomOp *op) { return N_INPUTS; }
static int out_type(const OrtCustomOp *op, size_t i) { return ORT_FLOAT; }
static size_t out_count(const OrtCustomOp *op) { return 3; }
static int in_char(const OrtCustomOp *op, size_t i) {
  return i == IN_QUERY || i == IN_SEQLENS || i == IN_TOTAL ? IO_REQUIRED : IO_OPTIONAL;
}
static int out_char(const OrtCustomOp *op, size_t i) { return i == 0 ? IO_REQUIRED : IO_OPTIONAL; }
static int mem_type(const OrtCustomOp *op, size_t i) { return 0; }
static int one(const OrtCustomOp *op) { return 1; }

static const OrtCustomOp g_op = {
    .version = GQA_OP_VERSION,
    .CreateKernel = create_kernel_v1,
    .GetName = op_name,
    .GetExecutionProviderType = op_ep,
    .GetInputType = in_type,
    .GetInputTypeCount = in_count,
    .GetOutputType = out_type,
    .GetOutputTypeCount = out_count,
    .KernelCompute = compute_v1,
    .KernelDestroy = destroy,
    .GetInputCharacteristic = in_char,
    .GetOutputCharacteristic = out_char,
    .GetInputMemoryType = mem_type,
    .GetVariadicInputMinArity = one,
    .GetVariadicInputHomogeneity = one,
    .GetVariadicOutputMinArity = one,
    .GetVariadicOutputHomogeneity = one,
    .CreateKernelV2 = create_kernel,
    .KernelComputeV2 = compute,
};

static OrtCustomOpDomain *g_domain;

OrtStatus *gqa_cpu_register(const OrtApi *api, OrtSessionOptions *so) {
  if (!g_domain) {
    OrtCustomOpDomain *d = NULL;
    OrtStatus *st = FN(I_CreateCustomOpDomain, OrtStatus *, const char *, OrtCustomOpDomain **)("com.microsoft", &d);
    if (st) return st;
    if ((st = FN(I_CustomOpDomain_Add, OrtStatus *, OrtCustomOpDomain *, const OrtCustomOp *)(d, &g_op))) {
      FN(I_ReleaseCustomOpDomain, void, OrtCustomOpDomain *)(d);
      return st;
    }
    g_domain = d; /* kept for the process: sessions created with it refer to it */
  }
  return FN(I_AddCustomOpDomain, OrtStatus *, OrtSessionOptions *, OrtCustomOpDomain *)(so, g_domain);
}
