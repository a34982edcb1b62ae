// The generator (dsv4_generator_* / dsv4_generate): greedy agreement with the golden logits,
// seeded determinism, every finish reason, cancellation and resumption, and what each step's text
// may contain.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "generate_helpers.h"
#include "npz_reader.h"
#include "session_helpers.h"
#include "test_support.h"

using namespace generate_testing;
using namespace session_testing;
using testing_support::TempDir;

namespace {

int32_t argmax(const float* row, size_t n) {
    return int32_t(std::max_element(row, row + n) - row);
}

const std::vector<int32_t> kPrompt = {5, 17, 230, 99, 3, 42, 7};

SessionPtr prefilled(dsv4_model* m, const std::vector<int32_t>& prompt, uint64_t n_ctx = 0) {
    auto s = make_session(m, n_ctx);
    INFO(dsv4_last_error());
    REQUIRE(dsv4_session_prefill(s.get(), prompt.data(), prompt.size()) == DSV4_STATUS_OK);
    return s;
}

}  // namespace

TEST_CASE("greedy generation starts with the argmax of every golden prefill", "[generate][golden]") {
    for (const std::string& dir : testing_support::golden_dirs()) {
        const std::string name = std::filesystem::path(dir).filename().string();
        auto g = npz::load_npz(dir + "/golden.npz");
        const auto tokens = g.at("tokens").as_int32();
        const auto lens = g.at("prefill_lens").as_int32();
        const auto logits = g.at("prefill_logits").as_float();
        const size_t V = logits.size() / lens.size();
        for (const char* backend : {"reference", "cpu"}) {
            auto model = open_golden_model(name, backend);
            for (size_t i = 0; i < lens.size(); ++i) {
                INFO(name << " on " << backend << ", prefill of " << lens[i] << " tokens");
                std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + lens[i]);
                auto s = prefilled(model.get(), prompt);
                Generated out = generate(s.get(), nullptr, nullptr, params_with_max(1));
                REQUIRE(out.tokens.size() == 1);
                CHECK(out.tokens[0] == argmax(logits.data() + i * V, V));
                CHECK(out.finish == DSV4_FINISH_MAX_TOKENS);
                CHECK(out.text.empty());
            }
        }
    }
}

TEST_CASE("a seed fixes the sampled tokens; another seed changes them", "[generate]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    auto run = [&](uint64_t seed) {
        auto s = prefilled(model.get(), kPrompt);
        auto sampler = make_sampler(1.0f, seed);
        return generate(s.get(), nullptr, sampler.get(), params_with_max(24)).tokens;
    };
    const auto a = run(7), b = run(7), c = run(8);
    REQUIRE(a.size() == 24);
    CHECK(a == b);
    CHECK(a != c);
    // A sampled run is not simply the greedy one.
    auto s = prefilled(model.get(), kPrompt);
    CHECK(generate(s.get(), nullptr, nullptr, params_with_max(24)).tokens != a);
}

TEST_CASE("max_tokens ends on the step of the last token, and the session holds all but it", "[generate]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    auto s = prefilled(model.get(), kPrompt);
    dsv4_generator* raw = nullptr;
    const auto p = params_with_max(5);
    REQUIRE(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &raw) == DSV4_STATUS_OK);
    GeneratorPtr g(raw);
    Generated out = run_generator(g.get());
    CHECK(out.steps == 5);
    CHECK(out.tokens.size() == 5);
    CHECK(out.finish == DSV4_FINISH_MAX_TOKENS);
    CHECK(dsv4_session_position(s.get()) == kPrompt.size() + 4);
    // Past the end: no token, the same reason, nothing fed.
    dsv4_generate_step step;
    step.struct_size = sizeof step;
    REQUIRE(dsv4_generator_next(g.get(), &step) == DSV4_STATUS_OK);
    CHECK(step.token == -1);
    CHECK(step.text_len == 0);
    CHECK(step.finish == DSV4_FINISH_MAX_TOKENS);
    CHECK(step.n_generated == 5);
    CHECK(dsv4_session_position(s.get()) == kPrompt.size() + 4);
}

