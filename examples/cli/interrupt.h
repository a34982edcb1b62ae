// Ctrl-C for the interactive commands: SIGINT only raises a flag, which the session's abort
// callback and the streaming callback read, so a running prefill or answer stops cleanly (the
// session stays usable) instead of the process dying.
#pragma once

namespace cli {

// Installs the SIGINT handler (without SA_RESTART, so a blocking read returns EINTR).
void install_interrupt_handler();
// SIGINTs received since the last clear_interrupts().
int interrupts();
void clear_interrupts();

// dsv4_abort_fn: true once a SIGINT arrived. user_data is unused.
bool abort_on_interrupt(void* user_data);

}  // namespace cli
