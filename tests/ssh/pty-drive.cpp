// SPDX-License-Identifier: LGPL-2.1-or-later
// pty-drive: runs a command on a fresh pseudo-terminal and plays a small expect-like script against
// it, so the SSH end-to-end tests can drive the real OpenSSH client (which reads
// keyboard-interactive answers from /dev/tty, never from stdin) without expect or pexpect.
//
//   pty-drive [-t SECONDS] SCRIPT -- COMMAND [ARG...]
//
// Everything the command writes to the terminal is copied, raw, to stdout as it arrives; progress
// and failures go to stderr prefixed "pty-drive:". SCRIPT has one step per line:
//
//   expect REGEX          wait for REGEX (POSIX extended, matched bytewise; `$` is the end of the
//                         output so far) in the output not consumed by earlier steps; consumes
//                         the output up to the end of the match
//   capture PATH REGEX    the same, then writes the first group (or the whole match) and "\n" to
//                         PATH atomically (write + rename), for the test script to pick up
//   send [TEXT]           types TEXT (the rest of the line, verbatim; may be empty) and Enter
//   send-file PATH        waits for PATH to exist, then types its first line and Enter
//   wait-file PATH        waits for PATH to exist
//   timeout SECONDS       the time limit of each following step (default -t, else 30 s)
//   eof                   waits for the command to exit
//   # comment, empty lines: ignored
//
// Exit status: the command's status (128 + signal if a signal ended it) once the script is done and
// the command has exited (an implicit `eof` ends every script); 124 when a step ran out of time or
// the command exited before a step could be met (the command is then hung up on and killed); 125
// for a bad script, bad arguments or a failed system call.
#include "owned.hpp"
#include "result.hpp"
#include "strutil.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <optional>
#include <poll.h>
#include <pty.h>
#include <regex.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <vector>

namespace psc {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int exit_timeout = 124;
constexpr int exit_error = 125;
// Output kept for matching; ssh prints a few KiB at most. Older bytes are dropped first.
constexpr std::size_t max_pending = 1 << 20;
// A script is a handful of lines written by a test.
constexpr std::size_t max_script = 64 * 1024;
// First line of a send-file file: a pasted callback address is well under this.
constexpr std::size_t max_send_line = 16 * 1024;

enum class Op { expect, capture, send, send_file, wait_file, timeout, eof };

// A compiled POSIX regex (std::regex trips GCC 12's -Wmaybe-uninitialized under the sanitizers).
class Regex {
public:
    Regex() = default;
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    ~Regex() {
        if (compiled_)
            ::regfree(&re_);
    }

    Status compile(const std::string& text, int line) {
        const int rc = ::regcomp(&re_, text.c_str(), REG_EXTENDED);
        if (rc != 0) {
            char msg[256];
            ::regerror(rc, &re_, msg, sizeof msg);
            return make_error(Errc::invalid, "script_regex",
                              "line " + std::to_string(line) + ": bad regex: " + msg);
        }
        compiled_ = true;
        return {};
    }

    // The first match in `text`: [start, end) of the whole match and of group 1 (-1 if none).
    [[nodiscard]] bool search(const std::string& text, regmatch_t (&m)[2]) const {
        m[1].rm_so = m[1].rm_eo = -1;
        return compiled_ && ::regexec(&re_, text.c_str(), 2, m, 0) == 0;
    }

private:
    regex_t re_{};
    bool compiled_ = false;
};

struct Step {
    Op op = Op::eof;
    std::string arg;           // regex, text, path or seconds
    std::string path;          // capture only
    std::unique_ptr<Regex> re; // expect and capture
    int line = 0;
};

struct Options {
    int timeout_s = 30;
    std::string script;
    std::vector<char*> command; // null-terminated for execvp
};

[[noreturn]] void usage() {
    std::fputs("usage: pty-drive [-t SECONDS] SCRIPT -- COMMAND [ARG...]\n", stderr);
    std::exit(exit_error);
}

Result<Options> parse_args(int argc, char** argv) {
    Options o;
    int i = 1;
    for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
        if (std::strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            auto t = parse_int<int>(argv[++i], 1, 3600);
            if (!t)
                return std::move(t).error();
            o.timeout_s = *t;
        } else if (o.script.empty() && argv[i][0] != '-') {
            o.script = argv[i];
        } else {
            return make_error(Errc::invalid, "usage",
                              std::string("unexpected argument ") + argv[i]);
        }
    }
    if (o.script.empty() || i + 1 >= argc)
        return make_error(Errc::invalid, "usage", "a script and a command are required");
    for (++i; i < argc; ++i)
        o.command.push_back(argv[i]);
    o.command.push_back(nullptr);
    return o;
}

