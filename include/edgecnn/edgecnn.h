/* edgecnn C API: load an .ecnn model, run it, register custom ops.
 *
 * - Opaque handles (ecnn_model, ecnn_session); every call that can fail returns an
 *   ecnn_status, and ecnn_last_error() gives the message of the last failure on the calling
 *   thread. No C++ exception ever crosses this interface.
 * - ABI: EDGECNN_ABI_VERSION is the shared library's SONAME number. Within one ABI version
 *   functions are only added; structs passed in carry their own size (struct_size) so that
 *   fields can be appended. Check ecnn_abi_version() == EDGECNN_ABI_VERSION at start-up.
 * - Threads: a session is used by one thread at a time; different sessions (also of the
 *   same model) may run concurrently. Register custom ops before creating sessions.
 *
 * Typical use (see examples/c/classify.c):
 *
 *   ecnn_model* m; ecnn_session* s;
 *   if (ecnn_model_load_file("model.ecnn", NULL, &m)) { puts(ecnn_last_error()); return 1; }
 *   ecnn_session_create(m, NULL, &s);
 *   int64_t shape[4] = {1, 1, 28, 28};
 *   ecnn_session_bind_input(s, "input", ECNN_F32, shape, 4, pixels);   // no copy
 *   ecnn_session_run(s);
 *   ecnn_tensor out; ecnn_session_output(s, 0, &out);                  // valid until next run
 */
#ifndef EDGECNN_EDGECNN_H
#define EDGECNN_EDGECNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDGECNN_ABI_VERSION 1
#define EDGECNN_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define EDGECNN_API __attribute__((visibility("default")))
#else
#define EDGECNN_API
#endif

typedef enum ecnn_status {
    ECNN_OK = 0,
    ECNN_ERROR_INVALID = 1,     /* malformed model, input or argument */
    ECNN_ERROR_UNSUPPORTED = 2, /* valid, but not implemented (op, dtype, CPU target, file version) */
    ECNN_ERROR_IO = 3,          /* a file could not be read */
    ECNN_ERROR_LIMIT = 4,       /* a memory or size limit was exceeded */
    ECNN_ERROR_INTERNAL = 5     /* anything else (a bug: please report it) */
} ecnn_status;

/* Element types; the codes are ONNX TensorProto.DataType values. */
typedef enum ecnn_dtype {
    ECNN_UNDEFINED = 0,
    ECNN_F32 = 1,
    ECNN_U8 = 2,
    ECNN_I8 = 3,
    ECNN_U16 = 4,
    ECNN_I16 = 5,
    ECNN_I32 = 6,
    ECNN_I64 = 7,
    ECNN_BOOL = 9,
    ECNN_F16 = 10,
    ECNN_F64 = 11,
    ECNN_U32 = 12,
    ECNN_U64 = 13,
    ECNN_BF16 = 16
} ecnn_dtype;

/* A tensor seen through the API. The memory belongs to whoever handed it out. */
#define ECNN_MAX_RANK 8
typedef struct ecnn_tensor {
    ecnn_dtype dtype;
    size_t rank;
    int64_t shape[ECNN_MAX_RANK];
    void* data; /* NULL where the value is not known yet (custom op shape functions) */
} ecnn_tensor;

typedef struct ecnn_model ecnn_model;
typedef struct ecnn_session ecnn_session;

EDGECNN_API uint32_t ecnn_abi_version(void);
EDGECNN_API const char* ecnn_version_string(void);
/* Message of the last failed call on this thread ("" if none). Valid until the next call. */
EDGECNN_API const char* ecnn_last_error(void);
/* Bytes of an element of `dtype` (0 for ECNN_UNDEFINED). */
EDGECNN_API size_t ecnn_dtype_size(ecnn_dtype dtype);

/* ---- models ---- */

typedef struct ecnn_load_options {
    uint32_t struct_size;    /* sizeof(ecnn_load_options) */
    int verify_checksum;     /* 1 (default): hash the weights and refuse a damaged file */
} ecnn_load_options;
EDGECNN_API void ecnn_load_options_init(ecnn_load_options* options);

/* Memory-maps the file; weights are used in place. `options` may be NULL. */
EDGECNN_API ecnn_status ecnn_model_load_file(const char* path, const ecnn_load_options* options, ecnn_model** model);
/* From an .ecnn image in memory (copied once; the caller may free `data` afterwards). */
EDGECNN_API ecnn_status ecnn_model_load_memory(const void* data, size_t size, const ecnn_load_options* options,
                                               ecnn_model** model);
EDGECNN_API void ecnn_model_free(ecnn_model* model);

