#include "config.h"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "error.h"

namespace dsv4 {

namespace {

using json = nlohmann::json;

class Reader {
public:
    Reader(const json& j, const std::string& origin) : j_(j), origin_(origin) {}

    [[noreturn]] void out_of_range(const std::string& key, const std::string& shown, int64_t lo, int64_t hi) const {
        bad(key, "= " + shown + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    [[noreturn]] void bad(const std::string& key, const std::string& what) const {
        fail(DSV4_STATUS_FORMAT, origin_ + ": key '" + key + "' " + what);
    }

    int64_t integer(const std::string& key, int64_t lo, int64_t hi) const {
        auto it = j_.find(key);
        if (it == j_.end()) bad(key, "is missing");
        return check_int(key, *it, lo, hi);
    }
    int64_t integer_or(const std::string& key, int64_t dflt, int64_t lo, int64_t hi) const {
        auto it = j_.find(key);
        if (it == j_.end() || it->is_null()) return dflt;
        return check_int(key, *it, lo, hi);
    }
    double number(const std::string& key) const {
        auto it = j_.find(key);
        if (it == j_.end()) bad(key, "is missing");
        return check_number(key, *it);
    }
    double number_or(const std::string& key, double dflt) const {
        auto it = j_.find(key);
        if (it == j_.end() || it->is_null()) return dflt;
        return check_number(key, *it);
    }
    const json* find(const std::string& key) const {
        auto it = j_.find(key);
        return it == j_.end() || it->is_null() ? nullptr : &*it;
    }

    int64_t check_int(const std::string& key, const json& v, int64_t lo, int64_t hi) const {
        int64_t x = 0;
        if (v.is_number_unsigned()) {
            const uint64_t u = v.get<uint64_t>();
            if (u > uint64_t(std::numeric_limits<int64_t>::max())) out_of_range(key, std::to_string(u), lo, hi);
            x = int64_t(u);
        } else if (v.is_number_integer()) {
            x = v.get<int64_t>();
        } else if (v.is_number_float()) {
            // Range first: converting a double outside int64 is undefined (the
            // fuzzer found 1.28889e+25).
            const double d = v.get<double>();
            if (!std::isfinite(d) || d != std::floor(d)) bad(key, "must be an integer");
            if (d < double(lo) || d > double(hi) || std::fabs(d) >= 0x1p62) out_of_range(key, json(d).dump(), lo, hi);
            x = int64_t(d);
        } else {
            bad(key, "must be an integer");
        }
        if (x < lo || x > hi) out_of_range(key, std::to_string(x), lo, hi);
        return x;
    }
    double check_number(const std::string& key, const json& v) const {
        if (!v.is_number()) bad(key, "must be a number");
        return v.get<double>();
    }

private:
    const json& j_;
    std::string origin_;
};

constexpr int64_t kMaxDim = 1 << 20;

}  // namespace

ModelConfig parse_config(const std::string& text, const std::string& origin) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        fail(DSV4_STATUS_FORMAT, origin + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) fail(DSV4_STATUS_FORMAT, origin + ": top level must be a JSON object");
    Reader r(j, origin);
    ModelConfig c;
    c.hidden_size = int(r.integer("hidden_size", 1, kMaxDim));
    c.n_layers = int(r.integer("num_hidden_layers", 1, 4096));
    c.n_heads = int(r.integer("num_attention_heads", 1, 4096));
    c.head_dim = int(r.integer("head_dim", 2, 65536));
    c.rope_head_dim = int(r.integer("qk_rope_head_dim", 0, c.head_dim));
    if (c.rope_head_dim % 2) r.bad("qk_rope_head_dim", "must be even");
    c.q_lora_rank = int(r.integer("q_lora_rank", 1, kMaxDim));
    c.o_groups = int(r.integer("o_groups", 1, c.n_heads));
    if (c.n_heads % c.o_groups) r.bad("o_groups", "must divide num_attention_heads");
    c.o_lora_rank = int(r.integer("o_lora_rank", 1, kMaxDim));
    c.sliding_window = int(r.integer("sliding_window", 1, kMaxDim));
    c.n_mtp_layers = int(r.integer_or("num_nextn_predict_layers", 0, 0, 64));
    c.index_n_heads = int(r.integer("index_n_heads", 1, 4096));
    c.index_head_dim = int(r.integer("index_head_dim", 2, 65536));
    c.index_topk = int(r.integer("index_topk", 1, 1 << 30));
    c.n_routed_experts = int(r.integer("n_routed_experts", 1, 1 << 16));
    c.n_experts_per_tok = int(r.integer("num_experts_per_tok", 1, c.n_routed_experts));
    c.n_shared_experts = int(r.integer_or("n_shared_experts", 1, 0, 1));
    c.moe_intermediate_size = int(r.integer("moe_intermediate_size", 1, kMaxDim));
    c.n_hash_layers = int(r.integer_or("num_hash_layers", 0, 0, c.n_layers));
    c.routed_scaling_factor = r.number_or("routed_scaling_factor", 1.0);
    if (const json* s = r.find("scoring_func")) {
        if (!s->is_string()) r.bad("scoring_func", "must be a string");
        c.scoring_func = s->get<std::string>();
        if (c.scoring_func != "sqrtsoftplus")
            fail(DSV4_STATUS_UNSUPPORTED,
                 origin + ": scoring_func '" + c.scoring_func + "' is not supported (expected sqrtsoftplus)");
    }
    c.swiglu_limit = r.number_or("swiglu_limit", 0.0);
    c.hc_mult = int(r.integer("hc_mult", 1, 64));
    c.hc_sinkhorn_iters = int(r.integer("hc_sinkhorn_iters", 1, 1000));
    c.hc_eps = r.number_or("hc_eps", 1e-6);
    c.rope_theta = r.number("rope_theta");
    c.compress_rope_theta = r.number_or("compress_rope_theta", c.rope_theta);
    c.rms_norm_eps = r.number_or("rms_norm_eps", 1e-6);
    c.vocab_size = int(r.integer("vocab_size", 1, 1 << 24));
    c.bos_token_id = int(r.integer_or("bos_token_id", 0, 0, c.vocab_size - 1));
    c.eos_token_id = int(r.integer_or("eos_token_id", 1, 0, c.vocab_size - 1));
    c.max_position_embeddings = r.integer_or("max_position_embeddings", 1 << 20, 1, int64_t(1) << 40);

