// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-authd's code-flow LoginBackend against a real mock-psc child, in a real sd-event loop: the
// scripted browser (a thread with libcurl) approves at the wallet and follows the redirect to the
// engine's own listener. Test accounts come from nss_wrapper (tests/data/nss/passwd).
#include "testing.hpp"

#include "config.hpp"
#include "engine_test_config.hpp"
#include "event_loop.hpp"
#include "login_engine.hpp"
#include "mock_harness.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <curl/curl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace psc;
using psc::mocktest::shared_mock;

constexpr const char* kMedecin = "810001234567";  // mapped to claire
constexpr const char* kStudent = "899900045871";  // category E, mapped to lucas
constexpr const char* kUnmapped = "810003456789"; // in the mock, not in the map

std::string g_dir;

std::string write_map() {
    const std::string path = g_dir + "/users.map";
    std::ofstream(path) << "# test map\n" << kMedecin << " claire\n" << kStudent << " lucas\n";
    ::chmod(path.c_str(), 0644);
    return path;
}

Config test_config() {
    return mocktest::engine_test_config(shared_mock().state(), write_map());
}

bool run_until(sd_event* ev, const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end)
        (void)sd_event_run(ev, 20 * 1000);
    return done();
}

struct Env {
    SdEventPtr event;
    std::unique_ptr<LoginEngine> engine;
    std::optional<Result<LoginSuccess>> outcome;
    std::string outcome_idnat; // LoginOutcome::idnat: the person, once an ID token was validated
    std::optional<Result<LoginDisplay>> display; // what `started` delivered
    int done_calls = 0;
};

std::unique_ptr<Env> make_env(Config cfg, bool wait_ready = true) {
    auto env = std::make_unique<Env>();
    auto ev = event_new();
    assert_ok(ev);
    env->event = std::move(*ev);
    LoginEngineOptions opts;
    opts.trusted_owner = ::getuid();
    opts.provider.retry_min = std::chrono::seconds(1);
    auto engine = LoginEngine::create(env->event.get(), std::move(cfg), opts);
    assert_ok(engine);
    env->engine = std::move(*engine);
    if (wait_ready)
        assert_true(run_until(env->event.get(), [&] { return env->engine->provider_ready(); },
                              std::chrono::seconds(10)));
    return env;
}

// A started login as the tests see it: the engine's id and the display `started` delivered.
struct Started {
    BackendLoginId id = 0;
    LoginDisplay display;
};

Started start_login(Env& env, const std::string& user, const std::string& service = "login") {
    LoginRequest req;
    req.user = user;
    req.service = service;
    env.display.reset();
    auto id = env.engine->start(
        req, [&env](Result<LoginDisplay> d) { env.display = std::move(d); },
        [&env](LoginOutcome r) {
            ++env.done_calls;
            env.outcome_idnat = r.idnat;
            env.outcome = std::move(r.result);
        });
    assert_ok(id);
    assert_false(env.display.has_value()); // never from inside start()
    assert_true(run_until(env.event.get(), [&] { return env.display.has_value(); },
                          std::chrono::seconds(10)));
    assert_ok(*env.display);
    return Started{*id, **env.display};
}

// The browser: approve at the wallet, then follow the redirect to the engine's listener.
void browse(const std::string& url, long* status = nullptr) {
    CURL* c = curl_easy_init();
    if (!c)
        return;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CAINFO, shared_mock().state().ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION,
                     +[](char*, size_t s, size_t n, void*) { return s * n; });
    (void)curl_easy_perform(c);
    if (status)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
}

// Runs the loop while a browser thread does its work, until done fires (or 20 s).
void run_with_browser(Env& env, const std::function<void()>& browser) {
    std::atomic<bool> finished{false};
    std::thread t([&] {
        browser();
        finished = true;
    });
    (void)run_until(env.event.get(), [&] { return env.outcome.has_value() && finished.load(); },
                    std::chrono::seconds(20));
    t.join();
}

Result<LoginSuccess> browser_login(Env& env, const std::string& user, const std::string& idnat,
                                   const std::string& service = "login") {
    auto started = start_login(env, user, service);
    run_with_browser(env, [&] { browse(started.display.url + "&mock_approve=" + idnat); });
    assert_true(env.outcome.has_value());
    assert_int_equal(env.done_calls, 1);
    return std::move(*env.outcome);
}

