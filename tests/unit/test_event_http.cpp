// SPDX-License-Identifier: LGPL-2.1-or-later
// HttpClient driven by a real sd-event loop (SdEventHttpLoop), against the loopback HTTPS server
// with a CA generated at test time: what psc-authd does for every provider exchange.
#include "event_loop.hpp"
#include "http_client.hpp"
#include "https_server.hpp"
#include "test_ca.hpp"
#include "testing.hpp"

using namespace psc;
using namespace psc::testing;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<TestCa> g_ca;

// Destroyed in reverse order: the client (which unwatches everything), then the loop, then the
// event loop itself.
struct Rig {
    SdEventPtr event;
    std::unique_ptr<SdEventHttpLoop> loop;
    std::unique_ptr<HttpClient> client;
};

// Generous by default: 40 TLS handshakes against a thread-per-connection test server on a loaded
// 2-core CI machine can take several seconds.
Rig make_rig(std::chrono::milliseconds total_timeout = 30000ms) {
    Rig r;
    auto e = event_new();
    assert_ok(e);
    r.event = std::move(*e);
    auto l = SdEventHttpLoop::create(r.event.get());
    assert_ok(l);
    r.loop = std::move(*l);
    HttpOptions o;
    o.ca_file = g_ca->ca().cert_path;
    o.total_timeout = total_timeout;
    o.connect_timeout = std::min<std::chrono::milliseconds>(total_timeout, 30000ms);
    auto c = HttpClient::create(std::move(o), r.loop.get());
    assert_ok(c);
    r.client = std::move(*c);
    r.loop->attach(*r.client);
    return r;
}

// Tears the rig down the way the daemon does and proves nothing was left in the loop.
void finish(Rig& r) {
    r.client.reset();
    assert_int_equal(r.loop->source_count(), 0);
    assert_int_equal(r.loop->errors(), 0);
    r.loop.reset();
    // No source left: an iteration dispatches nothing.
    assert_int_equal(sd_event_run(r.event.get(), 0), 0);
}

std::unique_ptr<HttpsServer> start_server(HttpsServer::Handler handler) {
    HttpsServerOptions o;
    o.cert_pem = g_ca->server().cert_pem;
    o.key_pem = g_ca->server().key_pem;
    auto s = HttpsServer::start(std::move(o), std::move(handler));
    assert_ok(s);
    return std::move(*s);
}

ServerResponse echo_path(const ServerRequest& req) {
    return ServerResponse::json("{\"path\":\"" + req.path + "\"}");
}

bool run_until(sd_event* e, const std::function<bool()>& done,
               std::chrono::milliseconds limit = 45000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        if (sd_event_run(e, 50 * 1000) < 0)
            return false;
    }
    return true;
}

void run_for(sd_event* e, std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end)
        (void)sd_event_run(e, 10 * 1000);
}

HttpRequest get(const std::string& url) {
    HttpRequest r;
    r.url = url;
    return r;
}

} // namespace

static void test_https_get_through_sd_event(void**) {
    auto server = start_server(echo_path);
    Rig rig = make_rig();
    std::optional<Result<HttpResponse>> out;
    auto id = rig.client->start(get(server->base_url() + "/hello"),
                                [&](Result<HttpResponse> r) { out.emplace(std::move(r)); });
    assert_ok(id);
    assert_true(run_until(rig.event.get(), [&] { return out.has_value(); }));
    assert_ok(*out);
    assert_int_equal((*out)->status, 200);
    assert_string_equal((*out)->body.c_str(), "{\"path\":\"/hello\"}");
    assert_int_equal(rig.client->in_flight(), 0);
    finish(rig);
}

static void test_connection_is_reused_across_requests(void**) {
    auto server = start_server(echo_path);
    Rig rig = make_rig();
    for (int i = 0; i < 3; ++i) {
        std::optional<Result<HttpResponse>> out;
        auto id = rig.client->start(get(server->base_url() + "/r"),
                                    [&](Result<HttpResponse> r) { out.emplace(std::move(r)); });
        assert_ok(id);
        assert_true(run_until(rig.event.get(), [&] { return out.has_value(); }));
        assert_ok(*out);
    }
    // An idle connection in curl's cache stays usable between loop iterations.
    assert_int_equal(rig.client->connections_opened(), 1);
    assert_int_equal(server->connections(), 1);
    finish(rig);
}

