#include "interrupt.h"

#include <atomic>
#include <csignal>

namespace cli {

namespace {

// Lock-free, hence safe to touch from a signal handler.
std::atomic<int> g_interrupts{0};
static_assert(std::atomic<int>::is_always_lock_free, "the SIGINT counter must be lock-free");

extern "C" void on_sigint(int) {
    g_interrupts.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void install_interrupt_handler() {
    struct sigaction sa = {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
}

int interrupts() {
    return g_interrupts.load(std::memory_order_relaxed);
}

void clear_interrupts() {
    g_interrupts.store(0, std::memory_order_relaxed);
}

bool abort_on_interrupt(void*) {
    return interrupts() > 0;
}

}  // namespace cli
