// Tokenizer on a small hand-written tokenizer.json (tests/data/tokenizer_fixture): merges, the
// DeepSeek pre-tokenizer regexes, added tokens, byte fallback, decode and streaming. The expected
// ids were cross-checked with Hugging Face's reference implementation (@huggingface/tokenizers).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dsv4/dsv4.h"
#include "error.h"
#include "text/pretokenizer.h"
#include "text/regex.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

using dsv4::text::Tokenizer;
using Ids = std::vector<int32_t>;

namespace {

const std::string kFixture = std::string(DSV4_SOURCE_DIR) + "/tests/data/tokenizer_fixture/tokenizer.json";

const Tokenizer& fixture() {
    static const auto t = Tokenizer::from_file(kFixture);
    return *t;
}

Ids enc(const std::string& s, bool parse_special = true) {
    return fixture().encode(s, parse_special, false);
}

std::string dec(const Ids& ids, bool skip_special = false) {
    return fixture().decode(ids.data(), ids.size(), skip_special);
}

dsv4_status status_of(const std::function<void()>& f, std::string* msg = nullptr) {
    try {
        f();
    } catch (const dsv4::Error& e) {
        if (msg) *msg = e.what();
        return e.status();
    }
    return DSV4_STATUS_OK;
}

// Ids of the fixture (see tests/data/tokenizer_fixture/tokenizer.json).
const int32_t kBos = 351, kEos = 352, kTool = 353, kToolCall = 354, kThink = 355;
const int32_t kByteC3 = 77, kByteA9 = 78;  // the single-byte tokens "Ã" and "©"

}  // namespace

TEST_CASE("fixture loads with vocab, added tokens and config", "[tokenizer]") {
    const Tokenizer& t = fixture();
    CHECK(t.vocab_size() == 356);
    CHECK(t.bos_id() == kBos);
    CHECK(t.eos_id() == kEos);
    CHECK(t.token_id("hello") == 82);
    CHECK(t.token_id("Ġwor") == 85);
    CHECK(t.token_id("<think>") == kThink);
    CHECK_FALSE(t.token_id("nope").has_value());
    REQUIRE(t.token_string(85));
    CHECK(*t.token_string(85) == "Ġwor");
    CHECK(t.token_string(-1) == nullptr);
    CHECK(t.token_string(356) == nullptr);
    CHECK(t.is_special(kBos));
    CHECK_FALSE(t.is_special(kThink));
}

TEST_CASE("BPE merges by rank, leftmost first", "[tokenizer]") {
    CHECK(enc("hello") == Ids{82});
    CHECK(enc("hello world") == Ids{82, 85, 86});  // hello | Ġwor ld
    CHECK(enc("aaa") == Ids{89, 0});               // aa a: the leftmost pair merges first
    CHECK(enc("Hello, World!") == Ids{33, 4, 79, 14, 68, 73, 48, 84, 86, 65});
    // Repeated words come from the cache with the same result.
    for (int i = 0; i < 3; ++i) CHECK(enc("hello hello") == Ids{82, 73, 82});  // hello | Ġ hello (no "Ġ h" merge)
}

TEST_CASE("DeepSeek pre-tokenizer: digits in threes, whitespace lookahead, newlines", "[tokenizer]") {
    CHECK(enc("12345") == Ids{88, 55, 56, 57});             // 123 | 45, then "1 2" merges
    CHECK(enc("a   b") == Ids{0, 87, 73, 1});               // a | ĠĠ (\s+(?!\S)) | Ġb
    CHECK(enc("the\n\nend") == Ids{19, 80, 93, 4, 13, 3});  // t he | ĊĊ | e n d
    CHECK(enc("\tindent\r\n") == Ids{75, 8, 13, 3, 4, 13, 19, 76, 74});
}

TEST_CASE("added tokens are atomic and longest-first", "[tokenizer]") {
    CHECK(enc("<|bos|>hi<think>x<|eos|>") == Ids{kBos, 7, 8, kThink, 23, kEos});
    CHECK(enc("<tool_call><tool>") == Ids{kToolCall, kTool});
    // Without special parsing the same text is ordinary text.
    const Ids plain = enc("<|bos|>hi", false);
    for (int32_t id : plain) CHECK(id < kBos);
    CHECK(dec(plain) == "<|bos|>hi");
    // BOS on request.
    CHECK(fixture().encode("hi", true, true) == Ids{kBos, 7, 8});
}

TEST_CASE("bytes missing from the vocab fall back to <0xXX> tokens", "[tokenizer]") {
    // U+1F600 is F0 9F 98 80; none of those bytes is in the vocab, so each byte's stand-in
    // character (U+00F0, U+0141, U+013A, U+0122) is written as its UTF-8 bytes.
    const Ids emoji = {290, 271, 292, 224, 291, 281, 291, 257};
    CHECK(enc("😀") == emoji);
    CHECK(dec(emoji) == "😀");
    CHECK(enc("é") == Ids{94});
    CHECK(enc("x\xC2\x85y") == Ids{23, 290, 225, 291, 262, 24});
}

