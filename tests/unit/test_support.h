// Helpers shared by the unit tests: conformance paths, temp dirs, running the CLI.
#pragma once

#include <string>
#include <vector>

namespace testing_support {

// DSV4_CONFORMANCE_DIR; throws (fails the test) when the folder is missing.
std::string conformance_dir();
// Every golden/NAME directory (sorted); fails the test when there is none.
std::vector<std::string> golden_dirs();

// A fresh empty directory under the build tree, removed on destruction.
class TempDir {
public:
    explicit TempDir(const std::string& tag);
    ~TempDir();
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);
void copy_file(const std::string& from, const std::string& to);

struct RunResult {
    bool exited = false;  // false: killed by a signal
    int exit_code = -1;
    std::string out;      // stdout
    std::string err;      // stderr
};
// Runs the dsv4 CLI with `args` (shell-quoted by the caller) and `stdin_text`.
RunResult run_cli(const std::string& args, const std::string& stdin_text = "");

}  // namespace testing_support