static void test_many_concurrent_requests(void**) {
    auto server = start_server(echo_path);
    Rig rig = make_rig();
    constexpr int kCount = 40;
    std::map<int, Result<HttpResponse>> results;
    for (int i = 0; i < kCount; ++i) {
        auto id = rig.client->start(
            get(server->base_url() + "/n/" + std::to_string(i)),
            [&results, i](Result<HttpResponse> r) { results.emplace(i, std::move(r)); });
        assert_ok(id);
    }
    assert_int_equal(rig.client->in_flight(), kCount);
    assert_true(run_until(
        rig.event.get(), [&] { return results.size() == kCount; }, 60000ms));
    for (const auto& [i, r] : results) {
        assert_ok(r);
        assert_int_equal(r->status, 200);
        const std::string want = "{\"path\":\"/n/" + std::to_string(i) + "\"}";
        assert_string_equal(r->body.c_str(), want.c_str());
    }
    assert_int_equal(server->requests(), kCount);
    finish(rig);
}

static void test_callback_may_start_another_request(void**) {
    // A login's token exchange is started from the discovery callback: re-entry through the loop.
    auto server = start_server(echo_path);
    Rig rig = make_rig();
    std::optional<Result<HttpResponse>> second;
    auto id = rig.client->start(get(server->base_url() + "/first"), [&](Result<HttpResponse> r) {
        assert_ok(r);
        auto id2 =
            rig.client->start(get(server->base_url() + "/second"),
                              [&](Result<HttpResponse> r2) { second.emplace(std::move(r2)); });
        assert_ok(id2);
    });
    assert_ok(id);
    assert_true(run_until(rig.event.get(), [&] { return second.has_value(); }));
    assert_ok(*second);
    assert_string_equal((*second)->body.c_str(), "{\"path\":\"/second\"}");
    finish(rig);
}

static void test_cancel_mid_flight_never_calls_back(void**) {
    auto server = start_server(echo_path);
    server->set_stall(true);
    Rig rig = make_rig();
    bool called = false;
    auto id = rig.client->start(get(server->base_url() + "/slow"),
                                [&](Result<HttpResponse>) { called = true; });
    assert_ok(id);
    // Mid-flight: the server holds the request, the TLS connection is up.
    assert_true(run_until(rig.event.get(), [&] { return server->requests() == 1; }));
    rig.client->cancel(*id);
    assert_int_equal(rig.client->in_flight(), 0);
    run_for(rig.event.get(), 200ms);
    assert_false(called);
    // The cancelled transfer's socket is no longer watched.
    assert_true(rig.loop->source_count() <= 1); // at most curl's timer
    finish(rig);
    server->stop();
}

static void test_destroying_client_with_requests_in_flight(void**) {
    // SIGTERM with logins pending: the client goes away mid-exchange, nothing fires afterwards.
    auto server = start_server(echo_path);
    server->set_stall(true);
    Rig rig = make_rig();
    bool called = false;
    for (int i = 0; i < 5; ++i)
        assert_ok(rig.client->start(get(server->base_url() + "/slow"),
                                    [&](Result<HttpResponse>) { called = true; }));
    assert_true(run_until(rig.event.get(), [&] { return server->requests() == 5; }));
    finish(rig);
    assert_false(called);
    server->stop();
}

static void test_request_times_out(void**) {
    auto server = start_server(echo_path);
    server->set_stall(true);
    Rig rig = make_rig(400ms);
    std::optional<Result<HttpResponse>> out;
    const auto t0 = std::chrono::steady_clock::now();
    auto id = rig.client->start(get(server->base_url() + "/slow"),
                                [&](Result<HttpResponse> r) { out.emplace(std::move(r)); });
    assert_ok(id);
    assert_true(run_until(
        rig.event.get(), [&] { return out.has_value(); }, 10000ms));
    assert_reason(*out, "http_timeout");
    // Fired by the sd-event timer, on time (not at a poll interval or the server's whim).
    assert_true(std::chrono::steady_clock::now() - t0 < 3000ms);
    finish(rig);
    server->stop();
}

