// A child process with pipes on stdin, stdout and stderr, for tests that talk to an interactive
// program (dsv4 chat) and signal it while it runs.
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace testing_support {

class ChildProcess {
public:
    // Starts `program` with `args` (no shell).
    ChildProcess(const std::string& program, const std::vector<std::string>& args);
    ~ChildProcess();  // kills the child if it still runs

    void write_stdin(const std::string& text);
    void close_stdin();
    void signal(int sig);
    // Collects output until `done(out, err)` holds; false on timeout or when the child closed
    // both streams first.
    bool wait_for(const std::function<bool(const std::string& out, const std::string& err)>& done, double timeout_s);
    // Waits for the exit (collecting output meanwhile); false on timeout. *code: the exit
    // status, or 128 + the signal that killed it.
    bool wait_exit(double timeout_s, int* code);

    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

private:
    void pump(int timeout_ms);
    pid_t pid_ = -1;
    int in_ = -1, out_fd_ = -1, err_fd_ = -1;
    std::string out_, err_;
    bool exited_ = false;
};

}  // namespace testing_support
