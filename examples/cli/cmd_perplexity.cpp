// dsv4 perplexity [-m MODEL] --file FILE [--ctx N] [--no-bos] [--max-tokens N]:
// token-level perplexity of a text file. The ids (BOS + the file's tokens) are
// cut into consecutive windows of N tokens; each window starts a fresh session
// and scores the next-token log-probability of every token after its first, so
// the figure is comparable with tools/tinyv4/evaluate.py.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <dsv4/dsv4.h>

#include "command.h"
#include "default_model.h"
#include "progress_bar.h"

namespace {

// log softmax(logits)[target], computed in double for stability.
double log_prob(const float* logits, int n, int32_t target) {
    double mx = logits[0];
    for (int i = 1; i < n; ++i) mx = std::max(mx, double(logits[i]));
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - mx);
    return double(logits[target]) - mx - std::log(sum);
}

int run(const cli::Args& args) {
    cli::Flags flags(args);
    const std::string model_dir = cli::model_dir_or_default(flags.get("--model", "", "-m"));
    const std::string file = flags.get("--file", "", "-f");
    const long long window = flags.get_int("--ctx", 512, "-c");
    const long long max_tokens = flags.get_int("--max-tokens", 0);
    const bool add_bos = !flags.has("--no-bos");
    const std::string backend = flags.get("--backend", "");
    const long long threads = flags.get_int("--threads", 0, "-t");
    if (!flags.unknown().empty()) return cli::fail("perplexity: unknown option " + flags.unknown()[0]);
    if (file.empty()) return cli::fail("perplexity: usage: dsv4 perplexity [-m MODEL] --file FILE [--ctx N]");
    if (window < 2) return cli::fail("perplexity: --ctx must be at least 2");

    std::ifstream in(file, std::ios::binary);
    if (!in) return cli::fail("perplexity: cannot read " + file);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();

    dsv4_tokenizer* tok_raw = nullptr;
    dsv4_status st = dsv4_tokenizer_open_dir(model_dir.c_str(), &tok_raw);
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot load the tokenizer of " + model_dir, st);
    std::unique_ptr<dsv4_tokenizer, decltype(&dsv4_tokenizer_free)> tok(tok_raw, &dsv4_tokenizer_free);
    int32_t* ids_raw = nullptr;
    size_t n_ids = 0;
    st = dsv4_tokenizer_encode(tok.get(), text.data(), text.size(), add_bos ? DSV4_TOKENIZE_ADD_BOS : 0, &ids_raw,
                               &n_ids);
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot tokenize " + file, st);
    std::vector<int32_t> ids(ids_raw, ids_raw + n_ids);
    dsv4_tokens_free(ids_raw);
    if (max_tokens > 0 && ids.size() > size_t(max_tokens)) ids.resize(size_t(max_tokens));

    dsv4_model_params mp;
    dsv4_model_params_init(&mp);
    if (!backend.empty()) mp.backend = backend.c_str();
    mp.n_threads = int(threads);
    dsv4_model* model_raw = nullptr;
    st = dsv4_model_open(model_dir.c_str(), &mp, &model_raw);
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot open " + model_dir, st);
    std::unique_ptr<dsv4_model, decltype(&dsv4_model_close)> model(model_raw, &dsv4_model_close);
    dsv4_model_info info;
    info.struct_size = sizeof info;
    dsv4_model_get_info(model.get(), &info);

    dsv4_session_params sp;
    dsv4_session_params_init(&sp);
    sp.n_ctx = uint64_t(window);
    dsv4_session* sess_raw = nullptr;
    st = dsv4_session_create(model.get(), &sp, &sess_raw);
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot create a session", st);
    std::unique_ptr<dsv4_session, decltype(&dsv4_session_destroy)> session(sess_raw, &dsv4_session_destroy);

    cli::ProgressBar bar("scoring");
    double nll = 0;
    size_t scored = 0;
    for (size_t start = 0; start + 1 < ids.size(); start += size_t(window)) {
        const size_t end = std::min(ids.size(), start + size_t(window));
        if (end - start < 2) break;
        dsv4_session_reset(session.get());
        for (size_t i = start; i + 1 < end; ++i) {
            st = dsv4_decode_step(session.get(), ids[i]);
            if (st != DSV4_STATUS_OK) return cli::fail_status("decode failed", st);
            nll -= log_prob(dsv4_session_logits(session.get()), info.vocab_size, ids[i + 1]);
            ++scored;
        }
        bar.update(end, ids.size());
    }
    bar.finish();
    if (scored == 0) return cli::fail("perplexity: the file has fewer than 2 tokens");
    std::printf("tokens scored: %zu (windows of %lld, %s)\n", scored, window, add_bos ? "BOS first" : "no BOS");
    std::printf("mean nll: %.6f\n", nll / double(scored));
    std::printf("perplexity: %.4f\n", std::exp(nll / double(scored)));
    return 0;
}

const bool registered =
    cli::register_command({"perplexity", "token-level perplexity of a text file (chunked windows)", run,
                           "usage: dsv4 perplexity [-m MODEL] -f FILE [options]\n"
                           "  -m, --model DIR        checkpoint directory (default: the embedded model)\n"
                           "  -f, --file FILE        the text to score\n"
                           "  -c, --ctx N            window length in tokens (default 512)\n"
                           "  --max-tokens N         score the first N tokens only (default 0: all)\n"
                           "  --no-bos               do not start with the BOS token\n"
                           "  --backend NAME         compute backend (cpu, reference)\n"
                           "  -t, --threads N        worker threads (default: one per core)\n"});

}  // namespace
