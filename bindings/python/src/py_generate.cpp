#include "py_generate.hpp"

#include <pybind11/stl.h>

#include "py_session.hpp"
#include "py_tokenizer.hpp"

namespace py = pybind11;

namespace dsv4py {

namespace {

SamplerPtr make_sampler(const SamplingArgs& a) {
    std::vector<int32_t> bias_tokens;
    std::vector<float> bias_values;
    for (const auto& [t, v] : a.logit_bias) {
        bias_tokens.push_back(t);
        bias_values.push_back(v);
    }
    dsv4_sampler_params p;
    dsv4_sampler_params_init(&p);
    p.temperature = a.temperature;
    p.top_k = a.top_k;
    p.top_p = a.top_p;
    p.min_p = a.min_p;
    p.repetition_penalty = a.repetition_penalty;
    p.presence_penalty = a.presence_penalty;
    p.frequency_penalty = a.frequency_penalty;
    p.penalty_last_n = a.penalty_last_n;
    p.seed = a.seed;
    p.logit_bias_tokens = bias_tokens.data();
    p.logit_bias_values = bias_values.data();
    p.n_logit_bias = bias_tokens.size();
    p.stop_tokens = a.stop_tokens.data();
    p.n_stop_tokens = a.stop_tokens.size();
    dsv4_sampler* raw = nullptr;
    check(dsv4_sampler_create(&p, &raw));
    return SamplerPtr(raw);
}

}  // namespace

PyGeneration::PyGeneration(py::object session, const std::vector<int32_t>& prompt, py::object tokenizer,
                           const SamplingArgs& sampling, uint64_t max_tokens, const std::vector<std::string>& stop,
                           bool stop_at_eos, bool skip_special, const std::string& speculation, uint32_t n_draft)
    : session_obj_(std::move(session)),
      session_(session_obj_.cast<PySession*>()),
      state_(std::make_shared<GenerationState>()) {
    dsv4_session* s = session_->get();
    if (!tokenizer.is_none()) state_->tokenizer = tokenizer.cast<const PyTokenizer&>().shared();
    // What would make the generator fail is checked before the prompt is fed, so that a bad
    // argument leaves the session as it was.
    if (!stop.empty() && !state_->tokenizer) invalid("generator: stop strings need a tokenizer");
    if (speculation != "auto" && speculation != "always" && speculation != "off")
        invalid("generator: speculation must be \"auto\", \"always\" or \"off\", not \"" + speculation + "\"");
    if (n_draft < 1 || n_draft > 8) invalid("generator: n_draft " + std::to_string(n_draft) + " is not in [1, 8]");
    for (size_t i = 0; i < stop.size(); ++i)
        if (stop[i].empty()) invalid("generator: stop string " + std::to_string(i) + " is empty");
    state_->sampler = make_sampler(sampling);
    std::vector<const char*> stops;
    for (const auto& x : stop) stops.push_back(x.c_str());
    dsv4_generate_params p;
    dsv4_generate_params_init(&p);
    p.max_tokens = max_tokens;
    p.stop_strings = stops.data();
    p.n_stop_strings = stops.size();
    p.stop_at_eos = stop_at_eos;
    p.skip_special = skip_special;
    p.prompt_tokens = prompt.data();
    p.n_prompt_tokens = prompt.size();
    p.speculative = speculation != "off";
    p.spec_adaptive = speculation == "auto";
    p.n_draft = n_draft;
    dsv4_generator* raw = nullptr;
    const dsv4_tokenizer* tok = state_->tokenizer.get();
    dsv4_sampler* sampler = state_->sampler.get();
    session_->run([&] {
        if (!prompt.empty()) {
            const dsv4_status st = dsv4_session_prefill(s, prompt.data(), prompt.size());
            if (st != DSV4_STATUS_OK) return st;
        }
        return dsv4_generator_create(s, tok, sampler, &p, &raw);
    });
    state_->generator.reset(raw);
    session_->attach(state_);
    update_stats();
}

void PyGeneration::update_stats() {
    if (!state_->generator) return;
    stats_.struct_size = sizeof stats_;
    check(dsv4_generator_get_stats(state_->generator.get(), &stats_));
}

py::dict PyGeneration::stats() const {
    py::dict d;
    d["n_generated"] = stats_.n_generated;
    d["main_passes"] = stats_.main_passes;
    d["spec_passes"] = stats_.spec_passes;
    d["n_drafted"] = stats_.n_drafted;
    d["n_accepted"] = stats_.n_accepted;
    d["acceptance_rate"] = stats_.acceptance_rate;
    d["tokens_per_pass"] = stats_.tokens_per_pass;
    d["speculative"] = stats_.speculative;
    return d;
}

PyGeneration::~PyGeneration() {
    // A session busy in another thread has already ended this generation (every other call on it
    // does so first), so this cannot fail for a generator still open.
    try {
        close();
    } catch (...) {
    }
}

py::tuple PyGeneration::next() {
    if (!state_->generator) return py::make_tuple(-1, py::str(""), finish());
    dsv4_generate_step step;
    step.struct_size = sizeof step;
    dsv4_generator* g = state_->generator.get();
    session_->run_step([&] { return dsv4_generator_next(g, &step); });
    finish_ = step.finish;
    if (step.token >= 0) tokens_.push_back(step.token);
    text_.append(step.text, step.text_len);
    update_stats();
    py::tuple out = py::make_tuple(step.token, py::str(step.text, step.text_len), int(step.finish));
    if (step.finish != DSV4_FINISH_NONE) close();
    return out;
}

void PyGeneration::close() {
    if (!state_->generator) return;
    session_->close_generation(*state_);
}

void bind_generation(py::module_& m) {
    py::class_<PyGeneration>(m, "_Generation")
        .def(py::init([](py::object session, const std::vector<int32_t>& prompt, py::object tokenizer,
                         float temperature, int32_t top_k, float top_p, float min_p, float repetition_penalty,
                         float presence_penalty, float frequency_penalty, int32_t penalty_last_n, uint64_t seed,
                         const std::vector<int32_t>& stop_tokens, const std::map<int32_t, float>& logit_bias,
                         uint64_t max_tokens, const std::vector<std::string>& stop, bool stop_at_eos, bool skip_special,
                         const std::string& speculation, uint32_t n_draft) {
                 SamplingArgs a;
                 a.temperature = temperature;
                 a.top_k = top_k;
                 a.top_p = top_p;
                 a.min_p = min_p;
                 a.repetition_penalty = repetition_penalty;
                 a.presence_penalty = presence_penalty;
                 a.frequency_penalty = frequency_penalty;
                 a.penalty_last_n = penalty_last_n;
                 a.seed = seed;
                 a.stop_tokens = stop_tokens;
                 a.logit_bias = logit_bias;
                 return new PyGeneration(std::move(session), prompt, std::move(tokenizer), a, max_tokens, stop,
                                         stop_at_eos, skip_special, speculation, n_draft);
             }),
             py::arg("session"), py::arg("prompt"), py::arg("tokenizer"), py::arg("temperature"), py::arg("top_k"),
             py::arg("top_p"), py::arg("min_p"), py::arg("repetition_penalty"), py::arg("presence_penalty"),
             py::arg("frequency_penalty"), py::arg("penalty_last_n"), py::arg("seed"), py::arg("stop_tokens"),
             py::arg("logit_bias"), py::arg("max_tokens"), py::arg("stop"), py::arg("stop_at_eos"),
             py::arg("skip_special"), py::arg("speculation"), py::arg("n_draft"))
        .def("next", &PyGeneration::next)
        .def("close", &PyGeneration::close)
        .def_property_readonly("finish", &PyGeneration::finish)
        .def_property_readonly("closed", &PyGeneration::closed)
        .def_property_readonly("tokens", &PyGeneration::tokens)
        .def_property_readonly("text", &PyGeneration::text)
        .def_property_readonly("stats", &PyGeneration::stats);
}

}  // namespace dsv4py