TEST_CASE("generation continues exactly where the previous one stopped", "[generate]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    auto s1 = prefilled(model.get(), kPrompt);
    const auto whole = generate(s1.get(), nullptr, nullptr, params_with_max(10)).tokens;
    auto s2 = prefilled(model.get(), kPrompt);
    const auto first = generate(s2.get(), nullptr, nullptr, params_with_max(4)).tokens;
    // The last token was sampled but not fed: feed it, then go on.
    REQUIRE(dsv4_decode_step(s2.get(), first.back()) == DSV4_STATUS_OK);
    const auto rest = generate(s2.get(), nullptr, nullptr, params_with_max(6)).tokens;
    std::vector<int32_t> joined = first;
    joined.insert(joined.end(), rest.begin(), rest.end());
    CHECK(joined == whole);
}

TEST_CASE("stop tokens end generation on the step that samples them", "[generate]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    auto s = prefilled(model.get(), kPrompt);
    const auto free_run = generate(s.get(), nullptr, nullptr, params_with_max(12)).tokens;
    const int32_t stop = free_run[6];
    const size_t first = size_t(std::find(free_run.begin(), free_run.end(), stop) - free_run.begin());

    SECTION("a stop token of the sampler") {
        dsv4_sampler_params sp;
        dsv4_sampler_params_init(&sp);
        sp.temperature = 0;
        sp.stop_tokens = &stop;
        sp.n_stop_tokens = 1;
        auto sampler = make_sampler(sp);
        auto s2 = prefilled(model.get(), kPrompt);
        Generated out = generate(s2.get(), nullptr, sampler.get(), params_with_max(12));
        CHECK(out.finish == DSV4_FINISH_STOP_TOKEN);
        CHECK(out.tokens == std::vector<int32_t>(free_run.begin(), free_run.begin() + long(first) + 1));
        // The stop token itself is never fed.
        CHECK(dsv4_session_position(s2.get()) == kPrompt.size() + first);
    }
    SECTION("EOS, unless stop_at_eos is off") {
        dsv4_model_info info;
        info.struct_size = sizeof info;
        REQUIRE(dsv4_model_get_info(model.get(), &info) == DSV4_STATUS_OK);
        // A huge bias makes EOS the greedy choice.
        dsv4_sampler_params sp;
        dsv4_sampler_params_init(&sp);
        sp.temperature = 0;
        const int32_t eos = info.eos_token_id;
        const float bias = 1e9f;
        sp.logit_bias_tokens = &eos;
        sp.logit_bias_values = &bias;
        sp.n_logit_bias = 1;
        auto sampler = make_sampler(sp);
        auto s2 = prefilled(model.get(), kPrompt);
        Generated out = generate(s2.get(), nullptr, sampler.get(), params_with_max(3, true));
        CHECK(out.finish == DSV4_FINISH_STOP_TOKEN);
        CHECK(out.tokens == std::vector<int32_t>{eos});
        auto s3 = prefilled(model.get(), kPrompt);
        out = generate(s3.get(), nullptr, sampler.get(), params_with_max(3, false));
        CHECK(out.finish == DSV4_FINISH_MAX_TOKENS);
        CHECK(out.tokens == std::vector<int32_t>{eos, eos, eos});
    }
}

TEST_CASE("a full context ends generation with the token that no longer fits", "[generate]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    SECTION("room for three more tokens") {
        auto s = prefilled(model.get(), kPrompt, kPrompt.size() + 3);
        Generated out = generate(s.get(), nullptr, nullptr, params_with_max(0));
        CHECK(out.finish == DSV4_FINISH_CONTEXT_FULL);
        CHECK(out.tokens.size() == 4);
        CHECK(dsv4_session_position(s.get()) == kPrompt.size() + 3);
    }
    SECTION("no room at all") {
        auto s = prefilled(model.get(), kPrompt, kPrompt.size());
        Generated out = generate(s.get(), nullptr, nullptr, params_with_max(0));
        CHECK(out.finish == DSV4_FINISH_CONTEXT_FULL);
        CHECK(out.tokens.size() == 1);
        CHECK(dsv4_session_position(s.get()) == kPrompt.size());
    }
}

