/*
 * ort_device: a small Node-API addon over onnxruntime's C API for decoding with the KV cache kept in device
 * memory. onnxruntime-node 1.30 has no IO binding for the CUDA EP (its GPU buffers are WebGPU buffers), so with it
 * every past/present tensor crosses PCIe each step. Here `present.*` outputs are bound to CUDA memory and fed back
 * as `past.*` without leaving the GPU; only input ids, masks and positions go up and the logits come down.
 *
 * It loads the very libonnxruntime.so.1 that onnxruntime-node ships (path given by the caller), so one onnxruntime
 * lives in the process, and needs no onnxruntime headers (see ort_api.h). With device "cpu" the same code runs on
 * the CPU EP with host memory: that is how CI tests it.
 *
 * JS API (all synchronous: call it from a worker thread):
 *   load(libonnxruntimePath) -> version string
 *   createSession(modelPath, device "cpu"|"cuda", deviceId, threads, allowTf32, profilePrefix?, cudaGraph?, attention?)
 *       -> { session, inputs: [{name, type, dims}], outputs: [name] }
 *       attention "fleetchat" (CPU only): GroupQueryAttention nodes run on gqa_cpu.c's kernel (each KV head read once
 *       per query row for all the query heads sharing it) instead of onnxruntime's; "onnxruntime" or absent: theirs
 *   attentionKernels() -> ["onnxruntime", "fleetchat"]   the values createSession's `attention` takes
 *   attentionCacheTypes() -> ["float32", "float16"]   the KV caches "fleetchat" attention takes (always float32 queries)
 *   run(session, feeds [[name, type, dims, TypedArray]], pastNames, past|null, logitsName, presentNames)
 *       -> [logits TypedArray, logitsDims, present]
 *   assemble(session, rows [[kv, row, padded, length]], pastLen) -> kv   (rows left-padded to pastLen)
 *   runBound(session, feeds, outputs [[name, type, dims, TypedArray]], logitsName) -> [logits, logitsDims]
 *       host memory only: every feed and every listed output is the caller's memory, bound as is (a fused graph's
 *       KV pool, bound as both past input and present output, is updated in place); only the logits are copied
 *   freeKv(kv), releaseSession(session), memInfo() -> [free, total] bytes of the current CUDA device
 *   createPool(session, buffers, slots, kvHeads, capacity, headDim, type) -> pool
 *       a fused graph's KV pool: `buffers` zeroed [slots, kvHeads, capacity, headDim] buffers of `type`, in CUDA
 *       memory (cudaMalloc) on a CUDA session, host memory on a CPU one
 *   poolMove(pool, from, to, length)   positions 0..length-1 of every head of slot `from` copied into slot `to`
 *   runPool(session, pool, feeds, pastNames, presentNames, slot, batch, logitsName, graphBatch?, vocab?, greedyName?,
 *           logitRows?) -> [logits, logitsDims, greedy Int32Array | undefined]
 *       slots [slot, slot + batch) of buffer i bound as pastNames[i] and presentNames[i] (the same memory: the
 *       graph's GroupQueryAttention appends in place); feeds are host memory (copied up by onnxruntime as needed);
 *       graphBatch > 0: a static decode bucket (a CUDA graph on a cudaGraph session); greedyName: the graph's argmax
 *       output, returned; logitRows: only these rows' logits come down (the rest stay on the device)
 *   freePool(pool)
 *   argmaxRows(logits Float32Array, rows, perRow, vocab) -> Int32Array
 *       each row's greedy token: the index of the largest logit at its last position (the first if tied; a NaN
 *       never wins, a NaN first logit does), the same answer as the engine's JavaScript argmax, several times faster
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include "ort_api.h"
#include "gqa_cpu.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static const OrtApi *g_api;
static int g_api_parallel; /* onnxruntime offers C API 16 (KernelContext_ParallelFor for the GroupQueryAttention kernel) */
static OrtEnv *g_env;

/* ---- typed calls into the OrtApi table ---- */
#define FN(idx, ret, ...) ((ret(*)(__VA_ARGS__))g_api->fn[idx])
#define ST(idx, ...) FN(idx, OrtStatus *, __VA_ARGS__)

/* ---- CUDA runtime, resolved lazily from the already-loaded libcudart ---- */
typedef int (*cuda_set_device_t)(int);
typedef int (*cuda_memset_t)(void *, int, size_t);
typedef int (*cuda_memcpy2d_t)(void *, size_t, const void *, size_t, size_t, size_t, int);
typedef int (*cuda_sync_t)(void);
typedef int (*cuda_meminfo_t)(size_t *, size_t *);
typedef int (*cuda_malloc_t)(void **, size_t);
typedef int (*cuda_free_t)(void *);
typedef const char *(*cuda_errstr_t)(int);
static struct {
  int ready;
  cuda_set_device_t set_device;
  cuda_memset_t memset;
  cuda_memcpy2d_t memcpy2d;
  cuda_sync_t sync;
  cuda_meminfo_t meminfo;
  cuda_errstr_t errstr;
  cuda_malloc_t malloc;
  cuda_free_t free;
} g_cuda;

static int load_cudart(char *err, size_t errlen) {
  if (g_cuda.ready) return 1;
  void *h = dlopen("libcudart.so.13", RTLD_NOW | RTLD_GLOBAL);
  if (!h) {
    snprintf(err, errlen, "cannot load the CUDA runtime: %s", dlerror());
    return 0;
  }
  g_cuda.set_device = (cuda_set_device_t)dlsym(h, "cudaSetDevice");
  g_cuda.memset = (cuda_memset_t)dlsym(h, "cudaMemset");
  g_cuda.memcpy2d = (cuda_memcpy2d_t)dlsym(h, "cudaMemcpy2D");
  g_cuda.sync = (cuda_sync_t)dlsym(h, "cudaDeviceSynchronize");
  g_cuda.meminfo = (cuda_meminfo_t)dlsym(h, "cudaMemGetInfo");
  g_cuda.errstr = (cuda_errstr_t)dlsym(h, "cudaGetErrorString");
  g_cuda.malloc = (cuda_malloc_t)dlsym(h, "cudaMalloc");
  g_cuda.free = (cuda_free_t)dlsym(h, "cudaFree");
  if (!g_cuda.set_device || !g_cuda.memset || !g_cuda.memcpy2d || !g_cuda.sync || !g_cuda.meminfo || !g_cuda.errstr || !g_cuda.malloc || !g_cuda.free) {
    snprintf(err, errlen, "libcudart lacks a needed symbol");
    return 0;
  }
  g_cuda.ready = 1;
  return 1;
}

/* ---- errors ---- */
static int ok(napi_env env, OrtStatus *st) {
  if (!st) return 1;
  const char *msg = FN(I_GetErrorMessage, const char *, const OrtStatus *)(st);
  napi_throw_error(env, "ORT_ERROR", msg);
  FN(I_ReleaseStatus, void, OrtStatus *)(st);
  return 0;
}
#define CHECK(env, expr) do { if (!ok(env, (expr))) goto fail; } while (0)
#define NAPI(env, expr) do { if ((expr) != napi_ok) { napi_throw_error(env, NULL, "node-api call failed: " #expr); goto fail; } } while (0)

static int cuda_ok(napi_env env, int code, const char *what) {
  if (code == 0) return 1;
  char msg[256];
  snprintf(msg, sizeof msg, "%s failed: %s", what, g_cuda.errstr(code));
  napi_throw_error(env, "CUDA_ERROR", msg);
  return 0;
}

/* ---- handles ---- */
typedef struct {
  OrtSession *session;
  OrtIoBinding *binding;
  OrtMemoryInfo *cpu_info;
  OrtMemoryInfo *dev_info;
  OrtAllocator *dev_alloc; /* CreateAllocator(session, dev_info) on CUDA; the default allocator on the CPU */
  int on_cuda;
  int device_id;
  int live_kv;
  int released;
  /* static decode buckets (runPool's graphBatch): CUDA graphs captured per bucket on a CUDA session */
  int cuda_graph;
  OrtRunOptions *run_skip; /* gpu_graph_id -1: passes outside the captured graphs (prompts) */
  struct Bucket {
    int64_t batch, vocab;
    OrtRunOptions *run;
    void *ids, *seqlens, *logits, *greedy; /* fixed addresses: device memory on CUDA, host memory on the CPU */
  } buckets[16];
  int n_buckets;
} Session;

static void buckets_release(Session *s);

typedef struct {
  Session *owner;
  size_t n;
  OrtValue **values;
  int64_t dims[4];
  int type;
} KvSet;

static void kv_release(KvSet *kv) {
  if (!kv->values) return;
  for (size_t i = 0; i < kv->n; i++)
    if (kv->values[i]) FN(I_ReleaseValue, void, OrtValue *)(kv->values[i]);
  free(kv->values);
  kv->values = NULL;
  kv->owner->live_kv--;
}

static void kv_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  KvSet *kv = (KvSet *)data;
  kv_release(kv);
  free(kv);
}

static napi_value wrap_kv(napi_env env, KvSet *kv) {
  napi_value out;
  if (napi_create_external(env, kv, kv_finalize, NULL, &out) != napi_ok) return NULL;
  kv->owner->live_kv++;
  return out;
}

static void *external(napi_env env, napi_value v) {
  void *p = NULL;
  napi_get_value_external(env, v, &p);
  return p;
}