static void test_refused_request_leaves_no_source(void**) {
    Rig rig = make_rig();
    auto id = rig.client->start(get("http://127.0.0.1:1/plain"), [](Result<HttpResponse>) {});
    assert_reason(id, "http_insecure_url");
    assert_int_equal(rig.loop->source_count(), 0);
    finish(rig);
}

static void test_connection_refused_is_reported(void**) {
    // A port nothing listens on (taken from a server that was then stopped).
    std::string url;
    {
        auto server = start_server(echo_path);
        url = server->base_url() + "/gone";
    }
    Rig rig = make_rig();
    std::optional<Result<HttpResponse>> out;
    assert_ok(
        rig.client->start(get(url), [&](Result<HttpResponse> r) { out.emplace(std::move(r)); }));
    assert_true(run_until(rig.event.get(), [&] { return out.has_value(); }));
    assert_reason(*out, "http_connect");
    finish(rig);
}

static void test_wired_helper_runs_a_request(void**) {
    auto server = start_server(echo_path);
    auto e = event_new();
    assert_ok(e);
    HttpOptions o;
    o.ca_file = g_ca->ca().cert_path;
    auto http = sd_event_http_client(e->get(), o);
    assert_ok(http);
    std::optional<Result<HttpResponse>> out;
    assert_ok(http->client->start(get(server->base_url() + "/wired"),
                                  [&](Result<HttpResponse> r) { out.emplace(std::move(r)); }));
    assert_true(run_until(e->get(), [&] { return out.has_value(); }));
    assert_ok(*out);
    assert_string_equal((*out)->body.c_str(), "{\"path\":\"/wired\"}");
    http->client.reset();
    assert_int_equal(http->loop->source_count(), 0);
}

static void test_wired_helper_reports_client_errors(void**) {
    auto e = event_new();
    assert_ok(e);
    HttpOptions o;
    o.ca_file = g_ca->dir() + "/missing-ca.pem";
    assert_reason(sd_event_http_client(e->get(), o), "http_ca_file");
    assert_reason(sd_event_http_client(nullptr, HttpOptions{}), "event_new");
}

static void test_loop_without_event_is_refused(void**) {
    assert_reason(SdEventHttpLoop::create(nullptr), "event_new");
}

static void test_detached_loop_drops_events(void**) {
    // Between detach and the client's destruction nothing reaches the client.
    auto server = start_server(echo_path);
    Rig rig = make_rig();
    bool called = false;
    assert_ok(rig.client->start(get(server->base_url() + "/x"),
                                [&](Result<HttpResponse>) { called = true; }));
    rig.loop->detach();
    run_for(rig.event.get(), 200ms);
    assert_false(called);
    assert_int_equal(server->requests(), 0);
    finish(rig);
}

static int setup(void**) {
    auto ca = TestCa::create();
    if (!ca)
        return -1;
    g_ca = std::move(*ca);
    return 0;
}

static int teardown(void**) {
    g_ca.reset();
    return 0;
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https_get_through_sd_event),
        cmocka_unit_test(test_connection_is_reused_across_requests),
        cmocka_unit_test(test_many_concurrent_requests),
        cmocka_unit_test(test_callback_may_start_another_request),
        cmocka_unit_test(test_cancel_mid_flight_never_calls_back),
        cmocka_unit_test(test_destroying_client_with_requests_in_flight),
        cmocka_unit_test(test_request_times_out),
        cmocka_unit_test(test_refused_request_leaves_no_source),
        cmocka_unit_test(test_connection_refused_is_reported),
        cmocka_unit_test(test_wired_helper_runs_a_request),
        cmocka_unit_test(test_wired_helper_reports_client_errors),
        cmocka_unit_test(test_loop_without_event_is_refused),
        cmocka_unit_test(test_detached_loop_drops_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
