// Sub-commands of the dsv4 program register themselves here: one file each.
#pragma once

#include <string>
#include <vector>

namespace cli {

using Args = std::vector<std::string>;  // the arguments after the sub-command
using CommandFn = int (*)(const Args& args);

struct Command {
    const char* name;
    const char* summary;
    CommandFn run;
    // Printed for `dsv4 NAME --help` (or -h) by the dispatcher; null where the
    // command answers --help itself.
    const char* usage = nullptr;
};

// Called from static initializers in each command file.
bool register_command(const Command& cmd);
const std::vector<Command>& commands();

// Prints "dsv4: <message>" (and the library's last error when given) to stderr.
int fail(const std::string& message);
int fail_status(const std::string& what, int status);

// Simple flag parsing shared by commands.
struct Flags {
    explicit Flags(const Args& args) : args_(args) {}
    // Value of --name / -n, or `dflt`. Marks the flag as consumed.
    bool has(const std::string& name);
    std::string get(const std::string& name, const std::string& dflt = "", const std::string& alias = "");
    // Every value of a repeatable flag (--stop A --stop B), in order.
    std::vector<std::string> get_all(const std::string& name);
    long long get_int(const std::string& name, long long dflt, const std::string& alias = "");
    double get_double(const std::string& name, double dflt, const std::string& alias = "");
    // Positional arguments (not starting with '-' and not a flag's value).
    std::vector<std::string> positional() const;
    // Arguments that were not consumed, for error reporting.
    std::vector<std::string> unknown() const;

private:
    Args args_;
    std::vector<bool> used_ = std::vector<bool>(args_.size(), false);
};

}  // namespace cli