namespace {
std::atomic<bool> g_abort{false};
bool abort_when_asked(void*) {
    return g_abort.load();
}
bool stop_after_three(const dsv4_generate_step* step, void* ud) {
    static_cast<std::vector<int32_t>*>(ud)->push_back(step->token);
    return step->n_generated < 3;
}
}  // namespace

TEST_CASE("cancellation ends a step, leaves the session usable, and generation resumes", "[generate][cancel]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    auto ref = prefilled(model.get(), kPrompt);
    const auto whole = generate(ref.get(), nullptr, nullptr, params_with_max(8)).tokens;

    SECTION("the session's abort callback") {
        dsv4_session_params sp;
        dsv4_session_params_init(&sp);
        sp.abort_callback = abort_when_asked;
        g_abort = false;
        auto s = make_session(model.get(), sp);
        REQUIRE(dsv4_session_prefill(s.get(), kPrompt.data(), kPrompt.size()) == DSV4_STATUS_OK);
        dsv4_generator* raw = nullptr;
        const auto p = params_with_max(0);
        REQUIRE(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &raw) == DSV4_STATUS_OK);
        GeneratorPtr g(raw);
        std::vector<int32_t> got;
        dsv4_generate_step step;
        step.struct_size = sizeof step;
        for (int i = 0; i < 3; ++i) {
            REQUIRE(dsv4_generator_next(g.get(), &step) == DSV4_STATUS_OK);
            got.push_back(step.token);
        }
        g_abort = true;
        REQUIRE(dsv4_generator_next(g.get(), &step) == DSV4_STATUS_OK);
        g_abort = false;
        CHECK(step.finish == DSV4_FINISH_CANCELLED);
        CHECK(step.token == -1);
        CHECK(step.n_generated == 3);
        // Tokens 1 and 2 were fed; the cancelled feed of token 3 was rolled back.
        CHECK(dsv4_session_position(s.get()) == kPrompt.size() + 2);
        REQUIRE(dsv4_generator_next(g.get(), &step) == DSV4_STATUS_OK);
        CHECK(step.finish == DSV4_FINISH_CANCELLED);
        g.reset();
        REQUIRE(dsv4_decode_step(s.get(), got.back()) == DSV4_STATUS_OK);
        const auto rest = generate(s.get(), nullptr, nullptr, params_with_max(5)).tokens;
        got.insert(got.end(), rest.begin(), rest.end());
        CHECK(got == whole);
    }
    SECTION("a streaming callback that returns false") {
        auto s = prefilled(model.get(), kPrompt);
        std::vector<int32_t> seen;
        dsv4_generate_result r;
        r.struct_size = sizeof r;
        const auto p = params_with_max(0);
        REQUIRE(dsv4_generate(s.get(), nullptr, nullptr, &p, stop_after_three, &seen, &r) == DSV4_STATUS_OK);
        CHECK(r.finish == DSV4_FINISH_CANCELLED);
        CHECK(r.n_generated == 3);
        CHECK(seen == std::vector<int32_t>(whole.begin(), whole.begin() + 3));
        CHECK(dsv4_session_position(s.get()) == kPrompt.size() + 2);
    }
}

namespace {
struct Collect {
    std::vector<int32_t> tokens;
    std::string text;
    dsv4_finish_reason last = DSV4_FINISH_NONE;
    int calls = 0;
};
bool collect(const dsv4_generate_step* step, void* ud) {
    auto* c = static_cast<Collect*>(ud);
    ++c->calls;
    if (step->token >= 0) c->tokens.push_back(step->token);
    c->text.append(step->text, step->text_len);
    c->last = step->finish;
    return true;
}
}  // namespace

