// A one-line progress bar on stderr, redrawn in place when stderr is a tty.
#pragma once

#include <cstdint>
#include <string>

namespace cli {

class ProgressBar {
public:
    explicit ProgressBar(std::string label);
    ~ProgressBar();
    void update(uint64_t done, uint64_t total);
    void finish();

    // Adapter for dsv4_progress_fn; user_data is a ProgressBar*.
    static bool callback(uint64_t done, uint64_t total, void* user_data);

private:
    std::string label_;
    bool tty_;
    bool finished_ = false;
    int last_permille_ = -1;
};

}  // namespace cli
