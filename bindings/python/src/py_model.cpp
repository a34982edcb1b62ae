#include "py_model.hpp"

#include <pybind11/stl.h>

#include <cstring>
#include <vector>

#include "py_session.hpp"
#include "py_tokenizer.hpp"

namespace py = pybind11;

namespace dsv4py {

PyModel::PyModel(const std::string& path, const std::string& backend, int threads, bool use_mmap,
                 uint64_t memory_budget, py::object progress) {
    dsv4_model_params p;
    dsv4_model_params_init(&p);
    if (!backend.empty()) p.backend = backend.c_str();
    p.n_threads = threads;
    p.use_mmap = use_mmap;
    p.memory_budget = memory_budget;
    struct Ctx {
        py::object fn;
        bool raised = false;
    } ctx{progress};
    if (!progress.is_none()) {
        p.progress = [](uint64_t done, uint64_t total, void* ud) -> bool {
            auto* c = static_cast<Ctx*>(ud);
            py::gil_scoped_acquire gil;
            try {
                py::object r = c->fn(done, total);
                return r.is_none() || r.cast<bool>();
            } catch (py::error_already_set& e) {
                e.restore();  // re-raised after the C call returns
                c->raised = true;
                return false;
            }
        };
        p.progress_user_data = &ctx;
    }
    dsv4_model* raw = nullptr;
    dsv4_status st;
    {
        py::gil_scoped_release nogil;
        st = dsv4_model_open(path.c_str(), &p, &raw);
    }
    if (ctx.raised) throw py::error_already_set();
    check(st);
    state_ = std::make_shared<ModelState>();
    state_->model.reset(raw);
}

dsv4_model* PyModel::get() const {
    if (!state_) invalid("the model is closed");
    return state_->model.get();
}

std::shared_ptr<ModelState> PyModel::state() const {
    get();
    return state_;
}

py::object PyModel::tokenizer() const {
    const dsv4_tokenizer* t = dsv4_model_tokenizer(get());
    if (!t) return py::none();
    // Aliasing: the tokenizer pointer, owned through the model state.
    return py::cast(PyTokenizer(std::shared_ptr<const dsv4_tokenizer>(state_, t)));
}

py::dict PyModel::info() const {
    dsv4_model_info i;
    std::memset(&i, 0, sizeof i);
    i.struct_size = sizeof i;
    check(dsv4_model_get_info(get(), &i));
    py::dict d;
    d["n_layers"] = i.n_layers;
    d["n_mtp_layers"] = i.n_mtp_layers;
    d["hidden_size"] = i.hidden_size;
    d["n_heads"] = i.n_heads;
    d["head_dim"] = i.head_dim;
    d["rope_head_dim"] = i.rope_head_dim;
    d["q_lora_rank"] = i.q_lora_rank;
    d["o_groups"] = i.o_groups;
    d["o_lora_rank"] = i.o_lora_rank;
    d["sliding_window"] = i.sliding_window;
    d["n_routed_experts"] = i.n_routed_experts;
    d["n_experts_per_tok"] = i.n_experts_per_tok;
    d["n_shared_experts"] = i.n_shared_experts;
    d["moe_intermediate_size"] = i.moe_intermediate_size;
    d["n_hash_layers"] = i.n_hash_layers;
    d["index_n_heads"] = i.index_n_heads;
    d["index_head_dim"] = i.index_head_dim;
    d["index_topk"] = i.index_topk;
    d["hc_mult"] = i.hc_mult;
    d["vocab_size"] = i.vocab_size;
    d["bos_token_id"] = i.bos_token_id;
    d["eos_token_id"] = i.eos_token_id;
    d["max_context"] = i.max_context;
    d["total_params"] = i.total_params;
    d["active_params"] = i.active_params;
    d["total_bytes"] = i.total_bytes;
    d["experts_fp4"] = i.experts_fp4;
    py::dict by;
    for (int t = 0; t < DSV4_DTYPE_COUNT; ++t)
        if (i.bytes_by_dtype[t]) by[dsv4_dtype_name(dsv4_dtype(t))] = i.bytes_by_dtype[t];
    d["bytes_by_dtype"] = by;
    std::vector<int> ratios;
    for (int l = 0; l < i.n_layers + i.n_mtp_layers; ++l) {
        int r = 0;
        check(dsv4_model_layer_ratio(get(), l, &r));
        ratios.push_back(r);
    }
    d["compress_ratios"] = ratios;
    d["backend"] = std::string(dsv4_model_backend(get()));
    return d;
}

py::dict PyModel::estimate_session(long long ctx) const {
    if (ctx < 0) invalid("ctx must be >= 0, got " + std::to_string(ctx));
    dsv4_session_info i;
    std::memset(&i, 0, sizeof i);
    i.struct_size = sizeof i;
    check(dsv4_model_estimate_session_bytes(get(), uint64_t(ctx), &i));
    return session_info_dict(i);
}

void bind_model(py::module_& m) {
    py::class_<PyModel>(m, "_Model")
        .def(py::init<const std::string&, const std::string&, int, bool, uint64_t, py::object>(), py::arg("path"),
             py::arg("backend") = "", py::arg("threads") = 0, py::arg("use_mmap") = true, py::arg("memory_budget") = 0,
             py::arg("progress") = py::none())
        .def("info", &PyModel::info)
        .def("estimate_session", &PyModel::estimate_session, py::arg("ctx"))
        .def("tokenizer", &PyModel::tokenizer)
        .def("close", &PyModel::close)
        .def_property_readonly("closed", &PyModel::closed);
}

}  // namespace dsv4py
