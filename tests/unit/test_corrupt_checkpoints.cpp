// Corrupted copies of a golden checkpoint: the library returns a clear status
// and message, and `dsv4 inspect` exits non-zero naming the problem - never a
// signal, never a hang.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "dsv4/dsv4.h"
#include "test_support.h"

using namespace testing_support;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Safetensors {
    json header;
    std::string data;
};

Safetensors split(const std::string& bytes) {
    uint64_t len = 0;
    std::memcpy(&len, bytes.data(), 8);
    return {json::parse(bytes.substr(8, len)), bytes.substr(8 + len)};
}

std::string join_raw(const std::string& header_text, const std::string& data) {
    std::string out(8, '\0');
    uint64_t len = header_text.size();
    std::memcpy(&out[0], &len, 8);
    return out + header_text + data;
}

std::string join(const Safetensors& s) { return join_raw(s.header.dump(), s.data); }

// A copy of tiny-s4's model directory that `mutate` then damages.
struct Case {
    const char* name;
    std::function<void(const std::string& dir)> mutate;
    const char* expect;  // a piece of the message that names the problem
    dsv4_status status;
};

std::string source_dir() { return conformance_dir() + "/golden/tiny-s4/model"; }

void make_copy(const std::string& dir) {
    copy_file(source_dir() + "/config.json", dir + "/config.json");
    copy_file(source_dir() + "/model.safetensors", dir + "/model.safetensors");
}

void edit_tensors(const std::string& dir, const std::function<void(Safetensors&)>& f) {
    Safetensors s = split(read_file(dir + "/model.safetensors"));
    f(s);
    write_file(dir + "/model.safetensors", join(s));
}

void edit_config(const std::string& dir, const std::function<void(json&)>& f) {
    json c = json::parse(read_file(dir + "/config.json"));
    f(c);
    write_file(dir + "/config.json", c.dump(2));
}

const std::vector<Case>& cases() {
    static const std::vector<Case> all = {
        {"missing config.json", [](const std::string& d) { fs::remove(d + "/config.json"); }, "config.json: cannot open",
         DSV4_STATUS_IO},
        {"missing weights", [](const std::string& d) { fs::remove(d + "/model.safetensors"); },
         "neither model.safetensors.index.json nor model.safetensors", DSV4_STATUS_IO},
        {"truncated file",
         [](const std::string& d) {
             std::string b = read_file(d + "/model.safetensors");
             write_file(d + "/model.safetensors", b.substr(0, b.size() / 2));
         },
         "past the end of the data", DSV4_STATUS_FORMAT},
        {"file shorter than the length prefix", [](const std::string& d) { write_file(d + "/model.safetensors", "abc"); },
         "shorter than the 8-byte header length", DSV4_STATUS_FORMAT},
        {"header length larger than the file",
         [](const std::string& d) {
             std::string b = read_file(d + "/model.safetensors");
             uint64_t huge = b.size() + 1000;
             std::memcpy(&b[0], &huge, 8);
             write_file(d + "/model.safetensors", b);
         },
         "larger than the file", DSV4_STATUS_FORMAT},
        {"overlapping data offsets",
         [](const std::string& d) {
             edit_tensors(d, [](Safetensors& s) {
                 json& a = s.header["norm.weight"];
                 json& b = s.header["layers.0.attn_norm.weight"];  // same size (BF16 [D])
                 b["data_offsets"] = a["data_offsets"];
             });
         },
         "overlap", DSV4_STATUS_FORMAT},
        {"out-of-bounds data offsets",
         [](const std::string& d) {
             edit_tensors(d, [](Safetensors& s) {
                 uint64_t n = s.data.size();
                 s.header["norm.weight"]["data_offsets"] = {n, n + 256};
             });
         },
         "run past the end of the data", DSV4_STATUS_FORMAT},
        {"non-JSON header",
         [](const std::string& d) {
             Safetensors s = split(read_file(d + "/model.safetensors"));
             write_file(d + "/model.safetensors", join_raw("{this is not json", s.data));
         },
         "not valid JSON", DSV4_STATUS_FORMAT},
        {"non-UTF-8 header",
         [](const std::string& d) {
             Safetensors s = split(read_file(d + "/model.safetensors"));
             std::string h = s.header.dump();
             h.insert(1, "\"\xff\xfe\":{},");
             write_file(d + "/model.safetensors", join_raw(h, s.data));
         },
         "not valid JSON", DSV4_STATUS_FORMAT},
        {"unknown dtype",
         [](const std::string& d) { edit_tensors(d, [](Safetensors& s) { s.header["norm.weight"]["dtype"] = "Q3_K"; }); },
         "unknown dtype 'Q3_K'", DSV4_STATUS_FORMAT},
        {"wrong dtype",
         [](const std::string& d) {
             edit_tensors(d, [](Safetensors& s) {
                 // Same byte count (BF16 [128] = F16 [128]), wrong type for a norm.
                 s.header["norm.weight"]["dtype"] = "F16";
             });
         },
         "'norm.weight' has dtype F16, expected BF16", DSV4_STATUS_FORMAT},
        {"shape that disagrees with config.json",
         [](const std::string& d) { edit_config(d, [](json& c) { c["q_lora_rank"] = 256; }); },
         "expected [256", DSV4_STATUS_FORMAT},
        {"missing tensor",
         [](const std::string& d) { edit_tensors(d, [](Safetensors& s) { s.header.erase("layers.2.attn.attn_sink"); }); },
         "'layers.2.attn.attn_sink' is missing", DSV4_STATUS_FORMAT},
        {"unexpected tensor",
         [](const std::string& d) { edit_config(d, [](json& c) { c["num_nextn_predict_layers"] = 0; c["compress_ratios"] = {0, 4, 128, 4}; }); },
         "unexpected tensor(s)", DSV4_STATUS_FORMAT},
        {"compress_ratios of the wrong length",
         [](const std::string& d) { edit_config(d, [](json& c) { c["compress_ratios"] = {0, 4, 128, 4}; }); },
         "compress_ratios' has 4 entries, expected", DSV4_STATUS_FORMAT},
        {"non-JSON config", [](const std::string& d) { write_file(d + "/config.json", "hidden_size: 4"); }, "not valid JSON",
         DSV4_STATUS_FORMAT},
        {"config key of the wrong type",
         [](const std::string& d) { edit_config(d, [](json& c) { c["hidden_size"] = "128"; }); },
         "'hidden_size' must be an integer", DSV4_STATUS_FORMAT},
        {"shard named in the index but absent",
         [](const std::string& d) {
             fs::rename(d + "/model.safetensors", d + "/model-00001-of-00002.safetensors");
             Safetensors s = split(read_file(d + "/model-00001-of-00002.safetensors"));
             json idx;
             for (auto it = s.header.begin(); it != s.header.end(); ++it)
                 if (it.key() != "__metadata__") idx["weight_map"][it.key()] = "model-00001-of-00002.safetensors";
             idx["weight_map"]["norm.weight"] = "model-00002-of-00002.safetensors";
             write_file(d + "/model.safetensors.index.json", idx.dump());
         },
         "shard 'model-00002-of-00002.safetensors' is named in the index but absent", DSV4_STATUS_IO},
    };
    return all;
}

}  // namespace