TEST_CASE("dsv4_generate streams the same steps as the iterator", "[generate]") {
    TempDir tmp("gen-stream");
    const std::string dir = make_text_model(tmp);
    dsv4_model* raw = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), nullptr, &raw) == DSV4_STATUS_OK);
    ModelPtr model(raw);
    const dsv4_tokenizer* tok = dsv4_model_tokenizer(model.get());
    REQUIRE(tok);
    auto s1 = prefilled(model.get(), kPrompt);
    auto sampler1 = make_sampler(0.8f, 11);
    const Generated it = generate(s1.get(), tok, sampler1.get(), params_with_max(30));
    auto s2 = prefilled(model.get(), kPrompt);
    auto sampler2 = make_sampler(0.8f, 11);
    Collect c;
    dsv4_generate_result r;
    r.struct_size = sizeof r;
    const auto p = params_with_max(30);
    REQUIRE(dsv4_generate(s2.get(), tok, sampler2.get(), &p, collect, &c, &r) == DSV4_STATUS_OK);
    CHECK(c.tokens == it.tokens);
    CHECK(c.text == it.text);
    CHECK(c.calls == it.steps);
    CHECK(c.last == DSV4_FINISH_MAX_TOKENS);
    CHECK(r.finish == DSV4_FINISH_MAX_TOKENS);
    CHECK(r.n_generated == 30);
    // No callback and no result: just runs.
    auto s3 = prefilled(model.get(), kPrompt);
    REQUIRE(dsv4_generate(s3.get(), tok, nullptr, &p, nullptr, nullptr, nullptr) == DSV4_STATUS_OK);
    CHECK(dsv4_session_position(s3.get()) == kPrompt.size() + 29);
}

namespace {
bool valid_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!n || i + size_t(n) > s.size()) return false;
        for (int k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + size_t(k)]) >> 6) != 2) return false;
        i += size_t(n);
    }
    return true;
}
}  // namespace

TEST_CASE("step text is whole characters and adds up to the decoded tokens", "[generate][text]") {
    TempDir tmp("gen-text");
    const std::string dir = make_text_model(tmp);
    dsv4_model* raw = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), nullptr, &raw) == DSV4_STATUS_OK);
    ModelPtr model(raw);
    const dsv4_tokenizer* tok = dsv4_model_tokenizer(model.get());
    REQUIRE(tok);
    const int32_t tok_vocab = dsv4_tokenizer_vocab_size(tok);
    auto s = prefilled(model.get(), kPrompt);
    auto sampler = make_sampler(1.0f, 3);
    const Generated out = generate(s.get(), tok, sampler.get(), params_with_max(80));
    for (const auto& piece : out.pieces) CHECK(valid_utf8(piece));
    // Ids past the tokenizer's vocabulary add nothing; the rest decode to exactly the text.
    std::vector<int32_t> known;
    for (int32_t t : out.tokens)
        if (t < tok_vocab) known.push_back(t);
    REQUIRE(!known.empty());
    REQUIRE(known.size() < out.tokens.size());
    char* decoded = nullptr;
    size_t len = 0;
    REQUIRE(dsv4_tokenizer_decode(tok, known.data(), known.size(), 0, &decoded, &len) == DSV4_STATUS_OK);
    CHECK(std::string(decoded, len) == out.text);
    dsv4_string_free(decoded);

    SECTION("echo: the first step is the prompt's text") {
        auto s2 = prefilled(model.get(), kPrompt);
        auto p = params_with_max(2);
        p.echo = true;
        p.prompt_tokens = kPrompt.data();
        p.n_prompt_tokens = kPrompt.size();
        const Generated e = generate(s2.get(), tok, nullptr, p);
        REQUIRE(e.steps == 3);
        char* prompt_text = nullptr;
        REQUIRE(dsv4_tokenizer_decode(tok, kPrompt.data(), kPrompt.size(), 0, &prompt_text, &len) == DSV4_STATUS_OK);
        CHECK(e.pieces[0] == std::string(prompt_text, len));
        dsv4_string_free(prompt_text);
        CHECK(e.tokens.size() == 2);
    }
}

