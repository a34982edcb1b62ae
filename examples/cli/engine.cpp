#include "engine.h"

#include <algorithm>
#include <memory>
#include <unistd.h>

#include "command.h"
#include "interrupt.h"

namespace cli {

namespace {
// Feeds shorter than this finish too fast for a bar to help.
constexpr size_t kBarMinTokens = 512;
}  // namespace

int Engine::open(const EngineOptions& o) {
    dsv4_model_params mp;
    dsv4_model_params_init(&mp);
    if (!o.backend.empty()) mp.backend = o.backend.c_str();
    mp.n_threads = o.n_threads;
    std::unique_ptr<ProgressBar> bar;
    if (::isatty(2)) {
        bar = std::make_unique<ProgressBar>("loading");
        mp.progress = ProgressBar::callback;
        mp.progress_user_data = bar.get();
    }
    dsv4_status st = dsv4_model_open(o.model_dir.c_str(), &mp, &model_);
    if (bar) bar->finish();
    if (st != DSV4_STATUS_OK) return fail_status("cannot open " + o.model_dir, st);
    dsv4_model_info info;
    info.struct_size = sizeof info;
    dsv4_model_get_info(model_, &info);
    vocab_ = info.vocab_size;

    dsv4_session_params sp;
    dsv4_session_params_init(&sp);
    if (o.n_ctx) sp.n_ctx = o.n_ctx;
    sp.abort_callback = abort_on_interrupt;
    sp.progress = on_progress;
    sp.progress_user_data = this;
    st = dsv4_session_create(model_, &sp, &session_);
    if (st != DSV4_STATUS_OK) return fail_status("cannot create a session", st);
    return 0;
}

Engine::~Engine() {
    dsv4_session_destroy(session_);
    dsv4_model_close(model_);
}

dsv4_status Engine::encode(const std::string& text, uint32_t flags, std::vector<int32_t>* ids) const {
    int32_t* p = nullptr;
    size_t n = 0;
    const dsv4_status st = dsv4_tokenizer_encode(tokenizer(), text.data(), text.size(), flags, &p, &n);
    if (st != DSV4_STATUS_OK) return st;
    ids->assign(p, p + n);
    dsv4_tokens_free(p);
    return DSV4_STATUS_OK;
}

bool Engine::on_progress(uint64_t done, uint64_t total, void* self) {
    auto* e = static_cast<Engine*>(self);
    if (e->bar_) e->bar_->update(done, total);
    return true;
}

dsv4_status Engine::feed(const std::vector<int32_t>& ids) {
    const bool extends = held_.size() <= ids.size() && std::equal(held_.begin(), held_.end(), ids.begin());
    if (!extends) {
        const dsv4_status st = dsv4_session_reset(session_);
        if (st != DSV4_STATUS_OK) return st;
        held_.clear();
    }
    const size_t from = held_.size();
    reused_ = from;
    if (from == ids.size()) return DSV4_STATUS_OK;
    std::unique_ptr<ProgressBar> bar;
    if (::isatty(2) && ids.size() - from >= kBarMinTokens) bar = std::make_unique<ProgressBar>("prefill");
    bar_ = bar.get();
    const dsv4_status st = dsv4_session_prefill(session_, ids.data() + from, ids.size() - from);
    bar_ = nullptr;
    if (bar) bar->finish();
    // A cancelled feed keeps the chunks that completed: the position says how many.
    const uint64_t pos = dsv4_session_position(session_);
    held_.assign(ids.begin(), ids.begin() + long(std::min<uint64_t>(pos, ids.size())));
    return st;
}

void Engine::note_generated(const std::vector<int32_t>& sampled) {
    if (!sampled.empty()) held_.insert(held_.end(), sampled.begin(), sampled.end() - 1);
    // Should the bookkeeping ever disagree with the session, the next feed starts over.
    if (held_.size() != dsv4_session_position(session_)) {
        held_.clear();
        dsv4_session_reset(session_);
    }
}

}  // namespace cli