Result<LoginSuccess> login_as(const std::string& user, const std::string& idnat,
                              Config cfg = test_config()) {
    auto env = make_env(std::move(cfg));
    return browser_login(*env, user, idnat);
}

void assert_fails(const Result<LoginSuccess>& r, Errc code, const char* reason) {
    if (r)
        fail_msg("login succeeded, expected %s", reason);
    if (r.error().reason != reason || r.error().code != code)
        fail_msg("expected %s, got %s", reason, r.error().describe().c_str());
}

// ---- success paths ----

// check_account with a map file answers inside the call.
Status check_account_now(LoginEngine& engine, const std::string& user) {
    std::optional<Status> got;
    engine.check_account(user, [&got](Status st) { got = std::move(st); });
    assert_true(got.has_value());
    return std::move(*got);
}

void code_login_success(void**) {
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire");
    assert_string_equal(started.display.flow.c_str(), "code");
    assert_true(started.display.accepts_paste);
    assert_string_equal(started.display.qr.c_str(), started.display.url.c_str());
    assert_int_equal(started.display.expires_in.count(), 20);
    run_with_browser(*env, [&] { browse(started.display.url + "&mock_approve=" + kMedecin); });
    assert_true(env->outcome.has_value());
    assert_ok(*env->outcome);
    assert_string_equal((*env->outcome)->user.c_str(), "claire");
    assert_string_equal((*env->outcome)->idnat.c_str(), kMedecin);
    assert_string_equal((*env->outcome)->profession.c_str(), "10");
    assert_false((*env->outcome)->auth_mode.empty());
    assert_int_equal(env->engine->pending(), 0);
}

void paste_back_success(void**) {
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire");
    auto wallet = mocktest::browser_request(started.display.url + "&mock_approve=" + kMedecin,
                                            shared_mock().state().ca_file);
    assert_ok(wallet);
    assert_int_equal(wallet->status, 302);
    assert_ok(env->engine->submit_callback(started.id, "  " + wallet->location + "\n"));
    assert_false(env->outcome.has_value()); // never from inside submit_callback
    assert_true(run_until(env->event.get(), [&] { return env->outcome.has_value(); },
                          std::chrono::seconds(10)));
    assert_ok(*env->outcome);
    assert_string_equal((*env->outcome)->user.c_str(), "claire");
}

void paste_wrong_state_keeps_login(void**) {
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire");
    const std::string forged = env->engine->callback_url() + "?code=abc&state=forged&iss=x";
    assert_reason(env->engine->submit_callback(started.id, forged), "callback_state_mismatch");
    assert_reason(env->engine->submit_callback(started.id, "https://evil.example/callback?code=a&state=b"),
                  "callback_redirect_mismatch");
    assert_reason(env->engine->submit_callback(started.id + 99, forged), "login_unknown");
    (void)run_until(env->event.get(), [] { return false; }, std::chrono::milliseconds(100));
    assert_int_equal(env->engine->pending(), 1);
    assert_int_equal(env->done_calls, 0);
}

void bogus_state_flood_does_not_disturb(void**) {
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire");
    const std::string base = env->engine->callback_url();
    std::vector<long> statuses;
    run_with_browser(*env, [&] {
        for (int i = 0; i < 40; ++i) {
            long st = 0;
            browse(base + "?code=x&state=bogus" + std::to_string(i), &st);
            statuses.push_back(st);
        }
        browse(base + "?error=access_denied&state=nope");
        browse(started.display.url + "&mock_approve=" + kMedecin);
    });
    for (long st : statuses)
        assert_int_not_equal(st, 200);
    assert_int_equal(env->done_calls, 1);
    assert_ok(*env->outcome);
    assert_string_equal((*env->outcome)->user.c_str(), "claire");
}

void key_rotation_accepted_after_refetch(void**) {
    auto env = make_env(test_config());
    const unsigned loads = env->engine->provider().jwks_loads();
    shared_mock().fault("key_rotation", "next");
    auto r = browser_login(*env, "claire", kMedecin);
    assert_ok(r);
    assert_int_equal(env->engine->provider().jwks_loads(), loads + 1);
}