    if (const json* ys = r.find("rope_scaling")) {
        if (!ys->is_object()) r.bad("rope_scaling", "must be an object");
        Reader y(*ys, origin + " rope_scaling");
        std::string type;
        if (const json* t = y.find("type"))
            type = t->is_string() ? t->get<std::string>() : "";
        else if (const json* t2 = y.find("rope_type"))
            type = t2->is_string() ? t2->get<std::string>() : "";
        if (type != "yarn")
            fail(DSV4_STATUS_UNSUPPORTED,
                 origin + ": rope_scaling type '" + type + "' is not supported (expected yarn)");
        c.yarn.enabled = true;
        c.yarn.factor = y.number("factor");
        c.yarn.original_max_position = y.integer("original_max_position_embeddings", 1, int64_t(1) << 40);
        c.yarn.beta_fast = y.number_or("beta_fast", 32.0);
        c.yarn.beta_slow = y.number_or("beta_slow", 1.0);
    }

    const json* ratios = r.find("compress_ratios");
    if (!ratios || !ratios->is_array()) r.bad("compress_ratios", "must be an array");
    for (const json& v : *ratios) {
        int64_t x = r.check_int("compress_ratios", v, 0, 1 << 20);
        if (x != 0 && x != 4 && x != 128 && (x < 2 || (x & (x - 1))))
            r.bad("compress_ratios", "has unsupported ratio " + std::to_string(x));
        c.compress_ratios.push_back(int(x));
    }
    if (int(c.compress_ratios.size()) != c.n_total_blocks())
        r.bad("compress_ratios", "has " + std::to_string(c.compress_ratios.size()) +
                                     " entries, expected num_hidden_layers + num_nextn_predict_layers = " +
                                     std::to_string(c.n_total_blocks()));
    for (int m = 0; m < c.n_mtp_layers; ++m)
        if (c.compress_ratios[c.n_layers + m] != 0)
            r.bad("compress_ratios", "entry for MTP block " + std::to_string(m) + " must be 0");

    if (const json* e = r.find("expert_dtype")) {
        std::string s = e->is_string() ? e->get<std::string>() : "";
        if (s == "fp4")
            c.expert_dtype = ExpertDtype::FP4;
        else if (s == "fp8")
            c.expert_dtype = ExpertDtype::FP8;
        else
            r.bad("expert_dtype", "must be \"fp4\" or \"fp8\"");
    }
    return c;
}

ModelConfig load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(DSV4_STATUS_IO, path + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) fail(DSV4_STATUS_IO, path + ": read error");
    return parse_config(ss.str(), path);
}

}  // namespace dsv4
