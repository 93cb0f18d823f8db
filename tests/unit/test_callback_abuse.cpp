// SPDX-License-Identifier: LGPL-2.1-or-later
// The callback listener under abuse and its waiting pages (design §9): a page that waits for the
// login's outcome (suspended, bounded), connections that never finish their headers (idle or
// trickling: cut at a deadline from accept that bytes cannot renew), and a flood of 1,000 idle
// loopback connections that must not delay a real browser's callback by a second.
#include "callback_rig.hpp"

#include <sys/resource.h>

namespace {

// The tests open many sockets on both ends in one process.
void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192) {
        rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 8192);
        (void)::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

// A handler whose pages wait: "state=ok" pages are completed by the test, "state=stuck" never.
struct Waiting {
    std::shared_ptr<DeferredPage> page;
};

std::unique_ptr<Rig> waiting_rig(Waiting& w, CallbackServerOptions o = test_options()) {
    auto rig = std::make_unique<Rig>();
    rig->event = new_event();
    rig->custom = [&w](std::string_view) {
        w.page = std::make_shared<DeferredPage>();
        CallbackReply r(CallbackReply::Page::wait);
        r.deferred = w.page;
        return r;
    };
    auto s = start_on(*rig, std::move(o));
    assert_ok(s);
    rig->server = std::move(*s);
    return rig;
}

// A back-channel handler whose answer comes later (the daemon waiting for the provider's new
// keys): the fallback says 400 "jws_unknown_kid".
struct WaitingLogout {
    std::shared_ptr<DeferredBackchannel> answer;
    int calls = 0;
};

std::unique_ptr<Rig> waiting_logout_rig(WaitingLogout& w, CallbackServerOptions o = test_options()) {
    auto rig = make_rig(std::move(o));
    rig->server->set_backchannel_handler([&w](std::string_view, std::string_view) {
        ++w.calls;
        w.answer = std::make_shared<DeferredBackchannel>();
        BackchannelReply r{400, R"({"error":"invalid_request","error_description":"jws_unknown_kid"})",
                           w.answer};
        return r;
    });
    return rig;
}

std::string logout_post(const std::string& body) {
    return "POST /backchannel_logout HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Runs the loop until the handler has been called (the request is then held, or answered).
void wait_for_call(Rig& rig, const WaitingLogout& w) {
    const auto t0 = std::chrono::steady_clock::now();
    while (w.calls == 0 && std::chrono::steady_clock::now() - t0 < 5s)
        (void)sd_event_run(rig.event.get(), 10 * 1000);
    assert_int_equal(w.calls, 1);
}

} // namespace

// The back-channel answer waits for the handler's deferred reply: what it completes is sent.
static void test_backchannel_answer_waits(void**) {
    WaitingLogout w;
    auto rig = waiting_logout_rig(w);
    const std::uint16_t port = rig->server->port();
    RawResponse r;
    std::atomic<bool> done{false};
    std::thread provider([&] {
        r = http_exchange(port, logout_post("logout_token=x.y.z"));
        done = true;
    });
    wait_for_call(*rig, w);
    run_for(rig->event.get(), 200ms);
    assert_false(done.load());
    assert_int_equal(rig->server->held(), 1);
    w.answer->complete({200, {}, {}});
    while (!done)
        (void)sd_event_run(rig->event.get(), 10 * 1000);
    provider.join();
    assert_int_equal(r.status, 200);
    assert_true(r.body.empty());
    assert_string_equal(r.headers["cache-control"].c_str(), "no-store");
    assert_int_equal(rig->server->held(), 0);
}

// Not completed within hold_timeout: the fallback refusal, and a late answer reaches nobody.
static void test_backchannel_wait_is_bounded(void**) {
    WaitingLogout w;
    CallbackServerOptions o = test_options();
    o.hold_timeout = 300ms;
    auto rig = waiting_logout_rig(w, o);
    RawResponse r;
    const std::uint16_t port = rig->server->port();
    const auto t0 = std::chrono::steady_clock::now();
    with_loop(rig->event.get(), [&] { r = http_exchange(port, logout_post("logout_token=a")); });
    const auto waited = std::chrono::steady_clock::now() - t0;
    assert_int_equal(r.status, 400);
    assert_true(contains(r.body, "\"jws_unknown_kid\""));
    assert_true(waited >= 250ms && waited < 3s);
    assert_int_equal(rig->server->held(), 0);
    w.answer->complete({200, {}, {}});
    run_for(rig->event.get(), 50ms);
}