TEST_CASE("stop strings end the text just before them, even split across tokens", "[generate][text]") {
    TempDir tmp("gen-stop");
    const std::string dir = make_text_model(tmp);
    dsv4_model* raw = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), nullptr, &raw) == DSV4_STATUS_OK);
    ModelPtr model(raw);
    const dsv4_tokenizer* tok = dsv4_model_tokenizer(model.get());
    auto s = prefilled(model.get(), kPrompt);
    const Generated free_run = generate(s.get(), tok, nullptr, params_with_max(60));
    // A stop string of three characters from the second half of the greedy text, cut at
    // character boundaries.
    const std::string& text = free_run.text;
    REQUIRE(text.size() > 12);
    size_t at = text.size() / 2;
    while (at < text.size() && (static_cast<unsigned char>(text[at]) >> 6) == 2) ++at;
    size_t end = at;
    for (int chars = 0; chars < 3 && end < text.size(); ++chars) {
        ++end;
        while (end < text.size() && (static_cast<unsigned char>(text[end]) >> 6) == 2) ++end;
    }
    const std::string stop = text.substr(at, end - at);
    REQUIRE(!stop.empty());
    INFO("stop string: " << stop);
    const char* stops[] = {"\x01never appears", stop.c_str()};
    auto p = params_with_max(60);
    p.stop_strings = stops;
    p.n_stop_strings = 2;
    auto s2 = prefilled(model.get(), kPrompt);
    const Generated out = generate(s2.get(), tok, nullptr, p);
    CHECK(out.finish == DSV4_FINISH_STOP_STRING);
    CHECK(out.text == text.substr(0, text.find(stop)));
    for (const auto& piece : out.pieces) CHECK(piece.find(stop) == std::string::npos);
    CHECK(out.tokens ==
          std::vector<int32_t>(free_run.tokens.begin(), free_run.tokens.begin() + long(out.tokens.size())));
}

TEST_CASE("the sampler's penalties see the prompt given to the generator", "[generate]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    auto s = prefilled(model.get(), kPrompt);
    const int32_t greedy_first = generate(s.get(), nullptr, nullptr, params_with_max(1)).tokens.at(0);
    dsv4_sampler_params sp;
    dsv4_sampler_params_init(&sp);
    sp.temperature = 0;
    sp.presence_penalty = 1e6f;
    auto sampler = make_sampler(sp);
    auto s2 = prefilled(model.get(), kPrompt);
    auto p = params_with_max(1);
    p.prompt_tokens = &greedy_first;
    p.n_prompt_tokens = 1;
    CHECK(generate(s2.get(), nullptr, sampler.get(), p).tokens.at(0) != greedy_first);
}

TEST_CASE("the model's tokenizer comes from its directory", "[generate][tokenizer]") {
    auto golden = open_golden_model("tiny-s4", "cpu");
    CHECK(dsv4_model_tokenizer(golden.get()) == nullptr);
    CHECK(dsv4_model_tokenizer(nullptr) == nullptr);

    TempDir tmp("gen-modeltok");
    const std::string dir = make_text_model(tmp);
    dsv4_model* raw = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), nullptr, &raw) == DSV4_STATUS_OK);
    ModelPtr model(raw);
    const dsv4_tokenizer* tok = dsv4_model_tokenizer(model.get());
    REQUIRE(tok);
    CHECK(dsv4_model_tokenizer(model.get()) == tok);
    CHECK(dsv4_tokenizer_vocab_size(tok) == 356);
    CHECK(dsv4_tokenizer_bos(tok) == 351);
    int32_t* ids = nullptr;
    size_t n = 0;
    REQUIRE(dsv4_tokenizer_encode(tok, "hello", 5, DSV4_TOKENIZE_ADD_BOS, &ids, &n) == DSV4_STATUS_OK);
    CHECK(n >= 2);
    CHECK(ids[0] == 351);
    dsv4_tokens_free(ids);

    SECTION("a malformed tokenizer.json fails the open, naming it") {
        testing_support::write_file(tmp / "tokenizer.json", "{\"model\": ");
        dsv4_model* m = nullptr;
        CHECK(dsv4_model_open(dir.c_str(), nullptr, &m) == DSV4_STATUS_FORMAT);
        CHECK(m == nullptr);
        CHECK(std::string(dsv4_last_error()).find("tokenizer.json") != std::string::npos);
    }
    SECTION("a tokenizer with more ids than the model fails the open") {
        const std::string big = std::string(DSV4_SOURCE_DIR) + "/models/dsv4-tiny-code";
        testing_support::copy_file(big + "/tokenizer.json", tmp / "tokenizer.json");
        testing_support::copy_file(big + "/tokenizer_config.json", tmp / "tokenizer_config.json");
        dsv4_model* m = nullptr;
        CHECK(dsv4_model_open(dir.c_str(), nullptr, &m) == DSV4_STATUS_FORMAT);
        CHECK(std::string(dsv4_last_error()).find("vocab_size") != std::string::npos);
    }
}

