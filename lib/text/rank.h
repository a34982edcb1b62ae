// The ranking every sampler choice follows: token ids by logit, highest first,
// the lower id first among equal logits.
#pragma once

#include <cstdint>
#include <vector>

namespace dsv4::text {

// Sorts ids (ascending on entry: that is their order among equal logits) by
// logits[id], highest first; the same order as a comparison sort on (logit
// descending, id ascending), with -0 equal to +0. Logits must not be NaN.
// Linear time (a stable radix sort on the logits' bits, three passes over a
// vocabulary-sized array) for large inputs: a comparison sort of 129280 ids
// took 15 ms, about an eighth of a flash-shape decode step.
void rank_by_logit(const float* logits, std::vector<int32_t>& ids);

}  // namespace dsv4::text
