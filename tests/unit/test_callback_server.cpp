// SPDX-License-Identifier: LGPL-2.1-or-later
// The local callback listener (design §2 item 1, §9) in a real sd-event loop, with real HTTP
// clients on other threads (raw sockets where exact bytes matter, the project's HttpClient
// elsewhere), and the result page it serves. Assertions run on the main thread only (CMocka
// longjmps).
#include "callback_rig.hpp"


// ---- the server -------------------------------------------------------------------------------

static void test_handler_receives_exact_raw_target(void**) {
    auto rig = make_rig();
    const std::string target = "/callback?code=a%2Fb%2B%3D%20c&state=ok&iss=https%3A%2F%2F"
                               "auth.esw.esante.gouv.fr%2Fauth%2Frealms%2Fesante-wallet&x=%00";
    const RawResponse r = get_on_loop(*rig, target);
    assert_int_equal(r.status, 200);
    assert_int_equal(rig->targets.size(), 1);
    assert_string_equal(rig->targets[0].c_str(), target.c_str());
}

static void test_success_page_status_and_headers(void**) {
    auto rig = make_rig();
    const RawResponse r = get_on_loop(*rig, "/callback?state=ok&code=c");
    assert_int_equal(r.status, 200);
    assert_page_headers(r);
    assert_true(contains(r.body, "Réponse reçue"));
    assert_true(contains(r.body, "Response received"));
}

