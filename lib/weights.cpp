#include "weights.h"

#include <set>

#include "error.h"

namespace dsv4 {

namespace {

int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

class Binder {
public:
    Binder(TensorStore& store) : store_(store) {}

    // A tensor the forward pass reads in place, through typed pointers.
    const Tensor* get(const std::string& name, DType dtype, std::vector<int64_t> shape) {
        check(name, dtype, shape);
        return store_.find_aligned(name);
    }
    // A tensor read only through Tensor::read_bytes (a few rows at a time): left
    // where it lies, at whatever offset.
    const Tensor* get_by_rows(const std::string& name, DType dtype, std::vector<int64_t> shape) {
        return check(name, dtype, shape);
    }

    bool has(const std::string& name) const { return store_.find(name) != nullptr; }
    DType dtype_of(const std::string& name) const {
        const Tensor* t = store_.find(name);
        if (!t) fail(DSV4_STATUS_FORMAT, "tensor '" + name + "' is missing from the checkpoint");
        return t->dtype;
    }

    Linear bf16(const std::string& prefix, int64_t out, int64_t in) {
        Linear l;
        l.format = LinearFormat::BF16;
        l.out = out;
        l.in = in;
        l.weight = get(prefix + "weight", DType::BF16, {out, in});
        return l;
    }
    Linear fp8(const std::string& prefix, int64_t out, int64_t in) {
        Linear l;
        l.format = LinearFormat::FP8;
        l.out = out;
        l.in = in;
        l.weight = get(prefix + "weight", DType::F8_E4M3, {out, in});
        l.scale = get(prefix + "scale", DType::F8_E8M0, {ceil_div(out, 128), ceil_div(in, 128)});
        return l;
    }
    Linear fp4(const std::string& prefix, int64_t out, int64_t in) {
        if (in % 32)
            fail(DSV4_STATUS_FORMAT,
                 "tensor '" + prefix + "weight': FP4 input width " + std::to_string(in) + " is not a multiple of 32");
        Linear l;
        l.format = LinearFormat::FP4;
        l.out = out;
        l.in = in;
        l.weight = get(prefix + "weight", DType::I8, {out, in / 2});
        l.scale = get(prefix + "scale", DType::F8_E8M0, {out, in / 32});
        return l;
    }

    HcWeights hc(const std::string& prefix, int64_t n_out, int64_t width, int64_t n_scale) {
        HcWeights h;
        h.fn = get(prefix + "_fn", DType::F32, {n_out, width});
        h.base = get(prefix + "_base", DType::F32, {n_out});
        h.scale = get(prefix + "_scale", DType::F32, {n_scale});
        return h;
    }

    std::vector<std::string> unused() const {
        std::vector<std::string> out;
        for (const auto& [name, t] : store_.tensors())
            if (!used_.count(name)) out.push_back(name);
        return out;
    }

private:
    // The tensor, checked for dtype and shape and recorded as used.
    const Tensor* check(const std::string& name, DType dtype, const std::vector<int64_t>& shape) {
        const Tensor* t = store_.find(name);
        if (!t) fail(DSV4_STATUS_FORMAT, "tensor '" + name + "' is missing from the checkpoint");
        used_.insert(name);
        if (t->dtype != dtype)
            fail(DSV4_STATUS_FORMAT, *t->file + ": tensor '" + name + "' has dtype " + dtype_name(t->dtype) +
                                         ", expected " + dtype_name(dtype));
        if (t->shape != shape) {
            Tensor want;
            want.shape = shape;
            fail(DSV4_STATUS_FORMAT, *t->file + ": tensor '" + name + "' has shape " + t->shape_string() +
                                         ", expected " + want.shape_string() + " from config.json");
        }
        return t;
    }

