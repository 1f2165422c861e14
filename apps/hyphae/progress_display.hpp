#pragma once
// Progress of long work on stderr: a bar redrawn in place on a terminal, or a plain line at most
// once a second otherwise (logs and pipes), and a last line when the work ends.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace hyphae::cli {

class progress_display {
public:
    progress_display(std::string label, std::int64_t total, std::FILE* out = stderr);

    void update(std::int64_t done);
    void finish(std::int64_t done);

private:
    void draw(std::int64_t done, bool last);

    std::string label_;
    std::int64_t total_;
    std::FILE* out_;
    bool terminal_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_line_;
    bool drawn_ = false;
};

}  // namespace hyphae::cli
