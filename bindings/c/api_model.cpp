// Model functions of the C ABI.
#include <cstring>

#include "generate/model_tokenizer.h"
#include "guard.h"
#include "handles.h"

using namespace dsv4;

extern "C" {

DSV4_API void dsv4_model_params_init(dsv4_model_params* p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->backend = nullptr;
    p->n_threads = 0;
    p->use_mmap = true;
}

DSV4_API const char* dsv4_dtype_name(dsv4_dtype dtype) {
    const int d = enum_as_int(dtype);
    if (d < 0 || d >= DSV4_DTYPE_COUNT) return "?";
    return dtype_name(DType(d));
}

DSV4_API dsv4_status dsv4_model_open(const char* path, const dsv4_model_params* params, dsv4_model** out_model) {
    return guarded([&] {
        require_arg(path, "dsv4_model_open", "path");
        require_arg(out_model, "dsv4_model_open", "out_model");
        *out_model = nullptr;
        dsv4_model_params p;
        dsv4_model_params_init(&p);
        copy_params(params, offsetof(dsv4_model_params, progress_user_data) + sizeof(void*), p, "dsv4_model_open",
                    "dsv4_model_params_init");
        LoadOptions o;
        o.backend = p.backend ? p.backend : "cpu";
        o.n_threads = p.n_threads;
        o.use_mmap = p.use_mmap;
        o.memory_budget = p.memory_budget;
        if (p.progress) {
            auto fn = p.progress;
            void* ud = p.progress_user_data;
            o.progress = [fn, ud](uint64_t done, uint64_t total) { return fn(done, total, ud); };
        }
        auto h = std::make_unique<dsv4_model>();
        h->model = Model::load(path, o);
        if (auto tok = generate::load_model_tokenizer(path, h->model->config().vocab_size))
            h->tokenizer.reset(new dsv4_tokenizer{std::move(tok)});
        *out_model = h.release();
    });
}

DSV4_API void dsv4_model_close(dsv4_model* model) {
    delete model;
}

DSV4_API dsv4_status dsv4_model_get_info(const dsv4_model* model, dsv4_model_info* info) {
    return guarded([&] {
        require_arg(model, "dsv4_model_get_info", "model");
        require_arg(info, "dsv4_model_get_info", "info");
        const size_t caller_size = out_struct_size(info, "dsv4_model_get_info", "info", "dsv4_model_info");
        const ModelConfig& c = model->model->config();
        const ModelStats& s = model->model->stats();
        dsv4_model_info i;
        std::memset(&i, 0, sizeof i);
        i.struct_size = caller_size;
        i.n_layers = c.n_layers;
        i.n_mtp_layers = c.n_mtp_layers;
        i.hidden_size = c.hidden_size;
        i.n_heads = c.n_heads;
        i.head_dim = c.head_dim;
        i.rope_head_dim = c.rope_head_dim;
        i.q_lora_rank = c.q_lora_rank;
        i.o_groups = c.o_groups;
        i.o_lora_rank = c.o_lora_rank;
        i.sliding_window = c.sliding_window;
        i.n_routed_experts = c.n_routed_experts;
        i.n_experts_per_tok = c.n_experts_per_tok;
        i.n_shared_experts = c.n_shared_experts;
        i.moe_intermediate_size = c.moe_intermediate_size;
        i.n_hash_layers = c.n_hash_layers;
        i.index_n_heads = c.index_n_heads;
        i.index_head_dim = c.index_head_dim;
        i.index_topk = c.index_topk;
        i.hc_mult = c.hc_mult;
        i.vocab_size = c.vocab_size;
        i.bos_token_id = c.bos_token_id;
        i.eos_token_id = c.eos_token_id;
        i.max_context = uint64_t(c.max_position_embeddings);
        i.total_params = s.total_params;
        i.active_params = s.active_params;
        for (int d = 0; d < DSV4_DTYPE_COUNT; ++d) i.bytes_by_dtype[d] = s.bytes_by_dtype[size_t(d)];
        i.total_bytes = s.total_bytes;
        i.experts_fp4 = c.expert_dtype == ExpertDtype::FP4;
        std::memcpy(info, &i, caller_size);
    });
}

DSV4_API dsv4_status dsv4_model_layer_ratio(const dsv4_model* model, int layer, int* out_ratio) {
    return guarded([&] {
        require_arg(model, "dsv4_model_layer_ratio", "model");
        require_arg(out_ratio, "dsv4_model_layer_ratio", "out_ratio");
        const ModelConfig& c = model->model->config();
        if (layer < 0 || layer >= c.n_total_blocks())
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_model_layer_ratio: layer " + std::to_string(layer) +
                                                   " is out of range [0, " + std::to_string(c.n_total_blocks()) + ")");
        *out_ratio = c.ratio(layer);
    });
}

DSV4_API const char* dsv4_model_backend(const dsv4_model* model) {
    return model ? model->model->options().backend.c_str() : nullptr;
}

}  // extern "C"