static char *string_arg(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static size_t elem_size(int type) {
  switch (type) {
    case ORT_FLOAT: return 4;
    case ORT_INT64: return 8;
    case ORT_INT32: return 4;
    case ORT_BOOL: return 1;
    case ORT_FLOAT16: return 2;
    default: return 0;
  }
}

/* ---- load(libPath) ---- */
static napi_value js_load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!g_api) {
    char *path = string_arg(env, argv[0]);
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    free(path);
    if (!h) {
      napi_throw_error(env, "LOAD_ERROR", dlerror());
      return NULL;
    }
    const OrtApiBase *(*get_base)(void) = (const OrtApiBase *(*)(void))dlsym(h, "OrtGetApiBase");
    if (!get_base) {
      napi_throw_error(env, "LOAD_ERROR", "OrtGetApiBase not found");
      return NULL;
    }
    const OrtApi *api = get_base()->GetApi(ORT_API_VERSION_USED);
    if (!api) {
      napi_throw_error(env, "LOAD_ERROR", "onnxruntime does not offer API version 13");
      return NULL;
    }
    g_api = api;
    g_api_parallel = get_base()->GetApi(16) != NULL; /* KernelContext_ParallelFor: C API 16 and later */
    CHECK(env, ST(I_CreateEnv, int, const char *, OrtEnv **)(ORT_LOG_ERROR, "fleetchat-ort-device", &g_env));
  }
  {
    const OrtApiBase *(*get_base)(void) = (const OrtApiBase *(*)(void))dlsym(RTLD_DEFAULT, "OrtGetApiBase");
    napi_create_string_utf8(env, get_base ? get_base()->GetVersionString() : "unknown", NAPI_AUTO_LENGTH, &out);
  }
  return out;
fail:
  return NULL;
}

/* ---- createSession(path, device, deviceId, threads, allowTf32, profilePrefix?, cudaGraph?, attention?) ---- */
static napi_value js_create_session(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8], result = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *path = string_arg(env, argv[0]);
  char *device = string_arg(env, argv[1]);
  int32_t device_id = 0, threads = 1;
  bool tf32 = false;
  napi_get_value_int32(env, argv[2], &device_id);
  napi_get_value_int32(env, argv[3], &threads);
  napi_get_value_bool(env, argv[4], &tf32);
  OrtSessionOptions *so = NULL;
  OrtCUDAProviderOptionsV2 *cuda = NULL;
  Session *s = calloc(1, sizeof(Session));
  s->on_cuda = strcmp(device, "cuda") == 0;
  s->device_id = device_id;
  if (argc > 6) {
    bool graph = false;
    if (napi_get_value_bool(env, argv[6], &graph) == napi_ok) s->cuda_graph = graph;
  }
  char err[256];
#ifndef ORT_DEVICE_TEST_PROVIDER_OPTIONS
  if (s->on_cuda && !load_cudart(err, sizeof err)) {
    napi_throw_error(env, "CUDA_ERROR", err);
    goto fail;
  }
#endif
  CHECK(env, ST(I_CreateSessionOptions, OrtSessionOptions **)(&so));
  CHECK(env, ST(I_SetSessionGraphOptimizationLevel, OrtSessionOptions *, int)(so, ORT_ENABLE_ALL));
  CHECK(env, ST(I_SetIntraOpNumThreads, OrtSessionOptions *, int)(so, threads));
  CHECK(env, ST(I_SetInterOpNumThreads, OrtSessionOptions *, int)(so, 1));
  CHECK(env, ST(I_SetSessionLogSeverityLevel, OrtSessionOptions *, int)(so, 3));
  {
    /* onnxruntime's profiler (per-node timings), written to <prefix>_<time>.json when the session is released */
    napi_valuetype t = napi_undefined;
    if (argc > 5) napi_typeof(env, argv[5], &t);
    if (t == napi_string) {
      char *prefix = string_arg(env, argv[5]);
      OrtStatus *st = ST(I_EnableProfiling, OrtSessionOptions *, const char *)(so, prefix);
      free(prefix);
      CHECK(env, st);
    }
  }
  {
    /* attention "fleetchat": GroupQueryAttention nodes of a CPU session run on gqa_cpu.c's kernel */
    napi_valuetype t = napi_undefined;
    if (argc > 7) napi_typeof(env, argv[7], &t);
    if (t == napi_string) {
      char *kernel = string_arg(env, argv[7]);
      const int ours = strcmp(kernel, "fleetchat") == 0, known = ours || strcmp(kernel, "onnxruntime") == 0;
      free(kernel);
      if (!known || (ours && s->on_cuda)) {
        napi_throw_error(env, "INVALID_ARGUMENT", "createSession: attention is \"onnxruntime\" or (on the CPU) \"fleetchat\"");
        goto fail;
      }
      if (ours) CHECK(env, gqa_cpu_register(g_api, so, g_api_parallel));
    }
  }
  if (s->on_cuda) {
    char id[16];
    snprintf(id, sizeof id, "%d", device_id);
    CHECK(env, ST(I_CreateCUDAProviderOptions, OrtCUDAProviderOptionsV2 **)(&cuda));
    const char *keys[] = {"device_id", "use_tf32"};
    const char *vals[] = {id, tf32 ? "1" : "0"};
    if (s->cuda_graph) {
      const char *gk[] = {"enable_cuda_graph"};
      const char *gv[] = {"1"};
      CHECK(env, ST(I_UpdateCUDAProviderOptions, OrtCUDAProviderOptionsV2 *, const char *const *, const char *const *, size_t)(cuda, gk, gv, 1));
    }
    OrtStatus *st = ST(I_UpdateCUDAProviderOptions, OrtCUDAProviderOptionsV2 *, const char *const *, const char *const *, size_t)(cuda, keys, vals, 2);
    if (st) { /* an onnxruntime without use_tf32: NVIDIA_TF32_OVERRIDE (set by the worker) still applies */
      FN(I_ReleaseStatus, void, OrtStatus *)(st);
      CHECK(env, ST(I_UpdateCUDAProviderOptions, OrtCUDAProviderOptionsV2 *, const char *const *, const char *const *, size_t)(cuda, keys, vals, 1));
    }
    CHECK(env, ST(I_SessionOptionsAppendExecutionProvider_CUDA_V2, OrtSessionOptions *, const OrtCUDAProviderOptionsV2 *)(so, cuda));
  }
  CHECK(env, ST(I_CreateSession, const OrtEnv *, const char *, const OrtSessionOptions *, OrtSession **)(g_env, path, so, &s->session));
  CHECK(env, ST(I_CreateCpuMemoryInfo, int, int, OrtMemoryInfo **)(ORT_ARENA_ALLOCATOR, ORT_MEM_DEFAULT, &s->cpu_info));
  if (s->on_cuda) {
    CHECK(env, ST(I_CreateMemoryInfo, const char *, int, int, int, OrtMemoryInfo **)("Cuda", ORT_ARENA_ALLOCATOR, device_id, ORT_MEM_DEFAULT, &s->dev_info));
    CHECK(env, ST(I_CreateAllocator, const OrtSession *, const OrtMemoryInfo *, OrtAllocator **)(s->session, s->dev_info, &s->dev_alloc));
    if (!cuda_ok(env, g_cuda.set_device(device_id), "cudaSetDevice")) goto fail;
  } else {
    CHECK(env, ST(I_CreateCpuMemoryInfo, int, int, OrtMemoryInfo **)(ORT_ARENA_ALLOCATOR, ORT_MEM_DEFAULT, &s->dev_info));
    CHECK(env, ST(I_GetAllocatorWithDefaultOptions, OrtAllocator **)(&s->dev_alloc));
  }
  CHECK(env, ST(I_CreateIoBinding, OrtSession *, OrtIoBinding **)(s->session, &s->binding));
  if (s->cuda_graph) {
    CHECK(env, ST(I_CreateRunOptions, OrtRunOptions **)(&s->run_skip));
    CHECK(env, ST(I_AddRunConfigEntry, OrtRunOptions *, const char *, const char *)(s->run_skip, "gpu_graph_id", "-1"));
  }

  /* metadata: inputs with element type and dims (-1 = symbolic), output names */
  OrtAllocator *alloc = NULL;
  CHECK(env, ST(I_GetAllocatorWithDefaultOptions, OrtAllocator **)(&alloc));
  size_t n_in = 0, n_out = 0;
  CHECK(env, ST(I_SessionGetInputCount, const OrtSession *, size_t *)(s->session, &n_in));
  CHECK(env, ST(I_SessionGetOutputCount, const OrtSession *, size_t *)(s->session, &n_out));
  napi_value inputs, outputs, handle;
  NAPI(env, napi_create_array_with_length(env, n_in, &inputs));
  for (size_t i = 0; i < n_in; i++) {
    char *name = NULL;
    OrtTypeInfo *ti = NULL;
    const OrtTensorTypeAndShapeInfo *tsi = NULL;
    int type = 0;
    size_t nd = 0;
    CHECK(env, ST(I_SessionGetInputName, const OrtSession *, size_t, OrtAllocator *, char **)(s->session, i, alloc, &name));
    CHECK(env, ST(I_SessionGetInputTypeInfo, const OrtSession *, size_t, OrtTypeInfo **)(s->session, i, &ti));
    CHECK(env, ST(I_CastTypeInfoToTensorInfo, const OrtTypeInfo *, const OrtTensorTypeAndShapeInfo **)(ti, &tsi));
    napi_value item, jname, jtype, jdims;
    NAPI(env, napi_create_object(env, &item));
    NAPI(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &jname));
    if (tsi) {
      int64_t dims[16];
      CHECK(env, ST(I_GetTensorElementType, const OrtTensorTypeAndShapeInfo *, int *)(tsi, &type));
      CHECK(env, ST(I_GetDimensionsCount, const OrtTensorTypeAndShapeInfo *, size_t *)(tsi, &nd));
      if (nd > 16) nd = 16;
      CHECK(env, ST(I_GetDimensions, const OrtTensorTypeAndShapeInfo *, int64_t *, size_t)(tsi, dims, nd));
      NAPI(env, napi_create_array_with_length(env, nd, &jdims));
      for (size_t d = 0; d < nd; d++) {
        napi_value v;
        napi_create_int64(env, dims[d], &v);
        napi_set_element(env, jdims, d, v);
      }
    } else {
      NAPI(env, napi_create_array(env, &jdims));
    }
    NAPI(env, napi_create_int32(env, type, &jtype));
    napi_set_named_property(env, item, "name", jname);
    napi_set_named_property(env, item, "type", jtype);
    napi_set_named_property(env, item, "dims", jdims);
    napi_set_element(env, inputs, i, item);
    FN(I_ReleaseTypeInfo, void, OrtTypeInfo *)(ti);
    ST(I_AllocatorFree, OrtAllocator *, void *)(alloc, name);
  }
  NAPI(env, napi_create_array_with_length(env, n_out, &outputs));
  for (size_t i = 0; i < n_out; i++) {
    char *name = NULL;
    napi_value jname;
    CHECK(env, ST(I_SessionGetOutputName, const OrtSession *, size_t, OrtAllocator *, char **)(s->session, i, alloc, &name));
    NAPI(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &jname));
    napi_set_element(env, outputs, i, jname);
    ST(I_AllocatorFree, OrtAllocator *, void *)(alloc, name);
  }
  NAPI(env, napi_create_external(env, s, NULL, NULL, &handle));
  NAPI(env, napi_create_object(env, &result));
  napi_set_named_property(env, result, "session", handle);
  napi_set_named_property(env, result, "inputs", inputs);
  napi_set_named_property(env, result, "outputs", outputs);
  if (cuda) FN(I_ReleaseCUDAProviderOptions, void, OrtCUDAProviderOptionsV2 *)(cuda);
  FN(I_ReleaseSessionOptions, void, OrtSessionOptions *)(so);
  free(path);
  free(device);
  return result;
