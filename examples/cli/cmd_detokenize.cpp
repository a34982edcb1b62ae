// dsv4 detokenize --tokenizer FILE: a JSON array of token ids on stdin -> the text on stdout.
// With --json-lines every stdin line is an array and every output line the text as a JSON string.
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <dsv4/dsv4.h>
#include <nlohmann/json.hpp>

#include "command.h"
#include "stdin_text.h"

namespace {

int run(const cli::Args& args) {
    cli::Flags flags(args);
    const std::string file = flags.get("--tokenizer", "", "-t");
    const std::string model_dir = flags.get("--model", "", "-m");
    const bool skip_special = flags.has("--skip-special");
    const bool json_lines = flags.has("--json-lines");
    if (!flags.unknown().empty()) return cli::fail("detokenize: unknown option " + flags.unknown()[0]);
    if (file.empty() == model_dir.empty() || !flags.positional().empty())
        return cli::fail(
            "detokenize: usage: dsv4 detokenize (--tokenizer tokenizer.json | --model DIR) "
            "[--skip-special] [--json-lines] < ids.json");

    dsv4_tokenizer* tok = nullptr;
    dsv4_status st =
        file.empty() ? dsv4_tokenizer_open_dir(model_dir.c_str(), &tok) : dsv4_tokenizer_open(file.c_str(), &tok);
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot open tokenizer", st);

    std::vector<std::string> inputs;
    const std::string input = cli::read_stdin();
    if (json_lines) {
        std::istringstream lines(input);
        std::string line;
        while (std::getline(lines, line)) inputs.push_back(line);
    } else {
        inputs.push_back(input);
    }
    std::string out;
    for (size_t k = 0; k < inputs.size() && st == DSV4_STATUS_OK; ++k) {
        const auto j = nlohmann::json::parse(inputs[k], nullptr, false);
        std::vector<int32_t> ids;
        bool ok = j.is_array();
        if (ok)
            for (const auto& v : j) {
                if (!v.is_number_integer())
                    ok = false;
                else
                    ids.push_back(v.get<int32_t>());
            }
        if (!ok) {
            dsv4_tokenizer_free(tok);
            return cli::fail("detokenize: input " + std::to_string(k + 1) + " is not a JSON array of integers");
        }
        char* text = nullptr;
        size_t len = 0;
        st = dsv4_tokenizer_decode(tok, ids.data(), ids.size(),
                                   skip_special ? uint32_t(DSV4_DETOKENIZE_SKIP_SPECIAL) : 0u, &text, &len);
        if (st != DSV4_STATUS_OK) break;
        const std::string s(text, len);
        dsv4_string_free(text);
        out += json_lines ? nlohmann::json(s).dump() + "\n" : s;
    }
    dsv4_tokenizer_free(tok);
    if (st != DSV4_STATUS_OK) return cli::fail_status("detokenize", st);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : cli::fail("detokenize: cannot write stdout");
}

const bool registered = cli::register_command(
    {"detokenize", "decode token ids (a JSON array on stdin) into text", run,
     "usage: dsv4 detokenize (-t tokenizer.json | -m DIR) [options] < ids.json\n"
     "  -t, --tokenizer FILE   the tokenizer.json to use\n"
     "  -m, --model DIR        or the one in a checkpoint directory\n"
     "  --skip-special         leave special tokens out of the text\n"
     "  --json-lines           one JSON array per input line, one JSON string per output line\n"});

}  // namespace
