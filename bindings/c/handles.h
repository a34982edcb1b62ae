// The structs behind the opaque handles of dsv4.h.
#pragma once

#include <memory>

#include "dsv4/dsv4.h"
#include "handles_text.h"
#include "model.h"

struct dsv4_model {
    // Shared with the model's sessions: closing the handle while sessions
    // remain only drops this reference; the last session frees the model.
    std::shared_ptr<dsv4::Model> model;
    std::unique_ptr<dsv4_tokenizer> tokenizer;  // MODEL_DIR/tokenizer.json, when present
};

#include "session.h"

struct dsv4_session {
    std::shared_ptr<dsv4::Model> model;  // declared first: outlives the session
    std::unique_ptr<dsv4::Session> session;
};