// A logout token signed with a key the engine does not know yet (the provider rotated its keys)
// waits for one JWKS refetch, then is checked again. kMaxBackchannelWaits wait at once; the next
// is refused there and then. The same token waiting many times is accepted once (the others are
// replays). A reload meanwhile retires the generation whose provider fetches the keys (ASan
// watches that it is not freed under the fetch's feet).
void backchannel_token_waits_for_new_keys(void**) {
    Config cfg = test_config();
    cfg.callback.backchannel_logout_action = BackchannelAction::lock;
    auto env = make_env(cfg);
    assert_ok(browser_login(*env, "claire", kMedecin)); // the mock's session to end
    std::vector<LoginBackend::BackchannelLogout> ended;
    std::vector<std::string> refused;
    env->engine->set_backchannel_logout([&](Result<LoginBackend::BackchannelLogout> r) {
        if (r)
            ended.push_back(std::move(*r));
        else
            refused.push_back(r.error().reason);
    });
    auto minted = shared_mock().control(
        std::string(R"({"logout_token":{"idnat":")") + kMedecin + R"(","fault":"rotate_key"}})");
    assert_ok(minted);
    const std::string& doc = minted->body;
    const std::size_t at = doc.find("\"logout_token\":\"");
    assert_true(at != std::string::npos);
    const std::size_t from = at + 16;
    const std::string body = "logout_token=" + doc.substr(from, doc.find('"', from) - from);
    std::vector<BackchannelReply> replies;
    for (std::size_t i = 0; i <= LoginEngine::kMaxBackchannelWaits; ++i)
        replies.push_back(env->engine->on_backchannel("application/x-www-form-urlencoded", body));
    for (std::size_t i = 0; i < LoginEngine::kMaxBackchannelWaits; ++i) {
        assert_non_null(replies[i].deferred.get());
        assert_false(replies[i].deferred->result().has_value()); // never from inside the call
        assert_true(replies[i].json.find("jws_unknown_kid") != std::string::npos); // fallback
    }
    const BackchannelReply& over = replies.back();
    assert_null(over.deferred.get());
    assert_int_equal(over.status, 400);
    assert_true(over.json.find("jws_unknown_kid") != std::string::npos);
    assert_int_equal(refused.size(), 1);

    std::optional<Status> reloaded;
    assert_ok(env->engine->reload(cfg, [&](Status st) { reloaded = std::move(st); }));
    auto answered = [&] {
        for (std::size_t i = 0; i < LoginEngine::kMaxBackchannelWaits; ++i)
            if (!replies[i].deferred->result())
                return false;
        return reloaded.has_value();
    };
    assert_true(run_until(env->event.get(), answered, std::chrono::seconds(10)));
    assert_ok(*reloaded);
    std::size_t ok = 0, replayed = 0;
    for (std::size_t i = 0; i < LoginEngine::kMaxBackchannelWaits; ++i) {
        const BackchannelReply& r = *replies[i].deferred->result();
        if (r.status == 200)
            ++ok;
        else if (r.json.find("logout_token_replayed") != std::string::npos)
            ++replayed;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(replayed, LoginEngine::kMaxBackchannelWaits - 1);
    assert_int_equal(ended.size(), 1);
    assert_false(ended[0].sid.empty());
    assert_true(ended[0].action == BackchannelAction::lock);
    assert_int_equal(refused.size(), LoginEngine::kMaxBackchannelWaits);
    (void)run_until(env->event.get(), [] { return false; }, std::chrono::milliseconds(50));
}

// ---- rejections ----

void authz_wrong_iss(void**) {
    shared_mock().fault("authz_wrong_iss", "next");
    assert_fails(login_as("claire", kMedecin), Errc::invalid, "callback_iss_mismatch");
}

void id_token_bad_signature(void**) {
    shared_mock().fault("id_token_bad_signature", "next");
    assert_fails(login_as("claire", kMedecin), Errc::invalid, "jws_bad_signature");
}

void id_token_expired(void**) {
    shared_mock().fault("id_token_expired", "next");
    assert_fails(login_as("claire", kMedecin), Errc::invalid, "exp_expired");
}

void id_token_wrong_aud(void**) {
    shared_mock().fault("id_token_wrong_aud", "next");
    assert_fails(login_as("claire", kMedecin), Errc::invalid, "aud_mismatch");
}

void id_token_wrong_nonce(void**) {
    shared_mock().fault("id_token_wrong_nonce", "next");
    assert_fails(login_as("claire", kMedecin), Errc::invalid, "nonce_mismatch");
}

void userinfo_other_sub(void**) {
    shared_mock().fault("userinfo_other_sub", "next");
    assert_fails(login_as("claire", kMedecin), Errc::invalid, "userinfo_sub_mismatch");
}

void mapping_to_other_user_denied(void**) {
    assert_fails(login_as("lucas", kMedecin), Errc::denied, "mapping_other_user");
}

// Someone whom the map does not name authenticates for claire's login: a refusal (never
// unknown_user, which would hand claire's account to the next PAM module), and the audit knows
// who it was.
void unmapped_identity(void**) {
    auto env = make_env(test_config());
    auto r = browser_login(*env, "claire", kUnmapped);
    assert_fails(r, Errc::denied, "mapping_other_user");
    assert_string_equal(env->outcome_idnat.c_str(), kUnmapped);
}

// Accounts psc-login does not manage are answered at once, before the provider is contacted.
void unmanaged_accounts_answered_at_once(void**) {
    auto env = make_env(test_config());
    for (const char* user : {"sophie", "root", "daemon", "nobody-here"}) {
        LoginRequest req;
        req.user = user;
        req.service = "login";
        auto r = env->engine->start(req, [](Result<LoginDisplay>) { fail_msg("started called"); }, [](LoginOutcome) { fail_msg("done called"); });
        assert_false(r.ok());
        assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::unknown_user));
        assert_reason(check_account_now(*env->engine, user), r.error().reason);
    }
    assert_int_equal(env->engine->pending(), 0);
    assert_int_equal(env->engine->http_in_flight(), 0);
    assert_ok(check_account_now(*env->engine, "claire"));
}

