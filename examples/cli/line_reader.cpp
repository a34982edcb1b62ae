#include "line_reader.h"

#include <cerrno>
#include <unistd.h>

namespace cli {

LineReader::Result LineReader::read_line(std::string* line) {
    for (;;) {
        const size_t nl = buffer_.find('\n');
        if (nl != std::string::npos) {
            line->assign(buffer_, 0, nl);
            buffer_.erase(0, nl + 1);
            return Result::Line;
        }
        if (eof_) {
            if (buffer_.empty()) return Result::End;
            *line = std::move(buffer_);
            buffer_.clear();
            return Result::Line;
        }
        char chunk[4096];
        const ssize_t n = ::read(0, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            buffer_.clear();  // a half-typed line is abandoned with the Ctrl-C
            return Result::Interrupted;
        }
        if (n <= 0)
            eof_ = true;
        else
            buffer_.append(chunk, size_t(n));
    }
}

}  // namespace cli
