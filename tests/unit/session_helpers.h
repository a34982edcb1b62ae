// Shared fixtures for the session tests: opening a golden checkpoint and
// feeding token sequences through the C API.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dsv4/dsv4.h"

namespace session_testing {

struct ModelDeleter {
    void operator()(dsv4_model* m) const { dsv4_model_close(m); }
};
struct SessionDeleter {
    void operator()(dsv4_session* s) const { dsv4_session_destroy(s); }
};
using ModelPtr = std::unique_ptr<dsv4_model, ModelDeleter>;
using SessionPtr = std::unique_ptr<dsv4_session, SessionDeleter>;

// Opens golden/NAME/model on `backend` (REQUIREs success).
ModelPtr open_golden_model(const std::string& name, const char* backend = "reference");
int vocab_size(dsv4_model* m);
// The golden vector's token ids.
std::vector<int32_t> golden_tokens(const std::string& name);

SessionPtr make_session(dsv4_model* m, uint64_t n_ctx = 0, uint32_t chunk = 0);
SessionPtr make_session(dsv4_model* m, const dsv4_session_params& p);
std::vector<float> logits_of(dsv4_session* s, int vocab);

}  // namespace session_testing