void student_category_denied(void**) {
    Config cfg = test_config();
    cfg.mapping.authz.deny_categories = {'E'};
    assert_fails(login_as("lucas", kStudent, std::move(cfg)), Errc::denied, "category_denied");
}

// A broken map is the operator's mistake: a configuration error at start (PAM_SYSTEM_ERR), never
// Unavailable (which would open the break-glass line); root is still answered unknown_user.
void bad_map_is_config_error(void**) {
    Config cfg = test_config();
    std::ofstream(cfg.mapping.map_file) << kMedecin << " claire\nthis line is wrong !\n";
    auto env = make_env(cfg);
    LoginRequest req;
    req.user = "claire";
    req.service = "login";
    auto r = env->engine->start(req, [](Result<LoginDisplay>) { fail_msg("started called"); }, [](LoginOutcome) { fail_msg("done called"); });
    assert_reason(r, "map_unusable");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::config));
    assert_non_null(std::strstr(r.error().message.c_str(), "users.map:2"));
    req.user = "root";
    assert_reason(env->engine->start(req, [](Result<LoginDisplay>) {}, [](LoginOutcome) {}), "system_user");
}

void provider_down_at_start(void**) {
    shared_mock().fault("http_503", "all", "\"endpoint\":\"discovery\"");
    auto env = make_env(test_config(), false);
    (void)run_until(env->event.get(), [] { return false; }, std::chrono::milliseconds(300));
    assert_false(env->engine->provider_ready());
    LoginRequest req;
    req.user = "claire";
    req.service = "login";
    auto r = env->engine->start(req, [](Result<LoginDisplay>) { fail_msg("started called"); }, [](LoginOutcome) { fail_msg("done called"); });
    assert_reason(r, "provider_not_ready");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::unavailable));
}

void provider_503_mid_login(void**) {
    shared_mock().fault("http_503", "next", "\"endpoint\":\"token\"");
    assert_fails(login_as("claire", kMedecin), Errc::unavailable, "http_status");
}

void provider_recovers_after_outage(void**) {
    shared_mock().fault("http_503", "all", "\"endpoint\":\"discovery\"");
    auto env = make_env(test_config(), false);
    (void)run_until(env->event.get(), [] { return false; }, std::chrono::milliseconds(300));
    assert_false(env->engine->provider_ready());
    assert_int_equal(mocktest::reset_shared_mock(nullptr), 0);
    // Backoff: the first retry comes retry_min (1 s) after the failure.
    assert_true(run_until(env->event.get(), [&] { return env->engine->provider_ready(); },
                          std::chrono::seconds(5)));
    assert_ok(browser_login(*env, "claire", kMedecin));
}

