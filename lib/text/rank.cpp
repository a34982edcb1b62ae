#include "text/rank.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace dsv4::text {

namespace {

// A key whose unsigned order is the logits' descending order: the IEEE bits
// made monotonic (negative values flipped, positive ones offset past them),
// then inverted. -0 is taken as +0 so the two tie, as they compare equal.
uint32_t descending_key(float v) {
    if (v == 0.0f) v = 0.0f;
    uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    const uint32_t ascending = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
    return ~ascending;
}

}  // namespace

void rank_by_logit(const float* logits, std::vector<int32_t>& ids) {
    const size_t n = ids.size();
    if (n < 1024) {
        std::stable_sort(ids.begin(), ids.end(),
                         [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
        return;
    }
    // LSD radix sort, digits of 11, 11 and 10 bits; each pass is stable, so
    // equal keys keep the ascending ids they came in with.
    thread_local std::vector<uint32_t> keys, keys_tmp;
    thread_local std::vector<int32_t> ids_tmp;
    keys.resize(n);
    keys_tmp.resize(n);
    ids_tmp.resize(n);
    for (size_t i = 0; i < n; ++i) keys[i] = descending_key(logits[size_t(ids[i])]);
    constexpr int kShift[3] = {0, 11, 22};
    for (int pass = 0; pass < 3; ++pass) {
        const int shift = kShift[pass];
        std::array<size_t, 2048> start{};
        for (size_t i = 0; i < n; ++i) ++start[(keys[i] >> shift) & 2047u];
        // A digit all keys share moves nothing.
        if (std::find(start.begin(), start.end(), n) != start.end()) continue;
        size_t sum = 0;
        for (size_t& c : start) {
            const size_t count = c;
            c = sum;
            sum += count;
        }
        for (size_t i = 0; i < n; ++i) {
            const size_t to = start[(keys[i] >> shift) & 2047u]++;
            keys_tmp[to] = keys[i];
            ids_tmp[to] = ids[i];
        }
        keys.swap(keys_tmp);
        ids.swap(ids_tmp);
    }
}

}  // namespace dsv4::text