TEST_CASE("generator arguments are checked and a failed call costs nothing", "[generate][errors]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    auto fresh = make_session(model.get());
    auto s = prefilled(model.get(), kPrompt);
    dsv4_generator* g = nullptr;
    auto contains = [](const std::string& needle) {
        return std::string(dsv4_last_error()).find(needle) != std::string::npos;
    };

    CHECK(dsv4_generator_create(nullptr, nullptr, nullptr, nullptr, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains("session"));
    CHECK(dsv4_generator_create(s.get(), nullptr, nullptr, nullptr, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_generator_create(fresh.get(), nullptr, nullptr, nullptr, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains("prefill"));
    CHECK(g == nullptr);

    dsv4_generate_params p;
    dsv4_generate_params_init(&p);
    p.struct_size = 3;
    CHECK(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains("struct_size"));
    dsv4_generate_params_init(&p);
    const char* stops[] = {"ok", nullptr};
    p.stop_strings = stops;
    p.n_stop_strings = 2;
    CHECK(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains("stop_strings[1]"));
    p.n_stop_strings = 1;
    CHECK(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains("tokenizer"));
    dsv4_generate_params_init(&p);
    p.echo = true;
    CHECK(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    dsv4_generate_params_init(&p);
    const int32_t bad_prompt[] = {1, 5000};
    p.prompt_tokens = bad_prompt;
    p.n_prompt_tokens = 2;
    CHECK(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains("5000"));
    p.prompt_tokens = nullptr;
    CHECK(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(g == nullptr);

    TempDir tmp("gen-errors");
    const std::string dir = make_text_model(tmp);
    dsv4_model* raw = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), nullptr, &raw) == DSV4_STATUS_OK);
    ModelPtr text_model(raw);
    auto ts = prefilled(text_model.get(), kPrompt);
    const char* empty_stop[] = {""};
    dsv4_generate_params_init(&p);
    p.stop_strings = empty_stop;
    p.n_stop_strings = 1;
    CHECK(dsv4_generator_create(ts.get(), dsv4_model_tokenizer(text_model.get()), nullptr, &p, &g) ==
          DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains("empty"));

    dsv4_generate_result r;
    r.struct_size = 0;
    CHECK(dsv4_generate(s.get(), nullptr, nullptr, nullptr, nullptr, nullptr, &r) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_generate(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_session_position(s.get()) == kPrompt.size());

    // A failed step (bad output struct) samples nothing: the next good step gives the greedy token.
    const int32_t want = [&] {
        auto s2 = prefilled(model.get(), kPrompt);
        return generate(s2.get(), nullptr, nullptr, params_with_max(1)).tokens.at(0);
    }();
    REQUIRE(dsv4_generator_create(s.get(), nullptr, nullptr, nullptr, &g) == DSV4_STATUS_OK);
    GeneratorPtr keep(g);
    dsv4_generate_step step;
    step.struct_size = 0;
    CHECK(dsv4_generator_next(g, &step) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_generator_next(g, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_generator_next(nullptr, &step) == DSV4_STATUS_INVALID_ARGUMENT);
    step.struct_size = sizeof step;
    REQUIRE(dsv4_generator_next(g, &step) == DSV4_STATUS_OK);
    CHECK(step.token == want);
    CHECK(step.n_generated == 1);
    // A caller that knows only the first members gets only those.
    dsv4_generate_step small;
    std::memset(&small, 0xAB, sizeof small);
    small.struct_size = offsetof(dsv4_generate_step, text);
    REQUIRE(dsv4_generator_next(g, &small) == DSV4_STATUS_OK);
    CHECK(small.token >= 0);
    CHECK(reinterpret_cast<uintptr_t>(small.text) == uintptr_t(0xABABABABABABABABull));
    dsv4_generator_free(nullptr);
}