void discovery_and_jwks_refreshed_on_timer(void**) {
    Config cfg = test_config();
    cfg.provider.discovery_refresh = std::chrono::seconds(1);
    cfg.provider.jwks_refresh = std::chrono::seconds(1);
    auto env = make_env(std::move(cfg));
    const auto& p = env->engine->provider();
    assert_true(run_until(env->event.get(),
                          [&] { return p.discovery_loads() >= 2 && p.jwks_loads() >= 2; },
                          std::chrono::seconds(5)));
    assert_true(env->engine->provider_ready());
}

// RefreshProvider (admin): discovery and JWKS fetched again now, the outcome from the loop.
std::optional<Status> refresh_now(Env& env) {
    std::optional<Status> out;
    assert_ok(env.engine->refresh_provider([&out](Status s) { out = std::move(s); }));
    assert_false(out.has_value()); // never from inside the call
    (void)run_until(env.event.get(), [&] { return out.has_value(); }, std::chrono::seconds(5));
    return out;
}

void refresh_provider_refetches_both(void**) {
    auto env = make_env(test_config());
    const auto& p = env->engine->provider();
    const unsigned d = p.discovery_loads(), k = p.jwks_loads();
    auto out = refresh_now(*env);
    assert_true(out.has_value());
    assert_ok(*out);
    assert_int_equal(p.discovery_loads(), d + 1);
    assert_int_equal(p.jwks_loads(), k + 1);
}

void refresh_provider_rate_limited(void**) {
    Config cfg = test_config();
    cfg.limits.jwks_refetch_interval = std::chrono::seconds(60);
    auto env = make_env(std::move(cfg));
    // The start-up fetch counts: a refresh within the interval is refused at once.
    auto st = env->engine->refresh_provider([](Status) { fail_msg("done called"); });
    assert_reason(st, "jwks_rate_limited");
    assert_int_equal(static_cast<int>(st.error().code), static_cast<int>(Errc::busy));
}

void refresh_provider_down_unavailable(void**) {
    auto env = make_env(test_config());
    shared_mock().fault("discovery_wrong_issuer", "all");
    auto out = refresh_now(*env);
    assert_true(out.has_value());
    assert_reason(*out, "discovery_issuer_mismatch");
    assert_int_equal(static_cast<int>(out->error().code), static_cast<int>(Errc::unavailable));
    // What was loaded stays in use.
    assert_true(env->engine->provider_ready());
    assert_ok(browser_login(*env, "claire", kMedecin));
}

void discovery_wrong_issuer_not_ready(void**) {
    shared_mock().fault("discovery_wrong_issuer", "all");
    auto env = make_env(test_config(), false);
    (void)run_until(env->event.get(), [] { return false; }, std::chrono::milliseconds(300));
    LoginRequest req;
    req.user = "claire";
    req.service = "login";
    auto r = env->engine->start(req, [](Result<LoginDisplay>) { fail_msg("started called"); }, [](LoginOutcome) { fail_msg("done called"); });
    assert_reason(r, "provider_not_ready");
    assert_non_null(std::strstr(r.error().message.c_str(), "discovery_issuer_mismatch"));
}

void unknown_kid_refused_after_one_refetch(void**) {
    auto env = make_env(test_config());
    const unsigned loads = env->engine->provider().jwks_loads();
    shared_mock().fault("id_token_unknown_kid", "next");
    assert_fails(browser_login(*env, "claire", kMedecin), Errc::invalid, "jws_unknown_kid");
    assert_int_equal(env->engine->provider().jwks_loads(), loads + 1);
}

void client_secret_basic_login(void**) {
    Config cfg = test_config();
    const std::string secret = g_dir + "/client.secret";
    std::ofstream(secret) << shared_mock().state().client_secret << "\n";
    ::chmod(secret.c_str(), 0600);
    cfg.provider.token_auth_method = TokenAuthMethod::client_secret_basic;
    cfg.provider.client_secret_file = secret;
    auto r = login_as("claire", kMedecin, std::move(cfg));
    assert_ok(r);
    assert_string_equal(r->user.c_str(), "claire");
}

