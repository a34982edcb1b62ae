// The struct behind dsv4_generator.
#pragma once

#include <memory>

#include "dsv4/dsv4.h"
#include "generate/generator.h"
#include "text/sampler.h"

struct dsv4_generator {
    std::unique_ptr<dsv4::text::Sampler> own_sampler;  // the greedy sampler when the caller passed none
    std::unique_ptr<dsv4::generate::Generator> generator;
};
