// SPDX-License-Identifier: LGPL-2.1-or-later
// The HTTP client against a loopback libmicrohttpd server with a CA generated at test time.
#include "http_client.hpp"
#include "https_server.hpp"
#include "test_ca.hpp"
#include "testing.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

using namespace psc;
using namespace psc::testing;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<TestCa> g_ca;

std::unique_ptr<HttpsServer> start_server(HttpsServer::Handler handler,
                                          const CertKey* cert = nullptr,
                                          std::string client_ca = {}) {
    HttpsServerOptions o;
    o.cert_pem = (cert ? *cert : g_ca->server()).cert_pem;
    o.key_pem = (cert ? *cert : g_ca->server()).key_pem;
    o.client_ca_pem = std::move(client_ca);
    auto s = HttpsServer::start(std::move(o), std::move(handler));
    assert_ok(s);
    return std::move(*s);
}

std::unique_ptr<HttpsServer> plain_server(HttpsServer::Handler handler) {
    HttpsServerOptions o;
    o.tls = false;
    auto s = HttpsServer::start(std::move(o), std::move(handler));
    assert_ok(s);
    return std::move(*s);
}

HttpOptions trusting_options() {
    HttpOptions o;
    o.ca_file = g_ca->ca().cert_path;
    o.total_timeout = 5s;
    return o;
}

std::unique_ptr<HttpClient> make_client(HttpOptions o, HttpLoop* loop = nullptr) {
    auto c = HttpClient::create(std::move(o), loop);
    assert_ok(c);
    return std::move(*c);
}

HttpRequest get(const std::string& url) {
    HttpRequest r;
    r.url = url;
    return r;
}

ServerResponse ok_json(const ServerRequest&) {
    return ServerResponse::json(R"({"ok":true})");
}

// The daemon's side of the socket API, played by a test: poll() over what curl asked to watch.
class TestLoop final : public HttpLoop {
public:
    std::map<int, unsigned> fds;
    long timeout_ms = -1;
    std::chrono::steady_clock::time_point deadline;

    void watch(int fd, unsigned events) override {
        if (events == none)
            fds.erase(fd);
        else
            fds[fd] = events;
    }
    void set_timeout(long ms) override {
        timeout_ms = ms;
        deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms < 0 ? 0 : ms);
    }
    void run_once(HttpClient& c) {
        std::vector<pollfd> p;
        for (auto [fd, ev] : fds)
            p.push_back({fd,
                         static_cast<short>(((ev & readable) ? POLLIN : 0) |
                                            ((ev & writable) ? POLLOUT : 0)),
                         0});
        (void)::poll(p.data(), p.size(), 20);
        for (auto& x : p)
            if (x.revents)
                c.on_socket_ready(x.fd, ((x.revents & POLLIN) ? readable : 0u) |
                                            ((x.revents & POLLOUT) ? writable : 0u) |
                                            ((x.revents & (POLLERR | POLLHUP)) ? error : 0u));
        if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) {
            timeout_ms = -1;
            c.on_timeout();
        }
    }
};

} // namespace

static void test_https_get_with_ca_file(void**) {
    auto srv = start_server(ok_json);
    auto c = make_client(trusting_options());
    auto r = perform(*c, get(srv->base_url() + "/hello?x=1"));
    assert_ok(r);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body.c_str(), R"({"ok":true})");
    assert_string_equal(http_media_type(r->content_type).c_str(), "application/json");
    const auto seen = srv->received();
    assert_int_equal(seen.size(), 1);
    assert_string_equal(seen[0].method.c_str(), "GET");
    assert_string_equal(seen[0].path.c_str(), "/hello");
    assert_string_equal(seen[0].query_value("x").value_or("").c_str(), "1");
    assert_true(seen[0].header("user-agent").rfind("psc-login/", 0) == 0);
}

