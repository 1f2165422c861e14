#pragma once
// Runs programs for tests: the built `hyphae`, real peers, reference tools. Every child is
// waited for with a deadline and killed by its PID if it overstays; nothing is left running.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace hyphae::test {

struct run_result {
    int exit_code = -1;  // -1: killed (signal or deadline)
    bool timed_out = false;
    std::string out;
    std::string err;
};

// Runs argv[0] (looked up in PATH) to completion, capturing stdout and stderr.
run_result run(const std::vector<std::string>& argv,
               std::chrono::milliseconds deadline = std::chrono::seconds(60),
               const std::string& working_dir = {});

// True if `program` can be found in PATH (or is an executable path).
bool have_program(const std::string& program);

}  // namespace hyphae::test
