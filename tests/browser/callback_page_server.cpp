// SPDX-License-Identifier: LGPL-2.1-or-later
// The real callback listener in a real sd-event loop, for the headless-browser test: listens on
// 127.0.0.1 (port 0), prints "URL <callback url>", then "REQ <target>" for every request that
// reaches the handler. state=ok gives the success page, state=bad a failure page whose reason is
// hostile markup carrying the marker given as argv[1]; anything else the unknown-login page.
// Exits on SIGTERM/SIGINT, or after 120 s whatever happens.
#include "callback_server.hpp"
#include "event_loop.hpp"

#include <csignal>
#include <cstdio>
#include <string>

using namespace psc;

namespace {

int on_quit(sd_event_source* s, const signalfd_siginfo*, void*) noexcept {
    return sd_event_exit(sd_event_source_get_event(s), 0);
}

int on_deadline(sd_event_source* s, uint64_t, void*) noexcept {
    return sd_event_exit(sd_event_source_get_event(s), 2);
}

int fail(const Error& e) {
    std::fprintf(stderr, "callback_page_server: %s\n", e.describe().c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    const std::string marker = argc > 1 ? argv[1] : "psc-marker";
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);

    auto event = event_new();
    if (!event)
        return fail(event.error());
    sd_event* e = event->get();
    sd_event_source* raw = nullptr;
    if (sd_event_add_signal(e, &raw, SIGTERM, on_quit, nullptr) < 0)
        return 1;
    SdEventSourcePtr term(raw);
    if (sd_event_add_signal(e, &raw, SIGINT, on_quit, nullptr) < 0)
        return 1;
    SdEventSourcePtr intr(raw);
    uint64_t now = 0;
    sd_event_now(e, CLOCK_MONOTONIC, &now);
    if (sd_event_add_time(e, &raw, CLOCK_MONOTONIC, now + 120ULL * 1000000, 0, on_deadline,
                          nullptr) < 0)
        return 1;
    SdEventSourcePtr deadline(raw);

    CallbackServerOptions o;
    o.listen_port = 0;
    const std::string hostile =
        "<script>document.title='pwned'</script><b>bold</b> & \x07\x1b[31m " + marker;
    auto server = CallbackServer::start(e, o, [&](std::string_view target) {
        std::printf("REQ %.*s\n", static_cast<int>(target.size()), target.data());
        std::fflush(stdout);
        if (target.find("state=ok") != std::string_view::npos)
            return CallbackReply{CallbackReply::Page::received, {}};
        if (target.find("state=bad") != std::string_view::npos)
            return CallbackReply{CallbackReply::Page::failure, hostile};
        return CallbackReply{CallbackReply::Page::unknown_login, {}};
    });
    if (!server)
        return fail(server.error());
    std::printf("URL %s\n", (*server)->url().c_str());
    std::fflush(stdout);
    const int r = sd_event_loop(e);
    server->reset();
    return r == 0 ? 0 : 1;
}
