#include "subprocess.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace hyphae::test {

namespace {

// Starts argv[0] (from PATH) in its own process group, stdin from `in_fd` (-1: /dev/null), stdout
// and stderr into the given descriptors. Returns the pid, or the spawn error as a negative number.
pid_t spawn(const std::vector<std::string>& argv, const std::string& working_dir, int in_fd, int out_fd,
            int err_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    if (in_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    if (!working_dir.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, working_dir.c_str());
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Own process group, so that a stop reaches the child's children too.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? pid : -rc;
}

}  // namespace

run_result run(const std::vector<std::string>& argv, std::chrono::milliseconds deadline,
               const std::string& working_dir) {
    int out_pipe[2];
    int err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    const pid_t pid = spawn(argv, working_dir, -1, out_pipe[1], err_pipe[1]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    run_result result;
    if (pid < 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        result.err = "cannot start " + argv[0] + ": " + std::strerror(-pid);
        return result;
    }

    const auto end = std::chrono::steady_clock::now() + deadline;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_count = 2;
    char buffer[65536];
    while (open_count > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            result.timed_out = true;
            kill(-pid, SIGKILL);
            break;
        }
        const int ready = poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                if (n > 0) {
                    sinks[i]->append(buffer, static_cast<std::size_t>(n));
                } else if (n == 0 || errno != EINTR) {
                    ::close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_count;
                }
            }
        }
    }
    for (pollfd& p : fds) {
        if (p.fd >= 0) {
            ::close(p.fd);
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

bool have_program(const std::string& program) {
    if (program.find('/') != std::string::npos) {
        return access(program.c_str(), X_OK) == 0;
    }
    const char* path = std::getenv("PATH");
    std::string rest = path != nullptr ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= rest.size()) {
        const std::size_t colon = std::min(rest.find(':', start), rest.size());
        const std::string candidate = rest.substr(start, colon - start) + "/" + program;
        if (access(candidate.c_str(), X_OK) == 0) {
            return true;
        }
        start = colon + 1;
    }
    return false;
}

}  // namespace hyphae::test

namespace hyphae::test {

background_process::background_process(const std::vector<std::string>& argv, const std::string& working_dir,
                                       child_stdin input) {
    int out_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    // stdin is a socket pair rather than a pipe: send() with MSG_NOSIGNAL reports a reader that is
    // gone as EPIPE, where a write to a pipe would raise SIGPIPE in the test.
    int in_pair[2] = {-1, -1};
    if (input == child_stdin::pipe && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    }
    pid_ = spawn(argv, working_dir, in_pair[1], out_pipe[1], out_pipe[1]);
    const int rc = pid_ < 0 ? -pid_ : 0;
    ::close(out_pipe[1]);
    if (in_pair[1] >= 0) {
        ::close(in_pair[1]);
    }
    if (rc != 0) {
        ::close(out_pipe[0]);
        if (in_pair[0] >= 0) {
            ::close(in_pair[0]);
        }
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    out_fd_ = out_pipe[0];
    in_fd_ = in_pair[0];
}

background_process::~background_process() {
    if (pid_ > 0 && !exit_code_) {
        stop(std::chrono::seconds(5));
    }
    if (out_fd_ >= 0) {
        ::close(out_fd_);
    }
    close_stdin();
}

bool background_process::write_line(const std::string& text) {
    if (in_fd_ < 0) {
        return false;
    }
    const std::string line = text + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::send(in_fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

void background_process::close_stdin() {
    if (in_fd_ >= 0) {
        ::close(in_fd_);
        in_fd_ = -1;
    }
}

void background_process::read_available(int timeout_ms) {
    if (out_fd_ < 0) {
        return;
    }
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) {
        return;
    }
    char buffer[65536];
    const ssize_t n = ::read(out_fd_, buffer, sizeof buffer);
    if (n <= 0) {
        ::close(out_fd_);
        out_fd_ = -1;
        if (!partial_.empty()) {
            lines_.push_back(partial_);
            partial_.clear();
        }
        return;
    }
    partial_.append(buffer, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = partial_.find('\n')) != std::string::npos) {
        lines_.push_back(partial_.substr(0, newline));
        partial_.erase(0, newline + 1);
    }
}

std::optional<std::string> background_process::wait_for_line(const std::string& needle,
                                                             std::chrono::milliseconds deadline) {
    return wait_for_line([&](const std::string& line) { return line.find(needle) != std::string::npos; },
                         deadline);
}

std::optional<std::string> background_process::wait_for_line(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    std::size_t checked = 0;
    while (true) {
        for (; checked < lines_.size(); ++checked) {
            if (match(lines_[checked])) {
                return lines_[checked];
            }
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0 || (out_fd_ < 0 && !running())) {
            return std::nullopt;
        }
        read_available(static_cast<int>(std::min<long>(left.count(), 200)));
    }
}

bool background_process::running() {
    if (exit_code_) {
        return false;
    }
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return false;
    }
    return true;
}

std::optional<int> background_process::wait(std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (running()) {
        if (std::chrono::steady_clock::now() >= end) {
            return std::nullopt;
        }
        read_available(50);
    }
    while (out_fd_ >= 0) {
        read_available(50);
    }
    return exit_code_;
}

int background_process::stop(std::chrono::milliseconds grace) {
    if (!running()) {
        return *exit_code_;
    }
    kill(pid_, SIGTERM);
    if (auto code = wait(grace)) {
        kill(-pid_, SIGKILL);  // anything it started
        return *code;
    }
    kill_now();
    return -1;
}

void background_process::kill_now() {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = -1;
}

std::string background_process::output(std::size_t tail_max) const {
    std::string out;
    for (const auto& line : lines_) {
        out += line + "\n";
    }
    return out.size() > tail_max ? out.substr(out.size() - tail_max) : out;
}

}  // namespace hyphae::test
