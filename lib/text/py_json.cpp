#include "text/py_json.h"

#include <limits>

namespace dsv4::text {

namespace {

void dump(const ojson& v, std::string& out) {
    switch (v.type()) {
        case ojson::value_t::object: {
            out += '{';
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                if (!first) out += ", ";
                first = false;
                out += ojson(it.key()).dump();
                out += ": ";
                dump(it.value(), out);
            }
            out += '}';
            break;
        }
        case ojson::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v) {
                if (!first) out += ", ";
                first = false;
                dump(e, out);
            }
            out += ']';
            break;
        }
        case ojson::value_t::number_float: {
            // Python writes non-finite floats as NaN / Infinity; nlohmann would write null.
            const double d = v.get<double>();
            if (d != d)
                out += "NaN";
            else if (d == std::numeric_limits<double>::infinity())
                out += "Infinity";
            else if (d == -std::numeric_limits<double>::infinity())
                out += "-Infinity";
            else
                out += v.dump();  // shortest round-trip form, same exponent rules as Python's repr
            break;
        }
        default:
            // Strings: the same escapes as Python (\" \\ \b \f \n \r \t, other controls as \u00xx).
            out += v.dump(-1, ' ', false, ojson::error_handler_t::strict);
    }
}

}  // namespace

std::string python_json_dumps(const ojson& value) {
    std::string out;
    dump(value, out);
    return out;
}

}  // namespace dsv4::text
