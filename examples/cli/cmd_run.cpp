// dsv4 run: raw completion. Prints the prompt, then streams the model's continuation to stdout.
// Models without a tokenizer take the prompt as ids (--tokens) and print ids.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <dsv4/dsv4.h>

#include "command.h"
#include "default_model.h"
#include "engine.h"
#include "interrupt.h"
#include "sampling_flags.h"
#include "spec_flags.h"
#include "token_list.h"

namespace {

const char* const kUsage =
    "usage: dsv4 run [-m MODEL] (-p PROMPT | --tokens IDS) [options]\n"
    "  -m, --model DIR        checkpoint directory (default: the embedded model)\n"
    "  -p, --prompt TEXT      prompt text (needs the model's tokenizer.json)\n"
    "  --tokens IDS           prompt as token ids, comma- or space-separated\n"
    "  -n, --max-tokens N     tokens to generate at most; 0: until a stop (default 256)\n"
    "  --stop STR             stop before this text (repeatable)\n"
    "  --ignore-eos           do not stop at the model's EOS token\n"
    "  --no-special           special tokens are neither parsed from the prompt nor printed\n"
    "  --no-bos               do not start a text prompt with the BOS token\n"
    "  --ids                  print token ids instead of text (the default without a tokenizer)\n"
    "  --ctx N                context size in tokens (default 4096)\n"
    "  --backend NAME         compute backend (cpu, reference)\n"
    "  --threads N            worker threads (default: one per core)\n";

struct SamplerFree {
    void operator()(dsv4_sampler* s) const { dsv4_sampler_free(s); }
};

struct Output {
    bool ids = false;
    std::vector<int32_t> sampled;
};

bool on_step(const dsv4_generate_step* step, void* user_data) {
    auto* out = static_cast<Output*>(user_data);
    if (step->token >= 0) out->sampled.push_back(step->token);
    if (out->ids) {
        if (step->token >= 0) std::printf(" %d", step->token);
    } else {
        std::fwrite(step->text, 1, step->text_len, stdout);
    }
    std::fflush(stdout);
    return cli::interrupts() == 0;
}

int run(const cli::Args& args) {
    cli::Flags flags(args);
    const std::string model_flag = flags.get("--model", "", "-m");
    const std::string prompt = flags.get("--prompt", "", "-p");
    const bool has_prompt = !prompt.empty() || flags.has("-p") || flags.has("--prompt");
    const std::string token_spec = flags.get("--tokens");
    const long long max_tokens = flags.get_int("--max-tokens", 256, "-n");
    const std::vector<std::string> stops = flags.get_all("--stop");
    const bool ignore_eos = flags.has("--ignore-eos");
    const bool no_special = flags.has("--no-special");
    const bool no_bos = flags.has("--no-bos");
    bool print_ids = flags.has("--ids");
    dsv4_generate_params spec;
    dsv4_generate_params_init(&spec);
    const std::string spec_error = cli::apply_spec_flags(flags, spec);
    cli::EngineOptions eo;
    eo.n_ctx = uint64_t(flags.get_int("--ctx", 0));
    eo.backend = flags.get("--backend");
    eo.n_threads = int(flags.get_int("--threads", 0));
    const dsv4_sampler_params sp = cli::sampler_params_from_flags(flags);
    if (flags.has("--help") || flags.has("-h")) {
        std::printf("%s%s%s", kUsage, cli::kSpecUsage, cli::kSamplingUsage);
        return 0;
    }
    if (!flags.unknown().empty()) return cli::fail("run: unknown option " + flags.unknown()[0] + "\n" + kUsage);
    if (!flags.positional().empty())
        return cli::fail("run: unexpected argument " + flags.positional()[0] + "\n" + kUsage);
    if (has_prompt == !token_spec.empty())
        return cli::fail(std::string("run: give -p PROMPT or --tokens IDS\n") + kUsage);
    if (max_tokens < 0) return cli::fail("run: --max-tokens must be >= 0");
    if (!spec_error.empty()) return cli::fail("run: " + spec_error);
    eo.model_dir = cli::model_dir_or_default(model_flag);

    cli::install_interrupt_handler();
    cli::Engine engine;
    if (int rc = engine.open(eo)) return rc;
    const dsv4_tokenizer* tok = engine.tokenizer();
    if (!tok) print_ids = true;

    std::vector<int32_t> ids;
    if (!token_spec.empty()) {
        ids = cli::parse_token_list(token_spec, "--tokens");
        if (ids.empty()) return cli::fail("run: --tokens holds no ids");
    } else {
        if (!tok) return cli::fail("run: " + eo.model_dir + " has no tokenizer.json: give the prompt as --tokens IDS");
        const uint32_t f =
            (no_special ? 0u : uint32_t(DSV4_TOKENIZE_PARSE_SPECIAL)) | (no_bos ? 0u : uint32_t(DSV4_TOKENIZE_ADD_BOS));
        if (dsv4_status st = engine.encode(prompt, f, &ids))
            return cli::fail_status("run: cannot encode the prompt", st);
        if (ids.empty()) return cli::fail("run: the prompt encodes to no tokens (use --tokens, or drop --no-bos)");
    }

    dsv4_sampler* raw_sampler = nullptr;
    if (dsv4_status st = dsv4_sampler_create(&sp, &raw_sampler))
        return cli::fail_status("run: bad sampling options", st);
    std::unique_ptr<dsv4_sampler, SamplerFree> sampler(raw_sampler);

    const auto t0 = std::chrono::steady_clock::now();
    if (dsv4_status st = engine.feed(ids)) {
        if (st == DSV4_STATUS_CANCELLED) return 130;
        return cli::fail_status("run: prefill failed", st);
    }
    const auto t1 = std::chrono::steady_clock::now();

    std::vector<const char*> stop_ptrs;
    for (const auto& s : stops) stop_ptrs.push_back(s.c_str());
    dsv4_generate_params gp;
    dsv4_generate_params_init(&gp);
    gp.max_tokens = uint64_t(max_tokens);
    gp.stop_strings = stop_ptrs.data();
    gp.n_stop_strings = stop_ptrs.size();
    gp.stop_at_eos = !ignore_eos;
    gp.skip_special = no_special;
    gp.prompt_tokens = ids.data();
    gp.n_prompt_tokens = ids.size();
    gp.speculative = spec.speculative;
    gp.spec_adaptive = spec.spec_adaptive;
    gp.n_draft = spec.n_draft;
    // A text prompt is printed as given; a prompt of ids is shown through the tokenizer.
    gp.echo = !print_ids && !token_spec.empty();

    Output out;
    out.ids = print_ids;
    if (print_ids) {
        for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
    } else if (!gp.echo) {
        std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    }
    std::fflush(stdout);
    dsv4_generate_result result;
    result.struct_size = sizeof result;
    const dsv4_status st = dsv4_generate(engine.session(), tok, sampler.get(), &gp, on_step, &out, &result);
    std::printf("\n");
    std::fflush(stdout);
    if (st != DSV4_STATUS_OK) return cli::fail_status("run: generation failed", st);
    const auto t2 = std::chrono::steady_clock::now();
    const double prefill_s = std::chrono::duration<double>(t1 - t0).count();
    const double gen_s = std::chrono::duration<double>(t2 - t1).count();
    std::fprintf(stderr, "dsv4: %zu prompt tokens (%.1f tokens/s), %llu generated (%.1f tokens/s), finish: %s\n",
                 ids.size(), prefill_s > 0 ? double(ids.size()) / prefill_s : 0.0,
                 (unsigned long long)result.n_generated, gen_s > 0 ? double(result.n_generated) / gen_s : 0.0,
                 cli::finish_reason_name(result.finish));
    if (result.n_drafted)
        std::fprintf(stderr,
                     "dsv4: speculative: %llu of %llu drafts accepted (%.1f%%), %.2f tokens per pass; %llu of %llu "
                     "passes speculative\n",
                     (unsigned long long)result.n_accepted, (unsigned long long)result.n_drafted,
                     100.0 * double(result.n_accepted) / double(result.n_drafted),
                     result.main_passes ? double(result.n_generated - 1) / double(result.main_passes) : 0.0,
                     (unsigned long long)result.spec_passes, (unsigned long long)result.main_passes);
    return result.finish == DSV4_FINISH_CANCELLED ? 130 : 0;
}

const bool registered = cli::register_command({"run", "complete a prompt, streaming the text to stdout", run});

}  // namespace
