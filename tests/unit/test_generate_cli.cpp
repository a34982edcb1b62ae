// `dsv4 run` and `dsv4 chat` end to end: the printed continuation against the library and the
// golden logits, seeds, stop strings, argument errors, multi-turn session reuse and Ctrl-C.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "generate_helpers.h"
#include "npz_reader.h"
#include "session_helpers.h"
#include "test_support.h"

using namespace generate_testing;
using namespace testing_support;

namespace {

std::string join(const std::vector<int32_t>& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s;
}

std::vector<int32_t> parse_ids(const std::string& text) {
    std::istringstream in(text);
    std::vector<int32_t> ids;
    int32_t v;
    while (in >> v) ids.push_back(v);
    return ids;
}

// What the library generates greedily (EOS not stopping) after the text prompt, encoded as the CLI
// does (special tokens parsed, BOS first).
std::string library_greedy_text(const std::string& model_dir, const std::string& prompt, uint64_t n) {
    dsv4_model* raw = nullptr;
    REQUIRE(dsv4_model_open(model_dir.c_str(), nullptr, &raw) == DSV4_STATUS_OK);
    session_testing::ModelPtr model(raw);
    const dsv4_tokenizer* tok = dsv4_model_tokenizer(model.get());
    int32_t* ids = nullptr;
    size_t n_ids = 0;
    REQUIRE(dsv4_tokenizer_encode(tok, prompt.data(), prompt.size(),
                                  DSV4_TOKENIZE_PARSE_SPECIAL | DSV4_TOKENIZE_ADD_BOS, &ids, &n_ids) == DSV4_STATUS_OK);
    auto s = session_testing::make_session(model.get());
    REQUIRE(dsv4_session_prefill(s.get(), ids, n_ids) == DSV4_STATUS_OK);
    dsv4_tokens_free(ids);
    return generate(s.get(), tok, nullptr, params_with_max(n)).text;
}

int turn_value(const std::string& err, int turn, const char* what) {
    const std::regex re("\\[turn " + std::to_string(turn) + ": ([0-9]+) prompt tokens, ([0-9]+) reused");
    std::smatch m;
    if (!std::regex_search(err, m, re)) return -1;
    return std::stoi(m[std::string(what) == "prompt" ? 1 : 2].str());
}

}  // namespace

TEST_CASE("dsv4 run on a golden model continues with the golden argmax", "[cli][generate][golden]") {
    const std::string dir = conformance_dir() + "/golden/tiny-s4";
    auto g = npz::load_npz(dir + "/golden.npz");
    const auto tokens = g.at("tokens").as_int32();
    const auto lens = g.at("prefill_lens").as_int32();
    const auto logits = g.at("prefill_logits").as_float();
    const size_t V = logits.size() / lens.size();
    const size_t row = 2;
    const std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + lens[row]);
    RunResult r = run_cli("run -m '" + dir + "/model' --tokens " + join(prompt) +
                          " -n 3 --temp 0 --ignore-eos --backend reference");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto ids = parse_ids(r.out);
    REQUIRE(ids.size() == prompt.size() + 3);
    CHECK(std::vector<int32_t>(ids.begin(), ids.begin() + long(prompt.size())) == prompt);
    const float* l = logits.data() + row * V;
    CHECK(ids[prompt.size()] == int32_t(std::max_element(l, l + V) - l));
    CHECK(r.err.find("finish: max tokens") != std::string::npos);
}

TEST_CASE("dsv4 run with a seed repeats itself; another seed does not", "[cli][generate]") {
    const std::string model = conformance_dir() + "/golden/tiny-s4/model";
    auto run = [&](const std::string& seed) {
        RunResult r = run_cli("run -m '" + model + "' --tokens 5,17,230 -n 20 --ignore-eos --temp 1 --seed " + seed);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r.out;
    };
    const std::string a = run("42");
    CHECK(parse_ids(a).size() == 23);
    CHECK(run("42") == a);
    CHECK(run("43") != a);
}

