/*
 * dsv4 - an inference engine for the DeepSeek-V4 model family.
 *
 * This is the only public header. It is C99 and has no dependencies beyond
 * <stddef.h>, <stdint.h> and <stdbool.h>.
 *
 * THREAD SAFETY
 *   - A dsv4_model is immutable once dsv4_model_open() returns: any number of
 *     threads may use the same model at once (create sessions, read info,
 *     use its tokenizer).
 *   - A dsv4_session belongs to one thread at a time. Different sessions of
 *     the same model may run concurrently on different threads. Calls on one
 *     session must be serialized by the caller.
 *   - A dsv4_tokenizer is immutable after creation and may be shared.
 *   - dsv4_last_error() is thread-local: it describes the most recent failed
 *     call made on the calling thread.
 *   - Callbacks (progress, abort, token streaming) run on the thread that
 *     made the call that invokes them.
 *
 * ERRORS
 *   Every function that can fail returns a dsv4_status. On failure the
 *   thread-local dsv4_last_error() names the file, tensor or argument at
 *   fault, and the objects passed in are left as they were. No C++ exception
 *   crosses this interface and the library never aborts the host process.
 *
 * EVOLUTION
 *   Structs that callers fill in start with their own size (struct_size) and
 *   have an _init() function; new members are only ever appended. Enums are
 *   append-only. DSV4_ABI_VERSION changes only on an incompatible change.
 */
#ifndef DSV4_DSV4_H
#define DSV4_DSV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DSV4_VERSION_MAJOR 0
#define DSV4_VERSION_MINOR 1
#define DSV4_VERSION_PATCH 0
#define DSV4_VERSION_STRING "0.1.0"
/* Incremented on any incompatible ABI change; equals the SOVERSION. */
#define DSV4_ABI_VERSION 0

#if defined(_WIN32)
#if defined(DSV4_BUILDING_LIBRARY)
#define DSV4_API __declspec(dllexport)
#else
#define DSV4_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define DSV4_API __attribute__((visibility("default")))
#else
#define DSV4_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version and status                                                        */
/* ------------------------------------------------------------------------ */

/* The library's version string at run time, e.g. "0.1.0". */
DSV4_API const char *dsv4_version(void);
/* DSV4_VERSION_MAJOR * 10000 + MINOR * 100 + PATCH of the loaded library. */
DSV4_API int dsv4_version_number(void);
/* DSV4_ABI_VERSION of the loaded library. */
DSV4_API int dsv4_abi_version(void);

typedef enum dsv4_status {
    DSV4_STATUS_OK = 0,
    DSV4_STATUS_INVALID_ARGUMENT = 1,
    DSV4_STATUS_IO = 2,
    DSV4_STATUS_FORMAT = 3,
    DSV4_STATUS_UNSUPPORTED = 4,
    DSV4_STATUS_OUT_OF_MEMORY = 5,
    DSV4_STATUS_CONTEXT_FULL = 6,
    DSV4_STATUS_CANCELLED = 7,
    DSV4_STATUS_BACKEND = 8,
    DSV4_STATUS_INTERNAL = 9
} dsv4_status;

/* A static English name for a status ("ok", "invalid argument", ...). */
DSV4_API const char *dsv4_status_string(dsv4_status status);
/* The message of the last failed call on this thread ("" if none). The
 * pointer stays valid until the next dsv4 call on this thread. */
DSV4_API const char *dsv4_last_error(void);

/* Strings returned by the library (chat prompts, JSON) are freed with this. */
DSV4_API void dsv4_string_free(char *str);

/* ------------------------------------------------------------------------ */
/* Models                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct dsv4_model dsv4_model;

/* Called while loading with done/total bytes; return false to cancel. */
typedef bool (*dsv4_progress_fn)(uint64_t done, uint64_t total, void *user_data);

typedef struct dsv4_model_params {
    size_t struct_size;          /* sizeof(dsv4_model_params) */
    const char *backend;         /* "cpu" (default when NULL), "reference" */
    int n_threads;               /* 0: one per core; at most 1024 */
    bool use_mmap;               /* map the checkpoint (default true) */
    uint64_t memory_budget;      /* bytes the model may use; 0: no limit */
    dsv4_progress_fn progress;   /* may be NULL */
    void *progress_user_data;
} dsv4_model_params;

DSV4_API void dsv4_model_params_init(dsv4_model_params *params);

/* Opens a checkpoint directory holding config.json and model.safetensors or
 * model.safetensors.index.json with its shards. params may be NULL. */
DSV4_API dsv4_status dsv4_model_open(const char *path, const dsv4_model_params *params,
                                     dsv4_model **out_model);
/* Accepts NULL. Sessions still open keep the model's weights alive until the
 * last of them is destroyed; the handle itself (and its tokenizer) goes now. */
DSV4_API void dsv4_model_close(dsv4_model *model);