TEST_CASE("decode restores the text and can skip special tokens", "[tokenizer]") {
    for (const char* s : {"hello world", "a   b", "\tindent\r\n", "12345", "<|bos|>hi<think>x<|eos|>", "é😀x"}) {
        INFO(s);
        CHECK(dec(enc(s)) == s);
    }
    CHECK(dec(enc("<|bos|>hi<think>x<|eos|>"), true) == "hi<think>x");
    std::string msg;
    CHECK(status_of([] { dec({0, 999}); }, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("999") != std::string::npos);
}

TEST_CASE("streaming decode never releases a broken UTF-8 sequence", "[tokenizer][stream]") {
    dsv4::text::StreamDecoder d(fixture(), false);
    CHECK(d.feed(kByteC3).empty());  // first byte of é: held back
    CHECK(d.feed(kByteA9) == "é");
    const Ids emoji = {290, 271, 292, 224, 291, 281, 291, 257};
    for (size_t i = 0; i + 1 < emoji.size(); ++i) CHECK(d.feed(emoji[i]).empty());
    CHECK(d.feed(emoji.back()) == "😀");
    CHECK(d.feed(82) == "hello");
    // An unfinished character at the end becomes U+FFFD on flush.
    CHECK(d.feed(kByteC3).empty());
    CHECK(d.flush() == "\xEF\xBF\xBD");
    CHECK(d.flush().empty());
    // A byte that can never start a character is replaced at once: Ã then "h" is invalid.
    CHECK(d.feed(kByteC3).empty());
    CHECK(d.feed(7) == "\xEF\xBF\xBDh");
}

TEST_CASE("invalid UTF-8 input is an error naming the byte offset", "[tokenizer]") {
    std::string msg;
    CHECK(status_of([] { enc("ab\xC3("); }, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("byte offset 2") != std::string::npos);
    CHECK(status_of([] { enc("\xFF"); }, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("byte offset 0") != std::string::npos);
    CHECK(status_of([] { enc("abc\xE2\x82"); }, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("byte offset 3") != std::string::npos);
    CHECK(status_of([] { enc("\xED\xA0\x80"); }) == DSV4_STATUS_INVALID_ARGUMENT);  // a surrogate
    CHECK(status_of([] { enc("\xC0\xAF"); }) == DSV4_STATUS_INVALID_ARGUMENT);      // overlong
}

TEST_CASE("regexes follow Oniguruma: \\s is White_Space", "[tokenizer][regex]") {
    CHECK(dsv4::text::onig_to_pcre2("\\s+(?!\\S)|[\\s\\\\s]") ==
          "\\p{White_Space}+(?!\\P{White_Space})|[\\p{White_Space}\\\\s]");
    dsv4::text::Regex ws("\\s+");
    std::vector<std::pair<size_t, size_t>> m;
    // U+0085 is White_Space, U+180E (Mongolian vowel separator) is not.
    ws.find_all(
        "a\xC2\x85"
        "b\xE1\xA0\x8E"
        "c",
        m);
    REQUIRE(m.size() == 1);
    CHECK(m[0] == std::make_pair(size_t(1), size_t(3)));
    std::string msg;
    CHECK(status_of([] { dsv4::text::Regex bad("(unclosed"); }, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("(unclosed") != std::string::npos);
}

TEST_CASE("Split behaviors", "[tokenizer][pretokenizer]") {
    auto split = [](const char* behavior) {
        auto p = dsv4::text::PreTokenizer::from_json(
            {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", false}});
        std::vector<std::string> pieces = {"a-b--c"};
        p->split(pieces);
        return pieces;
    };
    using V = std::vector<std::string>;
    CHECK(split("Isolated") == V{"a", "-", "b", "-", "-", "c"});
    CHECK(split("Removed") == V{"a", "b", "c"});
    CHECK(split("MergedWithPrevious") == V{"a-", "b-", "-", "c"});
    CHECK(split("MergedWithNext") == V{"a", "-b", "-", "-c"});
    CHECK(split("Contiguous") == V{"a", "-", "b", "--", "c"});
    CHECK(status_of([] { dsv4::text::PreTokenizer::from_json({{"type", "Metaspace"}}); }) == DSV4_STATUS_UNSUPPORTED);
}

TEST_CASE("tokenizer files that cannot be used fail clearly", "[tokenizer]") {
    std::string msg;
    CHECK(status_of([] { Tokenizer::from_file("/nonexistent/tokenizer.json"); }, &msg) == DSV4_STATUS_IO);
    CHECK(msg.find("/nonexistent/tokenizer.json") != std::string::npos);
    CHECK(status_of([] { Tokenizer::from_json("{", "", "t.json"); }) == DSV4_STATUS_FORMAT);
    const std::string bad_merge = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]},
        "pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}})";
    CHECK(status_of([&] { Tokenizer::from_json(bad_merge, "", "t.json"); }, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("merge 0") != std::string::npos);
    const std::string not_byte_level = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
        "pre_tokenizer": {"type": "Metaspace"}, "decoder": {"type": "ByteLevel"}})";
    CHECK(status_of([&] { Tokenizer::from_json(not_byte_level, "", "t.json"); }) == DSV4_STATUS_UNSUPPORTED);
    // A field of the wrong JSON type (found by fuzz_tokenizer: nlohmann's type error escaped).
    const std::string type_object = R"({"model": {"type": {}, "vocab": {"a": 0}, "merges": []},
        "pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}})";
    CHECK(status_of([&] { Tokenizer::from_json(type_object, "", "t.json"); }, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("t.json") != std::string::npos);
    const std::string special_not_bool = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
        "added_tokens": [{"id": 1, "content": "<s>", "special": "yes"}],
        "pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}})";
    CHECK(status_of([&] { Tokenizer::from_json(special_not_bool, "", "t.json"); }, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("t.json") != std::string::npos);
    // One huge id would size the id tables in gigabytes.
    const std::string huge_id = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 2000000000}, "merges": []},
        "pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}})";
    CHECK(status_of([&] { Tokenizer::from_json(huge_id, "", "t.json"); }, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("2000000000") != std::string::npos);
    const std::string gap_ok = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1000}, "merges": []},
        "pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}})";
    CHECK(Tokenizer::from_json(gap_ok, "", "t.json")->vocab_size() == 1001);
}

TEST_CASE("tokenizer C API", "[tokenizer][capi]") {
    dsv4_tokenizer* tok = nullptr;
    CHECK(dsv4_tokenizer_open(nullptr, &tok) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("tokenizer_json_path") != std::string::npos);
    CHECK(dsv4_tokenizer_open("/nonexistent.json", &tok) == DSV4_STATUS_IO);
    CHECK(tok == nullptr);
    REQUIRE(dsv4_tokenizer_open_dir((std::string(DSV4_SOURCE_DIR) + "/tests/data/tokenizer_fixture").c_str(), &tok) ==
            DSV4_STATUS_OK);
    CHECK(dsv4_tokenizer_vocab_size(tok) == 356);
    CHECK(dsv4_tokenizer_bos(tok) == kBos);
    CHECK(dsv4_tokenizer_eos(tok) == kEos);
    CHECK(dsv4_tokenizer_is_special(tok, kEos));
    CHECK(std::string(dsv4_tokenizer_token_string(tok, 82)) == "hello");
    CHECK(dsv4_tokenizer_token_string(tok, 100000) == nullptr);
    int32_t id = -1;
    REQUIRE(dsv4_tokenizer_token_id(tok, "<think>", &id) == DSV4_STATUS_OK);
    CHECK(id == kThink);
    CHECK(dsv4_tokenizer_token_id(tok, "<nope>", &id) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("<nope>") != std::string::npos);

    const std::string text = "<|bos|>hello world";
    int32_t* ids = nullptr;
    size_t n = 0;
    REQUIRE(dsv4_tokenizer_encode(tok, text.data(), text.size(), DSV4_TOKENIZE_PARSE_SPECIAL, &ids, &n) ==
            DSV4_STATUS_OK);
    CHECK(Ids(ids, ids + n) == Ids{kBos, 82, 85, 86});
    char* out = nullptr;
    size_t len = 0;
    REQUIRE(dsv4_tokenizer_decode(tok, ids, n, DSV4_DETOKENIZE_SKIP_SPECIAL, &out, &len) == DSV4_STATUS_OK);
    CHECK(std::string(out, len) == "hello world");
    dsv4_string_free(out);
    dsv4_tokens_free(ids);

    REQUIRE(dsv4_tokenizer_encode(tok, "", 0, DSV4_TOKENIZE_ADD_BOS, &ids, &n) == DSV4_STATUS_OK);
    CHECK(Ids(ids, ids + n) == Ids{kBos});
    dsv4_tokens_free(ids);
    CHECK(dsv4_tokenizer_encode(tok, "a\xFF", 2, 0, &ids, &n) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("offset 1") != std::string::npos);
    CHECK(dsv4_tokenizer_encode(tok, "a", 1, 0x80, &ids, &n) == DSV4_STATUS_INVALID_ARGUMENT);
    const int32_t bad[] = {82, -5};
    CHECK(dsv4_tokenizer_decode(tok, bad, 2, 0, &out, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("tokens[1]") != std::string::npos);

    dsv4_detokenizer* d = nullptr;
    REQUIRE(dsv4_detokenizer_create(tok, 0, &d) == DSV4_STATUS_OK);
    const char* piece = nullptr;
    REQUIRE(dsv4_detokenizer_feed(d, kByteC3, &piece, &len) == DSV4_STATUS_OK);
    CHECK(len == 0);
    REQUIRE(dsv4_detokenizer_feed(d, kByteA9, &piece, &len) == DSV4_STATUS_OK);
    CHECK(std::string(piece, len) == "é");
    CHECK(dsv4_detokenizer_feed(d, 9999, &piece, &len) == DSV4_STATUS_INVALID_ARGUMENT);
    REQUIRE(dsv4_detokenizer_flush(d, &piece, &len) == DSV4_STATUS_OK);
    CHECK(len == 0);
    dsv4_detokenizer_free(d);
    dsv4_detokenizer_free(nullptr);
    dsv4_tokenizer_free(tok);
    dsv4_tokenizer_free(nullptr);
}