fail:
  if (cuda) FN(I_ReleaseCUDAProviderOptions, void, OrtCUDAProviderOptionsV2 *)(cuda);
  if (so) FN(I_ReleaseSessionOptions, void, OrtSessionOptions *)(so);
  if (s->session) FN(I_ReleaseSession, void, OrtSession *)(s->session);
  free(s);
  free(path);
  free(device);
  return NULL;
}

/* After a bound pass (or its failure): the fetched outputs and their array, the binding, and the bound values. */
static void release_pass(Session *s, OrtValue **outs, size_t n_outs, OrtAllocator *alloc, OrtValue **values, size_t n_values) {
  if (outs) {
    for (size_t i = 0; i < n_outs; i++)
      if (outs[i]) FN(I_ReleaseValue, void, OrtValue *)(outs[i]);
    if (alloc) ST(I_AllocatorFree, OrtAllocator *, void *)(alloc, outs);
  }
  if (s && s->binding) {
    FN(I_ClearBoundInputs, void, OrtIoBinding *)(s->binding);
    FN(I_ClearBoundOutputs, void, OrtIoBinding *)(s->binding);
  }
  if (values)
    for (size_t i = 0; i < n_values; i++)
      if (values[i]) FN(I_ReleaseValue, void, OrtValue *)(values[i]);
  free(values);
}

/* Copies a host or device logits tensor into a JS typed array (float32, or uint16 for float16); dims as an array. */
static int logits_to_js(napi_env env, OrtValue *v, napi_value *typed, napi_value *jdims) {
  OrtTensorTypeAndShapeInfo *tsi = NULL;
  int type = 0;
  size_t nd = 0, count = 1;
  int64_t dims[8];
  void *src = NULL, *dst = NULL;
  napi_value ab;
  if (!ok(env, ST(I_GetTensorTypeAndShape, const OrtValue *, OrtTensorTypeAndShapeInfo **)(v, &tsi))) return 0;
  ST(I_GetTensorElementType, const OrtTensorTypeAndShapeInfo *, int *)(tsi, &type);
  ST(I_GetDimensionsCount, const OrtTensorTypeAndShapeInfo *, size_t *)(tsi, &nd);
  if (nd > 8) nd = 8;
  ST(I_GetDimensions, const OrtTensorTypeAndShapeInfo *, int64_t *, size_t)(tsi, dims, nd);
  FN(I_ReleaseTensorTypeAndShapeInfo, void, OrtTensorTypeAndShapeInfo *)(tsi);
  for (size_t d = 0; d < nd; d++) count *= (size_t)dims[d];
  if (!ok(env, ST(I_GetTensorMutableData, OrtValue *, void **)(v, &src))) return 0;
  const size_t es = elem_size(type);
  if (napi_create_arraybuffer(env, count * es, &dst, &ab) != napi_ok) return 0;
  if (count) memcpy(dst, src, count * es);
  if (napi_create_typedarray(env, type == ORT_FLOAT16 ? napi_uint16_array : napi_float32_array, count, ab, 0, typed) != napi_ok) return 0;
  if (napi_create_array_with_length(env, nd, jdims) != napi_ok) return 0;
  for (size_t d = 0; d < nd; d++) {
    napi_value x;
    napi_create_int64(env, dims[d], &x);
    napi_set_element(env, *jdims, d, x);
  }
  return 1;
}

/* `result` = a new array of `length` whose first two elements are the logits (logits_to_js) and their dims. */
static int logits_result(napi_env env, OrtValue *v, size_t length, const char *what, napi_value *result) {
  napi_value typed, jdims;
  if (!logits_to_js(env, v, &typed, &jdims)) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) {
      char msg[96];
      snprintf(msg, sizeof msg, "%s: cannot copy the logits", what);
      napi_throw_error(env, NULL, msg);
    }
    return 0;
  }
  if (napi_create_array_with_length(env, length, result) != napi_ok) return 0;
  napi_set_element(env, *result, 0, typed);
  napi_set_element(env, *result, 1, jdims);
  return 1;
}

