// The most threads a model or a measurement may ask for. More is a mistake, not a machine:
// a pool of 100000 threads took minutes to start and left the process unresponsive.
#pragma once

namespace dsv4 {

constexpr int kMaxThreads = 1024;

}  // namespace dsv4