static void test_https_post_body_and_headers(void**) {
    auto srv = start_server(ok_json);
    auto c = make_client(trusting_options());
    HttpRequest req = get(srv->base_url() + "/token");
    req.method = HttpMethod::post;
    req.body = "grant_type=authorization_code&code=abc";
    req.headers = {"Content-Type: application/x-www-form-urlencoded"};
    auto r = perform(*c, std::move(req));
    assert_ok(r);
    const auto seen = srv->received();
    assert_int_equal(seen.size(), 1);
    assert_string_equal(seen[0].method.c_str(), "POST");
    assert_string_equal(seen[0].body.c_str(), "grant_type=authorization_code&code=abc");
    assert_string_equal(seen[0].header("content-type").c_str(),
                        "application/x-www-form-urlencoded");
}

static void test_untrusted_server_rejected_without_ca_file(void**) {
    auto srv = start_server(ok_json);
    HttpOptions o;
    o.total_timeout = 5s;
    auto c = make_client(o); // system store only: the test CA is unknown
    assert_reason(perform(*c, get(srv->base_url() + "/")), "tls_verify");
    assert_int_equal(srv->requests(), 0);
}

static void test_server_from_other_ca_rejected(void**) {
    auto srv = start_server(ok_json, &g_ca->untrusted_server());
    auto c = make_client(trusting_options());
    assert_reason(perform(*c, get(srv->base_url() + "/")), "tls_verify");
    assert_int_equal(srv->requests(), 0);
}

static void test_hostname_mismatch_rejected(void**) {
    auto other = g_ca->issue_server({"other.example"}, {}, "other-server");
    assert_ok(other);
    auto srv = start_server(ok_json, &*other);
    auto c = make_client(trusting_options());
    assert_reason(perform(*c, get(srv->base_url() + "/")), "tls_verify");
    assert_int_equal(srv->requests(), 0);
}

static void test_localhost_name_verified(void**) {
    auto srv = start_server(ok_json);
    auto c = make_client(trusting_options());
    assert_ok(perform(*c, get("https://localhost:" + std::to_string(srv->port()) + "/")));
}

static void test_http_refused_without_allow_insecure(void**) {
    auto srv = plain_server(ok_json);
    auto c = make_client(trusting_options());
    assert_reason(perform(*c, get(srv->base_url() + "/")), "http_insecure_url");
    assert_int_equal(srv->connections(), 0); // refused before any connection
}

static void test_http_refused_for_non_loopback_even_if_allowed(void**) {
    HttpOptions o = trusting_options();
    o.allow_insecure_http = true;
    auto c = make_client(o);
    assert_reason(c->start(get("http://auth.example.org/x"), [](Result<HttpResponse>) {}),
                  "http_insecure_url");
    assert_reason(c->start(get("http://127.0.0.2/x"), [](Result<HttpResponse>) {}),
                  "http_insecure_url");
    assert_int_equal(c->in_flight(), 0);
}

static void test_http_loopback_allowed_when_configured(void**) {
    auto srv = plain_server(ok_json);
    HttpOptions o = trusting_options();
    o.allow_insecure_http = true;
    auto c = make_client(o);
    auto r = perform(*c, get(srv->base_url() + "/"));
    assert_ok(r);
    assert_int_equal(r->status, 200);
}

static void test_other_schemes_refused(void**) {
    HttpOptions o = trusting_options();
    o.allow_insecure_http = true;
    auto c = make_client(o);
    assert_reason(perform(*c, get("file:///etc/passwd")), "http_insecure_url");
    assert_reason(perform(*c, get("ftp://127.0.0.1/x")), "http_insecure_url");
    assert_reason(perform(*c, get("not a url")), "http_bad_url");
}

static void test_mtls_client_certificate_seen_by_server(void**) {
    auto client_cert = g_ca->issue_client("psc-login-client");
    assert_ok(client_cert);
    auto srv = start_server(ok_json, nullptr, g_ca->ca().cert_pem);
    HttpOptions o = trusting_options();
    o.client_cert = client_cert->cert_path;
    o.client_key = client_cert->key_path;
    auto c = make_client(o);
    HttpRequest req = get(srv->base_url() + "/token");
    req.client_cert = true;
    assert_ok(perform(*c, std::move(req)));
    assert_ok(perform(*c, get(srv->base_url() + "/plain"))); // no mTLS asked: none presented
    const auto seen = srv->received();
    assert_int_equal(seen.size(), 2);
    assert_true(seen[0].client_subject.has_value());
    assert_string_equal(seen[0].client_subject->c_str(), "CN=psc-login-client");
    assert_false(seen[1].client_subject.has_value());
}

