// The safetensors header and config.json parsers on hand-made inputs. These
// tests also run in the ASan/UBSan build (tests/sanitize).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>

#include <unistd.h>

#include "config.h"
#include "error.h"
#include "safetensors.h"

using namespace dsv4;

namespace {

std::string file_with_header(const std::string& header, size_t data_bytes) {
    std::string out(8, '\0');
    uint64_t len = header.size();
    std::memcpy(&out[0], &len, 8);
    return out + header + std::string(data_bytes, '\0');
}

SafetensorsHeader parse(const std::string& f) {
    return parse_safetensors_header(reinterpret_cast<const uint8_t*>(f.data()), f.size(), f.size(), "t.safetensors");
}

std::string parse_error(const std::string& f) {
    try {
        parse(f);
    } catch (const Error& e) {
        CHECK(e.status() == DSV4_STATUS_FORMAT);
        return e.what();
    }
    FAIL("no error for: " << f.substr(8));
    return "";
}

const char* kConfig = R"({
  "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "head_dim": 64,
  "qk_rope_head_dim": 16, "q_lora_rank": 32, "o_groups": 2, "o_lora_rank": 16, "sliding_window": 8,
  "compress_ratios": [4, 128, 0], "num_nextn_predict_layers": 1, "index_n_heads": 2, "index_head_dim": 32,
  "index_topk": 4, "n_routed_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
  "num_hash_layers": 1, "routed_scaling_factor": 1.5, "scoring_func": "sqrtsoftplus", "swiglu_limit": 10.0,
  "hc_mult": 4, "hc_sinkhorn_iters": 20, "hc_eps": 1e-6, "rope_theta": 10000, "compress_rope_theta": 160000,
  "rope_scaling": {"type": "yarn", "factor": 16, "original_max_position_embeddings": 65536,
                   "beta_fast": 32, "beta_slow": 1},
  "rms_norm_eps": 1e-6, "vocab_size": 100, "max_position_embeddings": 1048576
})";

}  // namespace

TEST_CASE("safetensors header: valid file", "[parser]") {
    const std::string header =
        R"({"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},)"
        R"("b":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[12,16]},"c":{"dtype":"F32","shape":[],"data_offsets":[16,20]}})";
    auto h = parse(file_with_header(header, 20));
    REQUIRE(h.tensors.size() == 3);
    CHECK(h.data_offset == 8 + header.size());
    bool saw_a = false;
    for (auto& t : h.tensors)
        if (t.name == "a") {
            saw_a = true;
            CHECK(t.dtype == DType::BF16);
            CHECK(t.shape == std::vector<int64_t>{2, 3});
            CHECK(t.end - t.begin == 12);
        }
    CHECK(saw_a);
}

TEST_CASE("safetensors header: every kind of damage is refused", "[parser]") {
    CHECK_THAT(parse_error(std::string("\x05\x00", 2)), Catch::Contains("shorter than the 8-byte"));
    {
        std::string f = file_with_header("{}", 0);
        uint64_t big = 1000;
        std::memcpy(&f[0], &big, 8);
        CHECK_THAT(parse_error(f), Catch::Contains("larger than the file"));
    }
    CHECK_THAT(parse_error(file_with_header("[1,2]", 0)), Catch::Contains("JSON object"));
    CHECK_THAT(parse_error(file_with_header("{\"a\":", 0)), Catch::Contains("not valid JSON"));
    CHECK_THAT(parse_error(file_with_header("{\"\xc3\x28\":1}", 0)), Catch::Contains("not valid JSON"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":{"dtype":"X9","shape":[1],"data_offsets":[0,1]}})", 1)),
               Catch::Contains("unknown dtype 'X9'"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4)),
               Catch::Contains("need 8"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4)),
               Catch::Contains("begin > end"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 4)),
               Catch::Contains("past the end"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)),
               Catch::Contains("non-negative"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4)),
               Catch::Contains("non-negative"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":{"dtype":"F32","shape":[1]}})", 4)),
               Catch::Contains("data_offsets"));
    CHECK_THAT(parse_error(file_with_header(
                   R"({"a":{"dtype":"F32","shape":[4611686018427387904, 8],"data_offsets":[0,4]}})", 4)),
               Catch::Contains("overflows"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                            12)),
               Catch::Contains("overlap"));
    CHECK_THAT(parse_error(file_with_header(R"({"a":3})", 0)), Catch::Contains("must be an object"));
}

TEST_CASE("config.json: the V4 keys", "[parser]") {
    ModelConfig c = parse_config(kConfig, "config.json");
    CHECK(c.hidden_size == 64);
    CHECK(c.n_layers == 2);
    CHECK(c.n_mtp_layers == 1);
    CHECK(c.compress_ratios == std::vector<int>{4, 128, 0});
    CHECK(c.ratio(1) == 128);
    CHECK(c.nope_dim() == 48);
    CHECK(c.yarn.enabled);
    CHECK(c.yarn.factor == 16.0);
    CHECK(c.yarn.original_max_position == 65536);
    CHECK(c.compress_rope_theta == 160000.0);
    CHECK(c.expert_dtype == ExpertDtype::Unknown);  // absent: decided by the tensors
    CHECK(c.n_hash_layers == 1);
    CHECK(c.swiglu_limit == 10.0);
    CHECK(c.routed_scaling_factor == 1.5);
}

