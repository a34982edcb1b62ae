// Lines from stdin for `dsv4 chat`, read with read(2) so that Ctrl-C at the prompt is seen
// (the interrupted read returns EINTR) instead of being retried invisibly by stdio.
#pragma once

#include <string>

namespace cli {

class LineReader {
public:
    enum class Result { Line, Interrupted, End };
    // A line without its "\n" (a last line without one counts too).
    Result read_line(std::string* line);

private:
    std::string buffer_;
    bool eof_ = false;
};

}  // namespace cli