// The reverse order, on one client: a connection opened without the certificate is never reused
// for a request that needs it (curl keys its connection cache on the certificate).
static void test_mtls_never_rides_a_plain_connection(void**) {
    auto client_cert = g_ca->issue_client("psc-login-client");
    assert_ok(client_cert);
    auto srv = start_server(ok_json, nullptr, g_ca->ca().cert_pem);
    HttpOptions o = trusting_options();
    o.client_cert = client_cert->cert_path;
    o.client_key = client_cert->key_path;
    auto c = make_client(o);
    assert_ok(perform(*c, get(srv->base_url() + "/plain")));
    HttpRequest req = get(srv->base_url() + "/token");
    req.client_cert = true;
    assert_ok(perform(*c, std::move(req)));
    HttpRequest again = get(srv->base_url() + "/token2");
    again.client_cert = true;
    assert_ok(perform(*c, std::move(again)));
    const auto seen = srv->received();
    assert_int_equal(seen.size(), 3);
    assert_false(seen[0].client_subject.has_value());
    assert_true(seen[1].client_subject.has_value());
    assert_true(seen[2].client_subject.has_value());
    assert_int_equal(c->connections_opened(), 2); // the mTLS connection served both
}

// Trust anchors and the client key are read once, when the client is created: new connections
// later do not touch the files (they may even be gone).
static void test_tls_files_read_once(void**) {
    auto client_cert = g_ca->issue_client("psc-login-client");
    assert_ok(client_cert);
    const std::string dir = g_ca->dir() + "/once";
    std::filesystem::create_directories(dir);
    const std::string ca = dir + "/ca.pem", crt = dir + "/c.crt", key = dir + "/c.key";
    std::filesystem::copy_file(g_ca->ca().cert_path, ca);
    std::filesystem::copy_file(client_cert->cert_path, crt);
    std::filesystem::copy_file(client_cert->key_path, key);
    HttpOptions o;
    o.ca_file = ca;
    o.client_cert = crt;
    o.client_key = key;
    auto c = make_client(o);
    std::filesystem::remove_all(dir);
    auto a = start_server(ok_json, nullptr, g_ca->ca().cert_pem);
    auto b = start_server(ok_json);
    HttpRequest req = get(a->base_url() + "/token");
    req.client_cert = true;
    assert_ok(perform(*c, std::move(req)));
    assert_ok(perform(*c, get(b->base_url() + "/jwks")));
    assert_true(a->received().at(0).client_subject.has_value());
    assert_int_equal(c->connections_opened(), 2);
}

static void test_mtls_without_configured_certificate_refused(void**) {
    auto c = make_client(trusting_options());
    HttpRequest req = get("https://127.0.0.1:1/token");
    req.client_cert = true;
    assert_reason(perform(*c, std::move(req)), "http_no_client_cert");
}

static void test_unusable_tls_files_refused_at_creation(void**) {
    HttpOptions o;
    o.ca_file = g_ca->dir() + "/missing.pem";
    assert_reason(HttpClient::create(o), "http_ca_file");
    auto a = g_ca->issue_client("a");
    auto b = g_ca->issue_client("b");
    assert_ok(a);
    assert_ok(b);
    HttpOptions m;
    m.client_cert = a->cert_path;
    m.client_key = b->key_path;
    assert_reason(HttpClient::create(m), "http_client_cert");
}

static void test_response_over_cap_with_length_rejected(void**) {
    auto srv = start_server([](const ServerRequest&) { return ServerResponse::huge(4096); });
    HttpOptions o = trusting_options();
    o.max_response_bytes = 1024;
    auto c = make_client(o);
    assert_reason(perform(*c, get(srv->base_url() + "/")), "http_too_large");
}

