// How the page cache holds a checkpoint, and dropping it from there, for
// `dsv4 bench` (Linux; elsewhere the functions report nothing done).
//
// A checkpoint mapped from pages that came into the page cache 4 KiB at a
// time, scattered over physical memory, reads at a fraction of what the same
// bytes read from 2 MiB pages do (docs/PERFORMANCE.md, "Ninth session"). The
// library maps checkpoints so that pages it faults in come in 2 MiB folios,
// but pages an earlier reader left in the page cache stay as they are, so the
// bench drops the checkpoint from the page cache first, reads it back in 2 MiB
// folios, and reports how much of what it mapped is in 2 MiB pages.
#pragma once

#include <string>

namespace cli {

struct MappedWeights {
    double resident_mb = 0;   // Rss of the mappings
    double huge_page_mb = 0;  // of which mapped by 2 MiB entries (FilePmdMapped)
    int mappings = 0;
};

// Sums over the mappings of files named *.safetensors in an smaps listing
// (this process's by default).
MappedWeights mapped_weights(const std::string& smaps_path = "/proc/self/smaps");

// Writes back, then drops from the page cache the pages that no process has
// mapped, of `path` if it is a file, or of every *.safetensors file in it if
// it is a folder (POSIX_FADV_DONTNEED: no privileges needed, and a running
// process's mapped pages stay). Returns the number of files, or -1 with
// *error set.
int drop_from_page_cache(const std::string& path, std::string* error);

// Reads the same files into the page cache through a mapping advised
// MADV_HUGEPAGE (so they come in 2 MiB folios), in a child process: this
// process's RSS and peak RSS are left as they were, and later faults on the
// library's own mapping find the pages in memory. Call it before starting
// threads (it forks). Returns the bytes read, or -1 with *error set.
double read_into_page_cache(const std::string& path, std::string* error);

}  // namespace cli
