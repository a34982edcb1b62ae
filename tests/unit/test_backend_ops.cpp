// Every backend's ops against the reference ops (and the reference matmul
// against a direct dequantize-and-sum), on random data in every weight format.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend.h"
#include "linear.h"
#include "reference/reference_backend.h"
#include "session_helpers.h"
#include "test_support.h"

using namespace dsv4;

namespace {

// Owns the bytes behind a synthetic Linear.
struct FakeLinear {
    Tensor w, s;
    std::vector<uint8_t> wbytes, sbytes;
    Linear lin;

    FakeLinear(LinearFormat f, int64_t out, int64_t in, std::mt19937& rng) {
        lin.format = f;
        lin.out = out;
        lin.in = in;
        w.name = "fake.weight";
        s.name = "fake.scale";
        std::uniform_int_distribution<int> byte(0, 255), exp(118, 132);
        auto fill_scales = [&](int64_t n) {
            sbytes.resize(size_t(n));
            for (auto& b : sbytes) b = uint8_t(exp(rng));
            s.dtype = DType::F8_E8M0;
            s.data = sbytes.data();
            s.nbytes = sbytes.size();
            lin.scale = &s;
        };
        if (f == LinearFormat::BF16) {
            std::normal_distribution<float> g(0, 0.1f);
            wbytes.resize(size_t(out * in * 2));
            for (int64_t i = 0; i < out * in; ++i) {
                float v = g(rng);
                uint32_t bits;
                std::memcpy(&bits, &v, 4);
                const uint16_t h = uint16_t(bits >> 16);
                std::memcpy(wbytes.data() + 2 * i, &h, 2);
            }
            w.dtype = DType::BF16;
        } else if (f == LinearFormat::FP8) {
            wbytes.resize(size_t(out * in));
            for (auto& b : wbytes) {
                b = uint8_t(byte(rng));
                if ((b & 0x7F) == 0x7F) b = 0x10;  // no NaN codes
            }
            w.dtype = DType::F8_E4M3;
            fill_scales(((out + 127) / 128) * ((in + 127) / 128));
        } else {
            wbytes.resize(size_t(out * in / 2));
            for (auto& b : wbytes) b = uint8_t(byte(rng));
            w.dtype = DType::I8;
            fill_scales(out * (in / 32));
        }
        w.data = wbytes.data();
        w.nbytes = wbytes.size();
        lin.weight = &w;
    }
};

std::vector<float> randn(size_t n, std::mt19937& rng, float sd = 1.0f) {
    std::normal_distribution<float> g(0, sd);
    std::vector<float> v(n);
    for (auto& x : v) x = g(rng);
    return v;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, double rel = 1e-5) {
    REQUIRE(got.size() == want.size());
    double scale = 0;
    for (float w : want) scale = std::max(scale, double(std::fabs(w)));
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(std::fabs(double(got[i]) - double(want[i])) <= rel * scale + 1e-30);
    }
}

const ReferenceBackend& ref() {
    static const ReferenceBackend r;
    return r;
}

}  // namespace

TEST_CASE("reference matmul equals a direct dequantize-and-sum", "[backend]") {
    std::mt19937 rng(11);
    for (LinearFormat f : {LinearFormat::BF16, LinearFormat::FP8, LinearFormat::FP4}) {
        FakeLinear L(f, 200, 160, rng);
        const auto x = randn(3 * 160, rng);
        std::vector<float> y(3 * 200), want(3 * 200), row(160);
        ref().matmul(L.lin, 0, 200, x.data(), 160, 3, y.data(), 200);
        for (int64_t r = 0; r < 200; ++r) {
            dequant_linear_row(L.lin, r, row.data());
            for (int i = 0; i < 3; ++i) {
                double s = 0;
                for (int j = 0; j < 160; ++j) s += double(row[size_t(j)]) * x[size_t(i * 160 + j)];
                want[size_t(i * 200 + r)] = float(s);
            }
        }
        check_close(y, want, 1e-6);
    }
}

