// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl login USER: drives one login through psc-authd like the PAM module does (StartLogin,
// show what to do, WaitLogin in slices, optional paste-back of the browser's final address), to
// test a configuration end to end without a PAM stack. The login belongs to this connection:
// interrupting pscctl cancels it in the daemon.
#include "bus_client.hpp"
#include "cli_args.hpp"
#include "commands.hpp"
#include "ini.hpp"
#include "output.hpp"
#include "strutil.hpp"

#include <cerrno>
#include <cstdio>
#include <optional>
#include <poll.h>
#include <string>
#include <unistd.h>

namespace psc::ctl {
namespace {

constexpr const char* kUsage =
    "Usage: pscctl login USER [--service NAME] [--flow code|ciba|device] [--json]\n\n"
    "Runs one login for USER through psc-authd and prints the outcome. For the code flow the\n"
    "address the browser ends on may be pasted on standard input. With --json, one JSON object\n"
    "per line: {\"event\":\"started\",...}, then {\"event\":\"success\",...} or\n"
    "{\"event\":\"failed\",\"error\":{...}}.\n"
    "Exit status: 0 success, 1 failed or refused, 2 bad usage, 3 daemon not reachable.\n";

constexpr std::uint32_t kSliceMs = 1000;
// A pasted address is a URL with a code and state: a few hundred bytes. Anything longer is not one.
constexpr std::size_t kMaxPaste = 8 * 1024;

std::string get(const BusDict& d, const char* key) {
    auto it = d.find(key);
    return it == d.end() ? std::string() : strip_control(it->second);
}

// Where the login's events go: lines for a person, or JSON Lines for a script.
bool g_json = false;

void show_display(const BusDict& d) {
    if (g_json) {
        auto o = json_new_object();
        json_put_string(o.get(), "event", "started");
        for (const char* key : {"flow", "url", "binding_code", "user_code"})
            if (auto v = get(d, key); !v.empty())
                json_put_string(o.get(), key, v);
        if (auto exp = parse_int<std::uint32_t>(get(d, "expires_in"), 0, 86400))
            json_put_int(o.get(), "expires_in", *exp);
        json_put_bool(o.get(), "accepts_paste", get(d, "accepts_paste") == "true");
        json_print_line(o.get());
        return;
    }
    std::printf("flow: %s\n", get(d, "flow").c_str());
    if (auto url = get(d, "url"); !url.empty())
        std::printf("open: %s\n", url.c_str());
    if (auto code = get(d, "binding_code"); !code.empty())
        std::printf("check that your phone shows the code %s, then approve\n", code.c_str());
    if (auto code = get(d, "user_code"); !code.empty())
        std::printf("user code: %s\n", code.c_str());
    if (auto exp = get(d, "expires_in"); !exp.empty())
        std::printf("expires in: %s s\n", exp.c_str());
    if (get(d, "accepts_paste") == "true")
        std::puts("or paste the address the browser ends on, then Enter:");
    std::fflush(stdout);
}

int print_outcome(const BusDict& d) {
    if (g_json) {
        auto o = json_new_object();
        json_put_string(o.get(), "event", "success");
        for (const char* key : {"user", "idnat", "profession", "auth_mode"})
            json_put_string(o.get(), key, get(d, key));
        json_print_line(o.get());
        return kExitOk;
    }
    std::printf("%s: user=%s idnat=%s profession=%s auth_mode=%s\n",
                paint(stdout, Tone::good, "OK").c_str(), get(d, "user").c_str(),
                get(d, "idnat").c_str(), get(d, "profession").c_str(), get(d, "auth_mode").c_str());
    return kExitOk;
}

int print_failure(const Error& e) {
    if (g_json) {
        auto o = json_new_object();
        json_put_string(o.get(), "event", "failed");
        json_put(o.get(), "error", json_error(e));
        json_print_line(o.get());
        return exit_code_for(e);
    }
    std::printf("%s: %s\n", paint(stdout, Tone::bad, "FAILED").c_str(),
                describe_failure(e).c_str());
    return exit_code_for(e);
}

// Standard input without blocking: a complete line once one has arrived, nullopt otherwise.
// `open` turns false at end of input (or on a line too long to be an address).
class PasteReader {
public:
    std::optional<std::string> poll_line() {
        while (open_) {
            pollfd p{STDIN_FILENO, POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0 || (p.revents & (POLLIN | POLLHUP)) == 0)
                return std::nullopt;
            char buf[1024];
            const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                open_ = false;
                return std::nullopt;
            }
            pending_.append(buf, static_cast<std::size_t>(n));
            if (const auto nl = pending_.find('\n'); nl != std::string::npos) {
                std::string line(trim(std::string_view(pending_).substr(0, nl)));
                pending_.erase(0, nl + 1);
                if (!line.empty())
                    return line;
            }
            if (pending_.size() > kMaxPaste) {
                std::fputs("pasted text too long, ignored (paste-back disabled)\n", stderr);
                open_ = false;
            }
        }
        return std::nullopt;
    }
    [[nodiscard]] bool open() const noexcept { return open_; }
    void close() noexcept { open_ = false; }

private:
    bool open_ = true;
    std::string pending_;
};

// The WaitLogin loop; returns the exit status.
int wait_outcome(AuthClient& client, const std::string& id, bool paste) {
    PasteReader in;
    if (!paste)
        in.close();
    std::uint32_t last_shown = 0;
    const bool progress = !g_json && progress_enabled();
    for (;;) {
        if (auto address = in.poll_line()) {
            auto reply = client.call("SubmitCallback", 0, "ss", id.c_str(), address->c_str());
            if (!reply)
                return print_failure(reply.error());
            BusDict result;
            if (auto st = read_bus_dict(reply->get(), result); !st)
                return print_failure(st.error());
            return print_outcome(result);
        }
        auto reply = client.call("WaitLogin", std::uint64_t{kSliceMs} * 1000 + 25'000'000, "su",
                                 id.c_str(), kSliceMs);
        if (!reply)
            return print_failure(reply.error());
        int done = 0;
        BusDict result;
        if (int r = sd_bus_message_read(reply->get(), "b", &done); r < 0)
            return print_failure(AuthClient::local_error(r));
        if (auto st = read_bus_dict(reply->get(), result); !st)
            return print_failure(st.error());
        if (done)
            return print_outcome(result);
        const auto remaining = parse_int<std::uint32_t>(result["remaining"], 0, 86400);
        const std::uint32_t left = remaining ? *remaining : 0;
        // Progress is for a person watching a terminal, not for a script or a log.
        if (progress && (last_shown == 0 || left + 10 <= last_shown || left < 10)) {
            std::fprintf(stderr, "waiting... %u s left\n", left);
            last_shown = left;
        }
    }
}

} // namespace

