/* fleetchat's CPU kernel for com.microsoft GroupQueryAttention (gqa_cpu.c). */
#ifndef FLEETCHAT_GQA_CPU_H
#define FLEETCHAT_GQA_CPU_H
#include "ort_api.h"

/* Registers the kernel on `so` (a CPU session's options): its GroupQueryAttention nodes then run on it, spread over the
 * session's intra-op threads where `parallel` (onnxruntime's C API 16 or later: KernelContext_ParallelFor). */
OrtStatus *gqa_cpu_register(const OrtApi *api, OrtSessionOptions *so, int parallel);

#endif