// Completed before the handler returned: answered at once, nothing held. The provider hanging
// up while held, and the listener going away while held, leak nothing (ASan).
static void test_backchannel_answer_edges(void**) {
    {
        auto rig = make_rig();
        rig->server->set_backchannel_handler([](std::string_view, std::string_view) {
            auto answer = std::make_shared<DeferredBackchannel>();
            answer->complete({200, {}, {}});
            return BackchannelReply{400, "{}", answer};
        });
        auto r = RawResponse{};
        const std::uint16_t port = rig->server->port();
        with_loop(rig->event.get(), [&] { r = http_exchange(port, logout_post("logout_token=a")); });
        assert_int_equal(r.status, 200);
        assert_int_equal(rig->server->held(), 0);
    }
    {
        WaitingLogout w;
        auto rig = waiting_logout_rig(w);
        UniqueFd fd = connect_to(rig->server->port());
        assert_true(send_all(fd.get(), logout_post("logout_token=a")));
        wait_for_call(*rig, w);
        assert_int_equal(rig->server->held(), 1);
        fd = UniqueFd();
        run_for(rig->event.get(), 100ms);
        w.answer->complete({200, {}, {}}); // the connection is gone: nothing is sent
        run_for(rig->event.get(), 100ms);
        assert_int_equal(rig->server->held(), 0);
    }
    {
        WaitingLogout w;
        auto rig = waiting_logout_rig(w);
        const std::uint16_t port = rig->server->port();
        RawResponse r;
        std::thread provider([&] { r = http_exchange(port, logout_post("logout_token=a")); });
        wait_for_call(*rig, w);
        rig->server.reset();
        provider.join();
        assert_int_equal(r.status, 400); // the fallback
        w.answer->complete({200, {}, {}});
    }
}

static void test_page_waits_for_the_outcome(void**) {
    Waiting w;
    auto rig = waiting_rig(w);
    RawResponse r;
    const std::uint16_t port = rig->server->port();
    std::atomic<bool> done{false};
    std::thread browser([&] {
        r = http_exchange(port, get_request("/callback?state=ok"));
        done = true;
    });
    // The handler ran and the request waits, suspended, while the loop goes on.
    const auto t0 = std::chrono::steady_clock::now();
    while (!w.page && std::chrono::steady_clock::now() - t0 < 5s)
        (void)sd_event_run(rig->event.get(), 10 * 1000);
    assert_non_null(w.page.get());
    run_for(rig->event.get(), 200ms);
    assert_false(done.load());
    assert_int_equal(rig->server->held(), 1);
    w.page->complete({CallbackReply::Page::signed_in, "claire"});
    while (!done)
        (void)sd_event_run(rig->event.get(), 10 * 1000);
    browser.join();
    assert_int_equal(r.status, 200);
    assert_true(contains(r.body, "Signed in"));
    assert_true(contains(r.body, "<code>claire</code>"));
    assert_int_equal(rig->server->held(), 0);
}

static void test_page_wait_is_bounded(void**) {
    Waiting w;
    CallbackServerOptions o = test_options();
    o.hold_timeout = 300ms;
    auto rig = waiting_rig(w, o);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = get_on_loop(*rig, "/callback?state=stuck");
    const auto waited = std::chrono::steady_clock::now() - t0;
    assert_int_equal(r.status, 200);
    assert_true(contains(r.body, "Response received")); // the decision shows at the terminal
    assert_true(waited >= 250ms && waited < 3s);
    assert_int_equal(rig->server->held(), 0);
    // Completing it now reaches nobody.
    w.page->complete({CallbackReply::Page::signed_in, "late"});
    run_for(rig->event.get(), 50ms);
}