TEST_CASE("dsv4 run prints the prompt and the library's continuation", "[cli][generate][text]") {
    TempDir tmp("run-text");
    const std::string dir = make_text_model(tmp);
    const std::string prompt = "def foo(x):";
    const std::string want = library_greedy_text(dir, prompt, 40);
    REQUIRE(want.size() > 8);

    RunResult r = run_cli("run -m '" + dir + "' -p '" + prompt + "' -n 40 --temp 0 --ignore-eos");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == prompt + want + "\n");

    SECTION("a stop string cuts the text") {
        // A letter or digit from the second half (safe to pass through the shell).
        size_t at = want.size() / 2;
        while (at < want.size() && !std::isalnum(static_cast<unsigned char>(want[at]))) ++at;
        REQUIRE(at < want.size());
        const std::string stop = want.substr(at, 1);
        r = run_cli("run -m '" + dir + "' -p '" + prompt + "' -n 40 --temp 0 --ignore-eos --stop 'NEVER' --stop '" +
                    stop + "'");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out == prompt + want.substr(0, want.find(stop)) + "\n");
        CHECK(r.err.find("finish: stop string") != std::string::npos);
    }
    SECTION("--ids prints ids instead of text") {
        r = run_cli("run -m '" + dir + "' -p '" + prompt + "' -n 5 --temp 0 --ignore-eos --ids");
        REQUIRE(r.exit_code == 0);
        const auto ids = parse_ids(r.out);
        REQUIRE(ids.size() > 5);
        CHECK(ids[0] == 351);  // the fixture's BOS
    }
}

TEST_CASE("dsv4 run refuses bad arguments with a message", "[cli][generate][errors]") {
    const std::string golden = conformance_dir() + "/golden/tiny-s4/model";
    auto fails_with = [](const std::string& args, const std::string& message) {
        RunResult r = run_cli(args);
        INFO(args << "\n" << r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(message) != std::string::npos);
    };
    fails_with("run -m '" + golden + "'", "-p PROMPT or --tokens");
    fails_with("run -m '" + golden + "' -p hi --tokens 1", "-p PROMPT or --tokens");
    fails_with("run -m '" + golden + "' -p hello", "no tokenizer.json");
    fails_with("run -m '" + golden + "' --tokens 5,abc", "'abc' in --tokens");
    fails_with("run -m '" + golden + "' --tokens 5,5000", "5000");
    fails_with("run -m '" + golden + "' --tokens 5 --temp warm", "--temp needs a number");
    fails_with("run -m '" + golden + "' --tokens 5 --top-p 2", "top_p");
    fails_with("run -m '" + golden + "' --tokens 5 --stop x", "stop strings need a tokenizer");
    fails_with("run -m '" + golden + "' --tokens 5 --bogus", "unknown option --bogus");
    fails_with("run -m /nonexistent --tokens 5", "cannot open /nonexistent");
    fails_with("chat -m '" + golden + "'", "no tokenizer.json");
    fails_with("run -m '" + golden + "' --tokens 5 --spec maybe", "--spec must be auto, always or off");
    fails_with("chat -m '" + golden + "' --spec maybe", "--spec must be auto, always or off");
    fails_with("chat -m '" + golden + "' --draft 0", "--draft must be in 1..8");
}

