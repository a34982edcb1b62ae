// A thin C++ RAII layer over the public C ABI (dsv4.h). The Python module is
// built only on this, so Python exercises exactly the ABI that C programs use.
#pragma once

#include <dsv4/dsv4.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace dsv4py {

// A failed C call: its status and the library's message.
struct StatusError : std::runtime_error {
    StatusError(dsv4_status s, const std::string& msg) : std::runtime_error(msg), status(s) {}
    dsv4_status status;
};

inline void check(dsv4_status s) {
    if (s != DSV4_STATUS_OK) throw StatusError(s, dsv4_last_error());
}

[[noreturn]] inline void invalid(const std::string& msg) {
    throw StatusError(DSV4_STATUS_INVALID_ARGUMENT, msg);
}

// Python's names of the weight formats (dsv4_weight_format), the keys of the stats dicts and the
// argument of measure_decode_kernel.
inline const char* weight_format_name(dsv4_weight_format f) {
    switch (f) {
        case DSV4_WEIGHT_BF16:
            return "bf16";
        case DSV4_WEIGHT_FP8:
            return "fp8";
        case DSV4_WEIGHT_FP4:
            return "fp4";
        default:
            return "?";
    }
}

struct ModelDeleter {
    void operator()(dsv4_model* m) const { dsv4_model_close(m); }
};
struct SessionDeleter {
    void operator()(dsv4_session* s) const { dsv4_session_destroy(s); }
};
struct StringDeleter {
    void operator()(char* s) const { dsv4_string_free(s); }
};
struct TokensDeleter {
    void operator()(int32_t* t) const { dsv4_tokens_free(t); }
};
struct SamplerDeleter {
    void operator()(dsv4_sampler* s) const { dsv4_sampler_free(s); }
};
struct GeneratorDeleter {
    void operator()(dsv4_generator* g) const { dsv4_generator_free(g); }
};

using ModelPtr = std::unique_ptr<dsv4_model, ModelDeleter>;
using SessionPtr = std::unique_ptr<dsv4_session, SessionDeleter>;
using StringPtr = std::unique_ptr<char, StringDeleter>;
using TokensPtr = std::unique_ptr<int32_t, TokensDeleter>;
using SamplerPtr = std::unique_ptr<dsv4_sampler, SamplerDeleter>;
using GeneratorPtr = std::unique_ptr<dsv4_generator, GeneratorDeleter>;

}  // namespace dsv4py