TEST_CASE("config.json: bad values name the key", "[parser]") {
    auto err = [](const std::string& from, const std::string& to) {
        std::string text = kConfig;
        auto pos = text.find(from);
        REQUIRE(pos != std::string::npos);
        text.replace(pos, from.size(), to);
        try {
            parse_config(text, "config.json");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(err("[4, 128, 0]", "[4, 128]"), Catch::Contains("'compress_ratios' has 2 entries"));
    CHECK_THAT(err("[4, 128, 0]", "[4, 128, 4]"), Catch::Contains("MTP block 0 must be 0"));
    CHECK_THAT(err("[4, 128, 0]", "[4, 7, 0]"), Catch::Contains("unsupported ratio 7"));
    CHECK_THAT(err("\"hidden_size\": 64", "\"hidden_size\": -1"),
               Catch::Contains("'hidden_size' = -1 is out of range"));
    CHECK_THAT(err("\"hidden_size\": 64,", ""), Catch::Contains("'hidden_size' is missing"));
    CHECK_THAT(err("\"o_groups\": 2", "\"o_groups\": 3"), Catch::Contains("'o_groups' = 3 is out of range"));
    CHECK_THAT(err("\"sqrtsoftplus\"", "\"softmax\""), Catch::Contains("scoring_func 'softmax'"));
    CHECK_THAT(err("\"type\": \"yarn\"", "\"type\": \"linear\""), Catch::Contains("rope_scaling type 'linear'"));
    CHECK_THAT(err("\"max_position_embeddings\": 1048576", "\"expert_dtype\": \"int3\""),
               Catch::Contains("expert_dtype"));
    CHECK_THAT(err("\"vocab_size\": 100", "\"vocab_size\": 1.5"), Catch::Contains("'vocab_size' must be an integer"));
    // Out of int64 as a double, as a huge unsigned, and not finite: refused
    // before any conversion (the config fuzzer found the first under UBSan).
    CHECK_THAT(err("\"vocab_size\": 100", "\"vocab_size\": 1.28889e+25"),
               Catch::Contains("'vocab_size' = 1.28889e+25 is out of range"));
    CHECK_THAT(err("\"vocab_size\": 100", "\"vocab_size\": -9.3e18"),
               Catch::Contains("'vocab_size' = -9.3e+18 is out of range"));
    CHECK_THAT(err("\"vocab_size\": 100", "\"vocab_size\": 18446744073709551615"),
               Catch::Contains("'vocab_size' = 18446744073709551615 is out of range"));
    CHECK_THAT(err("\"vocab_size\": 100", "\"vocab_size\": 64.0"), Catch::Contains("no error"));
    CHECK_THROWS_WITH(parse_config("{", "c.json"), Catch::Contains("c.json: not valid JSON"));
    CHECK_THROWS_WITH(parse_config("[]", "c.json"), Catch::Contains("JSON object"));
}

TEST_CASE("safetensors: tensors at odd offsets are handed out aligned, aligned ones in place", "[parser]") {
    // Data section (aligned: the header is padded to a multiple of 8): a 3-byte FP8 tensor, then
    // BF16 at offset 3, F32 at 7 and I64 at 15 (all misaligned), then F32 at 24 (aligned).
    std::string header = R"({"u8":{"dtype":"F8_E4M3","shape":[3],"data_offsets":[0,3]},)"
                         R"("h":{"dtype":"BF16","shape":[2],"data_offsets":[3,7]},)"
                         R"("f":{"dtype":"F32","shape":[2],"data_offsets":[7,15]},)"
                         R"("i":{"dtype":"I64","shape":[1],"data_offsets":[15,23]},)"
                         R"("g":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}})";
    header.append((8 - header.size() % 8) % 8, ' ');
    std::string file = file_with_header(header, 0);
    std::string data(28, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = char(0x11 * (i + 1));
    file += data;
    const std::string path = std::string(P_tmpdir) + "/dsv4_aligned_" + std::to_string(::getpid()) + ".safetensors";
    {
        std::FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f);
        REQUIRE(std::fwrite(file.data(), 1, file.size(), f) == file.size());
        std::fclose(f);
    }
    for (bool use_mmap : {true, false}) {
        INFO("use_mmap " << use_mmap);
        auto store = TensorStore::open_file(path, use_mmap);
        const uint8_t* g_in_place = store->find("g")->data;
        const uint8_t* u8_in_place = store->find("u8")->data;
        for (const char* name : {"h", "f", "i", "g", "u8"}) {
            INFO("tensor " << name);
            const Tensor* t = store->find_aligned(name);
            REQUIRE(t);
            CHECK(reinterpret_cast<uintptr_t>(t->data) % dtype_size(t->dtype) == 0);
            const uint64_t begin = t->file_offset - (8 + header.size());
            CHECK(std::memcmp(t->data, data.data() + begin, size_t(t->nbytes)) == 0);
            CHECK(store->find(name) == t);
        }
        CHECK(store->find_aligned("h")->as<uint16_t>()[1] == uint16_t(0x7766));
        CHECK(store->find("g")->data == g_in_place);
        CHECK(store->find("u8")->data == u8_in_place);
        CHECK(store->find_aligned("nothing") == nullptr);
    }
    std::remove(path.c_str());
}
