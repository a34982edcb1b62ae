// Shared fixtures for the generation tests: a text-capable checkpoint (a golden model with the
// tokenizer fixture beside it), RAII handles, and running a generator to its end.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dsv4/dsv4.h"
#include "test_support.h"

namespace generate_testing {

struct SamplerFree {
    void operator()(dsv4_sampler* s) const { dsv4_sampler_free(s); }
};
struct GeneratorFree {
    void operator()(dsv4_generator* g) const { dsv4_generator_free(g); }
};
using SamplerPtr = std::unique_ptr<dsv4_sampler, SamplerFree>;
using GeneratorPtr = std::unique_ptr<dsv4_generator, GeneratorFree>;

// The golden tiny-s4 checkpoint (vocab 1024) with tests/data/tokenizer_fixture (356 ids) in a
// temporary directory: weights linked, tokenizer files copied. The model's ids above 355 have no
// token and add no text, which is part of what the tests check.
std::string make_text_model(const testing_support::TempDir& dir);

SamplerPtr make_sampler(float temperature, uint64_t seed = 0);
SamplerPtr make_sampler(const dsv4_sampler_params& p);

struct Generated {
    std::vector<int32_t> tokens;      // every sampled token
    std::vector<std::string> pieces;  // the text of every step, in order
    std::string text;                 // the pieces joined
    dsv4_finish_reason finish = DSV4_FINISH_NONE;
    int steps = 0;
};

// Runs a generator until it finishes (REQUIREs every call to succeed, and at most max_steps).
Generated run_generator(dsv4_generator* g, int max_steps = 100000);
// Creates a generator from these arguments and runs it.
Generated generate(dsv4_session* s, const dsv4_tokenizer* tok, dsv4_sampler* sampler, const dsv4_generate_params& p);

dsv4_generate_params params_with_max(uint64_t max_tokens, bool stop_at_eos = false);

}  // namespace generate_testing