EDGECNN_API size_t ecnn_model_input_count(const ecnn_model* model);
EDGECNN_API size_t ecnn_model_output_count(const ecnn_model* model);
/* Names, valid while the model lives; NULL for an index out of range. */
EDGECNN_API const char* ecnn_model_input_name(const ecnn_model* model, size_t index);
EDGECNN_API const char* ecnn_model_output_name(const ecnn_model* model, size_t index);
/* Declared input: dtype, rank and dims (-1 for a dynamic dim). */
EDGECNN_API ecnn_status ecnn_model_input_info(const ecnn_model* model, size_t index, ecnn_tensor* info);
/* Class names stored at conversion (--class-names). */
EDGECNN_API size_t ecnn_model_class_count(const ecnn_model* model);
EDGECNN_API const char* ecnn_model_class_name(const ecnn_model* model, size_t index);
/* Metadata by key: "preprocess" (JSON, --preprocess); NULL if absent. */
EDGECNN_API const char* ecnn_model_metadata(const ecnn_model* model, const char* key);

/* ---- sessions ---- */

typedef struct ecnn_session_options {
    uint32_t struct_size;    /* sizeof(ecnn_session_options) */
    int num_threads;         /* threads counting the caller (default 1) */
    int64_t max_arena_bytes; /* limit for activations + scratch (0: none); over it: ECNN_ERROR_LIMIT */
    int optimization_level;  /* 1 (default): fast kernels; 0: reference interpreter */
    /* Float arithmetic (ecnn_fpmath): ECNN_FPMATH_F32 (default), or ECNN_FPMATH_BF16: layers
     * with a bfloat16 kernel (convolutions and Gemm layers whose GEMM has K and N >= 64; x86
     * CPUs with AVX512-BF16) round their
     * operands to bf16 and accumulate in float32: up to twice as fast, ~2^-9 relative error
     * per operand; every other layer, and every other CPU, stays float32. Added after the
     * fields above: a struct_size that ends before it means F32. */
    int fpmath;
} ecnn_session_options;
typedef enum ecnn_fpmath { ECNN_FPMATH_F32 = 0, ECNN_FPMATH_BF16 = 1 } ecnn_fpmath;
EDGECNN_API void ecnn_session_options_init(ecnn_session_options* options);

/* The session keeps what it needs of the model: the model may be freed first. */
EDGECNN_API ecnn_status ecnn_session_create(const ecnn_model* model, const ecnn_session_options* options,
                                            ecnn_session** session);
EDGECNN_API void ecnn_session_free(ecnn_session* session);

/* Binds an input by name without copying: `data` (dense, row-major) must stay valid and
 * unchanged until ecnn_session_run returns. Binding stays until rebound, so a caller can
 * refill the same buffer and run again. The plan (weights packing, memory) is made on the
 * first run for the bound shapes and reused while they stay the same. */
EDGECNN_API ecnn_status ecnn_session_bind_input(ecnn_session* session, const char* name, ecnn_dtype dtype,
                                                const int64_t* shape, size_t rank, const void* data);
EDGECNN_API ecnn_status ecnn_session_run(ecnn_session* session);
/* Output `index` of the last run; `out->data` is valid until the next run or free. */
EDGECNN_API ecnn_status ecnn_session_output(ecnn_session* session, size_t index, ecnn_tensor* out);
EDGECNN_API ecnn_status ecnn_session_output_by_name(ecnn_session* session, const char* name, ecnn_tensor* out);

/* ---- custom ops ----
 * A node of domain `domain` and type `name` runs these callbacks. Callbacks return 0 on
 * success; otherwise they may describe the problem with ecnn_op_set_error, and the run
 * fails with ECNN_ERROR_INVALID naming the node. */
typedef struct ecnn_op_context ecnn_op_context;

/* Attributes of the node being run (returns ECNN_ERROR_INVALID if absent or of another kind). */
EDGECNN_API ecnn_status ecnn_op_attr_int(const ecnn_op_context* ctx, const char* name, int64_t* value);
EDGECNN_API ecnn_status ecnn_op_attr_float(const ecnn_op_context* ctx, const char* name, float* value);
EDGECNN_API void ecnn_op_set_error(ecnn_op_context* ctx, const char* message);

typedef struct ecnn_custom_op {
    uint32_t struct_size; /* sizeof(ecnn_custom_op) */
    const char* domain;   /* e.g. "com.example"; "", "ai.onnx" and "edgecnn" are reserved */
    const char* name;     /* op_type of the nodes */
    void* user_data;      /* passed back to the callbacks; must outlive every session */
    /* Shape function: set dtype, rank and shape of every output from the inputs (whose
     * `data` is NULL unless the value is a constant). */
    int (*infer)(void* user_data, ecnn_op_context* ctx, const ecnn_tensor* inputs, size_t num_inputs,
                 ecnn_tensor* outputs, size_t num_outputs);
    /* Kernel: outputs are allocated with the inferred shapes; fill outputs[i].data. */
    int (*run)(void* user_data, ecnn_op_context* ctx, const ecnn_tensor* inputs, size_t num_inputs,
               ecnn_tensor* outputs, size_t num_outputs);
} ecnn_custom_op;

/* Registers process-wide; fails if the domain is reserved or the name is taken. */
EDGECNN_API ecnn_status ecnn_register_custom_op(const ecnn_custom_op* op);

#ifdef __cplusplus
}
#endif

#endif /* EDGECNN_EDGECNN_H */
