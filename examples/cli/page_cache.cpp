#include "page_cache.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cli {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// "Rss:   1234 kB" -> 1234 when the line starts with key.
bool field_kb(const std::string& line, const char* key, double* kb) {
    const size_t n = std::strlen(key);
    if (line.compare(0, n, key) != 0) return false;
    *kb = std::strtod(line.c_str() + n, nullptr);
    return true;
}

// `path` if it is a file, else the *.safetensors files in the folder.
bool checkpoint_files(const std::string& path, std::vector<std::string>* files, std::string* error) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        for (const auto& e : fs::directory_iterator(path, ec))
            if (e.is_regular_file(ec) && e.path().extension() == ".safetensors") files->push_back(e.path().string());
    } else if (fs::is_regular_file(path, ec)) {
        files->push_back(path);
    } else if (!ec) {
        *error = path + ": not a file or a folder";
        return false;
    }
    if (ec) {
        *error = path + ": " + ec.message();
        return false;
    }
    return true;
}

}  // namespace

MappedWeights mapped_weights(const std::string& smaps_path) {
    MappedWeights m;
    std::ifstream f(smaps_path);
    std::string line;
    bool in_weights = false;
    while (std::getline(f, line)) {
        // A mapping's header: "start-end perms offset dev inode [path]"; its
        // fields follow as "Name: value" lines (the first token ends in ':').
        const size_t sp = line.find(' ');
        if (sp != std::string::npos && sp > 0 && line[sp - 1] != ':' && line.find('-') < sp) {
            const size_t slash = line.find('/');
            in_weights = slash != std::string::npos && ends_with(line, ".safetensors");
            m.mappings += in_weights;
            continue;
        }
        if (!in_weights) continue;
        double kb = 0;
        if (field_kb(line, "Rss:", &kb))
            m.resident_mb += kb / 1024.0;
        else if (field_kb(line, "FilePmdMapped:", &kb))
            m.huge_page_mb += kb / 1024.0;
    }
    return m;
}

int drop_from_page_cache(const std::string& path, std::string* error) {
    std::vector<std::string> files;
    if (!checkpoint_files(path, &files, error)) return -1;
    for (const std::string& file : files) {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            *error = file + ": cannot open: " + std::strerror(errno);
            return -1;
        }
        ::fdatasync(fd);  // dirty pages (a checkpoint just written) cannot be dropped
        const int rc = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
        if (rc != 0) {
            *error = file + ": posix_fadvise(DONTNEED): " + std::strerror(rc);
            return -1;
        }
    }
    return int(files.size());
}

double read_into_page_cache(const std::string& path, std::string* error) {
    std::vector<std::string> files;
    if (!checkpoint_files(path, &files, error)) return -1;
    double bytes = 0;
    for (const std::string& file : files) {
        struct stat st;
        if (::stat(file.c_str(), &st) != 0) {
            *error = file + ": cannot stat: " + std::strerror(errno);
            return -1;
        }
        bytes += double(st.st_size);
    }
    // The mapping is touched in a child process: its pages would otherwise
    // count in this process's peak RSS (getrusage), which the bench reports.
    const pid_t child = ::fork();
    if (child < 0) {
        *error = std::string("fork failed: ") + std::strerror(errno);
        return -1;
    }
    if (child == 0) {
        const size_t page = size_t(::sysconf(_SC_PAGESIZE));
        for (const std::string& file : files) {
            const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
            struct stat st;
            if (fd < 0 || ::fstat(fd, &st) != 0) ::_exit(1);
            const size_t size = size_t(st.st_size);
            if (size == 0) continue;
            void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
            ::close(fd);
            if (p == MAP_FAILED) ::_exit(2);
#ifdef MADV_HUGEPAGE
            ::madvise(p, size, MADV_HUGEPAGE);
#endif
            volatile unsigned char sink = 0;
            const auto* b = static_cast<const unsigned char*>(p);
            for (size_t i = 0; i < size; i += page) sink = sink + b[i];
            ::munmap(p, size);
        }
        ::_exit(0);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0)
        if (errno != EINTR) {
            *error = std::string("waitpid failed: ") + std::strerror(errno);
            return -1;
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        *error = path + ": reading the files through a mapping failed (child status " + std::to_string(status) + ")";
        return -1;
    }
    return bytes;
}

}  // namespace cli