typedef enum dsv4_dtype {
    DSV4_DTYPE_F8_E4M3 = 0,
    DSV4_DTYPE_F8_E8M0 = 1,
    DSV4_DTYPE_I8 = 2, /* packed FP4 e2m1 in routed experts */
    DSV4_DTYPE_BF16 = 3,
    DSV4_DTYPE_F16 = 4,
    DSV4_DTYPE_F32 = 5,
    DSV4_DTYPE_I32 = 6,
    DSV4_DTYPE_I64 = 7,
    DSV4_DTYPE_COUNT = 8
} dsv4_dtype;

/* Name of a dtype as in safetensors ("F8_E4M3", ...), or "?" */
DSV4_API const char *dsv4_dtype_name(dsv4_dtype dtype);

typedef struct dsv4_model_info {
    size_t struct_size; /* sizeof(dsv4_model_info), set by the caller */
    int n_layers;
    int n_mtp_layers;
    int hidden_size;
    int n_heads;
    int head_dim;
    int rope_head_dim;
    int q_lora_rank;
    int o_groups;
    int o_lora_rank;
    int sliding_window;
    int n_routed_experts;
    int n_experts_per_tok;
    int n_shared_experts;
    int moe_intermediate_size;
    int n_hash_layers;
    int index_n_heads;
    int index_head_dim;
    int index_topk;
    int hc_mult;
    int vocab_size;
    int bos_token_id;
    int eos_token_id;
    uint64_t max_context; /* max_position_embeddings */
    uint64_t total_params;  /* every element of every tensor (MTP included) */
    uint64_t active_params; /* read per token by the main model (k routed experts) */
    uint64_t bytes_by_dtype[DSV4_DTYPE_COUNT];
    uint64_t total_bytes;
    bool experts_fp4;
} dsv4_model_info;

DSV4_API dsv4_status dsv4_model_get_info(const dsv4_model *model, dsv4_model_info *info);
/* Compression ratio of layer i (0 <= i < n_layers + n_mtp_layers). */
DSV4_API dsv4_status dsv4_model_layer_ratio(const dsv4_model *model, int layer, int *out_ratio);
/* The backend that runs the model ("cpu", "reference"). */
DSV4_API const char *dsv4_model_backend(const dsv4_model *model);

/* Names of the compiled-in backends, for index 0..n-1; NULL past the end. */
DSV4_API const char *dsv4_backend_name(int index);

/* ------------------------------------------------------------------------ */
/* Sessions: one conversation's state (window rings, compressed caches,      */
/* compressor carry) on a shared model.                                      */
/* ------------------------------------------------------------------------ */

typedef struct dsv4_session dsv4_session;

/* Polled between layers; return true to cancel the running call. */
typedef bool (*dsv4_abort_fn)(void *user_data);

typedef struct dsv4_session_params {
    size_t struct_size;      /* sizeof(dsv4_session_params) */
    uint64_t n_ctx;          /* context limit in tokens; 0: 4096 */
    uint32_t prefill_chunk;  /* tokens per prefill chunk; 0: 512 */
    dsv4_abort_fn abort_callback; /* may be NULL */
    void *abort_user_data;
    /* Called during dsv4_session_prefill with tokens done / total. */
    dsv4_progress_fn progress;
    void *progress_user_data;
} dsv4_session_params;

DSV4_API void dsv4_session_params_init(dsv4_session_params *params);

/* params may be NULL. */
DSV4_API dsv4_status dsv4_session_create(dsv4_model *model, const dsv4_session_params *params,
                                         dsv4_session **out_session);
/* Accepts NULL. */
DSV4_API void dsv4_session_destroy(dsv4_session *session);

typedef struct dsv4_session_info {
    size_t struct_size; /* set by the caller */
    uint64_t n_ctx;
    uint64_t position;   /* tokens processed so far */
    uint64_t state_bytes; /* bytes of per-session state (caches, rings, carry) */
    uint64_t window_bytes;
    uint64_t compressed_bytes;
    uint64_t indexer_bytes;
    uint64_t carry_bytes;
    /* Appended in 0.1 (filled when struct_size covers them). state_bytes is
     * the sum of the five *_bytes parts above and below. */
    uint64_t history_bytes;   /* token ids fed, 4 per token (deep truncation re-runs them) */
    /* The compact KV layout: a window row or compressed attention entry keeps
     * head_dim - rope_head_dim dims as FP8 e4m3 codes with one power-of-two
     * scale byte per 64 dims and the rotary dims as float32; an indexer key
     * keeps index_head_dim FP4 e2m1 codes (two per byte) with one scale byte
     * per 32. These are exactly the values the model computes with. */
    uint64_t kv_row_bytes;    /* one window row or compressed attention entry */
    uint64_t index_key_bytes; /* one compressed indexer key */
} dsv4_session_info;

