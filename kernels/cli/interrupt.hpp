// Ctrl-C for the tools. The first SIGINT or SIGTERM sets a flag that the
// engine polls through its cancel callback (between bands of rows and
// between layers, so a frame stops within a fraction of a second) and that
// the tools check between their own steps; they then remove what they were
// writing and exit with 128 + the signal number. A second signal ends the
// process at once. The handler is installed without SA_RESTART, so a read
// blocked on a pipe returns EINTR instead of waiting on.
#pragma once

namespace espcn {

void install_interrupt_handler();

// The signal received (SIGINT, SIGTERM), or 0.
int interrupt_signal();
inline bool interrupted() { return interrupt_signal() != 0; }

// For espcn_params.cancel_callback.
int cancel_on_interrupt(void *opaque);

// 128 + the signal number, as a shell reports a process the signal killed.
inline int interrupted_exit_code() { return 128 + interrupt_signal(); }

}  // namespace espcn