static void test_failure_page_status_and_escaped_reason(void**) {
    auto rig = make_rig();
    rig->failure_reason = "<script>alert(1)</script>\x07\x1b[2J <b>bold</b>";
    const RawResponse r = get_on_loop(*rig, "/callback?state=bad&error=access_denied");
    assert_int_equal(r.status, 400);
    assert_page_headers(r);
    assert_true(contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;[2J &lt;b&gt;bold"));
    assert_false(contains(r.body, "<b>"));
    assert_false(contains(r.body, "\x07"));
    assert_false(contains(r.body, "\x1b"));
}

static void test_unknown_login_page(void**) {
    auto rig = make_rig();
    const RawResponse r = get_on_loop(*rig, "/callback?state=nobody&code=c");
    assert_int_equal(r.status, 410);
    assert_page_headers(r);
    assert_true(contains(r.body, "Connexion inconnue ou expirée"));
    assert_true(contains(r.body, "Unknown or expired login"));
}

static void test_head_gets_headers_only(void**) {
    auto rig = make_rig();
    const RawResponse r = get_on_loop(*rig, "/callback?state=ok", "HEAD");
    assert_int_equal(r.status, 200);
    assert_true(r.body.empty());
    assert_string_equal(r.headers.at("content-type").c_str(), "text/html; charset=utf-8");
}

static void test_post_is_405_and_body_never_read(void**) {
    auto rig = make_rig();
    RawResponse r;
    const std::uint16_t port = rig->server->port();
    with_loop(rig->event.get(), [&] {
        r = http_exchange(port,
                          "POST /callback?state=ok HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/x-www-form-urlencoded\r\n"
                          "Content-Length: 19\r\nConnection: close\r\n\r\ncode=c&state=ok&x=1");
    });
    assert_int_equal(r.status, 405);
    assert_string_equal(r.headers.at("allow").c_str(), "GET, HEAD");
    assert_page_headers(r);
    assert_true(rig->targets.empty());
}

static void test_get_with_body_is_dropped_unread(void**) {
    auto rig = make_rig();
    RawResponse r;
    const std::uint16_t port = rig->server->port();
    with_loop(rig->event.get(), [&] {
        r = http_exchange(port, "GET /callback?state=ok HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
    });
    assert_int_equal(r.status, 0);
    assert_true(rig->targets.empty());
}

static void test_other_methods_are_405(void**) {
    auto rig = make_rig();
    for (const char* m : {"PUT", "DELETE", "OPTIONS"})
        assert_int_equal(get_on_loop(*rig, "/callback?state=ok", m).status, 405);
    assert_true(rig->targets.empty());
}

static void test_other_paths_are_404_without_echo(void**) {
    auto rig = make_rig();
    for (const char* t : {"/admin?x=<b>ECHO</b>", "/callback/ECHO?state=ok", "/callbackECHO",
                          "/%63allback?state=ok&ECHO", "/callback%3Fstate=ok&ECHO", "/",
                          "/./callback?state=ok&ECHO"}) {
        const RawResponse r = get_on_loop(*rig, t);
        assert_int_equal(r.status, 404);
        assert_page_headers(r);
        assert_false(contains(r.body, "ECHO"));
        assert_true(contains(r.body, "Page introuvable"));
    }
    assert_true(rig->targets.empty());
}

static void test_target_over_limit_is_414(void**) {
    auto rig = make_rig();
    const std::string target = "/callback?state=ok&code=" + std::string(9000, 'a');
    const RawResponse r = get_on_loop(*rig, target);
    assert_int_equal(r.status, 414);
    assert_true(rig->targets.empty());
}

static void test_target_at_limit_is_served(void**) {
    auto rig = make_rig();
    std::string target = "/callback?state=ok&code=";
    target += std::string(8 * 1024 - target.size(), 'a');
    const RawResponse r = get_on_loop(*rig, target);
    assert_int_equal(r.status, 200);
    assert_int_equal(rig->targets.size(), 1);
    assert_int_equal(rig->targets[0].size(), 8 * 1024);
}

static void test_huge_target_refused_before_the_handler(void**) {
    // Past MHD's per-connection memory: MHD answers (414) or drops the connection itself.
    auto rig = make_rig();
    const RawResponse r = get_on_loop(*rig, "/callback?state=ok&code=" + std::string(200000, 'a'));
    assert_true(r.status == 414 || r.status == 0);
    assert_true(rig->targets.empty());
}

static void test_oversized_headers_refused_before_the_handler(void**) {
    auto rig = make_rig();
    RawResponse r;
    const std::uint16_t port = rig->server->port();
    with_loop(rig->event.get(), [&] {
        r = http_exchange(port, "GET /callback?state=ok HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " +
                                    std::string(40000, 'c') + "\r\nConnection: close\r\n\r\n");
    });
    assert_true(r.status == 431 || r.status == 413 || r.status == 400 || r.status == 0);
    assert_true(rig->targets.empty());
}

static void test_handler_exception_gives_internal_error_page(void**) {
    auto rig = make_rig();
    rig->throw_in_handler = true;
    const RawResponse r = get_on_loop(*rig, "/callback?state=ok");
    assert_int_equal(r.status, 500);
    assert_page_headers(r);
    assert_true(contains(r.body, "Erreur interne"));
}

static void test_http_client_sees_pages(void**) {
    // The project's own client (plain http on loopback) as a browser stand-in.
    auto rig = make_rig();
    const std::string base = rig->server->url();
    assert_string_equal(
        base.c_str(),
        ("http://127.0.0.1:" + std::to_string(rig->server->port()) + "/callback").c_str());
    std::vector<Result<HttpResponse>> out;
    with_loop(rig->event.get(), [&] {
        HttpOptions o;
        o.allow_insecure_http = true;
        auto c = HttpClient::create(o);
        if (!c)
            return;
        for (const char* q : {"?state=ok", "?state=bad", "?state=zzz"}) {
            HttpRequest req;
            req.url = base + q;
            out.push_back(perform(**c, req));
        }
    });
    assert_int_equal(out.size(), 3);
    assert_ok(out[0]);
    assert_int_equal(out[0]->status, 200);
    assert_string_equal(out[0]->content_type.c_str(), "text/html; charset=utf-8");
    assert_ok(out[1]);
    assert_int_equal(out[1]->status, 400);
    assert_true(contains(out[1]->body, "access_denied"));
    assert_ok(out[2]);
    assert_int_equal(out[2]->status, 410);
}

static void test_tls_mode_with_test_ca(void**) {
    CallbackServerOptions o = test_options();
    o.tls_cert_file = g_ca->server().cert_path;
    o.tls_key_file = write_temp("tls.key", g_ca->server().key_pem, 0600);
    auto rig = make_rig(o);
    assert_true(rig->server->tls());
    const std::string url = rig->server->url() + "?state=ok&code=c";
    assert_true(url.rfind("https://127.0.0.1:", 0) == 0);
    std::optional<Result<HttpResponse>> out;
    with_loop(rig->event.get(), [&] {
        HttpOptions ho;
        ho.ca_file = g_ca->ca().cert_path;
        auto c = HttpClient::create(ho);
        if (!c)
            return;
        HttpRequest req;
        req.url = url;
        out.emplace(perform(**c, req));
    });
    assert_true(out.has_value());
    assert_ok(*out);
    assert_int_equal((*out)->status, 200);
    assert_true(contains((*out)->body, "Response received"));
    assert_int_equal(rig->targets.size(), 1);
    assert_string_equal(rig->targets[0].c_str(), "/callback?state=ok&code=c");
}

static void test_tls_plain_http_client_gets_no_page(void**) {
    CallbackServerOptions o = test_options();
    o.tls_cert_file = g_ca->server().cert_path;
    o.tls_key_file = write_temp("tls2.key", g_ca->server().key_pem, 0600);
    auto rig = make_rig(o);
    const RawResponse r = get_on_loop(*rig, "/callback?state=ok");
    assert_int_equal(r.status, 0);
    assert_true(rig->targets.empty());
}

static void test_tls_key_readable_by_others_is_refused(void**) {
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.tls_cert_file = g_ca->server().cert_path;
    o.tls_key_file = write_temp("open.key", g_ca->server().key_pem, 0644);
    assert_reason(start_on(rig, o), "file_mode");
}

static void test_tls_key_not_matching_certificate_is_refused(void**) {
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.tls_cert_file = g_ca->server().cert_path;
    o.tls_key_file = write_temp("other.key", g_ca->untrusted_server().key_pem, 0600);
    assert_reason(start_on(rig, o), "callback_tls_key");
}

static void test_tls_key_garbage_is_refused(void**) {
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.tls_cert_file = g_ca->server().cert_path;
    o.tls_key_file = write_temp("garbage.key", "not a key\n", 0600);
    assert_reason(start_on(rig, o), "callback_tls_key");
}

static void test_tls_cert_garbage_is_refused(void**) {
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.tls_cert_file = write_temp("garbage.crt", "-----BEGIN CERTIFICATE-----\nxx\n", 0644);
    o.tls_key_file = write_temp("ok.key", g_ca->server().key_pem, 0600);
    assert_reason(start_on(rig, o), "callback_tls_cert");
}

static void test_tls_cert_without_key_is_refused(void**) {
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.tls_cert_file = g_ca->server().cert_path;
    assert_reason(start_on(rig, o), "callback_options");
}

static void test_bad_path_option_is_refused(void**) {
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.path = "callback";
    assert_reason(start_on(rig, o), "callback_options");
    o.path = "/callback?x";
    assert_reason(start_on(rig, o), "callback_options");
}

static void test_bad_limits_are_refused(void**) {
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.max_connections = 0;
    assert_reason(start_on(rig, o), "callback_options");
    o = test_options();
    o.connection_timeout = 0s;
    assert_reason(start_on(rig, o), "callback_options");
    o = test_options();
    o.max_request_target = 1024 * 1024;
    assert_reason(start_on(rig, o), "callback_options");
}

static void test_non_numeric_listen_address_is_refused(void**) {
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.listen_host = "localhost";
    assert_reason(start_on(rig, o), "callback_listen");
}

static void test_port_in_use_is_refused(void**) {
    auto first = make_rig();
    Rig rig;
    rig.event = new_event();
    CallbackServerOptions o = test_options();
    o.listen_port = first->server->port();
    auto r = start_on(rig, o);
    assert_reason(r, "callback_listen");
    assert_true(contains(r.error().message, "in use"));
}

static void test_ipv6_loopback_listener(void**) {
    UniqueFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    if (!probe.valid() || ::bind(probe.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        skip(); // no IPv6 on this machine
        return;
    }
    probe.reset();
    CallbackServerOptions o = test_options();
    o.listen_host = "::1";
    auto rig = make_rig(o);
    const std::string want = "http://[::1]:" + std::to_string(rig->server->port()) + "/callback";
    assert_string_equal(rig->server->url().c_str(), want.c_str());
    RawResponse r;
    const std::uint16_t port = rig->server->port();
    with_loop(rig->event.get(),
              [&] { r = http_exchange(port, get_request("/callback?state=ok"), true); });
    assert_int_equal(r.status, 200);
}

static void test_idle_connection_times_out(void**) {
    // Proves the MHD timer is re-armed from MHD_get_timeout: nothing else would wake the loop.
    CallbackServerOptions o = test_options();
    o.connection_timeout = 1s;
    auto rig = make_rig(o);
    std::string got = "unset";
    const std::uint16_t port = rig->server->port();
    const auto t0 = std::chrono::steady_clock::now();
    with_loop(rig->event.get(), [&] {
        UniqueFd fd = connect_to(port);
        if (fd.valid())
            got = read_all(fd.get()); // returns when the server closes the connection
    });
    assert_string_equal(got.c_str(), "");
    assert_true(std::chrono::steady_clock::now() - t0 < 5s);
}

static void test_connection_limit(void**) {
    CallbackServerOptions o = test_options();
    o.max_connections = 2;
    auto rig = make_rig(o);
    const std::uint16_t port = rig->server->port();
    UniqueFd a = connect_to(port), b = connect_to(port);
    assert_true(a.valid() && b.valid());
    run_for(rig->event.get(), 100ms); // both accepted and held, idle
    // A third connection waits unserved (in the kernel's backlog) while the limit is reached...
    UniqueFd c = connect_to(port);
    assert_true(c.valid());
    assert_true(send_all(c.get(), get_request("/callback?state=ok")));
    run_for(rig->event.get(), 300ms);
    char byte = 0;
    assert_int_equal(::recv(c.get(), &byte, 1, MSG_DONTWAIT), -1);
    assert_true(rig->targets.empty());
    // ...and is served as soon as a slot frees: the listener did not stay switched off.
    a.reset();
    b.reset();
    std::string third;
    with_loop(rig->event.get(), [&] { third = read_all(c.get()); });
    assert_int_equal(parse_response(third).status, 200);
    assert_int_equal(rig->targets.size(), 1);
}

static void test_flood_does_not_block_a_real_login(void**) {
    auto rig = make_rig();
    const std::uint16_t port = rig->server->port();
    const std::string base = rig->server->url();
    constexpr int kThreads = 4, kPerThread = 500;
    std::atomic<int> sent{0}, bogus_answered{0};
    std::atomic<int> good_status{-1};
    std::atomic<int> sent_when_good{-1};
    std::atomic<int> finished{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            // Half the threads reuse one keep-alive connection, half open one per request.
            std::unique_ptr<HttpClient> client;
            HttpOptions ho;
            ho.allow_insecure_http = true;
            if (t % 2 == 0) {
                if (auto c = HttpClient::create(ho))
                    client = std::move(*c);
            }
            for (int i = 0; i < kPerThread; ++i) {
                const std::string target = i % 3 == 0 ? "/nope" + std::to_string(i)
                                           : i % 3 == 1
                                               ? "/callback?state=junk" + std::to_string(i)
                                               : "/callback?code=x&state=" + std::to_string(i);
                int status = 0;
                if (client) {
                    HttpRequest req;
                    req.url = "http://127.0.0.1:" + std::to_string(port) + target;
                    auto r = perform(*client, req);
                    status = r ? static_cast<int>(r->status) : 0;
                } else {
                    status = http_exchange(port, get_request(target)).status;
                }
                ++sent;
                if (status == 404 || status == 410)
                    ++bogus_answered;
            }
            ++finished;
        });
    }
    threads.emplace_back([&] {
        while (sent < kThreads * kPerThread / 4)
            std::this_thread::sleep_for(1ms);
        good_status = http_exchange(port, get_request("/callback?code=real&state=ok")).status;
        sent_when_good = sent.load();
        ++finished;
    });
    while (finished < kThreads + 1)
        (void)sd_event_run(rig->event.get(), 20 * 1000);
    for (auto& th : threads)
        th.join();
    assert_int_equal(good_status.load(), 200);
    // Served while the flood was still going on, not queued behind it.
    assert_true(sent_when_good.load() < kThreads * kPerThread);
    assert_int_equal(bogus_answered.load(), kThreads * kPerThread);
    // Bogus requests on the callback path reached the handler, the rest did not.
    const int not_found_per_thread = (kPerThread + 2) / 3; // i % 3 == 0
    assert_int_equal(rig->targets.size(), 1 + kThreads * (kPerThread - not_found_per_thread));
    assert_int_equal(rig->server->errors(), 0);
}

static void test_shutdown_with_open_connections_is_clean(void**) {
    auto rig = make_rig();
    const std::uint16_t port = rig->server->port();
    // An idle keep-alive connection that already got its page, and one stuck mid-request.
    UniqueFd idle = connect_to(port), partial = connect_to(port);
    assert_true(idle.valid() && partial.valid());
    std::string first;
    with_loop(rig->event.get(), [&] {
        if (!send_all(idle.get(), "GET /callback?state=ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") ||
            !send_all(partial.get(), "GET /callback?state=ok HTTP/1.1\r\nHost: 1"))
            return;
        char buf[16384];
        // The whole page fits in one read on loopback once the headers have arrived.
        while (first.find("</html>") == std::string::npos) {
            const ssize_t n = ::recv(idle.get(), buf, sizeof buf, 0);
            if (n <= 0)
                break;
            first.append(buf, static_cast<std::size_t>(n));
        }
    });
    assert_int_equal(parse_response(first).status, 200);
    assert_true(parse_response(first).headers.count("connection") == 0 ||
                parse_response(first).headers["connection"] != "close");
    run_for(rig->event.get(), 50ms); // the partial request line reaches MHD (URI logged)
    rig->server.reset();
    // Both connections are closed by the server; nothing is left (ASan checks for leaks).
    assert_string_equal(read_all(idle.get()).c_str(), "");
    assert_string_equal(read_all(partial.get()).c_str(), "");
    assert_int_equal(rig->targets.size(), 1);
    assert_int_equal(sd_event_run(rig->event.get(), 0), 0);
}

static int setup(void**) {
    auto ca = TestCa::create();
    if (!ca)
        return -1;
    g_ca = std::move(*ca);
    char tmpl[] = "/tmp/psc-cbtest.XXXXXX";
    if (!::mkdtemp(tmpl))
        return -1;
    g_tmp = tmpl;
    return 0;
}

static int teardown(void**) {
    g_ca.reset();
    std::error_code ec;
    std::filesystem::remove_all(g_tmp, ec);
    return 0;
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handler_receives_exact_raw_target),
        cmocka_unit_test(test_success_page_status_and_headers),
        cmocka_unit_test(test_failure_page_status_and_escaped_reason),
        cmocka_unit_test(test_unknown_login_page),
        cmocka_unit_test(test_head_gets_headers_only),
        cmocka_unit_test(test_post_is_405_and_body_never_read),
        cmocka_unit_test(test_get_with_body_is_dropped_unread),
        cmocka_unit_test(test_other_methods_are_405),
        cmocka_unit_test(test_other_paths_are_404_without_echo),
        cmocka_unit_test(test_target_over_limit_is_414),
        cmocka_unit_test(test_target_at_limit_is_served),
        cmocka_unit_test(test_huge_target_refused_before_the_handler),
        cmocka_unit_test(test_oversized_headers_refused_before_the_handler),
        cmocka_unit_test(test_handler_exception_gives_internal_error_page),
        cmocka_unit_test(test_http_client_sees_pages),
        cmocka_unit_test(test_tls_mode_with_test_ca),
        cmocka_unit_test(test_tls_plain_http_client_gets_no_page),
        cmocka_unit_test(test_tls_key_readable_by_others_is_refused),
        cmocka_unit_test(test_tls_key_not_matching_certificate_is_refused),
        cmocka_unit_test(test_tls_key_garbage_is_refused),
        cmocka_unit_test(test_tls_cert_garbage_is_refused),
        cmocka_unit_test(test_tls_cert_without_key_is_refused),
        cmocka_unit_test(test_bad_path_option_is_refused),
        cmocka_unit_test(test_bad_limits_are_refused),
        cmocka_unit_test(test_non_numeric_listen_address_is_refused),
        cmocka_unit_test(test_port_in_use_is_refused),
        cmocka_unit_test(test_ipv6_loopback_listener),
        cmocka_unit_test(test_idle_connection_times_out),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_flood_does_not_block_a_real_login),
        cmocka_unit_test(test_shutdown_with_open_connections_is_clean),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