DSV4_API dsv4_status dsv4_session_get_info(const dsv4_session *session, dsv4_session_info *info);

/* Bytes a session of n_ctx tokens would hold, computed without allocating. */
DSV4_API dsv4_status dsv4_model_estimate_session_bytes(const dsv4_model *model, uint64_t n_ctx,
                                                       dsv4_session_info *info);

/* Feeds n tokens after the current position (any n >= 1); processed in
 * chunks. Afterwards the logits are those of the last token fed. */
DSV4_API dsv4_status dsv4_session_prefill(dsv4_session *session, const int32_t *tokens,
                                          size_t n_tokens);
/* Feeds one token. */
DSV4_API dsv4_status dsv4_decode_step(dsv4_session *session, int32_t token);

/* The logits after the last token fed (vocab_size floats), valid until the
 * next call on the session; NULL before any token was fed. */
DSV4_API const float *dsv4_session_logits(const dsv4_session *session);
/* Copies the logits into out (capacity n floats, at least vocab_size). */
DSV4_API dsv4_status dsv4_session_copy_logits(const dsv4_session *session, float *out, size_t n);
DSV4_API uint64_t dsv4_session_position(const dsv4_session *session);
/* Forgets every token: position 0, empty caches. */
DSV4_API dsv4_status dsv4_session_reset(dsv4_session *session);

/* The MTP block's logits (predicting the token after next_token) at the
 * last position, given the token that follows it. Does not change the
 * session's position. out has room for n >= vocab_size floats. */
DSV4_API dsv4_status dsv4_session_mtp_logits(dsv4_session *session, int32_t next_token,
                                             float *out, size_t n);

/* ------------------------------------------------------------------------ */
/* Text: chat format (DeepSeek-V4 prompts and completions)                   */
/* ------------------------------------------------------------------------ */

typedef enum dsv4_chat_mode {
    DSV4_CHAT_MODE_CHAT = 0,    /* answers directly (prompts end with </think>) */
    DSV4_CHAT_MODE_THINKING = 1 /* reasons first (prompts end with <think>) */
} dsv4_chat_mode;

typedef struct dsv4_chat_params {
    size_t struct_size;           /* sizeof(dsv4_chat_params) */
    dsv4_chat_mode mode;          /* default DSV4_CHAT_MODE_CHAT */
    /* Drop the reasoning of assistant turns before the last user turn (default
     * true). Has no effect when any message carries tools. */
    bool drop_thinking;
    const char *reasoning_effort; /* NULL (default), "high" or "max" */
    bool add_bos;                 /* start with the BOS string (default true) */
} dsv4_chat_params;

DSV4_API void dsv4_chat_params_init(dsv4_chat_params *params);

/* Renders messages_json (a UTF-8 JSON array of OpenAI-style messages: roles
 * system, user, assistant, tool, developer, latest_reminder; tools on a system
 * or developer message; assistant tool_calls) into the prompt text. params
 * may be NULL. *out_prompt is freed with dsv4_string_free. */
DSV4_API dsv4_status dsv4_chat_encode(const char *messages_json, const dsv4_chat_params *params,
                                      char **out_prompt);

/* Parses a completion (the text generated after the prompt, EOS included, len
 * bytes) into an assistant message as JSON: {"role", "content",
 * "reasoning_content", "tool_calls"}. Malformed text or tool-call markup fails
 * with DSV4_STATUS_FORMAT. *out_message_json is freed with dsv4_string_free. */
DSV4_API dsv4_status dsv4_chat_parse(const char *completion, size_t len, dsv4_chat_mode mode,
                                     char **out_message_json);

/* ------------------------------------------------------------------------ */
/* Text: tokenizer (Hugging Face tokenizer.json, byte-level BPE)             */
/* ------------------------------------------------------------------------ */

typedef struct dsv4_tokenizer dsv4_tokenizer;

/* Opens a tokenizer.json; tokenizer_config.json in the same directory, when
 * present, names the BOS and EOS tokens. */
DSV4_API dsv4_status dsv4_tokenizer_open(const char *tokenizer_json_path, dsv4_tokenizer **out_tokenizer);
/* Opens MODEL_DIR/tokenizer.json (a checkpoint directory). */
DSV4_API dsv4_status dsv4_tokenizer_open_dir(const char *model_dir, dsv4_tokenizer **out_tokenizer);
/* Accepts NULL. Detokenizers of the tokenizer must be freed first. */
DSV4_API void dsv4_tokenizer_free(dsv4_tokenizer *tokenizer);

typedef enum dsv4_tokenize_flags {
    /* Added tokens written in the text ("<think>", ...) become their ids, as
     * Hugging Face does; without it all text is ordinary text (use that for
     * untrusted input). */
    DSV4_TOKENIZE_PARSE_SPECIAL = 1,
    DSV4_TOKENIZE_ADD_BOS = 2 /* prepend the BOS token */
} dsv4_tokenize_flags;