void map_reloaded_when_changed(void**) {
    Config cfg = test_config();
    auto env = make_env(cfg);
    assert_reason(check_account_now(*env->engine, "sophie"), "user_unmapped");
    // A new file (new inode) takes effect at the next login, without a restart.
    const std::string next = g_dir + "/users.map.new";
    std::ofstream(next) << kUnmapped << " sophie\n";
    ::chmod(next.c_str(), 0644);
    std::filesystem::rename(next, cfg.mapping.map_file);
    auto r = browser_login(*env, "sophie", kUnmapped);
    assert_ok(r);
    assert_string_equal(r->user.c_str(), "sophie");
}

void login_timeout(void**) {
    Config cfg = test_config();
    ServiceOverride quick;
    quick.timeout = std::chrono::seconds(1);
    cfg.services.emplace("quick", quick);
    auto env = make_env(std::move(cfg));
    start_login(*env, "claire", "quick");
    assert_true(run_until(env->event.get(), [&] { return env->outcome.has_value(); },
                          std::chrono::seconds(5)));
    assert_fails(*env->outcome, Errc::timeout, "login_timeout");
    assert_int_equal(env->engine->pending(), 0);
}

void cancel_never_calls_done(void**) {
    shared_mock().fault("stall", "next", "\"endpoint\":\"token\",\"seconds\":2");
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire");
    std::atomic<bool> browsed{false};
    std::thread t([&] {
        browse(started.display.url + "&mock_approve=" + kMedecin);
        browsed = true;
    });
    // The callback arrived and the token exchange is in flight (the browser waits for its page):
    // cancel now. The waiting page is answered at once ("cancelled"), not after the hold limit.
    assert_true(run_until(env->event.get(), [&] { return env->engine->http_in_flight() > 0; },
                          std::chrono::seconds(10)));
    env->engine->cancel(started.id);
    assert_true(run_until(env->event.get(), [&] { return browsed.load(); }, std::chrono::seconds(2)));
    t.join();
    assert_int_equal(env->engine->pending(), 0);
    assert_int_equal(env->engine->http_in_flight(), 0);
    (void)run_until(env->event.get(), [] { return false; }, std::chrono::milliseconds(2500));
    assert_int_equal(env->done_calls, 0);
}

void unsupported_flow_refused(void**) {
    auto env = make_env(test_config());
    LoginRequest req;
    req.user = "claire";
    req.service = "login";
    req.flow = "ciba";
    assert_reason(env->engine->start(req, [](Result<LoginDisplay>) {}, [](LoginOutcome) {}), "flow_not_allowed");
}

int group_setup(void**) {
    char tmpl[] = "/tmp/psc-engine-test-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    g_dir = tmpl;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return mocktest::start_shared_mock({"--redirect-loopback-any-port"});
}

int group_teardown(void** state) {
    (void)mocktest::stop_shared_mock(state);
    std::filesystem::remove_all(g_dir);
    curl_global_cleanup();
    return 0;
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(code_login_success, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(paste_back_success, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(paste_wrong_state_keeps_login, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(bogus_state_flood_does_not_disturb, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(key_rotation_accepted_after_refetch, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(backchannel_token_waits_for_new_keys, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(authz_wrong_iss, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(id_token_bad_signature, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(id_token_expired, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(id_token_wrong_aud, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(id_token_wrong_nonce, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(userinfo_other_sub, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(mapping_to_other_user_denied, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(unmapped_identity, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(student_category_denied, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(unmanaged_accounts_answered_at_once, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(bad_map_is_config_error, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(provider_down_at_start, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(provider_503_mid_login, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(provider_recovers_after_outage, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(discovery_and_jwks_refreshed_on_timer, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(discovery_wrong_issuer_not_ready, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(refresh_provider_refetches_both, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(refresh_provider_rate_limited, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(refresh_provider_down_unavailable, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(unknown_kid_refused_after_one_refetch, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(client_secret_basic_login, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(map_reloaded_when_changed, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(login_timeout, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(cancel_never_calls_done, mocktest::reset_shared_mock),
        cmocka_unit_test_setup(unsupported_flow_refused, mocktest::reset_shared_mock),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
