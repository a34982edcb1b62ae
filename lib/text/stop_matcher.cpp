#include "text/stop_matcher.h"

#include <algorithm>

#include "error.h"

namespace dsv4::text {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
    for (size_t i = 0; i < stops_.size(); ++i)
        if (stops_[i].empty()) fail(DSV4_STATUS_INVALID_ARGUMENT, "stop string " + std::to_string(i) + " is empty");
}

StopMatcher::Result StopMatcher::feed(std::string_view piece) {
    Result r;
    if (stopped_) {
        r.stopped = true;
        return r;
    }
    held_.append(piece);
    // The earliest complete stop string ends the text.
    size_t first = std::string::npos;
    for (const auto& s : stops_) first = std::min(first, held_.find(s));
    if (first != std::string::npos) {
        r.text = held_.substr(0, first);
        r.stopped = stopped_ = true;
        held_.clear();
        return r;
    }
    // Hold back the longest tail that is the beginning of some stop string.
    size_t hold = 0;
    for (const auto& s : stops_)
        for (size_t k = std::min(s.size() - 1, held_.size()); k > hold; --k)
            if (held_.compare(held_.size() - k, k, s, 0, k) == 0) {
                hold = k;
                break;
            }
    r.text = held_.substr(0, held_.size() - hold);
    held_.erase(0, held_.size() - hold);
    return r;
}

std::string StopMatcher::flush() {
    std::string out = stopped_ ? std::string() : held_;
    held_.clear();
    stopped_ = false;
    return out;
}

}  // namespace dsv4::text
