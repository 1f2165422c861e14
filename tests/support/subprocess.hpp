#pragma once
// Runs programs for tests: the built `hyphae`, real peers, reference tools. Every child is
// waited for with a deadline and killed by its PID if it overstays; nothing is left running.

#include <chrono>
#include <functional>
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

namespace hyphae::test {

// What a background child reads on stdin: nothing (/dev/null), or the lines the test writes with
// write_line() (a driven peer).
enum class child_stdin { null_device, pipe };

// A program running in the background for the length of a test (a real peer, a tracker, our own
// daemon). Its stdout and stderr are read line by line, as one stream; it is stopped by PID (SIGTERM, then
// SIGKILL) when the object goes, so no test leaves a process behind.
class background_process {
public:
    explicit background_process(const std::vector<std::string>& argv, const std::string& working_dir = {},
                                child_stdin input = child_stdin::null_device);
    ~background_process();
    background_process(const background_process&) = delete;
    background_process& operator=(const background_process&) = delete;

    pid_t pid() const { return pid_; }
    // Waits for a stdout line containing `needle`; returns it, or empty on deadline or exit.
    std::optional<std::string> wait_for_line(const std::string& needle, std::chrono::milliseconds deadline);
    // Waits for a stdout line for which `match` holds.
    std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                             std::chrono::milliseconds deadline);
    // Every line seen so far.
    const std::vector<std::string>& lines() const { return lines_; }
    // Every line so far as one text, its last `tail_max` characters, for failure messages.
    std::string output(std::size_t tail_max = 4000) const;
    // Sends SIGTERM and waits up to `grace`, then SIGKILL; returns the exit code (-1: signalled).
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
    // Waits for the process to end on its own; empty on deadline.
    std::optional<int> wait(std::chrono::milliseconds deadline);
    void kill_now();  // SIGKILL, as a crash
    bool running();
    // Writes `text` and a newline to the child's stdin (child_stdin::pipe); false if there is no such
    // pipe or the child no longer reads it. A dead reader fails the write, never the test with SIGPIPE.
    bool write_line(const std::string& text);
    // Closes the child's stdin: it reads end of file.
    void close_stdin();

private:
    void read_available(int timeout_ms);

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int in_fd_ = -1;
    std::string partial_;
    std::vector<std::string> lines_;
    std::optional<int> exit_code_;
};

}  // namespace hyphae::test