int cmd_login(int argc, char** argv) {
    const auto a = parse_args(argc, argv, {"--service", "--flow"}, {"--json"});
    if (a.help) {
        std::fputs(kUsage, stdout);
        return kExitOk;
    }
    const std::string service = option(a, "--service").value_or("pscctl");
    const std::string flow = option(a, "--flow").value_or("");
    if (!a.error.empty() || a.positional.size() != 1 || a.positional[0].empty() ||
        !is_valid_service_name(service) ||
        !(flow.empty() || flow == "code" || flow == "ciba" || flow == "device")) {
        std::fprintf(stderr, "pscctl login: invalid arguments\n%s", kUsage);
        return kExitUsage;
    }
    g_json = has_flag(a, "--json");
    auto client = AuthClient::connect();
    if (!client)
        return print_failure(client.error());
    const char* tty = ::isatty(STDIN_FILENO) ? ::ttyname(STDIN_FILENO) : nullptr;
    auto reply = client->call("StartLogin", 0, "sssss", a.positional[0].c_str(), service.c_str(),
                              "", tty ? tty : "", flow.c_str());
    if (!reply)
        return print_failure(reply.error());
    const char* id = nullptr;
    BusDict display;
    if (int r = sd_bus_message_read(reply->get(), "s", &id); r < 0)
        return print_failure(AuthClient::local_error(r));
    if (auto st = read_bus_dict(reply->get(), display); !st)
        return print_failure(st.error());
    show_display(display);
    return wait_outcome(*client, id ? id : "", get(display, "accepts_paste") == "true");
}

} // namespace psc::ctl