/* Encodes len bytes of UTF-8 text (flags: dsv4_tokenize_flags ORed). Invalid
 * UTF-8 fails with DSV4_STATUS_INVALID_ARGUMENT naming the byte offset.
 * *out_tokens (n_tokens ids) is freed with dsv4_tokens_free. */
DSV4_API dsv4_status dsv4_tokenizer_encode(const dsv4_tokenizer *tokenizer, const char *text, size_t len,
                                           uint32_t flags, int32_t **out_tokens, size_t *out_n_tokens);
DSV4_API void dsv4_tokens_free(int32_t *tokens);

typedef enum dsv4_detokenize_flags {
    DSV4_DETOKENIZE_SKIP_SPECIAL = 1 /* leave special tokens out of the text */
} dsv4_detokenize_flags;

/* Decodes tokens into UTF-8 text (invalid byte sequences become U+FFFD).
 * *out_text (NUL-terminated, *out_len bytes) is freed with dsv4_string_free;
 * out_len may be NULL. An id without a token fails naming it. */
DSV4_API dsv4_status dsv4_tokenizer_decode(const dsv4_tokenizer *tokenizer, const int32_t *tokens, size_t n_tokens,
                                           uint32_t flags, char **out_text, size_t *out_len);

/* One past the largest token id (0 for NULL). */
DSV4_API int32_t dsv4_tokenizer_vocab_size(const dsv4_tokenizer *tokenizer);
/* The token's string as tokenizer.json writes it (byte-level characters for
 * ordinary tokens), owned by the tokenizer; NULL for an id without a token. */
DSV4_API const char *dsv4_tokenizer_token_string(const dsv4_tokenizer *tokenizer, int32_t token);
/* The id of a token string (as tokenizer.json writes it). */
DSV4_API dsv4_status dsv4_tokenizer_token_id(const dsv4_tokenizer *tokenizer, const char *token_string,
                                             int32_t *out_token);
DSV4_API bool dsv4_tokenizer_is_special(const dsv4_tokenizer *tokenizer, int32_t token);
/* BOS / EOS ids from tokenizer_config.json, or -1. */
DSV4_API int32_t dsv4_tokenizer_bos(const dsv4_tokenizer *tokenizer);
DSV4_API int32_t dsv4_tokenizer_eos(const dsv4_tokenizer *tokenizer);

/* Streaming detokenization: text is released in whole UTF-8 characters only;
 * a token ending inside a character is held back until it completes. */
typedef struct dsv4_detokenizer dsv4_detokenizer;

/* flags: dsv4_detokenize_flags ORed. The tokenizer must outlive it. */
DSV4_API dsv4_status dsv4_detokenizer_create(const dsv4_tokenizer *tokenizer, uint32_t flags,
                                             dsv4_detokenizer **out_detokenizer);
/* Feeds one token; *out_text (*out_len bytes, NUL-terminated, possibly empty)
 * is the newly complete text, valid until the next call on the detokenizer. */
DSV4_API dsv4_status dsv4_detokenizer_feed(dsv4_detokenizer *detokenizer, int32_t token, const char **out_text,
                                           size_t *out_len);
/* Releases what is held back (an unfinished character as U+FFFD) and empties
 * the detokenizer. Same output rules as dsv4_detokenizer_feed. */
DSV4_API dsv4_status dsv4_detokenizer_flush(dsv4_detokenizer *detokenizer, const char **out_text, size_t *out_len);
/* Accepts NULL. */
DSV4_API void dsv4_detokenizer_free(dsv4_detokenizer *detokenizer);

/* ------------------------------------------------------------------------ */
/* Text: sampling and stop conditions                                        */
/* ------------------------------------------------------------------------ */

typedef struct dsv4_sampler dsv4_sampler;

/* Order of operations: logit bias, penalties (over the last penalty_last_n
 * accepted tokens), then greedy (temperature <= 0) or temperature sampling
 * restricted by top-k, top-p and min-p. Ties go to the lower token id. The
 * random sequence is the library's own (xoshiro256**): a seed gives the same
 * tokens on every platform. */
typedef struct dsv4_sampler_params {
    size_t struct_size;       /* sizeof(dsv4_sampler_params) */
    float temperature;        /* <= 0: greedy (default 1) */
    int32_t top_k;            /* 0: off (default) */
    float top_p;              /* in (0, 1]; 1: off (default) */
    float min_p;              /* in [0, 1]; 0: off (default) */
    float repetition_penalty; /* > 0; 1: off (default) */
    float presence_penalty;   /* 0: off (default) */
    float frequency_penalty;  /* 0: off (default) */
    int32_t penalty_last_n;   /* -1: all accepted tokens, 0: none (default 64) */
    uint64_t seed;            /* default 0 */
    /* n_logit_bias (token, value) pairs added to the logits. */
    const int32_t *logit_bias_tokens;
    const float *logit_bias_values;
    size_t n_logit_bias;
    /* Tokens that end generation (see dsv4_sampler_is_stop_token). */
    const int32_t *stop_tokens;
    size_t n_stop_tokens;
} dsv4_sampler_params;