/* ---- run(session, feeds, pastNames, past, logitsName, presentNames) ---- */
static napi_value js_run(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Session *s = (Session *)external(env, argv[0]);
  uint32_t n_feeds = 0, n_past = 0, n_present = 0;
  napi_get_array_length(env, argv[1], &n_feeds);
  napi_get_array_length(env, argv[2], &n_past);
  napi_get_array_length(env, argv[5], &n_present);
  napi_valuetype past_type;
  napi_typeof(env, argv[3], &past_type);
  KvSet *past = past_type == napi_external ? (KvSet *)external(env, argv[3]) : NULL;
  OrtValue **inputs = calloc(n_feeds, sizeof(OrtValue *));
  OrtValue **outs = NULL;
  size_t n_outs = 0;
  char *name = NULL;
  OrtAllocator *alloc = NULL;
  KvSet *present = NULL;
  if (!s || s->released) {
    napi_throw_error(env, NULL, "session is released");
    goto fail;
  }
  if (past && (!past->values || past->n != n_past)) {
    napi_throw_error(env, NULL, "past KV set is released or has the wrong number of tensors");
    goto fail;
  }
  FN(I_ClearBoundInputs, void, OrtIoBinding *)(s->binding);
  FN(I_ClearBoundOutputs, void, OrtIoBinding *)(s->binding);
  for (uint32_t i = 0; i < n_feeds; i++) {
    napi_value feed, jname, jtype, jdims, jdata;
    napi_get_element(env, argv[1], i, &feed);
    napi_get_element(env, feed, 0, &jname);
    napi_get_element(env, feed, 1, &jtype);
    napi_get_element(env, feed, 2, &jdims);
    napi_get_element(env, feed, 3, &jdata);
    int32_t type = 0;
    uint32_t nd = 0;
    int64_t dims[8];
    napi_get_value_int32(env, jtype, &type);
    napi_get_array_length(env, jdims, &nd);
    if (nd > 8) nd = 8;
    for (uint32_t d = 0; d < nd; d++) {
      napi_value v;
      napi_get_element(env, jdims, d, &v);
      napi_get_value_int64(env, v, &dims[d]);
    }
    void *data = NULL;
    size_t bytes = 0;
    napi_typedarray_type tt;
    size_t length = 0, offset = 0;
    napi_value ab;
    NAPI(env, napi_get_typedarray_info(env, jdata, &tt, &length, &data, &ab, &offset));
    bytes = length * elem_size(type);
    static int64_t empty_scratch;
    if (!data) data = &empty_scratch; /* zero-size tensors still need a pointer */
    name = string_arg(env, jname);
    CHECK(env, ST(I_CreateTensorWithDataAsOrtValue, const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **)(s->cpu_info, data, bytes, dims, nd, type, &inputs[i]));
    CHECK(env, ST(I_BindInput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, name, inputs[i]));
    free(name);
    name = NULL;
  }
  if (past) {
    for (uint32_t i = 0; i < n_past; i++) {
      napi_value jname;
      napi_get_element(env, argv[2], i, &jname);
      name = string_arg(env, jname);
      CHECK(env, ST(I_BindInput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, name, past->values[i]));
      free(name);
      name = NULL;
    }
  }
  name = string_arg(env, argv[4]);
  CHECK(env, ST(I_BindOutputToDevice, OrtIoBinding *, const char *, const OrtMemoryInfo *)(s->binding, name, s->cpu_info));
  free(name);
  name = NULL;
  for (uint32_t i = 0; i < n_present; i++) {
    napi_value jname;
    napi_get_element(env, argv[5], i, &jname);
    name = string_arg(env, jname);
    CHECK(env, ST(I_BindOutputToDevice, OrtIoBinding *, const char *, const OrtMemoryInfo *)(s->binding, name, s->dev_info));
    free(name);
    name = NULL;
  }
  CHECK(env, ST(I_RunWithBinding, OrtSession *, const OrtRunOptions *, const OrtIoBinding *)(s->session, NULL, s->binding));
  CHECK(env, ST(I_GetAllocatorWithDefaultOptions, OrtAllocator **)(&alloc));
  CHECK(env, ST(I_GetBoundOutputValues, const OrtIoBinding *, OrtAllocator *, OrtValue ***, size_t *)(s->binding, alloc, &outs, &n_outs));
  if (n_outs != 1 + n_present) {
    napi_throw_error(env, NULL, "unexpected number of bound outputs");
    goto fail;
  }
  if (!logits_result(env, outs[0], 3, "run", &result)) goto fail; /* [logits, dims, ...] */
  FN(I_ReleaseValue, void, OrtValue *)(outs[0]);
  outs[0] = NULL;
  /* present: stays where it was computed, owned by a new KV set */
  present = calloc(1, sizeof(KvSet));
  present->owner = s;
  present->n = n_present;
  present->values = calloc(n_present, sizeof(OrtValue *));
  for (uint32_t i = 0; i < n_present; i++) {
    present->values[i] = outs[1 + i];
    outs[1 + i] = NULL;
  }
  if (n_present > 0) {
    OrtTensorTypeAndShapeInfo *tsi = NULL;
    size_t nd = 0;
    CHECK(env, ST(I_GetTensorTypeAndShape, const OrtValue *, OrtTensorTypeAndShapeInfo **)(present->values[0], &tsi));
    ST(I_GetTensorElementType, const OrtTensorTypeAndShapeInfo *, int *)(tsi, &present->type);
    ST(I_GetDimensionsCount, const OrtTensorTypeAndShapeInfo *, size_t *)(tsi, &nd);
    ST(I_GetDimensions, const OrtTensorTypeAndShapeInfo *, int64_t *, size_t)(tsi, present->dims, nd == 4 ? 4 : 0);
    FN(I_ReleaseTensorTypeAndShapeInfo, void, OrtTensorTypeAndShapeInfo *)(tsi);
  }
  {
    napi_value jkv = wrap_kv(env, present);
    present = NULL;
    napi_set_element(env, result, 2, jkv);
  }
  ST(I_AllocatorFree, OrtAllocator *, void *)(alloc, outs);
  outs = NULL;
  FN(I_ClearBoundInputs, void, OrtIoBinding *)(s->binding);
  FN(I_ClearBoundOutputs, void, OrtIoBinding *)(s->binding);
  for (uint32_t i = 0; i < n_feeds; i++)
    if (inputs[i]) FN(I_ReleaseValue, void, OrtValue *)(inputs[i]);
  free(inputs);
  return result;
fail:
  free(name);
  if (outs) {
    for (size_t i = 0; i < n_outs; i++)
      if (outs[i]) FN(I_ReleaseValue, void, OrtValue *)(outs[i]);
    if (alloc) ST(I_AllocatorFree, OrtAllocator *, void *)(alloc, outs);
  }
  if (present) {
    for (size_t i = 0; i < present->n; i++)
      if (present->values[i]) FN(I_ReleaseValue, void, OrtValue *)(present->values[i]);
    free(present->values);
    free(present);
  }
  if (s && s->binding) {
    FN(I_ClearBoundInputs, void, OrtIoBinding *)(s->binding);
    FN(I_ClearBoundOutputs, void, OrtIoBinding *)(s->binding);
  }
  for (uint32_t i = 0; i < n_feeds; i++)
    if (inputs[i]) FN(I_ReleaseValue, void, OrtValue *)(inputs[i]);
  free(inputs);
  return NULL;
}


/* A tensor over the memory of a JS [name, type, dims, TypedArray] spec (no copy); *name_out is malloc'd. */
static OrtValue *js_tensor(napi_env env, Session *s, napi_value spec, char **name_out) {
  napi_value jname, jtype, jdims, jdata, ab;
  OrtValue *value = NULL;
  int32_t type = 0;
  uint32_t nd = 0;
  int64_t dims[8];
  void *data = NULL;
  size_t length = 0, offset = 0;
  napi_typedarray_type tt;
  static int64_t empty_scratch;
  napi_get_element(env, spec, 0, &jname);
  napi_get_element(env, spec, 1, &jtype);
  napi_get_element(env, spec, 2, &jdims);
  napi_get_element(env, spec, 3, &jdata);
  napi_get_value_int32(env, jtype, &type);
  napi_get_array_length(env, jdims, &nd);
  if (nd > 8) nd = 8;
  for (uint32_t d = 0; d < nd; d++) {
    napi_value v;
    napi_get_element(env, jdims, d, &v);
    napi_get_value_int64(env, v, &dims[d]);
  }
  if (napi_get_typedarray_info(env, jdata, &tt, &length, &data, &ab, &offset) != napi_ok) {
    napi_throw_error(env, NULL, "tensor data must be a typed array");
    return NULL;
  }
  if (!data) data = &empty_scratch;
  *name_out = string_arg(env, jname);
  if (!ok(env, ST(I_CreateTensorWithDataAsOrtValue, const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **)(s->cpu_info, data, length * elem_size(type), dims, nd, type, &value))) return NULL;
  return value;
}

/* ---- runBound(session, feeds, outputs, logitsName) ---- */
static napi_value js_run_bound(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Session *s = (Session *)external(env, argv[0]);
  uint32_t n_feeds = 0, n_bound = 0;
  napi_get_array_length(env, argv[1], &n_feeds);
  napi_get_array_length(env, argv[2], &n_bound);
  OrtValue **values = calloc(n_feeds + n_bound, sizeof(OrtValue *));
  OrtValue **outs = NULL;
  size_t n_outs = 0;
  char *name = NULL;
  OrtAllocator *alloc = NULL;
  if (!s || s->released || s->on_cuda) {
    napi_throw_error(env, NULL, s && s->on_cuda ? "runBound binds host memory: CPU sessions only" : "session is released");
    goto fail;
  }
  FN(I_ClearBoundInputs, void, OrtIoBinding *)(s->binding);
  FN(I_ClearBoundOutputs, void, OrtIoBinding *)(s->binding);
  name = string_arg(env, argv[3]);
  CHECK(env, ST(I_BindOutputToDevice, OrtIoBinding *, const char *, const OrtMemoryInfo *)(s->binding, name, s->cpu_info));
  free(name);
  name = NULL;
  for (uint32_t i = 0; i < n_feeds + n_bound; i++) {
    napi_value spec;
    napi_get_element(env, i < n_feeds ? argv[1] : argv[2], i < n_feeds ? i : i - n_feeds, &spec);
    values[i] = js_tensor(env, s, spec, &name);
    if (!values[i]) goto fail;
    if (i < n_feeds) CHECK(env, ST(I_BindInput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, name, values[i]));
    else CHECK(env, ST(I_BindOutput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, name, values[i]));
    free(name);
    name = NULL;
  }
  CHECK(env, ST(I_RunWithBinding, OrtSession *, const OrtRunOptions *, const OrtIoBinding *)(s->session, NULL, s->binding));
  CHECK(env, ST(I_GetAllocatorWithDefaultOptions, OrtAllocator **)(&alloc));
  CHECK(env, ST(I_GetBoundOutputValues, const OrtIoBinding *, OrtAllocator *, OrtValue ***, size_t *)(s->binding, alloc, &outs, &n_outs));
  if (n_outs != 1 + n_bound) {
    napi_throw_error(env, NULL, "unexpected number of bound outputs");
    goto fail;
  }
  if (!logits_result(env, outs[0], 2, "runBound", &result)) goto fail; /* [logits, dims, ...] */
fail:
  free(name);
  release_pass(s, outs, n_outs, alloc, values, (size_t)(n_feeds + n_bound));
  return result;
}

