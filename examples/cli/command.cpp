#include "command.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <dsv4/dsv4.h>

namespace cli {

static std::vector<Command>& registry() {
    static std::vector<Command> r;
    return r;
}

bool register_command(const Command& cmd) {
    registry().push_back(cmd);
    return true;
}

const std::vector<Command>& commands() { return registry(); }

int fail(const std::string& message) {
    std::fprintf(stderr, "dsv4: %s\n", message.c_str());
    return 1;
}

int fail_status(const std::string& what, int status) {
    std::fprintf(stderr, "dsv4: %s: %s: %s\n", what.c_str(), dsv4_status_string(dsv4_status(status)), dsv4_last_error());
    return 1;
}

bool Flags::has(const std::string& name) {
    for (size_t i = 0; i < args_.size(); ++i)
        if (args_[i] == name) {
            used_[i] = true;
            return true;
        }
    return false;
}

std::string Flags::get(const std::string& name, const std::string& dflt, const std::string& alias) {
    for (size_t i = 0; i < args_.size(); ++i) {
        const std::string& a = args_[i];
        if (a == name || (!alias.empty() && a == alias)) {
            if (i + 1 >= args_.size()) throw std::invalid_argument("flag " + a + " needs a value");
            used_[i] = used_[i + 1] = true;
            return args_[i + 1];
        }
        if (a.rfind(name + "=", 0) == 0) {
            used_[i] = true;
            return a.substr(name.size() + 1);
        }
    }
    return dflt;
}

std::vector<std::string> Flags::get_all(const std::string& name) {
    std::vector<std::string> out;
    for (size_t i = 0; i < args_.size(); ++i) {
        const std::string& a = args_[i];
        if (a == name) {
            if (i + 1 >= args_.size()) throw std::invalid_argument("flag " + a + " needs a value");
            used_[i] = used_[i + 1] = true;
            out.push_back(args_[++i]);
        } else if (a.rfind(name + "=", 0) == 0) {
            used_[i] = true;
            out.push_back(a.substr(name.size() + 1));
        }
    }
    return out;
}

long long Flags::get_int(const std::string& name, long long dflt, const std::string& alias) {
    std::string v = get(name, "", alias);
    if (v.empty()) return dflt;
    char* end = nullptr;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (!end || *end) throw std::invalid_argument("flag " + name + " needs an integer, got '" + v + "'");
    return x;
}

double Flags::get_double(const std::string& name, double dflt, const std::string& alias) {
    std::string v = get(name, "", alias);
    if (v.empty()) return dflt;
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (!end || *end) throw std::invalid_argument("flag " + name + " needs a number, got '" + v + "'");
    return x;
}

std::vector<std::string> Flags::positional() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < args_.size(); ++i)
        if (!used_[i] && (args_[i].empty() || args_[i][0] != '-' || args_[i] == "-")) out.push_back(args_[i]);
    return out;
}

std::vector<std::string> Flags::unknown() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < args_.size(); ++i)
        if (!used_[i] && !args_[i].empty() && args_[i][0] == '-' && args_[i] != "-") out.push_back(args_[i]);
    return out;
}

}  // namespace cli