TEST_CASE("every backend's ops agree with the reference ops", "[backend]") {
    std::mt19937 rng(7);
    for (const Backend* be : all_backends()) {
        INFO("backend " << be->name());
        for (LinearFormat f : {LinearFormat::BF16, LinearFormat::FP8, LinearFormat::FP4}) {
            INFO("format " << int(f));
            FakeLinear L(f, 300, 256, rng);
            // A row slice with strided input and output, as the grouped output projection uses.
            const int64_t n = 5, ldx = 300, ldy = 90;
            const auto x = randn(size_t(n * ldx), rng);
            std::vector<float> a(size_t(n * ldy), 0.0f), b(size_t(n * ldy), 0.0f);
            be->matmul(L.lin, 130, 70, x.data() + 7, ldx, n, a.data() + 3, ldy);
            ref().matmul(L.lin, 130, 70, x.data() + 7, ldx, n, b.data() + 3, ldy);
            check_close(a, b);
        }
        {
            const int hc = 4, D = 64, n_out = 24, n = 3;
            const auto m = randn(size_t(n_out * hc * D), rng, 0.05f), h = randn(size_t(n * hc * D), rng);
            std::vector<float> a(size_t(n * n_out)), b(size_t(n * n_out));
            be->hc_mixes(m.data(), n_out, hc * D, h.data(), n, 1e-6f, a.data());
            ref().hc_mixes(m.data(), n_out, hc * D, h.data(), n, 1e-6f, b.data());
            check_close(a, b);
            const auto pre = randn(size_t(n * hc), rng), post = randn(size_t(n * hc), rng),
                       comb = randn(size_t(n * hc * hc), rng), y = randn(size_t(n * D), rng);
            std::vector<float> ra(size_t(n * D)), rb(size_t(n * D));
            be->hc_reduce(pre.data(), h.data(), hc, D, n, ra.data());
            ref().hc_reduce(pre.data(), h.data(), hc, D, n, rb.data());
            check_close(ra, rb);
            std::vector<float> ha = h, hb = h;
            be->hc_expand(post.data(), comb.data(), y.data(), hc, D, n, ha.data());
            ref().hc_expand(post.data(), comb.data(), y.data(), hc, D, n, hb.data());
            check_close(ha, hb);
        }
        {
            const int H = 4, d = 128, nkv = 37;
            const auto q = randn(size_t(H * d), rng, 0.2f), kv = randn(size_t(nkv * d), rng), sink = randn(H, rng);
            std::vector<const float*> rows;
            for (int j = nkv - 1; j >= 0; --j) rows.push_back(kv.data() + j * d);  // gathered out of order
            std::vector<float> oa(size_t(H * d)), ob(size_t(H * d));
            SparseAttentionArgs args;
            args.q = q.data();
            args.n_heads = H;
            args.dim = d;
            args.kv = rows.data();
            args.n_kv = nkv;
            args.sink = sink.data();
            args.scale = 1.0f / std::sqrt(float(d));
            args.out = oa.data();
            be->sparse_attention(args);
            args.out = ob.data();
            ref().sparse_attention(args);
            check_close(oa, ob);
        }
        {
            const int rows = 8, ld = 64, width = 32;
            const auto a = randn(size_t(rows * ld), rng);
            auto g = randn(size_t(rows * ld), rng);
            for (int j = 0; j < width; j += 3) g[size_t(j)] = -std::numeric_limits<float>::infinity();  // masked row 0 dims
            std::vector<float> pa(static_cast<size_t>(width)), pb(static_cast<size_t>(width));
            be->compress_pool(a.data(), g.data(), rows, ld, width, pa.data());
            ref().compress_pool(a.data(), g.data(), rows, ld, width, pb.data());
            check_close(pa, pb);
        }
        {
            const int heads = 8, dim = 128, count = 19;
            const auto q = randn(size_t(heads * dim), rng), w = randn(heads, rng), keys = randn(size_t(count * dim), rng);
            std::vector<float> sa(count), sb(count);
            be->indexer_scores(q.data(), w.data(), heads, dim, keys.data(), count, sa.data());
            ref().indexer_scores(q.data(), w.data(), heads, dim, keys.data(), count, sb.data());
            check_close(sa, sb);
        }
        for (LinearFormat f : {LinearFormat::FP8, LinearFormat::FP4}) {
            ExpertWeights e;
            FakeLinear w1(f, 96, 128, rng), w3(f, 96, 128, rng), w2(f, 128, 96, rng);
            e.w1 = w1.lin;
            e.w3 = w3.lin;
            e.w2 = w2.lin;
            const int n = 4;
            const auto x = randn(size_t(n * 128), rng, 3.0f), rw = randn(n, rng);
            for (float limit : {0.0f, 2.0f}) {
                std::vector<float> ya(size_t(n * 128), 1.0f), yb(size_t(n * 128), 1.0f);
                be->expert_ffn(e, limit, x.data(), n, rw.data(), ya.data());
                ref().expert_ffn(e, limit, x.data(), n, rw.data(), yb.data());
                check_close(ya, yb);
            }
        }
    }
}

