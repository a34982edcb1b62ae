#include "golden_check.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "dsv4/dsv4.h"
#include "npz_reader.h"

RowDiff compare_rows(const float* a, const float* b, size_t n) {
    RowDiff d;
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < n; ++i) {
        d.max_abs = std::max(d.max_abs, double(std::fabs(a[i] - b[i])));
        if (a[i] > a[ia]) ia = i;
        if (b[i] > b[ib]) ib = i;
    }
    d.same_argmax = ia == ib;
    return d;
}

namespace {

dsv4_session* new_session(dsv4_model* m) {
    dsv4_session* s = nullptr;
    REQUIRE(dsv4_session_create(m, nullptr, &s) == DSV4_STATUS_OK);
    return s;
}

}  // namespace

GoldenResult check_golden(const std::string& dir, const char* backend, double tol) {
    INFO("golden vector " << dir << " on backend " << backend);
    auto g = npz::load_npz(dir + "/golden.npz");
    for (const char* key : {"tokens", "prefill_lens", "prefill_logits", "decode_start", "decode_logits", "mtp_logits"})
        REQUIRE(g.count(key) == 1);
    const auto tokens = g["tokens"].as_int32();
    const auto lens = g["prefill_lens"].as_int32();
    const auto prefill_logits = g["prefill_logits"].as_float();
    const int P = g["decode_start"].as_int32().at(0);
    const auto decode_logits = g["decode_logits"].as_float();
    const auto mtp_logits = g["mtp_logits"].as_float();

    dsv4_model_params mp;
    dsv4_model_params_init(&mp);
    mp.backend = backend;
    dsv4_model* m = nullptr;
    REQUIRE(dsv4_model_open((dir + "/model").c_str(), &mp, &m) == DSV4_STATUS_OK);
    dsv4_model_info info;
    info.struct_size = sizeof info;
    REQUIRE(dsv4_model_get_info(m, &info) == DSV4_STATUS_OK);
    const size_t V = size_t(info.vocab_size);
    REQUIRE(prefill_logits.size() == lens.size() * V);
    REQUIRE(decode_logits.size() == (tokens.size() - size_t(P)) * V);
    REQUIRE(mtp_logits.size() == V);

    GoldenResult r;
    for (size_t k = 0; k < lens.size(); ++k) {
        INFO("prefill of " << lens[k] << " tokens");
        dsv4_session* s = new_session(m);
        REQUIRE(dsv4_session_prefill(s, tokens.data(), size_t(lens[k])) == DSV4_STATUS_OK);
        RowDiff d = compare_rows(dsv4_session_logits(s), prefill_logits.data() + k * V, V);
        CHECK(d.max_abs <= tol);
        CHECK(d.same_argmax);
        r.max_prefill = std::max(r.max_prefill, d.max_abs);
        ++r.rows;
        dsv4_session_destroy(s);
    }

    dsv4_session* s = new_session(m);
    REQUIRE(dsv4_session_prefill(s, tokens.data(), size_t(P)) == DSV4_STATUS_OK);
    std::vector<float> mtp(V);
    REQUIRE(dsv4_session_mtp_logits(s, tokens[size_t(P)], mtp.data(), V) == DSV4_STATUS_OK);
    {
        RowDiff d = compare_rows(mtp.data(), mtp_logits.data(), V);
        INFO("MTP logits after the prefill of " << P << " tokens");
        CHECK(d.max_abs <= tol);
        CHECK(d.same_argmax);
        r.max_mtp = d.max_abs;
        ++r.rows;
    }
    for (size_t i = 0; i + size_t(P) < tokens.size(); ++i) {
        INFO("decode row " << i << " (token index " << size_t(P) + i << ")");
        REQUIRE(dsv4_decode_step(s, tokens[size_t(P) + i]) == DSV4_STATUS_OK);
        RowDiff d = compare_rows(dsv4_session_logits(s), decode_logits.data() + i * V, V);
        CHECK(d.max_abs <= tol);
        CHECK(d.same_argmax);
        r.max_decode = std::max(r.max_decode, d.max_abs);
        ++r.rows;
    }
    dsv4_session_destroy(s);
    dsv4_model_close(m);
    return r;
}