/* ---- assemble(session, rows [[kv, row, padded, length]], pastLen) ---- */
static napi_value js_assemble(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Session *s = (Session *)external(env, argv[0]);
  uint32_t batch = 0;
  int64_t past_len = 0;
  napi_get_array_length(env, argv[1], &batch);
  napi_get_value_int64(env, argv[2], &past_len);
  KvSet *out = NULL;
  KvSet **src = calloc(batch ? batch : 1, sizeof(KvSet *));
  int64_t *srow = calloc(batch ? batch : 1, sizeof(int64_t)), *spad = calloc(batch ? batch : 1, sizeof(int64_t)), *slen = calloc(batch ? batch : 1, sizeof(int64_t));
  if (!s || s->released || batch == 0) {
    napi_throw_error(env, NULL, "assemble: no session or no rows");
    goto fail;
  }
  for (uint32_t b = 0; b < batch; b++) {
    napi_value row, v;
    napi_get_element(env, argv[1], b, &row);
    napi_get_element(env, row, 0, &v);
    src[b] = (KvSet *)external(env, v);
    napi_get_element(env, row, 1, &v);
    napi_get_value_int64(env, v, &srow[b]);
    napi_get_element(env, row, 2, &v);
    napi_get_value_int64(env, v, &spad[b]);
    napi_get_element(env, row, 3, &v);
    napi_get_value_int64(env, v, &slen[b]);
    if (!src[b] || !src[b]->values || slen[b] > past_len || slen[b] > spad[b] || src[b]->n != src[0]->n) {
      napi_throw_error(env, NULL, "assemble: a source KV set is released or a row does not fit");
      goto fail;
    }
  }
  const KvSet *first = src[0];
  const int64_t heads = first->dims[1], head_dim = first->dims[3];
  const size_t es = elem_size(first->type);
  int64_t dims[4] = {batch, heads, past_len, head_dim};
  const size_t total = (size_t)batch * heads * past_len * head_dim * es;
  out = calloc(1, sizeof(KvSet));
  out->owner = s;
  out->n = first->n;
  out->type = first->type;
  memcpy(out->dims, dims, sizeof dims);
  out->values = calloc(out->n, sizeof(OrtValue *));
  if (s->on_cuda && !cuda_ok(env, g_cuda.sync(), "cudaDeviceSynchronize")) goto fail;
  for (size_t t = 0; t < out->n; t++) {
    void *dst = NULL;
    CHECK(env, ST(I_CreateTensorAsOrtValue, OrtAllocator *, const int64_t *, size_t, int, OrtValue **)(s->dev_alloc, dims, 4, out->type, &out->values[t]));
    CHECK(env, ST(I_GetTensorMutableData, OrtValue *, void **)(out->values[t], &dst));
    if (total == 0) continue;
    if (s->on_cuda) {
      if (!cuda_ok(env, g_cuda.memset(dst, 0, total), "cudaMemset")) goto fail;
    } else {
      memset(dst, 0, total);
    }
    for (uint32_t b = 0; b < batch; b++) {
      if (slen[b] == 0) continue;
      void *sp = NULL;
      CHECK(env, ST(I_GetTensorMutableData, OrtValue *, void **)(src[b]->values[t], &sp));
      const size_t width = (size_t)slen[b] * head_dim * es;
      const size_t spitch = (size_t)spad[b] * head_dim * es, dpitch = (size_t)past_len * head_dim * es;
      const char *s0 = (const char *)sp + ((size_t)srow[b] * heads * spad[b] + (spad[b] - slen[b])) * head_dim * es;
      char *d0 = (char *)dst + ((size_t)b * heads * past_len + (past_len - slen[b])) * head_dim * es;
      if (s->on_cuda) {
        if (!cuda_ok(env, g_cuda.memcpy2d(d0, dpitch, s0, spitch, width, (size_t)heads, 3 /* device to device */), "cudaMemcpy2D")) goto fail;
      } else {
        for (int64_t h = 0; h < heads; h++) memcpy(d0 + h * dpitch, s0 + h * spitch, width);
      }
    }
  }
  if (s->on_cuda && !cuda_ok(env, g_cuda.sync(), "cudaDeviceSynchronize")) goto fail;
  free(src); free(srow); free(spad); free(slen);
  return wrap_kv(env, out);
fail:
  if (out) {
    for (size_t t = 0; t < out->n; t++)
      if (out->values[t]) FN(I_ReleaseValue, void, OrtValue *)(out->values[t]);
    free(out->values);
    free(out);
  }
  free(src); free(srow); free(spad); free(slen);
  return NULL;
}

static napi_value js_free_kv(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  KvSet *kv = (KvSet *)external(env, argv[0]);
  if (kv) kv_release(kv);
  return NULL;
}

static napi_value js_release_session(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Session *s = (Session *)external(env, argv[0]);
  if (!s || s->released) return NULL;
  s->released = 1;
  FN(I_ReleaseIoBinding, void, OrtIoBinding *)(s->binding);
  buckets_release(s);
  /* KV sets still alive hold memory of the session's allocators: the session is kept until the process ends. */
  if (s->live_kv == 0) {
    if (s->on_cuda && s->dev_alloc) FN(I_ReleaseAllocator, void, OrtAllocator *)(s->dev_alloc);
    FN(I_ReleaseSession, void, OrtSession *)(s->session);
  }
  return NULL;
}

static napi_value js_mem_info(napi_env env, napi_callback_info info) {
  (void)info;
  char err[256];
  napi_value out, a, b;
  size_t free_b = 0, total_b = 0;
  if (!load_cudart(err, sizeof err)) {
    napi_throw_error(env, "CUDA_ERROR", err);
    return NULL;
  }
  if (!cuda_ok(env, g_cuda.meminfo(&free_b, &total_b), "cudaMemGetInfo")) return NULL;
  napi_create_array_with_length(env, 2, &out);
  napi_create_double(env, (double)free_b, &a);
  napi_create_double(env, (double)total_b, &b);
  napi_set_element(env, out, 0, a);
  napi_set_element(env, out, 1, b);
  return out;
}

/* ---- a fused graph's KV pool: device (or host) buffers bound in place, sub-ranges per pass ---- */
typedef struct {
  int on_cuda;
  int device_id;
  size_t n;
  void **bufs;
  int64_t slots, heads, capacity, head_dim;
  int type;
  size_t slot_bytes;
} KvPool;

static void pool_release(KvPool *p) {
  if (!p->bufs) return;
  for (size_t i = 0; i < p->n; i++) {
    if (!p->bufs[i]) continue;
    if (p->on_cuda) g_cuda.free(p->bufs[i]);
    else free(p->bufs[i]);
  }
  free(p->bufs);
  p->bufs = NULL;
}

static void pool_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  KvPool *p = (KvPool *)data;
  pool_release(p);
  free(p);
}

/* ---- createPool(session, buffers, slots, kvHeads, capacity, headDim, type) ---- */
static napi_value js_create_pool(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], out = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Session *s = (Session *)external(env, argv[0]);
  int64_t n = 0, slots = 0, heads = 0, capacity = 0, head_dim = 0;
  int32_t type = 0;
  napi_get_value_int64(env, argv[1], &n);
  napi_get_value_int64(env, argv[2], &slots);
  napi_get_value_int64(env, argv[3], &heads);
  napi_get_value_int64(env, argv[4], &capacity);
  napi_get_value_int64(env, argv[5], &head_dim);
  napi_get_value_int32(env, argv[6], &type);
  KvPool *p = NULL;
  if (!s || s->released) {
    napi_throw_error(env, NULL, "createPool: session is released");
    return NULL;
  }
  if (n < 1 || slots < 1 || heads < 1 || capacity < 1 || head_dim < 1 || elem_size(type) == 0) {
    napi_throw_error(env, NULL, "createPool: bad pool dimensions or element type");
    return NULL;
  }
  p = calloc(1, sizeof(KvPool));
  p->on_cuda = s->on_cuda;
  p->device_id = s->device_id;
  p->n = (size_t)n;
  p->slots = slots; p->heads = heads; p->capacity = capacity; p->head_dim = head_dim; p->type = type;
  p->slot_bytes = (size_t)heads * capacity * head_dim * elem_size(type);
  p->bufs = calloc(p->n, sizeof(void *));
  const size_t bytes = p->slot_bytes * (size_t)slots;
  if (p->on_cuda && !cuda_ok(env, g_cuda.set_device(p->device_id), "cudaSetDevice (createPool)")) goto fail;
  for (size_t i = 0; i < p->n; i++) {
    if (p->on_cuda) {
      char what[96];
      snprintf(what, sizeof what, "cudaMalloc of KV pool buffer %zu (%zu bytes)", i, bytes);
      if (!cuda_ok(env, g_cuda.malloc(&p->bufs[i], bytes), what)) goto fail;
      if (!cuda_ok(env, g_cuda.memset(p->bufs[i], 0, bytes), "cudaMemset (createPool)")) goto fail;
    } else {
      p->bufs[i] = calloc(1, bytes); /* large callocs are mapped lazily: pages become resident as slots fill */
      if (!p->bufs[i]) {
        napi_throw_error(env, NULL, "createPool: out of host memory");
        goto fail;
      }
    }
  }
  if (p->on_cuda && !cuda_ok(env, g_cuda.sync(), "cudaDeviceSynchronize (createPool)")) goto fail;
  if (napi_create_external(env, p, pool_finalize, NULL, &out) != napi_ok) {
    napi_throw_error(env, NULL, "createPool: napi_create_external failed");
    goto fail;
  }
  return out;
fail:
  if (p) {
    pool_release(p);
    free(p);
  }
  return NULL;
}

