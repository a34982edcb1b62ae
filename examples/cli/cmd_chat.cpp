// dsv4 chat: an interactive multi-turn conversation on stdin/stdout in the DeepSeek-V4 chat format.
// Each turn re-renders the conversation (dsv4_chat_encode) and feeds only what the session does not
// hold yet. Ctrl-C stops the answer being written; a second Ctrl-C at the prompt, or end of input,
// quits.
#include <cstdio>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include <dsv4/dsv4.h>

#include "chat_conversation.h"
#include "command.h"
#include "default_model.h"
#include "engine.h"
#include "interrupt.h"
#include "line_reader.h"
#include "sampling_flags.h"
#include "spec_flags.h"
#include "token_list.h"

namespace {

const char* const kUsage =
    "usage: dsv4 chat [-m MODEL] [--thinking] [--system TEXT] [options]\n"
    "  -m, --model DIR        checkpoint directory with tokenizer.json (default: the embedded model)\n"
    "  --thinking             the model reasons before it answers\n"
    "  --system TEXT          a system message that starts the conversation\n"
    "  -n, --max-tokens N     tokens per answer at most; 0: until EOS (default 0)\n"
    "  --ctx N                context size in tokens (default 4096)\n"
    "  --backend NAME         compute backend (cpu, reference)\n"
    "  --threads N            worker threads (default: one per core)\n"
    "  --ignore-eos           answers end only at --max-tokens, a full context or Ctrl-C\n"
    "  --verbose              per turn on stderr: prompt tokens, tokens reused, finish reason\n";

struct SamplerFree {
    void operator()(dsv4_sampler* s) const { dsv4_sampler_free(s); }
};

struct Answer {
    std::string text;
    std::vector<int32_t> sampled;
};

bool on_step(const dsv4_generate_step* step, void* user_data) {
    auto* a = static_cast<Answer*>(user_data);
    if (step->token >= 0) a->sampled.push_back(step->token);
    a->text.append(step->text, step->text_len);
    std::fwrite(step->text, 1, step->text_len, stdout);
    std::fflush(stdout);
    return cli::interrupts() == 0;
}

// The ids of the next prompt. When its text extends the text the session holds, the held ids are
// kept as they are (the model's own tokens, which re-encoding the text need not reproduce) and only
// the new text is encoded; otherwise the whole prompt is.
dsv4_status prompt_ids(const cli::Engine& engine, const std::string& prompt, const std::string& held_text,
                       std::vector<int32_t>* ids) {
    if (held_text.empty() || prompt.compare(0, held_text.size(), held_text) != 0)
        return engine.encode(prompt, DSV4_TOKENIZE_PARSE_SPECIAL, ids);
    std::vector<int32_t> rest;
    const dsv4_status st = engine.encode(prompt.substr(held_text.size()), DSV4_TOKENIZE_PARSE_SPECIAL, &rest);
    if (st != DSV4_STATUS_OK) return st;
    *ids = engine.held();
    ids->insert(ids->end(), rest.begin(), rest.end());
    return DSV4_STATUS_OK;
}

int run(const cli::Args& args) {
    cli::Flags flags(args);
    const std::string model_flag = flags.get("--model", "", "-m");
    const bool thinking = flags.has("--thinking");
    const std::string system = flags.get("--system");
    const long long max_tokens = flags.get_int("--max-tokens", 0, "-n");
    const bool verbose = flags.has("--verbose");
    const bool ignore_eos = flags.has("--ignore-eos");
    cli::EngineOptions eo;
    eo.n_ctx = uint64_t(flags.get_int("--ctx", 0));
    eo.backend = flags.get("--backend");
    eo.n_threads = int(flags.get_int("--threads", 0));
    dsv4_sampler_params sp = cli::sampler_params_from_flags(flags);
    dsv4_generate_params spec;
    dsv4_generate_params_init(&spec);
    const std::string spec_error = cli::apply_spec_flags(flags, spec);
    if (flags.has("--help") || flags.has("-h")) {
        std::printf("%s%s%s", kUsage, cli::kSpecUsage, cli::kSamplingUsage);
        return 0;
    }
    if (!flags.unknown().empty()) return cli::fail("chat: unknown option " + flags.unknown()[0] + "\n" + kUsage);
    if (!flags.positional().empty())
        return cli::fail("chat: unexpected argument " + flags.positional()[0] + "\n" + kUsage);
    if (max_tokens < 0) return cli::fail("chat: --max-tokens must be >= 0");
    if (!spec_error.empty()) return cli::fail("chat: " + spec_error);
    eo.model_dir = cli::model_dir_or_default(model_flag);

    cli::install_interrupt_handler();
    cli::Engine engine;
    if (int rc = engine.open(eo)) return rc;
    if (!engine.tokenizer()) return cli::fail("chat: " + eo.model_dir + " has no tokenizer.json");
    // Validated once up front so that a bad option fails before the first question.
    dsv4_sampler* probe = nullptr;
    if (dsv4_status st = dsv4_sampler_create(&sp, &probe)) return cli::fail_status("chat: bad sampling options", st);
    dsv4_sampler_free(probe);

    const bool interactive = ::isatty(0);
    cli::Conversation conv(thinking ? DSV4_CHAT_MODE_THINKING : DSV4_CHAT_MODE_CHAT, system);
    cli::LineReader reader;
    bool quit_armed = false;  // the next Ctrl-C at the prompt quits
    std::string held_text;    // the text of the ids the session holds, when known
    const uint64_t seed = sp.seed;
    uint64_t turn = 0;  // questions answered (or attempted)
    for (;;) {
        if (interactive) {
            std::printf("> ");
            std::fflush(stdout);
        }
        std::string line;
        // A Ctrl-C that came after the answer but before the read counts as one at the prompt.
        const auto got = cli::interrupts() ? cli::LineReader::Result::Interrupted : reader.read_line(&line);
        if (got == cli::LineReader::Result::End) break;
        if (got == cli::LineReader::Result::Interrupted) {
            cli::clear_interrupts();
            if (quit_armed) break;
            quit_armed = true;
            std::fprintf(stderr, "\n(Ctrl-C again or Ctrl-D to quit)\n");
            continue;
        }
        quit_armed = false;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;

        ++turn;
        conv.add_user(line);
        std::string prompt;
        std::vector<int32_t> ids;
        dsv4_status st = conv.prompt(&prompt);
        if (st == DSV4_STATUS_OK) st = prompt_ids(engine, prompt, held_text, &ids);
        if (st != DSV4_STATUS_OK) {
            conv.pop();
            cli::fail_status("chat: cannot build the prompt", st);
            continue;
        }
        held_text.clear();
        st = engine.feed(ids);
        if (st != DSV4_STATUS_OK) {
            conv.pop();
            cli::clear_interrupts();
            if (st == DSV4_STATUS_CANCELLED) {
                quit_armed = true;
                std::fprintf(stderr, "\n(interrupted)\n");
            } else {
                cli::fail_status("chat: cannot feed the prompt", st);
            }
            continue;
        }
        const size_t reused = engine.reused();

        // A fresh random stream per turn: the same seed replays the same conversation.
        sp.seed = seed + turn - 1;
        dsv4_sampler* raw = nullptr;
        if (dsv4_status sst = dsv4_sampler_create(&sp, &raw))
            return cli::fail_status("chat: bad sampling options", sst);
        std::unique_ptr<dsv4_sampler, SamplerFree> sampler(raw);
        dsv4_generate_params gp;
        dsv4_generate_params_init(&gp);
        gp.max_tokens = uint64_t(max_tokens);
        gp.stop_at_eos = !ignore_eos;
        gp.speculative = spec.speculative;
        gp.spec_adaptive = spec.spec_adaptive;
        gp.n_draft = spec.n_draft;
        gp.prompt_tokens = ids.data();
        gp.n_prompt_tokens = ids.size();
        Answer answer;
        dsv4_generate_result result;
        result.struct_size = sizeof result;
        st = dsv4_generate(engine.session(), engine.tokenizer(), sampler.get(), &gp, on_step, &answer, &result);
        std::printf("\n");
        std::fflush(stdout);
        engine.note_generated(answer.sampled);
        if (st != DSV4_STATUS_OK) {
            cli::fail_status("chat: generation failed", st);
            result.finish = DSV4_FINISH_CANCELLED;
        }
        if (result.finish == DSV4_FINISH_CANCELLED) {
            cli::clear_interrupts();
            quit_armed = true;
            std::fprintf(stderr, "(interrupted)\n");
        }
        // The session now holds the prompt and the answer but its last token. A stop token adds no
        // text; any other last token is fed too, so that the session holds exactly the text shown.
        bool holds_answer = result.finish == DSV4_FINISH_STOP_TOKEN;
        if (!holds_answer && !answer.sampled.empty()) {
            std::vector<int32_t> all = engine.held();
            all.push_back(answer.sampled.back());
            // A Ctrl-C here cancels this feed and stays counted: it is then one at the prompt.
            holds_answer = engine.feed(all) == DSV4_STATUS_OK;
        }
        if (holds_answer) held_text = prompt + answer.text;
        if (verbose)
            std::fprintf(stderr, "[turn %llu: %zu prompt tokens, %zu reused, %llu generated, finish: %s]\n",
                         (unsigned long long)turn, ids.size(), reused, (unsigned long long)result.n_generated,
                         cli::finish_reason_name(result.finish));
        conv.add_answer(answer.text, result.finish == DSV4_FINISH_STOP_TOKEN);
        if (result.finish == DSV4_FINISH_CONTEXT_FULL) {
            std::fprintf(stderr, "dsv4: the context is full; start a new chat (or use a larger --ctx)\n");
            break;
        }
    }
    if (interactive) std::printf("\n");
    return 0;
}

const bool registered = cli::register_command({"chat", "talk with the model (interactive, multi-turn)", run});

}  // namespace
