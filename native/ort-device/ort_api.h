/*
 * The part of onnxruntime's C API (OrtApi, ABI-stable and append-only) this addon calls, declared by ordinal.
 * OrtApi is a table of function pointers whose order never changes between releases; the indices below are the
 * positions of the entries we use (counted from the public onnxruntime_c_api.h, API version 13 and later).
 */
#ifndef FLEETCHAT_ORT_API_H
#define FLEETCHAT_ORT_API_H
#include <stddef.h>
#include <stdint.h>

typedef struct OrtStatus OrtStatus;
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtValue OrtValue;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtIoBinding OrtIoBinding;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtCUDAProviderOptionsV2 OrtCUDAProviderOptionsV2;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtCustomOpDomain OrtCustomOpDomain;

typedef struct OrtAllocator {
  uint32_t version;
  void *(*Alloc)(struct OrtAllocator *self, size_t size);
  void (*Free)(struct OrtAllocator *self, void *p);
  const OrtMemoryInfo *(*Info)(const struct OrtAllocator *self);
} OrtAllocator;

typedef struct OrtApi {
  void *fn[300];
} OrtApi;

typedef struct OrtApiBase {
  const OrtApi *(*GetApi)(uint32_t version);
  const char *(*GetVersionString)(void);
} OrtApiBase;

enum {
  ORT_FLOAT = 1, ORT_INT32 = 6, ORT_INT64 = 7, ORT_BOOL = 9, ORT_FLOAT16 = 10,
  ORT_LOG_ERROR = 3,
  ORT_ENABLE_ALL = 99,
  ORT_ARENA_ALLOCATOR = 1,
  ORT_MEM_DEFAULT = 0,
};

/* Ordinals in OrtApi. */
enum {
  I_CreateStatus = 0,
  I_GetErrorMessage = 2,
  I_CreateEnv = 3,
  I_CreateSession = 7,
  I_CreateSessionOptions = 10,
  I_EnableProfiling = 14,
  I_SetSessionLogSeverityLevel = 22,
  I_SetSessionGraphOptimizationLevel = 23,
  I_SetIntraOpNumThreads = 24,
  I_SetInterOpNumThreads = 25,
  I_CreateCustomOpDomain = 26,
  I_CustomOpDomain_Add = 27,
  I_AddCustomOpDomain = 28,
  I_SessionGetInputCount = 30,
  I_SessionGetOutputCount = 31,
  I_SessionGetInputTypeInfo = 33,
  I_SessionGetInputName = 36,
  I_SessionGetOutputName = 37,
  I_CreateRunOptions = 39,
  I_CreateTensorAsOrtValue = 48,
  I_CreateTensorWithDataAsOrtValue = 49,
  I_GetTensorMutableData = 51,
  I_CastTypeInfoToTensorInfo = 55,
  I_GetTensorElementType = 60,
  I_GetDimensionsCount = 61,
  I_GetDimensions = 62,
  I_GetTensorShapeElementCount = 64,
  I_GetTensorTypeAndShape = 65,
  I_CreateMemoryInfo = 68,
  I_CreateCpuMemoryInfo = 69,
  I_AllocatorFree = 76,
  I_GetAllocatorWithDefaultOptions = 78,
  I_KernelInfoGetAttribute_float = 85,
  I_KernelInfoGetAttribute_int64 = 86,
  I_KernelContext_GetInput = 90,
  I_KernelContext_GetOutput = 91,
  I_ReleaseEnv = 92,
  I_ReleaseStatus = 93,
  I_ReleaseMemoryInfo = 94,
  I_ReleaseSession = 95,
  I_ReleaseValue = 96,
  I_ReleaseRunOptions = 97,
  I_ReleaseTypeInfo = 98,
  I_ReleaseTensorTypeAndShapeInfo = 99,
  I_ReleaseSessionOptions = 100,
  I_ReleaseCustomOpDomain = 101,
  I_CreateAllocator = 131,
  I_ReleaseAllocator = 132,
  I_RunWithBinding = 133,
  I_CreateIoBinding = 134,
  I_ReleaseIoBinding = 135,
  I_BindInput = 136,
  I_BindOutput = 137,
  I_BindOutputToDevice = 138,
  I_GetBoundOutputValues = 140,
  I_ClearBoundInputs = 141,
  I_ClearBoundOutputs = 142,
  I_AddRunConfigEntry = 165,
  I_SessionOptionsAppendExecutionProvider_CUDA_V2 = 204,
  I_CreateCUDAProviderOptions = 205,
  I_UpdateCUDAProviderOptions = 206,
  I_ReleaseCUDAProviderOptions = 208,
  I_KernelContext_ParallelFor = 274, /* API 16 and later */
};

#define ORT_API_VERSION_USED 13

#endif