/* ---- poolMove(pool, from, to, length) ---- */
static napi_value js_pool_move(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  KvPool *p = (KvPool *)external(env, argv[0]);
  int64_t from = -1, to = -1, length = -1;
  napi_get_value_int64(env, argv[1], &from);
  napi_get_value_int64(env, argv[2], &to);
  napi_get_value_int64(env, argv[3], &length);
  if (!p || !p->bufs) {
    napi_throw_error(env, NULL, "poolMove: the pool is released");
    return NULL;
  }
  if (from < 0 || to < 0 || from >= p->slots || to >= p->slots || length < 0 || length > p->capacity) {
    napi_throw_error(env, NULL, "poolMove: slot or length outside the pool");
    return NULL;
  }
  if (from == to || length == 0) return NULL;
  const size_t es = elem_size(p->type);
  const size_t pitch = (size_t)p->capacity * p->head_dim * es, width = (size_t)length * p->head_dim * es;
  if (p->on_cuda && !cuda_ok(env, g_cuda.sync(), "cudaDeviceSynchronize (poolMove)")) return NULL;
  for (size_t i = 0; i < p->n; i++) {
    const char *src = (const char *)p->bufs[i] + (size_t)from * p->slot_bytes;
    char *dst = (char *)p->bufs[i] + (size_t)to * p->slot_bytes;
    if (p->on_cuda) {
      if (!cuda_ok(env, g_cuda.memcpy2d(dst, pitch, src, pitch, width, (size_t)p->heads, 3 /* device to device */), "cudaMemcpy2D (poolMove)")) return NULL;
    } else {
      for (int64_t h = 0; h < p->heads; h++) memcpy(dst + h * pitch, src + h * pitch, width);
    }
  }
  if (p->on_cuda && !cuda_ok(env, g_cuda.sync(), "cudaDeviceSynchronize (poolMove)")) return NULL;
  return NULL;
}


/* The static buffers of a decode bucket (graphBatch rows): created on first use, fixed for the session's life. */
static struct Bucket *bucket_for(napi_env env, Session *s, int64_t batch, int64_t vocab) {
  for (int i = 0; i < s->n_buckets; i++) {
    if (s->buckets[i].batch != batch) continue;
    if (s->buckets[i].vocab != vocab) {
      napi_throw_error(env, NULL, "runPool: a graph bucket was created for another vocabulary size");
      return NULL;
    }
    return &s->buckets[i];
  }
  if (s->n_buckets == 16) {
    napi_throw_error(env, NULL, "runPool: more than 16 graph buckets");
    return NULL;
  }
  struct Bucket *b = &s->buckets[s->n_buckets];
  memset(b, 0, sizeof *b);
  b->batch = batch;
  b->vocab = vocab;
  const size_t sizes[4] = {(size_t)batch * 8, (size_t)batch * 4, (size_t)batch * vocab * 4, (size_t)batch * 8};
  void **bufs[4] = {&b->ids, &b->seqlens, &b->logits, &b->greedy};
  const char *what[4] = {"cudaMalloc (graph bucket input_ids)", "cudaMalloc (graph bucket seqlens_k)", "cudaMalloc (graph bucket logits)", "cudaMalloc (graph bucket greedy tokens)"};
  for (int i = 0; i < 4; i++) {
    if (s->on_cuda) {
      if (!cuda_ok(env, g_cuda.malloc(bufs[i], sizes[i]), what[i])) goto fail;
    } else if (!(*bufs[i] = calloc(1, sizes[i]))) {
      napi_throw_error(env, NULL, "runPool: out of host memory for a graph bucket");
      goto fail;
    }
  }
  {
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)batch);
    if (!ok(env, ST(I_CreateRunOptions, OrtRunOptions **)(&b->run))) goto fail;
    if (!ok(env, ST(I_AddRunConfigEntry, OrtRunOptions *, const char *, const char *)(b->run, "gpu_graph_id", id))) goto fail;
  }
  s->n_buckets++;
  return b;
fail:
  for (int i = 0; i < 4; i++) {
    if (!*bufs[i]) continue;
    if (s->on_cuda) g_cuda.free(*bufs[i]);
    else free(*bufs[i]);
    *bufs[i] = NULL;
  }
  if (b->run) FN(I_ReleaseRunOptions, void, OrtRunOptions *)(b->run);
  b->run = NULL;
  return NULL;
}

static void buckets_release(Session *s) {
  for (int i = 0; i < s->n_buckets; i++) {
    struct Bucket *b = &s->buckets[i];
    void *bufs[4] = {b->ids, b->seqlens, b->logits, b->greedy};
    for (int k = 0; k < 4; k++) {
      if (!bufs[k]) continue;
      if (s->on_cuda) g_cuda.free(bufs[k]);
      else free(bufs[k]);
    }
    if (b->run) FN(I_ReleaseRunOptions, void, OrtRunOptions *)(b->run);
  }
  s->n_buckets = 0;
  if (s->run_skip) FN(I_ReleaseRunOptions, void, OrtRunOptions *)(s->run_skip);
  s->run_skip = NULL;
}

/* Copies `bytes` of host memory into a bucket buffer of `cap` bytes, zeroing the rest (the padding rows). */
static int bucket_upload(napi_env env, Session *s, void *dst, size_t cap, const void *src, size_t bytes) {
  if (bytes > cap) {
    napi_throw_error(env, NULL, "runPool: more rows than the graph bucket holds");
    return 0;
  }
  if (!s->on_cuda) {
    memset(dst, 0, cap);
    memcpy(dst, src, bytes);
    return 1;
  }
  if (!cuda_ok(env, g_cuda.memset(dst, 0, cap), "cudaMemset (graph bucket input)")) return 0;
  if (bytes && !cuda_ok(env, g_cuda.memcpy2d(dst, bytes, src, bytes, bytes, 1, 1 /* host to device */), "cudaMemcpy2D (graph bucket input)")) return 0;
  return 1;
}

/* Copies rows of a [rows, perRow, vocab] float32 logits tensor at `src` (device memory on CUDA, host memory on the
 * CPU) into a new Float32Array: every row when `want` is NULL, else rows want[0..n_want) in that order (each checked
 * against `rows`). `dims` = [rows copied, perRow, vocab]. The caller has synchronised the device. */
static int rows_to_js(napi_env env, int on_cuda, const void *src, int64_t rows, int64_t per_row, int64_t vocab, const int32_t *want, size_t n_want, napi_value *typed, napi_value *jdims) {
  const size_t row_bytes = (size_t)per_row * (size_t)vocab * 4;
  const size_t n = want ? n_want : (size_t)rows;
  void *dst = NULL;
  napi_value ab, x;
  for (size_t k = 0; want && k < n_want; k++) {
    if (want[k] < 0 || want[k] >= rows) {
      napi_throw_range_error(env, NULL, "runPool: a logits row outside the pass");
      return 0;
    }
  }
  if (napi_create_arraybuffer(env, n * row_bytes, &dst, &ab) != napi_ok) return 0;
  if (on_cuda && !want) {
    if (n && !cuda_ok(env, g_cuda.memcpy2d(dst, n * row_bytes, src, n * row_bytes, n * row_bytes, 1, 2 /* device to host */), "cudaMemcpy2D (logits)")) return 0;
  } else if (on_cuda) {
    for (size_t k = 0; k < n; k++) {
      const char *from = (const char *)src + (size_t)want[k] * row_bytes;
      if (!cuda_ok(env, g_cuda.memcpy2d((char *)dst + k * row_bytes, row_bytes, from, row_bytes, row_bytes, 1, 2 /* device to host */), "cudaMemcpy2D (logits row)")) return 0;
    }
  } else {
    for (size_t k = 0; k < n; k++) memcpy((char *)dst + k * row_bytes, (const char *)src + (size_t)(want ? want[k] : (int64_t)k) * row_bytes, row_bytes);
  }
  if (napi_create_typedarray(env, napi_float32_array, n * (size_t)per_row * (size_t)vocab, ab, 0, typed) != napi_ok) return 0;
  if (napi_create_array_with_length(env, 3, jdims) != napi_ok) return 0;
  const int64_t d[3] = {(int64_t)n, per_row, vocab};
  for (int i = 0; i < 3; i++) {
    napi_create_int64(env, d[i], &x);
    napi_set_element(env, *jdims, (uint32_t)i, x);
  }
  return 1;
}

/* The first `count` int64 token ids at `src` (device or host memory) as a new Int32Array. */
static int tokens_to_js(napi_env env, int on_cuda, const void *src, size_t count, napi_value *typed) {
  int64_t stack[256];
  int64_t *tmp = count <= 256 ? stack : malloc(count * 8);
  int32_t *dst = NULL;
  napi_value ab;
  int done = 0;
  if (!tmp) {
    napi_throw_error(env, NULL, "runPool: out of host memory for the greedy tokens");
    return 0;
  }
  if (on_cuda) {
    if (count && !cuda_ok(env, g_cuda.memcpy2d(tmp, count * 8, src, count * 8, count * 8, 1, 2 /* device to host */), "cudaMemcpy2D (greedy tokens)")) goto out;
  } else if (count) {
    memcpy(tmp, src, count * 8);
  }
  if (napi_create_arraybuffer(env, count * 4, (void **)&dst, &ab) != napi_ok) goto out;
  for (size_t i = 0; i < count; i++) dst[i] = (int32_t)tmp[i];
  done = napi_create_typedarray(env, napi_int32_array, count, ab, 0, typed) == napi_ok;
out:
  if (tmp != stack) free(tmp);
  return done;
}

