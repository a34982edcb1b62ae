// The structs behind the text handles of dsv4.h (tokenizer, detokenizer, sampler, stop matcher).
#pragma once

#include <memory>
#include <string>

#include "dsv4/dsv4.h"
#include "text/sampler.h"
#include "text/stop_matcher.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

struct dsv4_tokenizer {
    std::unique_ptr<dsv4::text::Tokenizer> tokenizer;
};

struct dsv4_detokenizer {
    dsv4::text::StreamDecoder decoder;
    std::string last;  // the text returned by the last feed/flush, kept for the caller
};

struct dsv4_sampler {
    dsv4::text::Sampler sampler;
};

struct dsv4_stop_matcher {
    dsv4::text::StopMatcher matcher;
    std::string last;  // the text returned by the last feed/flush, kept for the caller
};