static void test_response_over_cap_chunked_rejected(void**) {
    auto srv =
        start_server([](const ServerRequest&) { return ServerResponse::huge(300 * 1024, true); });
    auto c = make_client(trusting_options()); // default cap: 256 KiB
    assert_reason(perform(*c, get(srv->base_url() + "/")), "http_too_large");
}

static void test_response_at_cap_accepted(void**) {
    auto srv = start_server([](const ServerRequest&) { return ServerResponse::huge(1024, true); });
    HttpOptions o = trusting_options();
    o.max_response_bytes = 1024;
    auto c = make_client(o);
    auto r = perform(*c, get(srv->base_url() + "/"));
    assert_ok(r);
    assert_int_equal(r->body.size(), 1024);
}

static void test_stalled_server_times_out(void**) {
    auto srv = start_server(ok_json);
    srv->set_stall(true);
    HttpOptions o = trusting_options();
    o.total_timeout = 1s;
    auto c = make_client(o);
    const auto t0 = std::chrono::steady_clock::now();
    assert_reason(perform(*c, get(srv->base_url() + "/")), "http_timeout");
    assert_true(std::chrono::steady_clock::now() - t0 < 4s);
    srv->stop(); // releases the stalled request and joins its thread
}

static void test_server_error_surfaced(void**) {
    auto srv = start_server([](const ServerRequest&) {
        return ServerResponse::json(R"({"error":"unavailable"})", 503);
    });
    auto c = make_client(trusting_options());
    assert_reason(perform(*c, get(srv->base_url() + "/")), "http_status");
}

static void test_client_error_body_returned(void**) {
    auto srv = start_server([](const ServerRequest&) {
        return ServerResponse::json(R"({"error":"authorization_pending"})", 400);
    });
    auto c = make_client(trusting_options());
    auto r = perform(*c, get(srv->base_url() + "/"));
    assert_ok(r);
    assert_int_equal(r->status, 400);
    assert_string_equal(r->body.c_str(), R"({"error":"authorization_pending"})");
}

static void test_redirect_not_followed(void**) {
    auto srv = start_server([](const ServerRequest&) {
        ServerResponse r = ServerResponse::json("{}", 302);
        r.headers = {{"Location", "https://127.0.0.1:1/elsewhere"}};
        return r;
    });
    auto c = make_client(trusting_options());
    assert_reason(perform(*c, get(srv->base_url() + "/")), "http_status");
    assert_int_equal(srv->requests(), 1);
}

static void test_connection_refused(void**) {
    // A port nobody listens on: bind, read the port, close.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    assert_int_equal(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ::close(fd);
    auto c = make_client(trusting_options());
    assert_reason(perform(*c, get("https://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/")),
                  "http_connect");
}

static void test_connection_reused(void**) {
    auto srv = start_server(ok_json);
    auto c = make_client(trusting_options());
    assert_ok(perform(*c, get(srv->base_url() + "/a")));
    assert_ok(perform(*c, get(srv->base_url() + "/b")));
    assert_int_equal(c->connections_opened(), 1);
    assert_int_equal(srv->connections(), 1);
    assert_int_equal(srv->requests(), 2);
}

static void test_header_injection_refused(void**) {
    auto c = make_client(trusting_options());
    HttpRequest req = get("https://127.0.0.1:1/");
    req.headers = {"X-A: 1\r\nX-Injected: 2"};
    assert_reason(perform(*c, std::move(req)), "http_header");
}

static void test_external_loop_completes_request(void**) {
    auto srv = start_server(ok_json);
    TestLoop loop;
    auto c = make_client(trusting_options(), &loop);
    std::optional<Result<HttpResponse>> out;
    auto id = c->start(get(srv->base_url() + "/"),
                       [&](Result<HttpResponse> r) { out.emplace(std::move(r)); });
    assert_ok(id);
    for (int i = 0; i < 500 && !out; ++i)
        loop.run_once(*c);
    assert_true(out.has_value());
    assert_ok(*out);
    assert_int_equal((*out)->status, 200);
    assert_reason(perform(*c, get(srv->base_url() + "/")), "http_loop_external");
}