    TensorStore& store_;
    std::set<std::string> used_;
};

CompressorWeights bind_compressor(Binder& b, const std::string& p, int ratio, int width, int64_t D) {
    CompressorWeights c;
    c.ratio = ratio;
    c.width = width;
    c.overlap = ratio == 4;
    const int64_t cw = (c.overlap ? 2 : 1) * int64_t(width);
    c.ape = b.get(p + "ape", DType::F32, {ratio, cw});
    c.wkv = b.bf16(p + "wkv.", cw, D);
    c.wgate = b.bf16(p + "wgate.", cw, D);
    c.norm = b.get(p + "norm.weight", DType::BF16, {width});
    return c;
}

ExpertWeights bind_expert(Binder& b, const std::string& p, bool fp4, int64_t I, int64_t D) {
    ExpertWeights e;
    e.w1 = fp4 ? b.fp4(p + "w1.", I, D) : b.fp8(p + "w1.", I, D);
    e.w3 = fp4 ? b.fp4(p + "w3.", I, D) : b.fp8(p + "w3.", I, D);
    e.w2 = fp4 ? b.fp4(p + "w2.", D, I) : b.fp8(p + "w2.", D, I);
    return e;
}

BlockWeights bind_block(Binder& b, const ModelConfig& c, int index, bool is_mtp, const std::string& p) {
    const int64_t D = c.hidden_size, H = c.n_heads, d = c.head_dim, hc = c.hc_mult;
    BlockWeights w;
    w.index = index;
    w.is_mtp = is_mtp;
    w.prefix = p;
    w.attn_norm = b.get(p + "attn_norm.weight", DType::BF16, {D});
    w.ffn_norm = b.get(p + "ffn_norm.weight", DType::BF16, {D});
    w.hc_attn = b.hc(p + "hc_attn", (2 + hc) * hc, hc * D, 3);
    w.hc_ffn = b.hc(p + "hc_ffn", (2 + hc) * hc, hc * D, 3);

    AttentionWeights& a = w.attn;
    const std::string ap = p + "attn.";
    a.ratio = c.ratio(index);
    a.attn_sink = b.get(ap + "attn_sink", DType::F32, {H});
    a.wq_a = b.fp8(ap + "wq_a.", c.q_lora_rank, D);
    a.q_norm = b.get(ap + "q_norm.weight", DType::BF16, {c.q_lora_rank});
    a.wq_b = b.fp8(ap + "wq_b.", H * d, c.q_lora_rank);
    a.wkv = b.fp8(ap + "wkv.", d, D);
    a.kv_norm = b.get(ap + "kv_norm.weight", DType::BF16, {d});
    a.wo_a = b.fp8(ap + "wo_a.", int64_t(c.o_groups) * c.o_lora_rank, H * d / c.o_groups);
    a.wo_b = b.fp8(ap + "wo_b.", D, int64_t(c.o_groups) * c.o_lora_rank);
    if (a.ratio > 0) {
        a.has_compressor = true;
        a.compressor = bind_compressor(b, ap + "compressor.", a.ratio, int(d), D);
    }
    if (a.ratio == 4) {
        a.has_indexer = true;
        const std::string ip = ap + "indexer.";
        a.indexer.wq_b = b.fp8(ip + "wq_b.", int64_t(c.index_n_heads) * c.index_head_dim, c.q_lora_rank);
        a.indexer.weights_proj = b.bf16(ip + "weights_proj.", c.index_n_heads, D);
        a.indexer.compressor = bind_compressor(b, ip + "compressor.", 4, c.index_head_dim, D);
    }

    MoEWeights& f = w.ffn;
    const std::string fp = p + "ffn.";
    const int64_t E = c.n_routed_experts, I = c.moe_intermediate_size;
    f.gate = b.bf16(fp + "gate.", E, D);
    if (!is_mtp && index < c.n_hash_layers)
        f.tid2eid = b.get(fp + "gate.tid2eid", DType::I64, {c.vocab_size, c.n_experts_per_tok});
    else
        f.gate_bias = b.get(fp + "gate.bias", DType::F32, {E});
    const bool fp4 = c.expert_dtype == ExpertDtype::FP4;
    for (int64_t e = 0; e < E; ++e)
        f.experts.push_back(bind_expert(b, fp + "experts." + std::to_string(e) + ".", fp4, I, D));
    if (c.n_shared_experts > 0) {
        f.has_shared = true;
        f.shared.w1 = b.fp8(fp + "shared_experts.w1.", I, D);
        f.shared.w3 = b.fp8(fp + "shared_experts.w3.", I, D);
        f.shared.w2 = b.fp8(fp + "shared_experts.w2.", D, I);
    }

    if (is_mtp) {
        w.e_proj = b.fp8(p + "e_proj.", D, D);
        w.h_proj = b.fp8(p + "h_proj.", D, D);
        w.enorm = b.get(p + "enorm.weight", DType::BF16, {D});
        w.hnorm = b.get(p + "hnorm.weight", DType::BF16, {D});
        w.norm = b.get(p + "norm.weight", DType::BF16, {D});
        w.hc_head = b.hc(p + "hc_head", hc, hc * D, 1);
    }
    return w;
}

}  // namespace

ModelWeights bind_weights(ModelConfig& c, TensorStore& store) {
    Binder b(store);
    const int64_t D = c.hidden_size, V = c.vocab_size, hc = c.hc_mult;

    // Expert format: config.json may omit it; the tensors then decide.
    const std::string probe = "layers.0.ffn.experts.0.w1.weight";
    if (b.has(probe)) {
        DType t = b.dtype_of(probe);
        ExpertDtype seen = t == DType::I8        ? ExpertDtype::FP4
                           : t == DType::F8_E4M3 ? ExpertDtype::FP8
                                                 : ExpertDtype::Unknown;
        if (seen == ExpertDtype::Unknown)
            fail(DSV4_STATUS_FORMAT,
                 "tensor '" + probe + "' has dtype " + dtype_name(t) + ", expected I8 (FP4) or F8_E4M3");
        if (c.expert_dtype != ExpertDtype::Unknown && c.expert_dtype != seen)
            fail(DSV4_STATUS_FORMAT,
                 "config.json expert_dtype disagrees with tensor '" + probe + "' of dtype " + dtype_name(t));
        c.expert_dtype = seen;
    } else if (c.expert_dtype == ExpertDtype::Unknown) {
        fail(DSV4_STATUS_FORMAT, "tensor '" + probe + "' is missing from the checkpoint");
    }

    ModelWeights w;
    w.expert_dtype = c.expert_dtype;
    w.embed = b.get_by_rows("embed.weight", DType::BF16, {V, D});
    w.head = b.bf16("head.", V, D);
    w.norm = b.get("norm.weight", DType::BF16, {D});
    w.hc_head = b.hc("hc_head", hc, hc * D, 1);
    for (int l = 0; l < c.n_layers; ++l)
        w.layers.push_back(bind_block(b, c, l, false, "layers." + std::to_string(l) + "."));
    for (int m = 0; m < c.n_mtp_layers; ++m)
        w.mtp.push_back(bind_block(b, c, c.n_layers + m, true, "mtp." + std::to_string(m) + "."));

    auto extra = b.unused();
    if (!extra.empty()) {
        std::string list;
        for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", '" : "'") + extra[i] + "'";
        if (extra.size() > 5) list += " and " + std::to_string(extra.size() - 5) + " more";
        fail(DSV4_STATUS_FORMAT, "unexpected tensor(s) not implied by config.json: " + list);
    }
    return w;
}

}  // namespace dsv4