DSV4_API void dsv4_sampler_params_init(dsv4_sampler_params *params);
/* params may be NULL (defaults); its arrays are copied. */
DSV4_API dsv4_status dsv4_sampler_create(const dsv4_sampler_params *params, dsv4_sampler **out_sampler);
/* Accepts NULL. */
DSV4_API void dsv4_sampler_free(dsv4_sampler *sampler);
/* Picks the next token from n_vocab logits. Does not record it: call
 * dsv4_sampler_accept with the token actually used. */
DSV4_API dsv4_status dsv4_sampler_sample(dsv4_sampler *sampler, const float *logits, size_t n_vocab,
                                         int32_t *out_token);
/* Records a token (generated or from the prompt) for the penalties. */
DSV4_API dsv4_status dsv4_sampler_accept(dsv4_sampler *sampler, int32_t token);
/* Forgets accepted tokens and restarts the random sequence from the seed. */
DSV4_API void dsv4_sampler_reset(dsv4_sampler *sampler);
DSV4_API bool dsv4_sampler_is_stop_token(const dsv4_sampler *sampler, int32_t token);

/* Stop strings over streamed text (e.g. the output of dsv4_detokenizer_feed):
 * text that may be the start of a stop string is held back until decided,
 * so a stop string split across pieces is never shown. */
typedef struct dsv4_stop_matcher dsv4_stop_matcher;

/* n_stop_strings NUL-terminated, non-empty UTF-8 strings (copied). */
DSV4_API dsv4_status dsv4_stop_matcher_create(const char *const *stop_strings, size_t n_stop_strings,
                                              dsv4_stop_matcher **out_matcher);
/* Feeds len bytes. *out_text (*out_len bytes) is the text safe to show,
 * valid until the next call on the matcher; *out_stopped becomes true when a
 * stop string completes (the text then ends just before it). */
DSV4_API dsv4_status dsv4_stop_matcher_feed(dsv4_stop_matcher *matcher, const char *text, size_t len,
                                            const char **out_text, size_t *out_len, bool *out_stopped);
/* At the end of generation: releases held-back text and starts over. */
DSV4_API dsv4_status dsv4_stop_matcher_flush(dsv4_stop_matcher *matcher, const char **out_text, size_t *out_len);
/* Accepts NULL. */
DSV4_API void dsv4_stop_matcher_free(dsv4_stop_matcher *matcher);

/* ------------------------------------------------------------------------ */
/* Performance: weight traffic and machine measurements                      */
/* ------------------------------------------------------------------------ */

/* Checkpoint bytes a session's calls read, counted as its ops run: each
 * linear's rows used (with their scales), only the routed experts chosen,
 * the hyper-connection mixing matrices, the embedding rows and the head.
 * Norm weights, biases, sinks and position biases (well under 0.1%) are not
 * counted. After dsv4_decode_step, last_weight_bytes is the bytes read for
 * that one token. Totals count from the session's creation. */
/* Weight formats of a checkpoint's matrices (dsv4_session_stats). */
typedef enum dsv4_weight_format {
    DSV4_WEIGHT_BF16 = 0,
    DSV4_WEIGHT_FP8 = 1, /* e4m3 with ue8m0 128x128 block scales */
    DSV4_WEIGHT_FP4 = 2, /* e2m1, two per byte, ue8m0 scale per 32 inputs */
    DSV4_WEIGHT_FORMAT_COUNT = 3
} dsv4_weight_format;

typedef struct dsv4_session_stats {
    size_t struct_size;         /* set by the caller to sizeof(dsv4_session_stats) */
    uint64_t tokens;            /* tokens fed by prefill / decode calls */
    uint64_t weight_bytes;      /* weight bytes read by all calls (MTP logits too) */
    uint64_t last_tokens;       /* tokens fed by the last prefill / decode call */
    uint64_t last_weight_bytes; /* weight bytes that call read */
    /* Appended in 0.1: the matrix products (linears, expert FFNs) by the
     * weight format, indexed by dsv4_weight_format, since the session's
     * creation: wall-clock seconds on the calling thread, and weight bytes.
     * bytes / seconds is the rate each format achieved in the forward pass. */
    double matmul_seconds[DSV4_WEIGHT_FORMAT_COUNT];
    uint64_t matmul_bytes[DSV4_WEIGHT_FORMAT_COUNT];
} dsv4_session_stats;

DSV4_API dsv4_status dsv4_session_get_stats(const dsv4_session *session, dsv4_session_stats *stats);

