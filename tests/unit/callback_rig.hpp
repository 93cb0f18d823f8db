// SPDX-License-Identifier: LGPL-2.1-or-later
// A callback listener in its own sd-event loop and a raw HTTP/1.1 client, shared by the listener's
// tests (test_callback_server.cpp, test_callback_abuse.cpp). Header-only: each test executable
// includes it once.
#pragma once

#include "callback_page.hpp"
#include "callback_server.hpp"
#include "http_client.hpp"
#include "strutil.hpp"
#include "test_ca.hpp"
#include "testing.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

using namespace psc;
using namespace psc::testing;
using namespace std::chrono_literals;

namespace cbtest {

inline std::unique_ptr<TestCa> g_ca;
inline std::string g_tmp;

// ---- a server in its own sd-event loop --------------------------------------------------------

struct Rig {
    SdEventPtr event;
    std::unique_ptr<CallbackServer> server;
    std::vector<std::string> targets; // what the handler saw, in order
    std::string failure_reason = "access_denied";
    bool throw_in_handler = false;
    std::function<CallbackReply(std::string_view)> custom; // replaces decide() when set
};

inline CallbackReply decide(Rig& rig, std::string_view target) {
    rig.targets.emplace_back(target);
    if (rig.custom)
        return rig.custom(target);
    if (rig.throw_in_handler)
        throw std::runtime_error("handler bug");
    if (target.find("state=ok") != std::string_view::npos)
        return {CallbackReply::Page::received, {}};
    if (target.find("state=bad") != std::string_view::npos)
        return {CallbackReply::Page::failure, rig.failure_reason};
    return {CallbackReply::Page::unknown_login, {}};
}

inline SdEventPtr new_event() {
    auto e = event_new();
    assert_ok(e);
    return std::move(*e);
}

inline Result<std::unique_ptr<CallbackServer>> start_on(Rig& rig, CallbackServerOptions o) {
    return CallbackServer::start(rig.event.get(), std::move(o),
                                 [&rig](std::string_view t) { return decide(rig, t); });
}

inline CallbackServerOptions test_options() {
    CallbackServerOptions o;
    o.listen_port = 0;
    return o;
}

inline std::unique_ptr<Rig> make_rig(CallbackServerOptions o = test_options()) {
    auto rig = std::make_unique<Rig>();
    rig->event = new_event();
    auto s = start_on(*rig, std::move(o));
    assert_ok(s);
    rig->server = std::move(*s);
    return rig;
}

// Runs `work` on a client thread while this thread runs the server's loop.
inline void with_loop(sd_event* e, const std::function<void()>& work) {
    std::atomic<bool> done{false};
    std::thread t([&] {
        work();
        done = true;
    });
    while (!done)
        (void)sd_event_run(e, 20 * 1000);
    t.join();
}

inline void run_for(sd_event* e, std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end)
        (void)sd_event_run(e, 10 * 1000);
}

// ---- a raw HTTP/1.1 client --------------------------------------------------------------------

inline UniqueFd connect_to(std::uint16_t port, bool ipv6 = false) {
    UniqueFd fd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return fd;
    timeval tv{10, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int r = -1;
    if (ipv6) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        a.sin6_addr = in6addr_loopback;
        r = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    if (r != 0)
        fd.reset();
    return fd;
}

inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

inline std::string read_all(int fd) {
    std::string out;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

struct RawResponse {
    int status = 0;                             // 0: the connection closed without an answer
    std::map<std::string, std::string> headers; // lower-case names
    std::vector<std::string> header_names;      // every name, as sent
    std::string body;
};

inline RawResponse parse_response(const std::string& raw) {
    RawResponse r;
    const std::size_t end = raw.find("\r\n\r\n");
    if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || end == std::string::npos)
        return r;
    r.status = std::stoi(raw.substr(9, 3));
    std::size_t pos = raw.find("\r\n") + 2;
    while (pos < end) {
        const std::size_t eol = raw.find("\r\n", pos);
        const std::string line = raw.substr(pos, eol - pos);
        const std::size_t colon = line.find(':');
        std::string name = line.substr(0, colon);
        r.header_names.push_back(name);
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(trim(std::string_view(line).substr(colon + 1)));
        pos = eol + 2;
    }
    r.body = raw.substr(end + 4);
    return r;
}

inline RawResponse http_exchange(std::uint16_t port, const std::string& request, bool ipv6 = false) {
    UniqueFd fd = connect_to(port, ipv6);
    if (!fd.valid() || !send_all(fd.get(), request))
        return {};
    return parse_response(read_all(fd.get()));
}

inline std::string get_request(const std::string& target, const std::string& method = "GET") {
    return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

inline RawResponse get_on_loop(Rig& rig, const std::string& target, const std::string& method = "GET") {
    RawResponse r;
    const std::uint16_t port = rig.server->port();
    with_loop(rig.event.get(), [&] { r = http_exchange(port, get_request(target, method)); });
    return r;
}

inline bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

inline void assert_page_headers(const RawResponse& r) {
    for (const auto& [name, value] : callback_page_headers()) {
        std::string lower = name;
        for (auto& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto it = r.headers.find(lower);
        assert_true(it != r.headers.end());
        assert_string_equal(it->second.c_str(), value.c_str());
    }
    // Never a redirect.
    assert_true(r.headers.count("location") == 0);
    assert_true(r.headers.count("refresh") == 0);
    assert_false(contains(r.body, "http-equiv"));
    assert_false(contains(r.body, "<script"));
}

inline std::string write_temp(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = g_tmp + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    ::chmod(path.c_str(), mode);
    return path;
}

} // namespace cbtest

using namespace cbtest;
