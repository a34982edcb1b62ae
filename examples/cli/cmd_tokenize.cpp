// dsv4 tokenize --tokenizer FILE: UTF-8 text on stdin -> a JSON array of token ids on stdout.
// With --json-lines every stdin line is a JSON string and every output line its ids (many texts,
// one tokenizer load).
#include <cstdio>
#include <sstream>
#include <string>

#include <dsv4/dsv4.h>
#include <nlohmann/json.hpp>

#include "command.h"
#include "stdin_text.h"

namespace {

int run(const cli::Args& args) {
    cli::Flags flags(args);
    const std::string file = flags.get("--tokenizer", "", "-t");
    const std::string model_dir = flags.get("--model", "", "-m");
    const bool add_bos = flags.has("--bos");
    const bool plain = flags.has("--no-special");
    const bool json_lines = flags.has("--json-lines");
    if (!flags.unknown().empty()) return cli::fail("tokenize: unknown option " + flags.unknown()[0]);
    if (file.empty() == model_dir.empty() || !flags.positional().empty())
        return cli::fail(
            "tokenize: usage: dsv4 tokenize (--tokenizer tokenizer.json | --model DIR) [--bos] "
            "[--no-special] [--json-lines] < text");

    dsv4_tokenizer* tok = nullptr;
    dsv4_status st =
        file.empty() ? dsv4_tokenizer_open_dir(model_dir.c_str(), &tok) : dsv4_tokenizer_open(file.c_str(), &tok);
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot open tokenizer", st);

    const uint32_t flags_mask =
        (plain ? 0u : uint32_t(DSV4_TOKENIZE_PARSE_SPECIAL)) | (add_bos ? uint32_t(DSV4_TOKENIZE_ADD_BOS) : 0u);
    auto encode = [&](const std::string& text, std::string& out) {
        int32_t* ids = nullptr;
        size_t n = 0;
        const dsv4_status st = dsv4_tokenizer_encode(tok, text.data(), text.size(), flags_mask, &ids, &n);
        if (st != DSV4_STATUS_OK) return st;
        out += '[';
        for (size_t i = 0; i < n; ++i) {
            if (i) out += ',';
            out += std::to_string(ids[i]);
        }
        out += "]\n";
        dsv4_tokens_free(ids);
        return DSV4_STATUS_OK;
    };

    const std::string input = cli::read_stdin();
    std::string out;
    if (json_lines) {
        std::istringstream lines(input);
        std::string line;
        size_t line_no = 0;
        while (std::getline(lines, line)) {
            ++line_no;
            const auto j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_discarded() || !j.is_string()) {
                dsv4_tokenizer_free(tok);
                return cli::fail("tokenize: stdin line " + std::to_string(line_no) + " is not a JSON string");
            }
            st = encode(j.get<std::string>(), out);
            if (st != DSV4_STATUS_OK) break;
        }
    } else {
        st = encode(input, out);
    }
    dsv4_tokenizer_free(tok);
    if (st != DSV4_STATUS_OK) return cli::fail_status("tokenize", st);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : cli::fail("tokenize: cannot write stdout");
}

const bool registered = cli::register_command(
    {"tokenize", "encode UTF-8 text (stdin) into token ids (a JSON array)", run,
     "usage: dsv4 tokenize (-t tokenizer.json | -m DIR) [options] < text\n"
     "  -t, --tokenizer FILE   the tokenizer.json to use\n"
     "  -m, --model DIR        or the one in a checkpoint directory\n"
     "  --bos                  start with the BOS token\n"
     "  --no-special           special tokens in the text are plain text\n"
     "  --json-lines           one JSON string per input line, one array of ids per output line\n"});

}  // namespace