TEST_CASE("corrupted checkpoints fail with a clear status and message", "[load][corrupt]") {
    for (const Case& c : cases()) {
        INFO("case: " << c.name);
        TempDir dir("corrupt");
        make_copy(dir.path());
        c.mutate(dir.path());
        dsv4_model* model = nullptr;
        dsv4_status st = dsv4_model_open(dir.path().c_str(), nullptr, &model);
        CHECK(st == c.status);
        CHECK(model == nullptr);
        INFO("message: " << dsv4_last_error());
        CHECK(std::string(dsv4_last_error()).find(c.expect) != std::string::npos);
        dsv4_model_close(model);
    }
}

TEST_CASE("dsv4 inspect exits non-zero on corrupted checkpoints without a signal", "[load][corrupt][cli]") {
    for (const Case& c : cases()) {
        INFO("case: " << c.name);
        TempDir dir("corrupt-cli");
        make_copy(dir.path());
        c.mutate(dir.path());
        RunResult r = run_cli("inspect '" + dir.path() + "'");
        INFO("stderr: " << r.err);
        CHECK(r.exited);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(c.expect) != std::string::npos);
    }
}

TEST_CASE("a sharded checkpoint loads through model.safetensors.index.json", "[load]") {
    TempDir dir("sharded");
    Safetensors s = split(read_file(source_dir() + "/model.safetensors"));
    // Two shards: norm.weight alone in the second.
    Safetensors a, b;
    json idx;
    for (auto it = s.header.begin(); it != s.header.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        Safetensors& dst = it.key() == "norm.weight" ? b : a;
        auto off = it.value()["data_offsets"];
        uint64_t begin = off[0], end = off[1];
        json e = it.value();
        e["data_offsets"] = {dst.data.size(), dst.data.size() + (end - begin)};
        dst.header[it.key()] = e;
        dst.data += s.data.substr(begin, end - begin);
        idx["weight_map"][it.key()] = it.key() == "norm.weight" ? "b.safetensors" : "a.safetensors";
    }
    write_file(dir / "a.safetensors", join(a));
    write_file(dir / "b.safetensors", join(b));
    write_file(dir / "model.safetensors.index.json", idx.dump());
    copy_file(source_dir() + "/config.json", dir / "config.json");
    dsv4_model* model = nullptr;
    REQUIRE(dsv4_model_open(dir.path().c_str(), nullptr, &model) == DSV4_STATUS_OK);
    dsv4_model_close(model);

    // A tensor listed for a shard that does not hold it.
    idx["weight_map"]["norm.weight"] = "a.safetensors";
    write_file(dir / "model.safetensors.index.json", idx.dump());
    CHECK(dsv4_model_open(dir.path().c_str(), nullptr, &model) == DSV4_STATUS_FORMAT);
    CHECK(std::string(dsv4_last_error()).find("'norm.weight' is listed") != std::string::npos);
}
