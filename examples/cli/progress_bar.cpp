#include "progress_bar.h"

#include <cstdio>
#include <unistd.h>

namespace cli {

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), tty_(::isatty(2)) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(uint64_t done, uint64_t total) {
    if (finished_ || total == 0) return;
    const int permille = int(done * 1000 / total);
    if (permille == last_permille_) return;
    last_permille_ = permille;
    const int width = 30, filled = permille * width / 1000;
    std::string bar(size_t(filled), '#');
    bar.resize(size_t(width), '.');
    if (tty_) std::fprintf(stderr, "\r%s [%s] %5.1f%%", label_.c_str(), bar.c_str(), permille / 10.0);
    else if (permille == 1000) std::fprintf(stderr, "%s [%s] 100%%\n", label_.c_str(), bar.c_str());
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (finished_) return;
    finished_ = true;
    if (tty_ && last_permille_ >= 0) std::fprintf(stderr, "\n");
}

bool ProgressBar::callback(uint64_t done, uint64_t total, void* user_data) {
    static_cast<ProgressBar*>(user_data)->update(done, total);
    return true;
}

}  // namespace cli