TEST_CASE("dsv4 chat holds a conversation and feeds only the new part of each prompt", "[cli][generate][chat]") {
    TempDir tmp("chat");
    const std::string dir = make_text_model(tmp);
    const std::string input = "hello\n\nwrite a function\nthanks\n";
    RunResult r = run_cli("chat -m '" + dir + "' -n 12 --ignore-eos --verbose --temp 0.8 --seed 5", input);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // Three turns (the empty line is skipped); every later prompt extends the text the session
    // holds, so all of it is reused.
    const int p1 = turn_value(r.err, 1, "prompt"), p2 = turn_value(r.err, 2, "prompt");
    CHECK(turn_value(r.err, 1, "reused") == 0);
    CHECK(turn_value(r.err, 2, "reused") == p1 + 12);
    CHECK(turn_value(r.err, 3, "reused") == p2 + 12);
    CHECK(turn_value(r.err, 4, "prompt") == -1);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') >= 3);
    // The same seed gives the same conversation.
    RunResult again = run_cli("chat -m '" + dir + "' -n 12 --ignore-eos --verbose --temp 0.8 --seed 5", input);
    CHECK(again.out == r.out);
    // Speculation (adaptive by default) never changes the text.
    for (const char* spec : {" --spec always --draft 2", " --no-spec"}) {
        RunResult other = run_cli(
            "chat -m '" + dir + "' -n 12 --ignore-eos --verbose --temp 0.8 --seed 5" + std::string(spec), input);
        INFO(spec << ": " << other.err);
        CHECK(other.out == r.out);
    }

    SECTION("thinking mode drops earlier reasoning, so the session starts over") {
        r = run_cli("chat -m '" + dir + "' -n 6 --ignore-eos --verbose --thinking --system 'be brief'", "a\nb\n");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(turn_value(r.err, 1, "prompt") > 0);
        CHECK(turn_value(r.err, 2, "reused") == 0);
    }
}

TEST_CASE("Ctrl-C stops a chat answer; a second Ctrl-C at the prompt quits", "[cli][generate][chat][cancel]") {
    TempDir tmp("chat-sigint");
    const std::string dir = make_text_model(tmp);
    ChildProcess chat(DSV4_CLI_PATH, {"chat", "-m", dir, "--ignore-eos", "--verbose", "--ctx", "4096"});
    chat.write_stdin("hello\n");
    // The answer is streaming (it could only end at the full context, many seconds away).
    REQUIRE(chat.wait_for([](const std::string& out, const std::string&) { return !out.empty(); }, 60));
    chat.signal(SIGINT);
    REQUIRE(chat.wait_for(
        [](const std::string&, const std::string& err) { return err.find("[turn 1") != std::string::npos; }, 60));
    CHECK(chat.err().find("(interrupted)") != std::string::npos);
    CHECK(chat.err().find("finish: cancelled") != std::string::npos);

    // The session is still good: the next question is answered, reusing what the session holds.
    const size_t out_before = chat.out().size();
    chat.write_stdin("again\n");
    REQUIRE(chat.wait_for([&](const std::string& out, const std::string&) { return out.size() > out_before + 1; }, 60));
    chat.signal(SIGINT);
    REQUIRE(chat.wait_for(
        [](const std::string&, const std::string& err) { return err.find("[turn 2") != std::string::npos; }, 60));
    CHECK(turn_value(chat.err(), 2, "reused") > turn_value(chat.err(), 1, "prompt"));

    // At the prompt after an interrupted answer, Ctrl-C quits (resent in case one lands before
    // the read starts).
    int code = -1;
    bool exited = false;
    for (int i = 0; i < 100 && !exited; ++i) {
        chat.signal(SIGINT);
        exited = chat.wait_exit(0.3, &code);
    }
    INFO(chat.err());
    REQUIRE(exited);
    CHECK(code == 0);
}

TEST_CASE("dsv4 chat ends at end of input", "[cli][generate][chat]") {
    TempDir tmp("chat-eof");
    const std::string dir = make_text_model(tmp);
    RunResult r = run_cli("chat -m '" + dir + "' -n 3", "");
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
}