/* Streaming read bandwidth of this machine in GB/s (1e9 bytes/s): n_threads
 * threads (0: one per core) of the cpu backend's pool read a buffer of
 * buffer_bytes (0: max(1 GiB, 4x the last-level cache)), in 2 MiB pages
 * where the kernel offers them (as the checkpoint is mapped), with its
 * widest vector loads; the best of 5 passes. The roofline of decode.
 * n_threads above 1024, or a buffer over half of the machine's memory, fail
 * with INVALID_ARGUMENT (as do the GEMM probe's threads and buffers below). */
DSV4_API dsv4_status dsv4_measure_read_bandwidth(int n_threads, uint64_t buffer_bytes, double *out_gb_s);

/* Peak of the GEMM the cpu backend's prefill runs (double precision: see
 * docs/PERFORMANCE.md), in GFLOP/s (2*m*n*k per second), on X[m,k] times a
 * weight of n rows already decoded, with n_threads threads (0: one per
 * core); the best of 3. Zero dims take m = 256, n = 4096, k = 4096. */
DSV4_API dsv4_status dsv4_measure_gemm_peak(int n_threads, int m, int n, int k, double *out_gflop_s);

/* The compute side of decode's roofline: weight bytes per second (1e9
 * bytes/s, scales included) of the cpu backend's one-token product for a
 * weight of `format` (BF16: the LM head's float kernel; FP8, FP4: the
 * kernels the linears and experts run, FP4 in integers where the CPU allows)
 * on a 4 MiB weight of 4096 inputs a row that stays in the cache, with
 * n_threads threads (0: one per core); the best of 5. Decode cannot read a
 * format's weights faster than the lower of this and the read bandwidth.
 * A format outside dsv4_weight_format fails with INVALID_ARGUMENT. */
DSV4_API dsv4_status dsv4_measure_decode_kernel(int n_threads, dsv4_weight_format format, double *out_gb_s);

/* The instruction set the cpu backend's kernels use: "avx512fp16" (AVX-512
 * with FP16, VBMI and VNNI), "avx512vnni" (AVX-512 with VBMI and VNNI),
 * "avx512", "avx2" or "scalar" (the best the CPU has, lowered by
 * DSV4_CPU_ISA). */
DSV4_API const char *dsv4_cpu_isa(void);

/* ------------------------------------------------------------------------ */
/* Generation: the model's tokenizer and the sampling loop                   */
/* ------------------------------------------------------------------------ */

/* The tokenizer that came with the model (MODEL_DIR/tokenizer.json and its
 * tokenizer_config.json, loaded by dsv4_model_open), or NULL when the
 * directory has none. Owned by the model: valid until dsv4_model_close.
 * dsv4_model_open fails (naming the file) when a tokenizer.json is present
 * but malformed, or has ids beyond the model's vocab_size. */
DSV4_API const dsv4_tokenizer *dsv4_model_tokenizer(const dsv4_model *model);

/* Why generation ended. */
typedef enum dsv4_finish_reason {
    DSV4_FINISH_NONE = 0,         /* not over: more steps follow */
    DSV4_FINISH_STOP_TOKEN = 1,   /* a stop token of the sampler, or EOS, was sampled */
    DSV4_FINISH_STOP_STRING = 2,  /* a stop string appeared in the text */
    DSV4_FINISH_MAX_TOKENS = 3,   /* max_tokens tokens were sampled */
    DSV4_FINISH_CONTEXT_FULL = 4, /* the session's context has no room for the token */
    DSV4_FINISH_CANCELLED = 5     /* the session's abort callback, or a streaming
                                     callback that returned false */
} dsv4_finish_reason;

typedef struct dsv4_generate_params {
    size_t struct_size;  /* sizeof(dsv4_generate_params) */
    uint64_t max_tokens; /* tokens to sample at most; 0: until a stop or a full
                            context (default) */
    /* n_stop_strings NUL-terminated, non-empty UTF-8 strings (copied); the
     * text ends just before the first one to appear. Needs a tokenizer. */
    const char *const *stop_strings;
    size_t n_stop_strings;
    bool stop_at_eos;    /* the model's eos_token_id is a stop token (default true) */
    bool skip_special;   /* special tokens add no text (default false) */
    bool echo;           /* the first step carries the prompt's text (needs a
                            tokenizer; default false) */
    /* The prompt the caller prefilled (optional, copied): the sampler's
     * penalties see it (dsv4_sampler_accept) and echo shows it. */
    const int32_t *prompt_tokens;
    size_t n_prompt_tokens;
    /* Speculative decoding (appended in 0.1): when the model has an MTP block,
     * each main-model pass verifies n_draft tokens drafted by it along with
     * the pending token, in one batch, and keeps the drafts up to the first
     * one that differs from the sampler's choice (dsv4_session_verify +
     * dsv4_session_truncate). The output is token for token that of plain
     * decoding, sampled output with a given seed included: every token is the
     * sampler's choice from the main model's logits of its position, drawing
     * the random number plain decoding draws there. No effect on a model
     * without an MTP block. */
    bool speculative;  /* default true */
    uint32_t n_draft;  /* drafts per pass, chained through the MTP block: 1..8 (default 1) */
    /* With speculative on (appended in 0.1): true (default) speculates only
     * while speculative passes decide tokens faster than plain decode steps,
     * as timed during the generation, trying the other kind of pass from
     * time to time (on a CPU whose weight products are compute bound a
     * speculative pass rarely pays); false speculates on every pass. Either
     * way the output is the same. */
    bool spec_adaptive;
} dsv4_generate_params;

