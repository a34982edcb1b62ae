#include "generate_helpers.h"

#include <catch2/catch.hpp>

#include <filesystem>

namespace generate_testing {

std::string make_text_model(const testing_support::TempDir& dir) {
    namespace fs = std::filesystem;
    const std::string golden = testing_support::conformance_dir() + "/golden/tiny-s4/model";
    const std::string fixture = std::string(DSV4_SOURCE_DIR) + "/tests/data/tokenizer_fixture";
    fs::create_symlink(golden + "/config.json", dir / "config.json");
    fs::create_symlink(golden + "/model.safetensors", dir / "model.safetensors");
    testing_support::copy_file(fixture + "/tokenizer.json", dir / "tokenizer.json");
    testing_support::copy_file(fixture + "/tokenizer_config.json", dir / "tokenizer_config.json");
    return dir.path();
}

SamplerPtr make_sampler(const dsv4_sampler_params& p) {
    dsv4_sampler* s = nullptr;
    INFO(dsv4_last_error());
    REQUIRE(dsv4_sampler_create(&p, &s) == DSV4_STATUS_OK);
    return SamplerPtr(s);
}

SamplerPtr make_sampler(float temperature, uint64_t seed) {
    dsv4_sampler_params p;
    dsv4_sampler_params_init(&p);
    p.temperature = temperature;
    p.seed = seed;
    return make_sampler(p);
}

Generated run_generator(dsv4_generator* g, int max_steps) {
    Generated out;
    while (out.finish == DSV4_FINISH_NONE) {
        REQUIRE(out.steps < max_steps);
        dsv4_generate_step step;
        step.struct_size = sizeof step;
        INFO(dsv4_last_error());
        REQUIRE(dsv4_generator_next(g, &step) == DSV4_STATUS_OK);
        ++out.steps;
        if (step.token >= 0) out.tokens.push_back(step.token);
        out.pieces.emplace_back(step.text, step.text_len);
        out.text.append(step.text, step.text_len);
        out.finish = step.finish;
    }
    return out;
}

Generated generate(dsv4_session* s, const dsv4_tokenizer* tok, dsv4_sampler* sampler, const dsv4_generate_params& p) {
    dsv4_generator* g = nullptr;
    INFO(dsv4_last_error());
    REQUIRE(dsv4_generator_create(s, tok, sampler, &p, &g) == DSV4_STATUS_OK);
    GeneratorPtr keep(g);
    return run_generator(g);
}

dsv4_generate_params params_with_max(uint64_t max_tokens, bool stop_at_eos) {
    dsv4_generate_params p;
    dsv4_generate_params_init(&p);
    p.max_tokens = max_tokens;
    p.stop_at_eos = stop_at_eos;
    return p;
}

}  // namespace generate_testing
