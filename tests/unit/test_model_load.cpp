// Loading the golden checkpoints: shapes, parameter counts computed here from
// config.json alone (independently of the loader), and the C ABI contract.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "dsv4/dsv4.h"
#include "test_support.h"

using namespace testing_support;
using json = nlohmann::json;

namespace {

struct Counts {
    uint64_t total = 0, active = 0;
};

// Parameters implied by config.json, per the layout in ARCHITECTURE-V4.md.
Counts count_from_config(const json& c) {
    const uint64_t D = c["hidden_size"], L = c["num_hidden_layers"], H = c["num_attention_heads"], d = c["head_dim"],
                   Lq = c["q_lora_rank"], G = c["o_groups"], Lo = c["o_lora_rank"], V = c["vocab_size"],
                   E = c["n_routed_experts"], k = c["num_experts_per_tok"], I = c["moe_intermediate_size"],
                   hc = c["hc_mult"], Hi = c["index_n_heads"], di = c["index_head_dim"], nhash = c["num_hash_layers"],
                   nmtp = c["num_nextn_predict_layers"];
    const std::vector<int> ratios = c["compress_ratios"];
    auto compressor = [&](uint64_t R, uint64_t width) {
        const uint64_t cw = (R == 4 ? 2 : 1) * width;
        return R * cw + 2 * cw * D + width;
    };
    auto block = [&](uint64_t idx, bool mtp, uint64_t* routed) {
        uint64_t n = 2 * D + 2 * ((2 + hc) * hc * hc * D + (2 + hc) * hc + 3);
        n += H + Lq * D + Lq + H * d * Lq + d * D + d + G * Lo * (H * d / G) + D * G * Lo;
        const uint64_t R = uint64_t(ratios[idx]);
        if (R > 0) n += compressor(R, d);
        if (R == 4) n += Hi * di * Lq + Hi * D + compressor(4, di);
        n += E * D;
        n += (!mtp && idx < nhash) ? V * k : E;
        *routed = 3 * I * D;  // one expert
        n += E * *routed + 3 * I * D;
        if (mtp) n += 2 * D * D + 3 * D + hc * hc * D + hc + 1;
        return n;
    };
    Counts out;
    uint64_t top = 2 * V * D + D + hc * hc * D + hc + 1, main = 0, mtp = 0, routed = 0;
    for (uint64_t l = 0; l < L; ++l) main += block(l, false, &routed);
    for (uint64_t m = 0; m < nmtp; ++m) mtp += block(L + m, true, &routed);
    out.total = top + main + mtp;
    out.active = top + main - L * (E - k) * routed;
    return out;
}

}  // namespace

TEST_CASE("golden checkpoints load and their parameter counts match config.json", "[load]") {
    for (const std::string& dir : golden_dirs()) {
        INFO(dir);
        dsv4_model* model = nullptr;
        REQUIRE(dsv4_model_open((dir + "/model").c_str(), nullptr, &model) == DSV4_STATUS_OK);
        dsv4_model_info info;
        info.struct_size = sizeof info;
        REQUIRE(dsv4_model_get_info(model, &info) == DSV4_STATUS_OK);
        const json cfg = json::parse(read_file(dir + "/model/config.json"));
        const Counts want = count_from_config(cfg);
        CHECK(info.total_params == want.total);
        CHECK(info.active_params == want.active);
        CHECK(info.hidden_size == cfg["hidden_size"].get<int>());
        CHECK(info.vocab_size == cfg["vocab_size"].get<int>());
        CHECK(info.n_mtp_layers == 1);
        uint64_t sum = 0;
        for (uint64_t b : info.bytes_by_dtype) sum += b;
        CHECK(sum == info.total_bytes);
        CHECK(info.experts_fp4 == (info.bytes_by_dtype[DSV4_DTYPE_I8] > 0));

        // `dsv4 inspect` prints the same counts.
        RunResult r = run_cli("inspect '" + dir + "/model'");
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("(" + std::to_string(want.total) + ")") != std::string::npos);
        CHECK(r.out.find("(" + std::to_string(want.active) + ")") != std::string::npos);
        dsv4_model_close(model);
    }
}

TEST_CASE("fp8-expert checkpoint without expert_dtype is detected from its tensors", "[load]") {
    const std::string dir = conformance_dir() + "/golden/tiny-fp8x-s1/model";
    const json cfg = json::parse(read_file(dir + "/config.json"));
    REQUIRE_FALSE(cfg.contains("expert_dtype"));
    dsv4_model* model = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), nullptr, &model) == DSV4_STATUS_OK);
    dsv4_model_info info;
    info.struct_size = sizeof info;
    REQUIRE(dsv4_model_get_info(model, &info) == DSV4_STATUS_OK);
    CHECK_FALSE(info.experts_fp4);
    dsv4_model_close(model);
}

TEST_CASE("C ABI: NULL arguments, NULL-safe close, versions, status strings", "[abi]") {
    dsv4_model* model = reinterpret_cast<dsv4_model*>(0x1);
    CHECK(dsv4_model_open(nullptr, nullptr, &model) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("path") != std::string::npos);
    CHECK(dsv4_model_open("/x", nullptr, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("out_model") != std::string::npos);
    dsv4_model_close(nullptr);
    CHECK(dsv4_model_get_info(nullptr, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_version()) == DSV4_VERSION_STRING);
    CHECK(dsv4_abi_version() == DSV4_ABI_VERSION);
    CHECK(dsv4_version_number() == DSV4_VERSION_MAJOR * 10000 + DSV4_VERSION_MINOR * 100 + DSV4_VERSION_PATCH);
    for (int s = 0; s <= DSV4_STATUS_INTERNAL; ++s)
        CHECK(std::string(dsv4_status_string(dsv4_status(s))) != "unknown status");

    dsv4_model_params p;
    dsv4_model_params_init(&p);
    CHECK(p.struct_size == sizeof p);
    CHECK(p.use_mmap);
    p.struct_size = 3;
    CHECK(dsv4_model_open("/x", &p, &model) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(model == nullptr);
    // More threads than any machine has (100000 took minutes to start) fail at once.
    dsv4_model_params_init(&p);
    for (int n : {-1, 100000}) {
        p.n_threads = n;
        const std::string dir = conformance_dir() + "/golden/tiny-s4/model";
        CHECK(dsv4_model_open(dir.c_str(), &p, &model) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(dsv4_last_error()).find("n_threads") != std::string::npos);
        CHECK(model == nullptr);
    }
}

TEST_CASE("loading without mmap and with a cancelling progress callback", "[load]") {
    const std::string dir = conformance_dir() + "/golden/tiny-s4/model";
    dsv4_model_params p;
    dsv4_model_params_init(&p);
    p.use_mmap = false;
    dsv4_model* model = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), &p, &model) == DSV4_STATUS_OK);
    dsv4_model_close(model);

    int calls = 0;
    p.progress = [](uint64_t, uint64_t, void* ud) {
        ++*static_cast<int*>(ud);
        return false;
    };
    p.progress_user_data = &calls;
    model = nullptr;
    CHECK(dsv4_model_open(dir.c_str(), &p, &model) == DSV4_STATUS_CANCELLED);
    CHECK(model == nullptr);
    CHECK(calls == 1);
}