DSV4_API void dsv4_generate_params_init(dsv4_generate_params *params);

/* One step of generation. Filled in by the library. */
typedef struct dsv4_generate_step {
    size_t struct_size;  /* set by the caller to sizeof(dsv4_generate_step) */
    int32_t token;       /* the token sampled in this step, or -1 (an echo step,
                            a cancelled step, a call after the end) */
    /* Text safe to show now (NUL-terminated, text_len bytes, often empty):
     * whole UTF-8 characters only, and text that may begin a stop string is
     * held back until decided. Stop tokens add no text. An id the tokenizer
     * has no token for adds no text. Always "" without a tokenizer. Valid
     * until the next call on the generator. */
    const char *text;
    size_t text_len;
    dsv4_finish_reason finish; /* DSV4_FINISH_NONE while more steps follow */
    uint64_t n_generated;      /* tokens sampled so far, this one included */
} dsv4_generate_step;

/* An iterator over generated tokens. Prefill the prompt first
 * (dsv4_session_prefill): the first step samples from the session's current
 * logits; every later step first feeds the token sampled before it.
 *
 * When generation ends, the session holds every sampled token except the
 * last one (a stop token is thus never fed; feed it with dsv4_decode_step to
 * continue after it). Cancellation through the session's abort callback ends
 * a step with DSV4_FINISH_CANCELLED and leaves the session usable.
 *
 * The session, tokenizer and sampler are borrowed: they must outlive the
 * generator, and nothing else may use the session or the sampler while it
 * exists. */
typedef struct dsv4_generator dsv4_generator;

/* tokenizer may be NULL (ids only; no stop strings, no echo). sampler may be
 * NULL for greedy sampling. params may be NULL (defaults). Fails with
 * DSV4_STATUS_INVALID_ARGUMENT when the session holds no token yet. */
DSV4_API dsv4_status dsv4_generator_create(dsv4_session *session, const dsv4_tokenizer *tokenizer,
                                           dsv4_sampler *sampler, const dsv4_generate_params *params,
                                           dsv4_generator **out_generator);
/* Runs one step into *out. A failure other than cancellation or a full
 * context leaves the generator where it was (the step may be retried). After
 * the last step it returns token -1, no text and the same finish reason. */
DSV4_API dsv4_status dsv4_generator_next(dsv4_generator *generator, dsv4_generate_step *out);
/* Accepts NULL. */
DSV4_API void dsv4_generator_free(dsv4_generator *generator);

/* Called once per step (the last call carries the finish reason); step is
 * valid during the call only. Return false to stop (DSV4_FINISH_CANCELLED). */
typedef bool (*dsv4_generate_fn)(const dsv4_generate_step *step, void *user_data);

typedef struct dsv4_generate_result {
    size_t struct_size;        /* set by the caller to sizeof(dsv4_generate_result) */
    dsv4_finish_reason finish;
    uint64_t n_generated;      /* tokens sampled */
    /* Appended in 0.1: as in dsv4_generate_stats. */
    uint64_t main_passes;
    uint64_t n_drafted;
    uint64_t n_accepted;
    uint64_t spec_passes;
} dsv4_generate_result;

/* Generates to the end with a generator, streaming each step to callback
 * (may be NULL). result may be NULL. */
DSV4_API dsv4_status dsv4_generate(dsv4_session *session, const dsv4_tokenizer *tokenizer, dsv4_sampler *sampler,
                                   const dsv4_generate_params *params, dsv4_generate_fn callback, void *user_data,
                                   dsv4_generate_result *result);

/* ------------------------------------------------------------------------ */
/* Sessions: snapshots, forks, truncation, multi-token verification          */
/* ------------------------------------------------------------------------ */

/* A snapshot holds a session's whole state (its tokens, logits, window rings,
 * compressor rows and compressed caches up to its position) in a versioned
 * byte format: a magic, the format version, a fingerprint of the model (a
 * hash of its config, every tensor's name, dtype and shape, and the bytes of
 * its small tensors, computed once at load), the position, the state, and a
 * CRC-32. It restores into any session of the same model, in this process or
 * another, whose n_ctx holds its tokens; the restored session then continues
 * bit for bit as the original would. Its size grows with the position, not
 * with n_ctx: the compressed entries of the tokens fed, 4 bytes per token,
 * plus under a megabyte of rings and compressor rows per layer at V4 sizes. */