TEST_CASE("the clamped SwiGLU clamps the gate above only and the up projection both ways", "[backend]") {
    // A 1x... expert built so that w1.x = 5, w3.x = -7 and w2 = identity-ish:
    // with limit 2, silu(min(5, 2)) * clamp(-7, -2, 2) = silu(2) * -2.
    std::mt19937 rng(1);
    FakeLinear w1(LinearFormat::BF16, 32, 32, rng), w3(LinearFormat::BF16, 32, 32, rng), w2(LinearFormat::BF16, 32, 32, rng);
    auto set_bf16 = [](FakeLinear& L, int r, int c, float v) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        const uint16_t h = uint16_t(bits >> 16);
        std::memcpy(L.wbytes.data() + 2 * (r * 32 + c), &h, 2);
    };
    for (FakeLinear* L : {&w1, &w3, &w2}) std::fill(L->wbytes.begin(), L->wbytes.end(), 0);
    set_bf16(w1, 0, 0, 5.0f);
    set_bf16(w3, 0, 0, -7.0f);
    set_bf16(w2, 0, 0, 1.0f);
    ExpertWeights e;
    e.w1 = w1.lin;
    e.w3 = w3.lin;
    e.w2 = w2.lin;
    std::vector<float> x(32, 0.0f), y(32, 0.0f);
    x[0] = 1.0f;
    const float w = 0.5f;
    for (const Backend* be : all_backends()) {
        std::fill(y.begin(), y.end(), 0.0f);
        be->expert_ffn(e, 2.0f, x.data(), 1, &w, y.data());
        const float silu2 = 2.0f / (1.0f + std::exp(-2.0f));
        CHECK(y[0] == Approx(0.5f * silu2 * -2.0f).epsilon(1e-6));
        std::fill(y.begin(), y.end(), 0.0f);
        be->expert_ffn(e, 0.0f, x.data(), 1, nullptr, y.data());  // no clamp, weight 1
        CHECK(y[0] == Approx(5.0f / (1.0f + std::exp(-5.0f)) * -7.0f).epsilon(1e-6));
    }
}

TEST_CASE("backends are listed, looked up by name and validated at model open", "[backend]") {
    CHECK(std::string(dsv4_backend_name(0)) == "cpu");
    CHECK(std::string(dsv4_backend_name(1)) == "reference");
    CHECK(dsv4_backend_name(2) == nullptr);
    CHECK(dsv4_backend_name(-1) == nullptr);
    CHECK(find_backend("reference") != nullptr);
    CHECK(find_backend("gpu") == nullptr);
    CHECK(find_backend("cpu")->caps().fp4_weights);

    auto m = session_testing::open_golden_model("tiny-s4", "reference");
    CHECK(std::string(dsv4_model_backend(m.get())) == "reference");
    m = session_testing::open_golden_model("tiny-s4", "cpu");
    CHECK(std::string(dsv4_model_backend(m.get())) == "cpu");

    dsv4_model_params p;
    dsv4_model_params_init(&p);
    p.backend = "cuda";
    dsv4_model* bad = reinterpret_cast<dsv4_model*>(&p);
    const std::string dir = testing_support::conformance_dir() + "/golden/tiny-s4/model";
    CHECK(dsv4_model_open(dir.c_str(), &p, &bad) == DSV4_STATUS_UNSUPPORTED);
    CHECK(bad == nullptr);
    const std::string msg = dsv4_last_error();
    CHECK(msg.find("cuda") != std::string::npos);
    CHECK(msg.find("cpu") != std::string::npos);
    CHECK(msg.find("reference") != std::string::npos);
    p.backend = nullptr;  // default
    REQUIRE(dsv4_model_open(dir.c_str(), &p, &bad) == DSV4_STATUS_OK);
    CHECK(std::string(dsv4_model_backend(bad)) == "cpu");
    dsv4_model_close(bad);
}