TEST_CASE("examples/c/generate streams the library's completion", "[generate][example]") {
    TempDir tmp("example-generate");
    const std::string dir = make_text_model(tmp);
    const std::string prompt = "int main";
    // The example's settings: BOS + plain text, temperature 0.7, top-p 0.95, seed 1, 12 tokens.
    dsv4_model* raw = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), nullptr, &raw) == DSV4_STATUS_OK);
    session_testing::ModelPtr model(raw);
    const dsv4_tokenizer* tok = dsv4_model_tokenizer(model.get());
    int32_t* ids = nullptr;
    size_t n = 0;
    REQUIRE(dsv4_tokenizer_encode(tok, prompt.data(), prompt.size(), DSV4_TOKENIZE_ADD_BOS, &ids, &n) ==
            DSV4_STATUS_OK);
    auto s = session_testing::make_session(model.get());
    REQUIRE(dsv4_session_prefill(s.get(), ids, n) == DSV4_STATUS_OK);
    dsv4_sampler_params sp;
    dsv4_sampler_params_init(&sp);
    sp.temperature = 0.7f;
    sp.top_p = 0.95f;
    sp.seed = 1;
    auto sampler = make_sampler(sp);
    dsv4_generate_params gp = params_with_max(12, true);
    gp.prompt_tokens = ids;
    gp.n_prompt_tokens = n;
    const std::string want = generate(s.get(), tok, sampler.get(), gp).text;
    dsv4_tokens_free(ids);

    const std::string cmd = std::string("'") + DSV4_EXAMPLE_GENERATE_PATH + "' '" + dir + "' '" + prompt + "' 12 > '" +
                            (tmp / "out") + "' 2> '" + (tmp / "err") + "'";
    const int status = std::system(cmd.c_str());
    INFO(read_file(tmp / "err"));
    REQUIRE(status == 0);
    CHECK(read_file(tmp / "out") == prompt + want + "\n");
    CHECK(read_file(tmp / "err").find("tokens, finish reason") != std::string::npos);

    const std::string bad = std::string("'") + DSV4_EXAMPLE_GENERATE_PATH + "' '" + conformance_dir() +
                            "/golden/tiny-s4/model' hi 2> '" + (tmp / "err2") + "'";
    CHECK(std::system(bad.c_str()) != 0);
    CHECK(read_file(tmp / "err2").find("no tokenizer.json") != std::string::npos);
}

TEST_CASE("dsv4 run and dsv4 chat default to the embedded model", "[cli][generate][default_model]") {
    const std::string model = std::string(DSV4_SOURCE_DIR) + "/models/dsv4-tiny-code";
    const std::string prompt = "def add(a, b):";
    const std::string want = library_greedy_text(model, prompt, 16);
    RunResult r = run_cli("run -p '" + prompt + "' -n 16 --temp 0 --ignore-eos");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == prompt + want + "\n");

    r = run_cli("chat -n 8 --temp 0 --verbose", "Write a sort function.\nNow in C.\n");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const int p1 = turn_value(r.err, 1, "prompt");
    REQUIRE(p1 > 0);
    // The model's own tokens and the new turn's text: the first prompt and answer are kept.
    CHECK(turn_value(r.err, 2, "reused") > p1);
}

TEST_CASE("Ctrl-C ends dsv4 run with what was generated so far", "[cli][generate][cancel]") {
    const std::string model = conformance_dir() + "/golden/tiny-s4/model";
    ChildProcess run(DSV4_CLI_PATH, {"run", "-m", model, "--tokens", "1,2,3", "-n", "0", "--ignore-eos"});
    // Without a limit it would go on to the full context (4096 tokens).
    REQUIRE(run.wait_for([](const std::string& out, const std::string&) { return parse_ids(out).size() > 10; }, 60));
    run.signal(SIGINT);
    int code = -1;
    REQUIRE(run.wait_exit(60, &code));
    INFO(run.err());
    CHECK(code == 130);
    CHECK(run.err().find("finish: cancelled") != std::string::npos);
    const auto ids = parse_ids(run.out());
    CHECK(ids.size() < 3 + 4093);
    CHECK(run.out().back() == '\n');
}
