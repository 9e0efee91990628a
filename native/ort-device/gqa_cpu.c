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
 * 2 kvHeads) × headDim]) or separate query / key / value inputs, a past/present cache of fixed capacity [batch,
 * kvHeads, capacity, headDim] (the same memory when the caller binds it so; copied first otherwise), rotary embedding
 * inside (cos/sin tables [positions, rotaryDim / 2], rotary dim = head dim, interleaved or not), float32 queries.
 * Per row b: total = seqlens_k[b] + 1 positions after this pass; a first prompt (sequence length > 1 and equal to
 * total_sequence_length) starts at position 0, any other pass at total - sequence length; the new keys and values
 * are written at those positions and query row s attends causally to positions 0 .. past + s (never past total).
 * Anything else (local window, softcap, smooth softmax, float16 queries) is refused when the session is created,
 * with an error naming it.
 *
 * The cache may be float32 or float16 with float32 queries (two overloads of the op, see g_ops): a float16 cache
 * halves the bytes each step streams (llama.cpp's default F16 cache), its keys and values rounded once when written
 * and converted back to float32 as they are read (F16C where the CPU has it). onnxruntime's own GroupQueryAttention
 * ties the cache type to the query type, so such a graph (`--kv-cache fp16`) runs only on this kernel. The vector
 * loops are in gqa_simd.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ort_api.h"
#include "gqa_cpu.h"
#include "gqa_simd.h"

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

static int g_parallel; /* onnxruntime offers KernelContext_ParallelFor (set at registration) */

typedef struct {
  const OrtApi *api;
  int64_t heads, kv_heads;
  float scale; /* 0: 1 / sqrt(head dim) */
  int rotary, interleaved;
  int parallel; /* onnxruntime offers KernelContext_ParallelFor (C API 16 and later) */
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
  const float *data; /* float32, or float16 bits where type is ORT_FLOAT16 (the caches) */
  int64_t dims[4];
  size_t rank;
  int type;
} View;

static OrtStatus *view(const OrtApi *api, const OrtValue *v, View *out) {
  OrtTensorTypeAndShapeInfo *info = NULL;
  OrtStatus *st = FN(I_GetTensorTypeAndShape, OrtStatus *, const OrtValue *, OrtTensorTypeAndShapeInfo **)(v, &info);
  if (st) return st;
  st = FN(I_GetTensorElementType, OrtStatus *, const OrtTensorTypeAndShapeInfo *, int *)(info, &out->type);
  if (!st) st = FN(I_GetDimensionsCount, OrtStatus *, const OrtTensorTypeAndShapeInfo *, size_t *)(info, &out->rank);
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

static OrtStatus *output(const OrtApi *api, OrtKernelContext *ctx, size_t i, const int64_t *dims, size_t rank, void **out) {
  OrtValue *v = NULL;
  OrtStatus *st = FN(I_KernelContext_GetOutput, OrtStatus *, OrtKernelContext *, size_t, const int64_t *, size_t, OrtValue **)(ctx, i, dims, rank, &v);
  if (st) return st;
  return FN(I_GetTensorMutableData, OrtStatus *, OrtValue *, void **)(v, out);
}

/* What one pass of the kernel reads besides the cache: the inputs' layout and the cache's element type. */
typedef struct {
  const Kernel *k;
  const View *q, *cos, *sin;
  int64_t q_stride, kv_stride;
  const float *k_base, *v_base;
  int64_t d, cap, seq;
  int half; /* the cache holds float16 */
  float scale;
} Pass;

static const float *table_row(const View *t, int64_t pos, int64_t d) {
  const int64_t p = pos < t->dims[0] ? pos : t->dims[0] - 1;
  return t->data + p * (d / 2);
}

/* Row b's new keys (rotated) and values into its cache (kb / vb: [kvHeads, capacity, headDim]) at past .. past + seq - 1. */
static void append_kv(const Pass *p, int64_t b, int64_t past, char *kb, char *vb, float *tmp) {
  const int64_t d = p->d, kvh = p->k->kv_heads;
  const size_t es = p->half ? sizeof(uint16_t) : sizeof(float);
  for (int64_t s = 0; s < p->seq; s++) {
    const int64_t pos = past + s;
    const size_t r = (size_t)b * p->seq + s;
    for (int64_t j = 0; j < kvh; j++) {
      const size_t at = ((size_t)j * p->cap + pos) * d * es;
      const float *ks = p->k_base + r * p->kv_stride + j * d, *vs = p->v_base + r * p->kv_stride + j * d;
      float *kd = p->half ? tmp : (float *)(kb + at);
      if (p->k->rotary) rotate(kd, ks, (int)d, table_row(p->cos, pos, d), table_row(p->sin, pos, d), p->k->interleaved, 1.f);
      else memcpy(kd, ks, d * sizeof(float));
      if (p->half) {
        gqa_to_half((uint16_t *)(kb + at), kd, d);
        gqa_to_half((uint16_t *)(vb + at), vs, d);
      } else {
        memcpy(vb + at, vs, d * sizeof(float));
      }
    }
  }
}

/* Floats of scratch one work item needs: its heads' rotated, scaled queries, accumulators, inverse sums and scores
 * over the capacity, and a row to convert. */
static size_t scratch_floats(int64_t heads, int64_t d, int64_t cap) { return (size_t)heads * ((size_t)cap + 2 * (size_t)d + 1) + (size_t)d; }

/* Query row s of row b, query heads g0 .. g1 - 1 of KV head j's group, over positions 0 .. min(past + s, total - 1) of
 * the cache: their attention outputs (o: row s's output, every head). */
static void attend(const Pass *p, int64_t b, int64_t s, int64_t j, int64_t g0, int64_t g1, int64_t past, int64_t total, const char *kb, const char *vb, float *o, float *scratch) {
  const int64_t d = p->d, group = p->k->heads / p->k->kv_heads, n = g1 - g0, pos = past + s;
  const size_t es = p->half ? sizeof(uint16_t) : sizeof(float);
  int64_t len = pos + 1 < total ? pos + 1 : total;
  if (len < 1) len = 1;
  float *qs = scratch, *acc = qs + n * d, *inv = acc + n * d, *scores = inv + n, *tmp = scores + n * p->cap;
  const float *row = p->q->data + ((size_t)b * p->seq + s) * p->q_stride;
  const char *kc = kb + (size_t)j * p->cap * d * es, *vc = vb + (size_t)j * p->cap * d * es;
  for (int64_t g = 0; g < n; g++) {
    const float *qh = row + (j * group + g0 + g) * d;
    if (p->k->rotary) rotate(qs + g * d, qh, (int)d, table_row(p->cos, pos, d), table_row(p->sin, pos, d), p->k->interleaved, p->scale);
    else
      for (int64_t i = 0; i < d; i++) qs[g * d + i] = qh[i] * p->scale;
  }
  /* scores of the query heads, each cached key read (converted) once for them */
  gqa_scores(scores, qs, n, kc, p->half, len, d, tmp);
  for (int64_t g = 0; g < n; g++) {
    float *sc = scores + g * len;
    inv[g] = 1.f / gqa_exp_sum(sc, (int)len, gqa_max(sc, (int)len));
  }
  /* P·V: the heads' accumulators in registers, 32 values of the head dimension at a time */
  gqa_weighted_values(acc, scores, n, vc, p->half, len, d, tmp);
  for (int64_t g = 0; g < n; g++)
    for (int64_t i = 0; i < d; i++) o[(j * group + g0 + g) * d + i] = acc[g * d + i] * inv[g];
}

/* One pass's attention as work items — (row, query position, KV head, part of its group) — that onnxruntime's intra-op
 * threads share (KernelContext_ParallelFor; inline with one thread). A decode pass of one row has as many items as
 * KV heads, too few for the threads, so each group is then split into `parts`. */
typedef struct {
  const Pass *p;
  const int32_t *seqlens;
  int first_prompt;
  char *ck, *cv;
  float *out;
  int64_t kvh, group, parts;
  volatile int failed; /* a thread's scratch could not be allocated */
} Work;

/* Each thread's scratch, grown as needed and kept for its next pass (onnxruntime's threads live as long as the session). */
static __thread float *t_scratch;
static __thread size_t t_scratch_floats;

static float *thread_scratch(size_t floats) {
  if (floats > t_scratch_floats) {
    float *grown = realloc(t_scratch, floats * sizeof(float));
    if (!grown) return NULL;
    t_scratch = grown;
    t_scratch_floats = floats;
  }
  return t_scratch;
}

static void work_item(void *data, size_t i) {
  Work *w = (Work *)data;
  const Pass *p = w->p;
  const int64_t part = (int64_t)i % w->parts, j = (int64_t)(i / w->parts) % w->kvh, s = (int64_t)(i / w->parts / w->kvh) % p->seq, b = (int64_t)(i / w->parts / w->kvh) / p->seq;
  const int64_t g0 = w->group * part / w->parts, g1 = w->group * (part + 1) / w->parts;
  float *scratch = thread_scratch(scratch_floats(g1 - g0, p->d, p->cap));
  if (!scratch) {
    w->failed = 1;
    return;
  }
  const int64_t total = (int64_t)w->seqlens[b] + 1, past = w->first_prompt ? 0 : total - p->seq;
  const size_t es = p->half ? sizeof(uint16_t) : sizeof(float), row_bytes = (size_t)w->kvh * p->cap * p->d * es;
  attend(p, b, s, j, g0, g1, past, total, w->ck + b * row_bytes, w->cv + b * row_bytes, w->out + ((size_t)b * p->seq + s) * p->k->heads * p->d, scratch);
}

/* Below this many multiply-adds a pass's attention runs on the calling thread (waking the others would cost more). */
#define PARALLEL_MIN_MACS (1 << 20)

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
  if (q.type != ORT_FLOAT || pk.type != pv.type || (pk.type != ORT_FLOAT && pk.type != ORT_FLOAT16))
    return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s", "float32 queries over a float32 or float16 cache (past key and value alike) only");
  const int half = pk.type == ORT_FLOAT16;
  const size_t es = half ? sizeof(uint16_t) : sizeof(float);
  const int32_t *seqlens = (const int32_t *)sl.data;
  const int32_t total_all = ((const int32_t *)tl.data)[0];
  const int64_t out_dims[3] = {batch, seq, heads * d};
  void *out, *ck, *cv;
  if ((st = output(api, ctx, 0, out_dims, 3, &out)) || (st = output(api, ctx, 1, pk.dims, 4, &ck)) || (st = output(api, ctx, 2, pv.dims, 4, &cv))) return st;
  const size_t cache_elems = (size_t)batch * kvh * cap * d;
  if (ck != (const void *)pk.data) memcpy(ck, pk.data, cache_elems * es);
  if (cv != (const void *)pv.data) memcpy(cv, pv.data, cache_elems * es);
  const int first_prompt = seq > 1 && seq == total_all;
  gqa_simd_init();
  const Pass pass = {k, &q, &cs, &sn, q_stride, kv_stride, k_base, v_base, d, cap, seq, half, k->scale != 0.f ? k->scale : 1.f / sqrtf((float)d)};
  float *scratch = thread_scratch(scratch_floats(group, d, cap));
  if (!scratch) return fail(api, ORT_FAIL, "GroupQueryAttention (fleetchat): out of memory%s", "");
  double macs = 0;
  for (int64_t b = 0; b < batch; b++) {
    const int64_t total = (int64_t)seqlens[b] + 1, past = first_prompt ? 0 : total - seq;
    if (past < 0 || past + seq > cap || total > cap) return fail(api, ORT_INVALID_ARGUMENT, "GroupQueryAttention (fleetchat): %s", "seqlens_k and the sequence length do not fit the cache");
    char *kb = (char *)ck + (size_t)b * kvh * cap * d * es, *vb = (char *)cv + (size_t)b * kvh * cap * d * es;
    append_kv(&pass, b, past, kb, vb, scratch);
    macs += (double)seq * (double)total * (double)heads * (double)d * 2;
  }
  const int64_t items = batch * seq * kvh;
  Work w = {&pass, seqlens, first_prompt, (char *)ck, (char *)cv, (float *)out, kvh, group, items >= 8 ? 1 : (group < 8 / items ? group : 8 / items), 0};
  const size_t total_items = (size_t)(items * w.parts);
  if (macs < PARALLEL_MIN_MACS || !k->parallel) {
    for (size_t i = 0; i < total_items; i++) work_item(&w, i);
  } else if ((st = FN(I_KernelContext_ParallelFor, OrtStatus *, const OrtKernelContext *, void (*)(void *, size_t), size_t, size_t, void *)(ctx, work_item, total_items, 0, &w))) {
    return st;
  }
  if (w.failed) return fail(api, ORT_FAIL, "GroupQueryAttention (fleetchat): out of memory%s", "");
  return NULL;
}

static OrtStatus *create_kernel(const OrtCustomOp *op, const OrtApi *api, const OrtKernelInfo *info, void **out) {
  Kernel k = {.api = api, .parallel = g_parallel};
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
/* Two overloads of the op, told apart by the cache's type: float32 queries over a float32 cache (the graphs
 * onnxruntime's kernel also runs) or over a float16 cache (`--kv-cache fp16`: a graph only this kernel runs).
 * onnxruntime's schema for the name accepts either, and picks the overload whose types match the node's. */
static int in_type(const OrtCustomOp *op, size_t i) { return i == IN_SEQLENS || i == IN_TOTAL ? ORT_INT32 : ORT_FLOAT; }
static int in_type_f16(const OrtCustomOp *op, size_t i) { return i == IN_PAST_KEY || i == IN_PAST_VALUE ? ORT_FLOAT16 : in_type(op, i); }
static size_t in_count(const OrtCustomOp *op) { return N_INPUTS; }
static int out_type(const OrtCustomOp *op, size_t i) { return ORT_FLOAT; }
static int out_type_f16(const OrtCustomOp *op, size_t i) { return i == 0 ? ORT_FLOAT : ORT_FLOAT16; }
static size_t out_count(const OrtCustomOp *op) { return 3; }
static int in_char(const OrtCustomOp *op, size_t i) {
  return i == IN_QUERY || i == IN_SEQLENS || i == IN_TOTAL ? IO_REQUIRED : IO_OPTIONAL;
}
static int out_char(const OrtCustomOp *op, size_t i) { return i == 0 ? IO_REQUIRED : IO_OPTIONAL; }
static int mem_type(const OrtCustomOp *op, size_t i) { return 0; }
static int one(const OrtCustomOp *op) { return 1; }

#define GQA_OP(IN_TYPE, OUT_TYPE)            \
  {                                          \
      .version = GQA_OP_VERSION,             \
      .CreateKernel = create_kernel_v1,      \
      .GetName = op_name,                    \
      .GetExecutionProviderType = op_ep,     \
      .GetInputType = IN_TYPE,               \
      .GetInputTypeCount = in_count,         \
      .GetOutputType = OUT_TYPE,             \
      .GetOutputTypeCount = out_count,       \
      .KernelCompute = compute_v1,           \
      .KernelDestroy = destroy,              \
      .GetInputCharacteristic = in_char,     \
      .GetOutputCharacteristic = out_char,   \
      .GetInputMemoryType = mem_type,        \
      .GetVariadicInputMinArity = one,       \
      .GetVariadicInputHomogeneity = one,    \
      .GetVariadicOutputMinArity = one,      \
      .GetVariadicOutputHomogeneity = one,   \
      .CreateKernelV2 = create_kernel,       \
      .KernelComputeV2 = compute,            \
  }
static const OrtCustomOp g_ops[2] = {GQA_OP(in_type, out_type), GQA_OP(in_type_f16, out_type_f16)};

static OrtCustomOpDomain *g_domain;

OrtStatus *gqa_cpu_register(const OrtApi *api, OrtSessionOptions *so, int parallel) {
  g_parallel = parallel;
  if (!g_domain) {
    OrtCustomOpDomain *d = NULL;
    OrtStatus *st = FN(I_CreateCustomOpDomain, OrtStatus *, const char *, OrtCustomOpDomain **)("com.microsoft", &d);
    if (st) return st;
    for (int i = 0; i < 2; i++)
      if ((st = FN(I_CustomOpDomain_Add, OrtStatus *, OrtCustomOpDomain *, const OrtCustomOp *)(d, &g_ops[i]))) {
        FN(I_ReleaseCustomOpDomain, void, OrtCustomOpDomain *)(d);
        return st;
      }
    g_domain = d; /* kept for the process: sessions created with it refer to it */
  }
  return FN(I_AddCustomOpDomain, OrtStatus *, OrtSessionOptions *, OrtCustomOpDomain *)(so, g_domain);
}