DSV4_API dsv4_status dsv4_session_snapshot_size(const dsv4_session *session, size_t *out_bytes);
/* Writes the snapshot into buf (cap bytes; fails with INVALID_ARGUMENT naming
 * the size needed when smaller). *out_written (may be NULL) gets its size. */
DSV4_API dsv4_status dsv4_session_snapshot(const dsv4_session *session, void *buf, size_t cap, size_t *out_written);
/* Writes the snapshot to path (through path.tmp, renamed when complete). */
DSV4_API dsv4_status dsv4_session_snapshot_file(const dsv4_session *session, const char *path);
/* Replaces the session's state with a snapshot's; the session keeps its own
 * n_ctx, prefill chunk and callbacks. Anything but an intact snapshot of this
 * model fails with DSV4_STATUS_FORMAT, the message naming the reason (not a
 * snapshot, another format version, another model, truncated, checksum
 * mismatch); one holding more tokens than the session's n_ctx with
 * DSV4_STATUS_INVALID_ARGUMENT. On any failure the session is unchanged. */
DSV4_API dsv4_status dsv4_session_restore(dsv4_session *session, const void *buf, size_t len);
DSV4_API dsv4_status dsv4_session_restore_file(dsv4_session *session, const char *path);

/* A new session of the same model and parameters (callbacks included) with a
 * copy of this one's state, for branching a conversation: the rings and
 * carries and the compressed entries of the tokens fed so far are copied
 * (never the whole n_ctx). Free it with dsv4_session_destroy. */
DSV4_API dsv4_status dsv4_session_fork(const dsv4_session *session, dsv4_session **out_session);

/* Positions of history a session keeps beyond what its next token needs. */
#define DSV4_SESSION_TRUNCATE_SLACK 32

/* Goes back to `position` (at most the current position): the session is
 * then exactly as if only its first `position` tokens had been fed (logits,
 * MTP logits and everything fed after agree bit for bit with such a session
 * fed the same way). Cost: going back at most DSV4_SESSION_TRUNCATE_SLACK
 * tokens from the furthest position fed since the last deeper truncation or
 * restore only moves the position (the rings keep that much history) and
 * evaluates the LM head once (not at all for a position inside the last
 * dsv4_session_verify batch); going back further re-runs the first
 * `position` tokens from the token history the session keeps (4 bytes per
 * token): the cost of prefilling them. Position 0 is dsv4_session_reset.
 * Fails with INVALID_ARGUMENT past the current position; a re-run cancelled
 * by the abort callback fails with CANCELLED and leaves the session as it
 * was. */
DSV4_API dsv4_status dsv4_session_truncate(dsv4_session *session, uint64_t position);

/* Feeds n_tokens >= 1 tokens as one batch (each weight is read once for all
 * of them, as in a prefill chunk) and writes the logits after every one:
 * out[i * vocab_size + v] follows tokens[i]; out has room for n_out >=
 * n_tokens * vocab_size floats. Afterwards the session is as after
 * dsv4_session_prefill of the same tokens. For speculative decoding: verify
 * the drafts, then dsv4_session_truncate back past the first rejected one. */
DSV4_API dsv4_status dsv4_session_verify(dsv4_session *session, const int32_t *tokens, size_t n_tokens, float *out,
                                         size_t n_out);

/* ------------------------------------------------------------------------ */
/* Generation: speculative decoding statistics                               */
/* ------------------------------------------------------------------------ */

typedef struct dsv4_generate_stats {
    size_t struct_size;       /* set by the caller to sizeof(dsv4_generate_stats) */
    uint64_t n_generated;     /* tokens sampled */
    uint64_t main_passes;     /* main-model passes over generated tokens (decode steps, verify batches) */
    uint64_t n_drafted;       /* tokens the MTP block drafted */
    uint64_t n_accepted;      /* drafts accepted */
    double acceptance_rate;   /* n_accepted / n_drafted (0 without drafts) */
    /* Tokens decided from the logits of main passes, per pass: 1 without
     * speculation, up to n_draft + 1 with it. */
    double tokens_per_pass;
    bool speculative;         /* drafting is on (requested, and the model has an MTP block) */
    /* Appended in 0.1: main passes that verified drafts (the rest were plain
     * decode steps; with spec_adaptive, the faster kind runs). */
    uint64_t spec_passes;
} dsv4_generate_stats;

DSV4_API dsv4_status dsv4_generator_get_stats(const dsv4_generator *generator, dsv4_generate_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* DSV4_DSV4_H */
