// A model and one session set up for interactive generation (`dsv4 run`, `dsv4 chat`): loading
// and long prefills show a progress bar when stderr is a terminal, Ctrl-C cancels through the
// session's abort callback, and the ids the session holds are tracked so that a new prompt can
// reuse the part it shares with them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <dsv4/dsv4.h>

#include "progress_bar.h"

namespace cli {

struct EngineOptions {
    std::string model_dir;
    std::string backend;  // "" for the library's default
    int n_threads = 0;
    uint64_t n_ctx = 0;  // 0: the library's default
};

class Engine {
public:
    // Opens the model and a session; returns 0 or prints the error and returns the exit code.
    int open(const EngineOptions& options);
    ~Engine();

    dsv4_model* model() const { return model_; }
    dsv4_session* session() const { return session_; }
    const dsv4_tokenizer* tokenizer() const { return dsv4_model_tokenizer(model_); }
    int vocab_size() const { return vocab_; }

    // Text -> ids with the model's tokenizer (flags: dsv4_tokenize_flags).
    dsv4_status encode(const std::string& text, uint32_t flags, std::vector<int32_t>* ids) const;

    // Makes the session hold exactly `ids`: feeds only what follows the ids it already holds when
    // they are a prefix of `ids`, else starts over. Long feeds draw a progress bar.
    dsv4_status feed(const std::vector<int32_t>& ids);
    // Records what a generation left in the session: `sampled` are the ids it produced, all but the
    // last of which were fed (see dsv4_generator_create).
    void note_generated(const std::vector<int32_t>& sampled);
    const std::vector<int32_t>& held() const { return held_; }
    // How many ids the last feed found already held.
    size_t reused() const { return reused_; }

private:
    static bool on_progress(uint64_t done, uint64_t total, void* self);

    dsv4_model* model_ = nullptr;
    dsv4_session* session_ = nullptr;
    int vocab_ = 0;
    std::vector<int32_t> held_;  // the ids the session holds, in order
    size_t reused_ = 0;
    ProgressBar* bar_ = nullptr;  // the bar of the running feed, if any
};

}  // namespace cli