// "word rest": the first word and the rest of the line after one separating space.
std::pair<std::string, std::string> split_first(const std::string& line) {
    const auto sp = line.find(' ');
    if (sp == std::string::npos)
        return {line, {}};
    return {line.substr(0, sp), line.substr(sp + 1)};
}

Result<Step> parse_step(const std::string& line, int number) {
    auto [word, rest] = split_first(line);
    Step s;
    s.line = number;
    s.arg = rest;
    const auto need_arg = [&]() -> Status {
        if (rest.empty())
            return make_error(Errc::invalid, "script_syntax",
                              "line " + std::to_string(number) + ": " + word +
                                  " needs an argument");
        return {};
    };
    if (word == "expect" || word == "capture") {
        PSC_TRY(need_arg());
        s.op = word == "expect" ? Op::expect : Op::capture;
        if (s.op == Op::capture) {
            auto [path, re] = split_first(rest);
            if (re.empty())
                return make_error(Errc::invalid, "script_syntax",
                                  "line " + std::to_string(number) + ": capture PATH REGEX");
            s.path = path;
            s.arg = re;
        }
        s.re = std::make_unique<Regex>();
        PSC_TRY(s.re->compile(s.arg, number));
    } else if (word == "send") {
        s.op = Op::send;
    } else if (word == "send-file" || word == "wait-file") {
        PSC_TRY(need_arg());
        s.op = word == "send-file" ? Op::send_file : Op::wait_file;
    } else if (word == "timeout") {
        PSC_TRY(need_arg());
        auto t = parse_int<int>(rest, 1, 3600);
        if (!t)
            return std::move(t).error();
        s.op = Op::timeout;
    } else if (word == "eof") {
        s.op = Op::eof;
    } else {
        return make_error(Errc::invalid, "script_syntax",
                          "line " + std::to_string(number) + ": unknown step \"" + word + "\"");
    }
    return s;
}

Result<std::vector<Step>> parse_script(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return make_error(Errc::io, "script_open", "cannot open " + path);
    std::vector<Step> steps;
    std::string line;
    std::size_t total = 0;
    for (int number = 1; std::getline(in, line); ++number) {
        total += line.size() + 1;
        if (total > max_script)
            return make_error(Errc::invalid, "script_too_large", path + " is over 64 KiB");
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || line.front() == '#')
            continue;
        auto step = parse_step(line, number);
        if (!step)
            return std::move(step).error();
        steps.push_back(std::move(*step));
    }
    return steps;
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

Result<std::string> first_line(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return make_error(Errc::io, "send_file_open", "cannot open " + path);
    std::string line;
    std::getline(in, line);
    if (line.size() > max_send_line)
        return make_error(Errc::invalid, "send_file_too_long", path + ": first line over 16 KiB");
    return line;
}

Status write_atomic(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text << '\n';
        if (!out.flush())
            return make_error(Errc::io, "capture_write", "cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        return make_error(Errc::io, "capture_write",
                          "cannot rename " + tmp + ": " + std::strerror(errno));
    return {};
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// The command on the master side of its pty, its output not yet consumed, and its exit status.
class Session {
public:
    Session(UniqueFd master, pid_t pid) : master_(std::move(master)), pid_(pid) {}
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { kill_child(); }

    // Reads what is available for up to `ms`; false once the terminal is closed (the command is
    // gone and has been reaped).
    bool pump(int ms) {
        if (!master_.valid())
            return false;
        pollfd p{master_.get(), POLLIN, 0};
        const int r = ::poll(&p, 1, ms);
        if (r <= 0)
            return true;
        char buf[4096];
        const ssize_t n = ::read(master_.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            return true;
        if (n <= 0) { // EIO: every slave descriptor is closed
            master_.reset();
            reap(true);
            return false;
        }
        write_all(STDOUT_FILENO, std::string_view(buf, static_cast<std::size_t>(n)));
        pending_.append(buf, static_cast<std::size_t>(n));
        if (pending_.size() > max_pending)
            pending_.erase(0, pending_.size() - max_pending);
        return true;
    }

    // The first match of `re` in the pending output (its first group when it has one), which is
    // consumed up to the end of the match.
    std::optional<std::string> take(const Regex& re) {
        regmatch_t m[2];
        if (!re.search(pending_, m))
            return std::nullopt;
        const regmatch_t& g = m[1].rm_so >= 0 ? m[1] : m[0];
        std::string found = pending_.substr(static_cast<std::size_t>(g.rm_so),
                                            static_cast<std::size_t>(g.rm_eo - g.rm_so));
        pending_.erase(0, static_cast<std::size_t>(m[0].rm_eo));
        return found;
    }

    // The terminal is still open: the command (or something it started) may still write.
    [[nodiscard]] bool open() const { return master_.valid(); }

    void type(std::string_view text) {
        if (master_.valid())
            write_all(master_.get(), text);
    }

    [[nodiscard]] int exit_code() const {
        if (!status_)
            return exit_error;
        if (WIFEXITED(*status_))
            return WEXITSTATUS(*status_);
        return 128 + WTERMSIG(*status_);
    }

    void reap(bool block) {
        if (status_ || pid_ <= 0)
            return;
        int st = 0;
        if (::waitpid(pid_, &st, block ? 0 : WNOHANG) == pid_)
            status_ = st;
    }

    // Hang up, then SIGTERM, then SIGKILL the command's process group (forkpty made it a session).
    void kill_child() {
        master_.reset();
        if (status_ || pid_ <= 0)
            return;
        ::kill(-pid_, SIGTERM);
        for (int i = 0; i < 20 && !status_; ++i) {
            reap(false);
            if (!status_)
                ::usleep(50 * 1000);
        }
        if (!status_) {
            ::kill(-pid_, SIGKILL);
            reap(true);
        }
    }

private:
    UniqueFd master_;
    pid_t pid_;
    std::string pending_;
    std::optional<int> status_;
};

int remaining_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<long long>(0, std::min<long long>(left.count(), 100)));
}