/* An optional Int32Array argument: 1 and its data and length when given (an empty one included), 0 when absent. */
static int int32_arg(napi_env env, napi_value v, const int32_t **data, size_t *length) {
  static const int32_t none = 0;
  napi_valuetype t = napi_undefined;
  bool is_typed = false;
  napi_typedarray_type type;
  void *p = NULL;
  *data = NULL;
  *length = 0;
  if (!v || napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null) return 0;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, v, &type, length, &p, NULL, NULL) != napi_ok || type != napi_int32_array) {
    *length = 0;
    return 0;
  }
  *data = p ? (const int32_t *)p : &none; /* an empty array may have no data */
  return 1;
}

/* ---- runPool(session, pool, feeds, pastNames, presentNames, slot, batch, logitsName, graphBatch?, vocab?, greedyName?, logitRows?)
 *        -> [logits, logitsDims, greedy Int32Array | undefined] ----
 * greedyName: the graph's argmax output (int64 [batch, keep]); its tokens come back as an Int32Array.
 * logitRows: the rows whose logits come back (an Int32Array of row indices, in that order); the others stay on the
 * device. Absent: every row. */
static napi_value js_run_pool(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12] = {0}, result = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Session *s = (Session *)external(env, argv[0]);
  KvPool *p = (KvPool *)external(env, argv[1]);
  uint32_t n_feeds = 0, n_past = 0, n_present = 0;
  int64_t slot = -1, batch = 0, graph_batch = 0, vocab = 0;
  struct Bucket *bk = NULL;
  char *greedy_name = NULL;
  size_t n_want = 0;
  const int32_t *want = NULL;
  if (argc > 11) int32_arg(env, argv[11], &want, &n_want);
  if (argc > 8) napi_get_value_int64(env, argv[8], &graph_batch);
  if (argc > 9) napi_get_value_int64(env, argv[9], &vocab);
  if (argc > 10) {
    napi_valuetype t = napi_undefined;
    napi_typeof(env, argv[10], &t);
    if (t == napi_string) greedy_name = string_arg(env, argv[10]);
    if (greedy_name && !greedy_name[0]) {
      free(greedy_name);
      greedy_name = NULL;
    }
  }
  napi_get_array_length(env, argv[2], &n_feeds);
  napi_get_array_length(env, argv[3], &n_past);
  napi_get_array_length(env, argv[4], &n_present);
  napi_get_value_int64(env, argv[5], &slot);
  napi_get_value_int64(env, argv[6], &batch);
  /* feeds, past and present views, the logits and the greedy tokens */
  const size_t n_values = n_feeds + 2 * (size_t)n_past + 2;
  OrtValue **values = calloc(n_values, sizeof(OrtValue *));
  OrtValue **outs = NULL;
  size_t n_outs = 0;
  char *name = NULL;
  OrtAllocator *alloc = NULL;
  if (!s || s->released) {
    napi_throw_error(env, NULL, "runPool: session is released");
    goto fail;
  }
  if (!p || !p->bufs || p->on_cuda != s->on_cuda || n_past != p->n || n_present != p->n) {
    napi_throw_error(env, NULL, "runPool: the pool is released, lives on another device or does not match the past / present names");
    goto fail;
  }
  if (slot < 0 || batch < 1 || slot + batch > p->slots) {
    napi_throw_error(env, NULL, "runPool: slots outside the pool");
    goto fail;
  }
  if (want && !greedy_name) {
    napi_throw_error(env, NULL, "runPool: logitRows needs the graph's greedy output (the other rows' tokens come from it)");
    goto fail;
  }
  if (graph_batch > 0) {
    /* a decode pass over a static bucket: every input and output at a fixed address, rows batch..graphBatch-1 padding
       (free slots, length 0), replayed as one CUDA graph per bucket on a CUDA session */
    if (!s->cuda_graph || slot != 0 || graph_batch < batch || graph_batch > p->slots || vocab < 1) {
      napi_throw_error(env, NULL, "runPool: a graph pass needs a cudaGraph session, slot 0, batch <= graphBatch <= pool slots and the vocabulary size");
      goto fail;
    }
    bk = bucket_for(env, s, graph_batch, vocab);
    if (!bk) goto fail;
  }
  const int64_t rows = bk ? graph_batch : batch;
  OrtValue **logits_value = &values[n_values - 2], **greedy_value = &values[n_values - 1];
  FN(I_ClearBoundInputs, void, OrtIoBinding *)(s->binding);
  FN(I_ClearBoundOutputs, void, OrtIoBinding *)(s->binding);
  name = string_arg(env, argv[7]);
  /* bound in this order: logits, greedy tokens, presents (GetBoundOutputValues keeps it) */
  if (bk) {
    const int64_t ldims[3] = {graph_batch, 1, vocab};
    CHECK(env, ST(I_CreateTensorWithDataAsOrtValue, const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **)(s->dev_info, bk->logits, (size_t)graph_batch * vocab * 4, ldims, 3, ORT_FLOAT, logits_value));
    CHECK(env, ST(I_BindOutput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, name, *logits_value));
  } else {
    /* logits wanted for some rows only stay on the device, and those rows are copied down after the pass */
    CHECK(env, ST(I_BindOutputToDevice, OrtIoBinding *, const char *, const OrtMemoryInfo *)(s->binding, name, want ? s->dev_info : s->cpu_info));
  }
  if (greedy_name) {
    if (bk) {
      const int64_t gdims[2] = {graph_batch, 1};
      CHECK(env, ST(I_CreateTensorWithDataAsOrtValue, const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **)(s->dev_info, bk->greedy, (size_t)graph_batch * 8, gdims, 2, ORT_INT64, greedy_value));
      CHECK(env, ST(I_BindOutput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, greedy_name, *greedy_value));
    } else {
      CHECK(env, ST(I_BindOutputToDevice, OrtIoBinding *, const char *, const OrtMemoryInfo *)(s->binding, greedy_name, s->cpu_info));
    }
  }
  free(name);
  name = NULL;
  for (uint32_t i = 0; i < n_feeds; i++) {
    napi_value spec;
    napi_get_element(env, argv[2], i, &spec);
    values[i] = js_tensor(env, s, spec, &name);
    if (!values[i]) goto fail;
    if (bk && (strcmp(name, "input_ids") == 0 || strcmp(name, "seqlens_k") == 0)) {
      /* the bucket's own buffer instead, holding these rows and zeros for the padding */
      const int ids = strcmp(name, "input_ids") == 0;
      void *src = NULL;
      size_t count = 0;
      CHECK(env, ST(I_GetTensorMutableData, OrtValue *, void **)(values[i], &src));
      {
        OrtTensorTypeAndShapeInfo *tsi = NULL;
        size_t nd = 0;
        int64_t d[8];
        CHECK(env, ST(I_GetTensorTypeAndShape, const OrtValue *, OrtTensorTypeAndShapeInfo **)(values[i], &tsi));
        ST(I_GetDimensionsCount, const OrtTensorTypeAndShapeInfo *, size_t *)(tsi, &nd);
        if (nd > 8) nd = 8;
        ST(I_GetDimensions, const OrtTensorTypeAndShapeInfo *, int64_t *, size_t)(tsi, d, nd);
        FN(I_ReleaseTensorTypeAndShapeInfo, void, OrtTensorTypeAndShapeInfo *)(tsi);
        count = 1;
        for (size_t k = 0; k < nd; k++) count *= (size_t)d[k];
      }
      const size_t es = ids ? 8 : 4;
      if (count != (size_t)batch) {
        napi_throw_error(env, NULL, "runPool: a graph pass feeds one token and one length per row");
        goto fail;
      }
      if (!bucket_upload(env, s, ids ? bk->ids : bk->seqlens, (size_t)graph_batch * es, src, count * es)) goto fail;
      FN(I_ReleaseValue, void, OrtValue *)(values[i]);
      values[i] = NULL;
      const int64_t d2[2] = {graph_batch, 1};
      CHECK(env, ST(I_CreateTensorWithDataAsOrtValue, const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **)(s->dev_info, ids ? bk->ids : bk->seqlens, (size_t)graph_batch * es, d2, ids ? 2 : 1, ids ? ORT_INT64 : ORT_INT32, &values[i]));
    }
    CHECK(env, ST(I_BindInput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, name, values[i]));
    free(name);
    name = NULL;
  }
  if (bk && s->on_cuda && !cuda_ok(env, g_cuda.sync(), "cudaDeviceSynchronize (graph bucket inputs)")) goto fail;
  {
    const int64_t dims[4] = {rows, p->heads, p->capacity, p->head_dim};
    const size_t bytes = p->slot_bytes * (size_t)rows;
    for (uint32_t i = 0; i < p->n; i++) {
      void *data = (char *)p->bufs[i] + (size_t)slot * p->slot_bytes;
      for (int io = 0; io < 2; io++) {
        OrtValue **v = &values[n_feeds + 2 * i + io];
        napi_value jname;
        napi_get_element(env, io == 0 ? argv[3] : argv[4], i, &jname);
        name = string_arg(env, jname);
        /* one value per binding: past and present are two OrtValues over the same device memory */
        CHECK(env, ST(I_CreateTensorWithDataAsOrtValue, const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **)(s->dev_info, data, bytes, dims, 4, p->type, v));
        if (io == 0) CHECK(env, ST(I_BindInput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, name, *v));
        else CHECK(env, ST(I_BindOutput, OrtIoBinding *, const char *, const OrtValue *)(s->binding, name, *v));
        free(name);
        name = NULL;
      }
    }
  }
  CHECK(env, ST(I_RunWithBinding, OrtSession *, const OrtRunOptions *, const OrtIoBinding *)(s->session, bk ? bk->run : s->run_skip, s->binding));
  if (s->on_cuda && !cuda_ok(env, g_cuda.sync(), "cudaDeviceSynchronize (pass)")) goto fail;
  {
    napi_value typed, jdims, greedy;
    napi_get_undefined(env, &greedy);
    if (bk) {
      /* the bucket's outputs: the first `batch` rows come down (of the logits, the wanted ones) */
      if (!rows_to_js(env, s->on_cuda, bk->logits, batch, 1, vocab, want, n_want, &typed, &jdims)) goto fail;
      if (greedy_name && !tokens_to_js(env, s->on_cuda, bk->greedy, (size_t)batch, &greedy)) goto fail;
    } else {
      const size_t expect = 1 + (greedy_name ? 1 : 0) + (size_t)n_present;
      CHECK(env, ST(I_GetAllocatorWithDefaultOptions, OrtAllocator **)(&alloc));
      CHECK(env, ST(I_GetBoundOutputValues, const OrtIoBinding *, OrtAllocator *, OrtValue ***, size_t *)(s->binding, alloc, &outs, &n_outs));
      if (n_outs != expect) {
        napi_throw_error(env, NULL, "runPool: unexpected number of bound outputs");
        goto fail;
      }
      if (want) {
        OrtTensorTypeAndShapeInfo *tsi = NULL;
        int type = 0;
        size_t nd = 0;
        int64_t d[3] = {0, 0, 0};
        void *src = NULL;
        CHECK(env, ST(I_GetTensorTypeAndShape, const OrtValue *, OrtTensorTypeAndShapeInfo **)(outs[0], &tsi));
        ST(I_GetTensorElementType, const OrtTensorTypeAndShapeInfo *, int *)(tsi, &type);
        ST(I_GetDimensionsCount, const OrtTensorTypeAndShapeInfo *, size_t *)(tsi, &nd);
        if (nd == 3) ST(I_GetDimensions, const OrtTensorTypeAndShapeInfo *, int64_t *, size_t)(tsi, d, 3);
        FN(I_ReleaseTensorTypeAndShapeInfo, void, OrtTensorTypeAndShapeInfo *)(tsi);
        if (type != ORT_FLOAT || nd != 3) {
          napi_throw_error(env, NULL, "runPool: logitRows needs float32 logits [batch, positions, vocab]");
          goto fail;
        }
        CHECK(env, ST(I_GetTensorMutableData, OrtValue *, void **)(outs[0], &src));
        if (!rows_to_js(env, s->on_cuda, src, d[0], d[1], d[2], want, n_want, &typed, &jdims)) goto fail;
      } else if (!logits_to_js(env, outs[0], &typed, &jdims)) {
        goto fail;
      }
      if (greedy_name) {
        OrtTensorTypeAndShapeInfo *tsi = NULL;
        size_t count = 0;
        void *src = NULL;
        CHECK(env, ST(I_GetTensorTypeAndShape, const OrtValue *, OrtTensorTypeAndShapeInfo **)(outs[1], &tsi));
        ST(I_GetTensorShapeElementCount, const OrtTensorTypeAndShapeInfo *, size_t *)(tsi, &count);
        FN(I_ReleaseTensorTypeAndShapeInfo, void, OrtTensorTypeAndShapeInfo *)(tsi);
        CHECK(env, ST(I_GetTensorMutableData, OrtValue *, void **)(outs[1], &src));
        if (!tokens_to_js(env, 0, src, count, &greedy)) goto fail;
      }
    }
    NAPI(env, napi_create_array_with_length(env, 3, &result));
    napi_set_element(env, result, 0, typed);
    napi_set_element(env, result, 1, jdims);
    napi_set_element(env, result, 2, greedy);
  }
