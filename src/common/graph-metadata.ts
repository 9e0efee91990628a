/**
 * What a model graph tells the worker through its ONNX metadata_props (written by the generator and the importers,
 * read by the worker before it opens a session).
 */

/**
 * Set (to FLEETCHAT_ATTENTION) on a fused graph whose GroupQueryAttention only fleetchat's CPU kernel runs as meant:
 * a float16 KV cache under float32 activations (`--kv-cache fp16`). onnxruntime's own kernel ties the cache type to
 * the query type; it would run such a graph only through Casts of every layer's whole cache inserted around it.
 */
export const ATTENTION_KERNEL_METADATA = 'fleetchat.attention_kernel';
export const FLEETCHAT_ATTENTION = 'fleetchat';
