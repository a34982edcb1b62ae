// The text commands of the dsv4 program (encode-chat, parse-completion, tokenize, detokenize),
// run as a user would: stdin in, stdout out.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

using ojson = nlohmann::ordered_json;

namespace {

struct Run {
    int exit_code = -1;
    std::string out;
};

// Runs `dsv4 ARGS < input` and captures stdout (stderr is left to the test log).
Run run_cli(const std::string& args, const std::string& input) {
    char tmpl[] = "/tmp/dsv4_cli_inXXXXXX";
    const int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    FILE* f = fdopen(fd, "wb");
    std::fwrite(input.data(), 1, input.size(), f);
    std::fclose(f);
    const std::string cmd = std::string("'") + DSV4_CLI_PATH + "' " + args + " < " + tmpl;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    Run r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = pclose(p);
    std::remove(tmpl);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

ojson official_cases() {
    std::ifstream f(std::string(DSV4_CONFORMANCE_DIR) + "/encoding/cases.json", std::ios::binary);
    REQUIRE(f.good());
    std::stringstream ss;
    ss << f.rdbuf();
    return ojson::parse(ss.str());
}

}  // namespace

TEST_CASE("dsv4 encode-chat writes the official prompts exactly", "[cli][chat]") {
    for (const auto& c : official_cases()) {
        INFO("case " << c["name"].get<std::string>());
        const Run r = run_cli("encode-chat --mode " + c["thinking_mode"].get<std::string>(), c["messages"].dump());
        CHECK(r.exit_code == 0);
        CHECK(r.out == c["expected_prompt"].get<std::string>());
    }
}

TEST_CASE("dsv4 encode-chat options and errors", "[cli][chat]") {
    const std::string msgs =
        R"([{"role":"user","content":"a"},{"role":"assistant","reasoning_content":"r","content":"b"},{"role":"user","content":"c"}])";
    CHECK(run_cli("encode-chat --mode thinking", msgs).out ==
          "<｜begin▁of▁sentence｜><｜User｜>a<｜Assistant｜></"
          "think>b<｜end▁of▁sentence｜><｜User｜>c<｜Assistant｜><think>");
    CHECK(run_cli("encode-chat --mode thinking --keep-thinking", msgs).out ==
          "<｜begin▁of▁sentence｜><｜User｜>a<｜Assistant｜><think>r</"
          "think>b<｜end▁of▁sentence｜><｜User｜>c<｜Assistant｜><think>");
    CHECK(run_cli("encode-chat --mode thinking --reasoning-effort max", msgs).out.find("Reasoning Effort: Absolute") !=
          std::string::npos);
    CHECK(run_cli("encode-chat --mode sleepy", msgs).exit_code != 0);
    CHECK(run_cli("encode-chat --mode chat", "not json").exit_code != 0);
}

TEST_CASE("dsv4 parse-completion prints the message as JSON", "[cli][chat]") {
    const std::string completion =
        "Need weather.</think>\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
        "<｜DSML｜parameter name=\"location\" string=\"true\">Beijing</｜DSML｜parameter>\n"
        "<｜DSML｜parameter name=\"days\" string=\"false\">3</｜DSML｜parameter>\n"
        "</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>";
    const Run r = run_cli("parse-completion --mode thinking", completion);
    REQUIRE(r.exit_code == 0);
    const ojson m = ojson::parse(r.out);
    CHECK(m["role"] == "assistant");
    CHECK(m["reasoning_content"] == "Need weather.");
    CHECK(m["content"] == "");
    REQUIRE(m["tool_calls"].size() == 1);
    CHECK(m["tool_calls"][0]["function"]["name"] == "get_weather");
    CHECK(m["tool_calls"][0]["function"]["arguments"] == "{\"location\": \"Beijing\", \"days\": 3}");

    // Malformed DSML is an error, not silently dropped.
    const Run bad = run_cli("parse-completion --mode chat",
                            "x\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n<｜end▁of▁sentence｜>");
    CHECK(bad.exit_code != 0);
    CHECK(bad.out.empty());
}

TEST_CASE("dsv4 tokenize and detokenize", "[cli][tokenizer]") {
    const std::string fixture = std::string(DSV4_SOURCE_DIR) + "/tests/data/tokenizer_fixture/tokenizer.json";
    Run r = run_cli("tokenize --tokenizer '" + fixture + "'", "<|bos|>hello world");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "[351,82,85,86]\n");
    r = run_cli("tokenize --tokenizer '" + fixture + "' --no-special --bos", "hello");
    CHECK(r.out == "[351,82]\n");
    r = run_cli("tokenize --tokenizer '" + fixture + "' --json-lines", "\"hello\"\n\"a   b\"\n");
    CHECK(r.out == "[82]\n[0,87,73,1]\n");
    r = run_cli("tokenize --tokenizer '" + fixture + "'", "bad \xFF utf-8");
    CHECK(r.exit_code != 0);
    CHECK(r.out.empty());
    r = run_cli("detokenize --tokenizer '" + fixture + "'", "[351,82,85,86]");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "<|bos|>hello world");
    r = run_cli("detokenize --tokenizer '" + fixture + "' --skip-special", "[351,82,85,86]");
    CHECK(r.out == "hello world");
    CHECK(run_cli("detokenize --tokenizer '" + fixture + "'", "[1, \"x\"]").exit_code != 0);
}