Status run_step(Session& s, const Step& step, int& timeout_s) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    const auto fail = [&](const std::string& what) {
        return make_error(Errc::timeout, "step_failed",
                          "line " + std::to_string(step.line) + " (" + step.arg + "): " + what);
    };
    switch (step.op) {
    case Op::timeout:
        timeout_s = parse_int<int>(step.arg, 1, 3600).value();
        return {};
    case Op::send:
        s.type(step.arg + "\r");
        return {};
    case Op::expect:
    case Op::capture:
        for (;;) {
            if (auto found = s.take(*step.re)) {
                if (step.op == Op::capture)
                    return write_atomic(step.path, *found);
                return {};
            }
            if (!s.open())
                return fail("the command exited first");
            if (Clock::now() >= deadline)
                return fail("no match in " + std::to_string(timeout_s) + " s");
            s.pump(remaining_ms(deadline));
        }
    case Op::send_file:
    case Op::wait_file:
        while (!file_exists(step.arg)) {
            if (Clock::now() >= deadline)
                return fail("file did not appear in " + std::to_string(timeout_s) + " s");
            s.pump(remaining_ms(deadline));
        }
        if (step.op == Op::send_file) {
            auto line = first_line(step.arg);
            if (!line)
                return std::move(line).error();
            s.type(*line + "\r");
        }
        return {};
    case Op::eof:
        while (s.pump(remaining_ms(deadline))) {
            if (Clock::now() >= deadline)
                return fail("the command still runs after " + std::to_string(timeout_s) + " s");
        }
        s.reap(true);
        return {};
    }
    return make_error(Errc::internal, "step_unknown", "unknown step");
}

int drive(const Options& o, const std::vector<Step>& steps) {
    winsize ws{};
    ws.ws_row = 50;
    ws.ws_col = 200; // wide enough that nothing is tempted to wrap a URL
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
    if (pid < 0) {
        std::fprintf(stderr, "pty-drive: forkpty: %s\n", std::strerror(errno));
        return exit_error;
    }
    if (pid == 0) {
        ::execvp(o.command[0], o.command.data());
        std::fprintf(stderr, "pty-drive: cannot run %s: %s\n", o.command[0], std::strerror(errno));
        ::_exit(127);
    }
    Session s(UniqueFd(master), pid);
    int timeout_s = o.timeout_s;
    std::vector<const Step*> plan;
    for (const Step& step : steps)
        plan.push_back(&step);
    Step eof; // every script ends by waiting for the command
    eof.arg = "end of script";
    plan.push_back(&eof);
    for (const Step* step : plan) {
        auto r = run_step(s, *step, timeout_s);
        if (!r) {
            std::fprintf(stderr, "\npty-drive: %s\n", r.error().describe().c_str());
            return r.error().code == Errc::timeout ? exit_timeout : exit_error;
        }
    }
    std::fprintf(stderr, "\npty-drive: command exited with %d\n", s.exit_code());
    return s.exit_code();
}

} // namespace
} // namespace psc

int main(int argc, char** argv) {
    auto opts = psc::parse_args(argc, argv);
    if (!opts) {
        std::fprintf(stderr, "pty-drive: %s\n", opts.error().describe().c_str());
        psc::usage();
    }
    auto steps = psc::parse_script(opts->script);
    if (!steps) {
        std::fprintf(stderr, "pty-drive: %s\n", steps.error().describe().c_str());
        return psc::exit_error;
    }
    try {
        return psc::drive(*opts, *steps);
    } catch (const std::exception& e) { // std::bad_alloc: nothing else is expected
        std::fprintf(stderr, "pty-drive: %s\n", e.what());
        return psc::exit_error;
    }
}
