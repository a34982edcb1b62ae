// _Generation: a dsv4_generator driven from Python, one step per next() call with the GIL released.
#pragma once

#include <pybind11/pybind11.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capi.hpp"

namespace dsv4py {

class PySession;

// What a running generation owns. Closed when it finishes or when its session is used otherwise.
struct GenerationState {
    GeneratorPtr generator;
    SamplerPtr sampler;
    std::shared_ptr<const dsv4_tokenizer> tokenizer;
    void close() {
        generator.reset();
        sampler.reset();
    }
};

struct SamplingArgs {
    float temperature = 1.0f;
    int32_t top_k = 0;
    float top_p = 1.0f;
    float min_p = 0.0f;
    float repetition_penalty = 1.0f;
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    int32_t penalty_last_n = 64;
    uint64_t seed = 0;
    std::vector<int32_t> stop_tokens;
    std::map<int32_t, float> logit_bias;
};

class PyGeneration {
public:
    // Feeds `prompt` (may be empty: the session's current logits are used) and starts generating.
    // speculation: "auto" (speculate while it is faster), "always" or "off"; n_draft 1..8.
    PyGeneration(pybind11::object session, const std::vector<int32_t>& prompt, pybind11::object tokenizer,
                 const SamplingArgs& sampling, uint64_t max_tokens, const std::vector<std::string>& stop,
                 bool stop_at_eos, bool skip_special, const std::string& speculation, uint32_t n_draft);
    ~PyGeneration();

    // One step: (token or -1, text, finish reason as int). After the end, or once closed, a step
    // of (-1, "", finish).
    pybind11::tuple next();
    void close();
    // A generation ended early from outside (close(), another call on its session) counts as
    // cancelled.
    int finish() const { return finish_ == DSV4_FINISH_NONE && closed() ? int(DSV4_FINISH_CANCELLED) : finish_; }
    bool closed() const { return !state_->generator; }
    // Every token sampled and all text produced so far. Kept here rather than in the Python
    // wrapper: a Ctrl-C surfaces as soon as next() returns, before Python code could record them.
    const std::vector<int32_t>& tokens() const { return tokens_; }
    pybind11::str text() const { return pybind11::str(text_); }
    // The generator's statistics after the last step (dsv4_generate_stats), as a dict.
    pybind11::dict stats() const;

private:
    pybind11::object session_obj_;  // keeps the _Session alive
    PySession* session_;
    std::shared_ptr<GenerationState> state_;
    int finish_ = DSV4_FINISH_NONE;
    std::vector<int32_t> tokens_;
    std::string text_;
    dsv4_generate_stats stats_{};  // kept: the generator is freed when the generation ends
    void update_stats();
};

void bind_generation(pybind11::module_& m);

}  // namespace dsv4py