// Destroying the listener while a page waits answers the browser and leaks nothing (ASan).
static void test_shutdown_with_a_waiting_page(void**) {
    Waiting w;
    auto rig = waiting_rig(w);
    const std::uint16_t port = rig->server->port();
    RawResponse r;
    std::atomic<bool> done{false};
    std::thread browser([&] {
        r = http_exchange(port, get_request("/callback?state=ok"));
        done = true;
    });
    const auto t0 = std::chrono::steady_clock::now();
    while (!w.page && std::chrono::steady_clock::now() - t0 < 5s)
        (void)sd_event_run(rig->event.get(), 10 * 1000);
    assert_int_equal(rig->server->held(), 1);
    rig->server.reset();
    browser.join();
    assert_true(done.load());
    w.page->complete({CallbackReply::Page::signed_in, "claire"}); // the server is gone: nothing
}

// Bytes trickling in forever do not keep a connection: its headers must be complete within
// header_timeout of the accept.
static void test_trickling_connection_cut_at_header_deadline(void**) {
    CallbackServerOptions o = test_options();
    o.header_timeout = 1000ms;
    o.connection_timeout = 10s; // an idle timeout alone would be renewed by every byte
    auto rig = make_rig(o);
    const std::uint16_t port = rig->server->port();
    std::atomic<bool> closed{false};
    std::atomic<long> held_ms{0};
    std::thread trickler([&] {
        UniqueFd fd = connect_to(port);
        const auto t0 = std::chrono::steady_clock::now();
        const std::string req = "GET /callback?state=ok HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        std::size_t i = 0;
        while (std::chrono::steady_clock::now() - t0 < 8s) {
            const char c = i < req.size() ? req[i] : 'a';
            ++i;
            if (::send(fd.get(), &c, 1, MSG_NOSIGNAL) != 1)
                break;
            std::this_thread::sleep_for(100ms);
        }
        held_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
        closed = true;
    });
    while (!closed)
        (void)sd_event_run(rig->event.get(), 20 * 1000);
    trickler.join();
    assert_true(held_ms.load() < 3000); // cut near 1 s, not after 8 s of trickling
    assert_true(rig->server->evicted() >= 1);
    assert_true(rig->targets.empty());
}

// 1,000 idle connections from loopback (what any local user can open): the real browser's
// callback, sent right after, is answered within a second. Each address keeps at most
// max_unfinished_per_address connections waiting for their headers; the oldest go first.
static void test_idle_flood_does_not_delay_a_real_callback(void**) {
    raise_fd_limit();
    auto rig = make_rig();
    const std::uint16_t port = rig->server->port();
    std::vector<UniqueFd> idle;
    std::atomic<bool> opened{false};
    std::thread flood([&] {
        for (int i = 0; i < 1000; ++i) {
            UniqueFd fd = connect_to(port);
            if (fd.valid())
                idle.push_back(std::move(fd));
        }
        opened = true;
    });
    while (!opened)
        (void)sd_event_run(rig->event.get(), 5 * 1000);
    flood.join();
    assert_true(idle.size() >= 900);
    run_for(rig->event.get(), 100ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = get_on_loop(*rig, "/callback?state=ok");
    const auto delay = std::chrono::steady_clock::now() - t0;
    assert_int_equal(r.status, 200);
    std::printf("real callback after 1000 idle connections: %lld ms (%zu evicted)\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()),
                rig->server->evicted());
    assert_true(delay < 1s);
    assert_true(rig->server->evicted() >= 900);
}

static int setup(void**) {
    return 0;
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_waits_for_the_outcome),
        cmocka_unit_test(test_page_wait_is_bounded),
        cmocka_unit_test(test_shutdown_with_a_waiting_page),
        cmocka_unit_test(test_backchannel_answer_waits),
        cmocka_unit_test(test_backchannel_wait_is_bounded),
        cmocka_unit_test(test_backchannel_answer_edges),
        cmocka_unit_test(test_trickling_connection_cut_at_header_deadline),
        cmocka_unit_test(test_idle_flood_does_not_delay_a_real_callback),
    };
    return cmocka_run_group_tests(tests, setup, nullptr);
}
