#include "model.h"

#include "backend.h"
#include "error.h"
#include "fingerprint.h"
#include "thread_limit.h"

namespace dsv4 {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}
}  // namespace

ModelStats compute_stats(const ModelConfig& cfg, const TensorStore& store) {
    ModelStats s;
    uint64_t routed_per_expert_layer = 0;  // params of one routed expert in layer 0 (all equal)
    uint64_t mtp_params = 0;
    for (const auto& [name, t] : store.tensors()) {
        s.bytes_by_dtype[size_t(t.dtype)] += t.nbytes;
        s.total_bytes += t.nbytes;
        if (ends_with(name, ".scale") && t.dtype == DType::F8_E8M0) continue;
        const uint64_t n = uint64_t(t.numel()) * (t.dtype == DType::I8 ? 2 : 1);
        s.total_params += n;
        if (starts_with(name, "mtp.")) mtp_params += n;
        if (starts_with(name, "layers.0.ffn.experts.0.")) routed_per_expert_layer += n;
    }
    const uint64_t unused_experts = uint64_t(cfg.n_routed_experts - cfg.n_experts_per_tok) * uint64_t(cfg.n_layers);
    s.active_params = s.total_params - mtp_params - unused_experts * routed_per_expert_layer;
    return s;
}

std::unique_ptr<Model> Model::load(const std::string& dir, const LoadOptions& opts) {
    if (opts.n_threads < 0 || opts.n_threads > kMaxThreads)
        fail(DSV4_STATUS_INVALID_ARGUMENT,
             "n_threads must be in 0.." + std::to_string(kMaxThreads) + ", got " + std::to_string(opts.n_threads));
    const Backend* backend = find_backend(opts.backend);
    if (!backend)
        fail(DSV4_STATUS_UNSUPPORTED,
             "backend '" + opts.backend + "' is not compiled in (known: " + backend_names_joined() + ")");
    auto m = std::unique_ptr<Model>(new Model());
    m->backend_instance_ = backend->instantiate(opts.n_threads);
    m->backend_ = m->backend_instance_.get();
    m->path_ = dir;
    m->options_ = opts;
    m->config_ = load_config(dir + "/config.json");
    if (opts.progress && !opts.progress(0, 1))
        fail(DSV4_STATUS_CANCELLED, dir + ": loading cancelled by the progress callback");
    m->store_ = TensorStore::open_dir(dir, opts.use_mmap);
    const uint64_t total = m->store_->total_bytes();
    if (opts.memory_budget && !opts.use_mmap && total > opts.memory_budget)
        fail(DSV4_STATUS_OUT_OF_MEMORY, dir + ": the checkpoint needs " + std::to_string(total) +
                                            " bytes, more than the memory budget of " +
                                            std::to_string(opts.memory_budget));
    m->weights_ = bind_weights(m->config_, *m->store_);
    m->stats_ = compute_stats(m->config_, *m->store_);
    m->fingerprint_ = model_fingerprint(m->config_, *m->store_);
    if (opts.progress && !opts.progress(total, total))
        fail(DSV4_STATUS_CANCELLED, dir + ": loading cancelled by the progress callback");
    return m;
}

}  // namespace dsv4