fail:
  {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) result = NULL;
  }
  free(name);
  free(greedy_name);
  release_pass(s, outs, n_outs, alloc, values, n_values);
  return result;
}

/* The index of the largest of x[0..n): the first if tied; NaNs never win, except a NaN at 0 (as the engine's JS
 * argmax: a strict `>` scan from x[0]). Two passes: the maximum (4 lanes at a time), then its first position. */
static int32_t argmax_f32(const float *x, size_t n) {
  if (n == 0 || x[0] != x[0]) return 0;
  float best = x[0];
  size_t i = 1;
#if defined(__x86_64__)
  {
    __m128 m = _mm_set1_ps(best);
    /* maxps(a, b) returns b when a is NaN: NaNs are skipped */
    for (; i + 4 <= n; i += 4) m = _mm_max_ps(_mm_loadu_ps(x + i), m);
    float lanes[4];
    _mm_storeu_ps(lanes, m);
    for (int k = 0; k < 4; k++)
      if (lanes[k] > best) best = lanes[k];
  }
#endif
  for (; i < n; i++)
    if (x[i] > best) best = x[i];
  size_t j = 0;
#if defined(__x86_64__)
  {
    const __m128 b = _mm_set1_ps(best);
    for (; j + 4 <= n; j += 4) {
      const int mask = _mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(x + j), b));
      if (mask) return (int32_t)(j + (size_t)__builtin_ctz((unsigned)mask));
    }
  }
#endif
  for (; j < n; j++)
    if (x[j] == best) return (int32_t)j;
  return 0;
}

static napi_value js_argmax_rows(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out = NULL, ab;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  int64_t rows = 0, per_row = 0, vocab = 0;
  NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "argmaxRows(logits Float32Array, rows, perRow, vocab)");
    return NULL;
  }
  NAPI(env, napi_get_value_int64(env, argv[1], &rows));
  NAPI(env, napi_get_value_int64(env, argv[2], &per_row));
  NAPI(env, napi_get_value_int64(env, argv[3], &vocab));
  if (rows < 0 || per_row < 1 || vocab < 1 || (uint64_t)rows * (uint64_t)per_row * (uint64_t)vocab > length) {
    napi_throw_range_error(env, NULL, "argmaxRows: rows x perRow x vocab exceeds the logits");
    return NULL;
  }
  int32_t *dst = NULL;
  NAPI(env, napi_create_arraybuffer(env, (size_t)rows * 4, (void **)&dst, &ab));
  const float *x = (const float *)data;
  for (int64_t r = 0; r < rows; r++) dst[r] = argmax_f32(x + ((size_t)r * per_row + (size_t)(per_row - 1)) * (size_t)vocab, (size_t)vocab);
  NAPI(env, napi_create_typedarray(env, napi_int32_array, (size_t)rows, ab, 0, &out));
  return out;
fail:
  return NULL;
}

static napi_value js_free_pool(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  KvPool *p = (KvPool *)external(env, argv[0]);
  if (p) pool_release(p);
  return NULL;
}

/* A JavaScript array of the given strings. */
static napi_value string_array(napi_env env, const char *const *items, uint32_t n) {
  napi_value out, v;
  napi_create_array_with_length(env, n, &out);
  for (uint32_t i = 0; i < n; i++) {
    napi_create_string_utf8(env, items[i], NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, out, i, v);
  }
  return out;
}

static napi_value js_attention_kernels(napi_env env, napi_callback_info info) {
  static const char *const kernels[] = {"onnxruntime", "fleetchat"};
  return string_array(env, kernels, 2);
}

static napi_value js_attention_cache_types(napi_env env, napi_callback_info info) {
  static const char *const types[] = {"float32", "float16"};
  return string_array(env, types, 2);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"load", NULL, js_load, NULL, NULL, NULL, napi_default, NULL},
      {"createSession", NULL, js_create_session, NULL, NULL, NULL, napi_default, NULL},
      {"run", NULL, js_run, NULL, NULL, NULL, napi_default, NULL},
      {"runBound", NULL, js_run_bound, NULL, NULL, NULL, napi_default, NULL},
      {"assemble", NULL, js_assemble, NULL, NULL, NULL, napi_default, NULL},
      {"freeKv", NULL, js_free_kv, NULL, NULL, NULL, napi_default, NULL},
      {"releaseSession", NULL, js_release_session, NULL, NULL, NULL, napi_default, NULL},
      {"memInfo", NULL, js_mem_info, NULL, NULL, NULL, napi_default, NULL},
      {"createPool", NULL, js_create_pool, NULL, NULL, NULL, napi_default, NULL},
      {"poolMove", NULL, js_pool_move, NULL, NULL, NULL, napi_default, NULL},
      {"runPool", NULL, js_run_pool, NULL, NULL, NULL, napi_default, NULL},
      {"freePool", NULL, js_free_pool, NULL, NULL, NULL, napi_default, NULL},
      {"argmaxRows", NULL, js_argmax_rows, NULL, NULL, NULL, napi_default, NULL},
      {"attentionKernels", NULL, js_attention_kernels, NULL, NULL, NULL, napi_default, NULL},
      {"attentionCacheTypes", NULL, js_attention_cache_types, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
