/*
 * The vector loops of fleetchat's GroupQueryAttention kernel (gqa_simd.c): dot products of the query heads of a group
 * with each cached key, the softmax's exp, and the weighted sum of the cached values — over a float32 cache or a
 * float16 one (IEEE half, converted to float32 on load). AVX2/FMA (and F16C for half) where the CPU has them, checked
 * at run time; plain C otherwise.
 */
#ifndef FLEETCHAT_GQA_SIMD_H
#define FLEETCHAT_GQA_SIMD_H
#include <stdint.h>

/* Detects the CPU's features once (FLEETCHAT_GQA_SCALAR set: plain C only). */
void gqa_simd_init(void);

/* scores[g * len + t] = q_g · k_t for the `group` query vectors (float32) and keys 0 .. len - 1 of a float32 cache
 * (half == 0) or a float16 one; tmp: d floats of scratch. */
void gqa_scores(float *scores, const float *qs, int64_t group, const void *kc, int half, int64_t len, int64_t d, float *tmp);

/* acc[g * d ..] = sum over t < len of scores[g * len + t] · v_t (unnormalised); tmp: d floats of scratch. */
void gqa_weighted_values(float *acc, const float *scores, int64_t group, const void *vc, int half, int64_t len, int64_t d, float *tmp);

/* The largest of x[0 .. n - 1] (n >= 1; scores are finite). */
float gqa_max(const float *x, int n);

/* x[i] = exp(x[i] - max); returns the sum. */
float gqa_exp_sum(float *x, int n, float max);

/* IEEE half <-> float32, round to nearest even (the same result with or without F16C). */
void gqa_to_half(uint16_t *dst, const float *src, int64_t n);
void gqa_from_half(float *dst, const uint16_t *src, int64_t n);

#endif