static void test_cancel_in_flight_via_socket_api(void**) {
    auto srv = start_server(ok_json);
    srv->set_stall(true);
    TestLoop loop;
    auto c = make_client(trusting_options(), &loop);
    bool called = false;
    auto id = c->start(get(srv->base_url() + "/"), [&](Result<HttpResponse>) { called = true; });
    assert_ok(id);
    for (int i = 0; i < 500 && srv->requests() == 0; ++i)
        loop.run_once(*c);
    assert_int_equal(srv->requests(), 1); // the request is at the server, unanswered
    assert_false(loop.fds.empty());
    c->cancel(*id);
    assert_int_equal(c->in_flight(), 0);
    assert_true(loop.fds.empty()); // curl closed the connection and told the loop
    for (int i = 0; i < 5; ++i)
        loop.run_once(*c);
    assert_false(called);
    srv->stop();
}

static void test_scoped_request_cancels_on_destruction(void**) {
    auto srv = start_server(ok_json);
    srv->set_stall(true);
    TestLoop loop;
    auto c = make_client(trusting_options(), &loop);
    bool called = false;
    {
        auto id =
            c->start(get(srv->base_url() + "/"), [&](Result<HttpResponse>) { called = true; });
        assert_ok(id);
        ScopedHttpRequest guard(*c, *id);
        for (int i = 0; i < 500 && srv->requests() == 0; ++i)
            loop.run_once(*c);
        assert_int_equal(c->in_flight(), 1);
    }
    assert_int_equal(c->in_flight(), 0);
    assert_false(called);
    srv->stop();
}

static void test_media_type(void**) {
    assert_string_equal(http_media_type("Application/JSON; charset=utf-8").c_str(),
                        "application/json");
    assert_string_equal(http_media_type("application/jwt").c_str(), "application/jwt");
}

int main() {
    auto ca = TestCa::create();
    if (!ca) {
        std::fprintf(stderr, "test CA: %s\n", ca.error().describe().c_str());
        return 1;
    }
    g_ca = std::move(*ca);
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_https_get_with_ca_file),
        cmocka_unit_test(test_https_post_body_and_headers),
        cmocka_unit_test(test_untrusted_server_rejected_without_ca_file),
        cmocka_unit_test(test_server_from_other_ca_rejected),
        cmocka_unit_test(test_hostname_mismatch_rejected),
        cmocka_unit_test(test_localhost_name_verified),
        cmocka_unit_test(test_http_refused_without_allow_insecure),
        cmocka_unit_test(test_http_refused_for_non_loopback_even_if_allowed),
        cmocka_unit_test(test_http_loopback_allowed_when_configured),
        cmocka_unit_test(test_other_schemes_refused),
        cmocka_unit_test(test_mtls_client_certificate_seen_by_server),
        cmocka_unit_test(test_mtls_never_rides_a_plain_connection),
        cmocka_unit_test(test_tls_files_read_once),
        cmocka_unit_test(test_mtls_without_configured_certificate_refused),
        cmocka_unit_test(test_unusable_tls_files_refused_at_creation),
        cmocka_unit_test(test_response_over_cap_with_length_rejected),
        cmocka_unit_test(test_response_over_cap_chunked_rejected),
        cmocka_unit_test(test_response_at_cap_accepted),
        cmocka_unit_test(test_stalled_server_times_out),
        cmocka_unit_test(test_server_error_surfaced),
        cmocka_unit_test(test_client_error_body_returned),
        cmocka_unit_test(test_redirect_not_followed),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_connection_reused),
        cmocka_unit_test(test_header_injection_refused),
        cmocka_unit_test(test_external_loop_completes_request),
        cmocka_unit_test(test_cancel_in_flight_via_socket_api),
        cmocka_unit_test(test_scoped_request_cancels_on_destruction),
        cmocka_unit_test(test_media_type),
    };
    const int rc = cmocka_run_group_tests(tests, nullptr, nullptr);
    g_ca.reset();
    return rc;
}
