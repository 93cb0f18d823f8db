// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-authd's decoupled flows (CIBA poll mode, the RFC 8628 device grant) and private_key_jwt,
// against a real mock-psc child in a real sd-event loop. The "phone" is mock-psc's control
// endpoint: it scripts each CIBA/device outcome and reads back what the engine sent (login_hint,
// binding_message, channel, every poll with its time). Test accounts come from nss_wrapper.
// Three mocks in turn: the main one (--ciba-interval 1, --device-grant, a registered client
// public key), one whose requests expire after 3 s, and one without the device grant.
#include "config.hpp"
#include "engine_test_config.hpp"
#include "event_loop.hpp"
#include "json.hpp"
#include "keys.hpp"
#include "login_engine.hpp"
#include "mock_harness.hpp"
#include "testing.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <curl/curl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace psc;
using psc::mocktest::shared_mock;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kMedecin = "810001234567";  // mapped to claire, CARD by default
constexpr const char* kStudent = "899900045871";  // category E, mapped to lucas
constexpr const char* kNotAtPsc = "810009999999"; // a valid idNat the provider does not know

std::string g_dir;
std::string g_client_key; // registered with the main mock (--client-public-key)
std::string g_client_pub;
std::string g_wrong_key; // a key the mock never heard of

std::string write_file(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = g_dir + "/" + name;
    std::ofstream(path, std::ios::trunc) << content;
    ::chmod(path.c_str(), mode);
    return path;
}

std::string write_map(const std::string& content = std::string(kMedecin) + " claire\n" + kStudent +
                                                   " lucas\n") {
    return write_file("users.map", "# test map\n" + content, 0644);
}

// PSC sandbox shape: CIBA first, then the code flow; mTLS client authentication.
Config test_config() {
    Config c = mocktest::engine_test_config(shared_mock().state(), write_map());
    c.login.flows = {Flow::ciba, Flow::code};
    c.login.ciba_channel = CibaChannel::mobile;
    ServiceOverride card;
    card.ciba_channel = CibaChannel::card;
    c.services.emplace("card", card);
    return c;
}

// A generic provider offering the device grant (off in the PSC profiles, design §2.4).
Config generic_config() {
    Config c = test_config();
    c.provider.profile = Profile::generic;
    c.login.flows = {Flow::device, Flow::ciba, Flow::code};
    return c;
}

Config private_key_jwt_config(const std::string& key) {
    Config c = test_config();
    c.provider.token_auth_method = TokenAuthMethod::private_key_jwt;
    c.provider.tls_client_cert.clear();
    c.provider.tls_client_key.clear();
    c.provider.client_assertion_key = key;
    c.provider.client_assertion_alg = "RS256";
    return c;
}

bool run_until(sd_event* ev, const std::function<bool()>& done, milliseconds limit) {
    const auto end = Clock::now() + limit;
    while (!done() && Clock::now() < end)
        (void)sd_event_run(ev, 20 * 1000);
    return done();
}

void run_for(sd_event* ev, milliseconds d) {
    (void)run_until(
        ev, [] { return false; }, d);
}

struct Env {
    SdEventPtr event;
    std::unique_ptr<LoginEngine> engine;
    std::optional<Result<LoginSuccess>> outcome;
    std::string outcome_idnat; // LoginOutcome::idnat: the person, once an ID token was validated
    std::optional<Result<LoginDisplay>> display; // what `started` delivered
    int done_calls = 0;
};

std::unique_ptr<Env> make_env(Config cfg) {
    auto env = std::make_unique<Env>();
    auto ev = event_new();
    assert_ok(ev);
    env->event = std::move(*ev);
    LoginEngineOptions opts;
    opts.trusted_owner = ::getuid();
    opts.provider.retry_min = seconds(1);
    auto engine = LoginEngine::create(env->event.get(), std::move(cfg), opts);
    assert_ok(engine);
    env->engine = std::move(*engine);
    assert_true(run_until(
        env->event.get(), [&] { return env->engine->provider_ready(); }, seconds(10)));
    return env;
}

// A started login as the tests see it: the engine's id and the display `started` delivered.
struct Started {
    BackendLoginId id = 0;
    LoginDisplay display;
};

// StartLogin as the bus runs it: start(), then the loop until `started` answers (a refusal of the
// provider's first request is that answer's error; done is then never called).
Result<Started> try_start(Env& env, const std::string& user, const std::string& flow,
                          const std::string& service = "login") {
    LoginRequest req;
    req.user = user;
    req.service = service;
    req.flow = flow;
    env.display.reset();
    auto id = env.engine->start(
        req, [&env](Result<LoginDisplay> d) { env.display = std::move(d); },
        [&env](LoginOutcome r) {
            ++env.done_calls;
            env.outcome_idnat = r.idnat;
            env.outcome = std::move(r.result);
        });
    if (!id)
        return std::move(id).error();
    assert_false(env.display.has_value()); // never from inside start()
    assert_true(run_until(env.event.get(), [&] { return env.display.has_value(); },
                          std::chrono::seconds(15)));
    if (!*env.display)
        return env.display->error();
    return Started{*id, **env.display};
}

Started start_login(Env& env, const std::string& user, const std::string& flow,
                    const std::string& service = "login") {
    auto started = try_start(env, user, flow, service);
    assert_ok(started);
    return std::move(*started);
}

// Runs the loop until done fires (or `limit`), then checks nothing is left behind.
Result<LoginSuccess> wait_outcome(Env& env, milliseconds limit = seconds(20)) {
    assert_true(run_until(
        env.event.get(), [&] { return env.outcome.has_value(); }, limit));
    assert_int_equal(env.done_calls, 1);
    assert_int_equal(env.engine->pending(), 0);
    assert_int_equal(env.engine->http_in_flight(), 0);
    return std::move(*env.outcome);
}

Result<LoginSuccess> ciba_login(const std::string& user, Config cfg = test_config(),
                                const std::string& service = "login") {
    auto env = make_env(std::move(cfg));
    start_login(*env, user, "ciba", service);
    return wait_outcome(*env);
}

void assert_fails(const Result<LoginSuccess>& r, Errc code, const char* reason) {
    if (r)
        fail_msg("login succeeded, expected %s", reason);
    if (r.error().reason != reason || r.error().code != code)
        fail_msg("expected %s, got %s (errc %d)", reason, r.error().describe().c_str(),
                 static_cast<int>(r.error().code));
}

template <class T>
void assert_start_fails(const Result<T>& r, Errc code, const char* reason) {
    assert_reason(r, reason);
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(code));
}

// ---- the mock's control endpoint ----

JsonPtr control(const std::string& body) {
    auto r = shared_mock().control(body);
    assert_ok(r);
    if (r->status != 200)
        fail_msg("control %s -> %ld %s", body.c_str(), r->status, r->body.c_str());
    auto doc = json_parse_object(r->body, JsonLimits{1024 * 1024, 16});
    assert_ok(doc);
    return std::move(*doc);
}

// The outcome of the next CIBA/device request, e.g. {"outcome":"approve","approve_after":1}.
void script_next(const std::string& script) {
    (void)control("{\"ciba\":" + script + "}");
}

// Re-scripts the last request; idnat: who approves it.
void script_last(const std::string& script, const std::string& idnat = "") {
    (void)control("{\"ciba\":" + script + ",\"auth_req_id\":\"last\"" +
                  (idnat.empty() ? "" : ",\"idnat\":\"" + idnat + "\"") + "}");
}

std::string member(const json_object* o, const char* key) {
    auto v = json_get_string(o, key);
    return v && v->has_value() ? std::string(**v) : std::string();
}

std::int64_t int_member(const json_object* o, const char* key) {
    auto v = json_get_int64(o, key);
    return v && v->has_value() ? **v : -1;
}

struct Poll {
    std::int64_t at_ms;
    std::int64_t interval;
    std::string answer;
};

struct Record {
    std::string idnat, binding_message, auth_mode;
    std::int64_t interval = 0;
    std::vector<Poll> polls;
};

Record last_record() {
    JsonPtr doc = control(R"({"polls":"last"})");
    Record r{member(doc.get(), "idnat"),
             member(doc.get(), "binding_message"),
             member(doc.get(), "auth_mode"),
             int_member(doc.get(), "interval"),
             {}};
    json_object* polls = json_member(doc.get(), "polls");
    for (std::size_t i = 0; polls && i < json_object_array_length(polls); ++i) {
        json_object* p = json_object_array_get_idx(polls, i);
        r.polls.push_back({int_member(p, "at_ms"), int_member(p, "interval"), member(p, "answer")});
    }
    return r;
}

// mock-psc's request log outlives `reset`: each test counts only what came after its mark.
std::int64_t g_mark = 0;

JsonPtr request_log() {
    return control(R"({"log":true})");
}

int reset_and_mark(void** state) {
    if (mocktest::reset_shared_mock(state) != 0)
        return -1;
    JsonPtr doc = request_log();
    json_object* reqs = json_member(doc.get(), "requests");
    g_mark = 0;
    for (std::size_t i = 0; reqs && i < json_object_array_length(reqs); ++i)
        g_mark = std::max(g_mark, int_member(json_object_array_get_idx(reqs, i), "at_ms"));
    return 0;
}

// Requests mock-psc logged at this endpoint ("ciba", "token", "device") during this test.
int requests_at(const std::string& endpoint, long status = 0) {
    JsonPtr doc = request_log();
    json_object* reqs = json_member(doc.get(), "requests");
    int n = 0;
    for (std::size_t i = 0; reqs && i < json_object_array_length(reqs); ++i) {
        json_object* r = json_object_array_get_idx(reqs, i);
        if (int_member(r, "at_ms") > g_mark && member(r, "endpoint") == endpoint &&
            (status == 0 || int_member(r, "status") == status))
            ++n;
    }
    return n;
}

void assert_polls_spaced(const Record& rec, std::int64_t interval_ms) {
    for (std::size_t i = 1; i < rec.polls.size(); ++i)
        if (rec.polls[i].at_ms - rec.polls[i - 1].at_ms < interval_ms - 250)
            fail_msg("poll %zu came %lld ms after the previous one", i,
                     static_cast<long long>(rec.polls[i].at_ms - rec.polls[i - 1].at_ms));
}

// ---- CIBA: success ----

void ciba_success_mobile_channel(void**) {
    script_next(R"({"outcome":"approve","approve_after":2})");
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire", "ciba");
    assert_string_equal(started.display.flow.c_str(), "ciba");
    assert_true(started.display.url.empty());
    assert_true(started.display.qr.empty());
    assert_true(started.display.user_code.empty());
    assert_false(started.display.accepts_paste);
    assert_int_equal(started.display.expires_in.count(), 20);
    assert_false(env->outcome.has_value()); // never from inside start()
    auto r = wait_outcome(*env);
    assert_ok(r);
    assert_string_equal(r->user.c_str(), "claire");
    assert_string_equal(r->idnat.c_str(), kMedecin);
    assert_string_equal(r->profession.c_str(), "10");
    assert_string_equal(r->auth_mode.c_str(), "MOBILE");
    const Record rec = last_record();
    assert_string_equal(rec.auth_mode.c_str(), "MOBILE");
    assert_true(rec.polls.size() >= 2); // pending at least once, then approved
    assert_string_equal(rec.polls.back().answer.c_str(), "approved");
    for (const auto& p : rec.polls) // never too early: the mock would have said slow_down
        assert_string_not_equal(p.answer.c_str(), "slow_down");
    assert_polls_spaced(rec, 1000);
}

void ciba_success_card_channel(void**) {
    script_next(R"({"outcome":"approve","approve_after":0})");
    auto r = ciba_login("claire", test_config(), "card");
    assert_ok(r);
    assert_string_equal(r->auth_mode.c_str(), "CARD");
    assert_string_equal(last_record().auth_mode.c_str(), "CARD");
}

void ciba_binding_code_sent_as_binding_message(void**) {
    script_next(R"({"outcome":"approve","approve_after":0})");
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire", "ciba");
    const std::string& code = started.display.binding_code;
    assert_int_equal(code.size(), 2);
    assert_true(code[0] >= '0' && code[0] <= '9' && code[1] >= '0' && code[1] <= '9');
    assert_ok(wait_outcome(*env));
    assert_string_equal(last_record().binding_message.c_str(), code.c_str());
}

void ciba_login_hint_is_mapped_idnat(void**) {
    script_next(R"({"outcome":"approve","approve_after":0})");
    auto r = ciba_login("lucas");
    assert_ok(r);
    assert_string_equal(last_record().idnat.c_str(), kStudent);
    assert_string_equal(r->idnat.c_str(), kStudent);
}

void ciba_slow_down_honoured(void**) {
    script_next(R"({"outcome":"approve","approve_after":0,"slow_down_on_poll":1})");
    auto r = ciba_login("claire");
    assert_ok(r);
    const Record rec = last_record();
    assert_int_equal(rec.polls.size(), 2);
    assert_string_equal(rec.polls[0].answer.c_str(), "slow_down");
    assert_string_equal(rec.polls[1].answer.c_str(), "approved");
    assert_int_equal(rec.polls[1].interval, 6); // 1 s + 5 s
    assert_polls_spaced(rec, 6000);
}

void ciba_provider_503_retried(void**) {
    script_next(R"({"outcome":"approve","approve_after":0})");
    shared_mock().fault("http_503", "next", "\"endpoint\":\"token\"");
    auto r = ciba_login("claire");
    assert_ok(r);
    assert_int_equal(requests_at("token", 503), 1);
}

// ---- CIBA: rejections ----

void ciba_denied(void**) {
    script_next(R"({"outcome":"deny","approve_after":1})");
    assert_fails(ciba_login("claire"), Errc::denied, "access_denied");
}

void ciba_invalid_request_stops(void**) {
    script_next(R"({"outcome":"never"})");
    shared_mock().fault("oauth_error", "next",
                        "\"endpoint\":\"token\",\"error\":\"invalid_request\"");
    assert_fails(ciba_login("claire"), Errc::invalid, "invalid_request");
    assert_int_equal(requests_at("token"), 1);
}

void ciba_provider_down_unavailable(void**) {
    script_next(R"({"outcome":"approve","approve_after":0})");
    shared_mock().fault("http_503", "all", "\"endpoint\":\"token\"");
    const auto t0 = Clock::now();
    assert_fails(ciba_login("claire"), Errc::unavailable, "http_status");
    // One poll and kMaxTransientPollFailures retries, one interval apart: not the 20 s timeout.
    assert_int_equal(requests_at("token", 503), 1 + static_cast<int>(kMaxTransientPollFailures));
    assert_true(Clock::now() - t0 < seconds(10));
}

void ciba_unmapped_user_unknown_before_any_request(void**) {
    auto env = make_env(test_config());
    auto r = try_start(*env, "sophie", "ciba");
    assert_start_fails(r, Errc::unknown_user, "user_unmapped");
    assert_int_equal(env->engine->pending(), 0);
    run_for(env->event.get(), milliseconds(200));
    assert_int_equal(env->done_calls, 0);
    assert_int_equal(requests_at("ciba"), 0);
}

// A username_template is inverted: the fleet account's idNat is CIBA's login_hint. An account
// the template cannot produce is not managed, and the provider never hears of it.
void ciba_template_mapping_login_hint(void**) {
    Config cfg = test_config();
    cfg.mapping.source = MappingSource::template_;
    cfg.mapping.username_template = "psc-{rpps}";
    auto env = make_env(std::move(cfg));
    assert_start_fails(try_start(*env, "claire", "ciba"), Errc::unknown_user, "user_unmapped");
    assert_int_equal(requests_at("ciba"), 0);
    script_next(R"({"outcome":"approve","approve_after":0})");
    start_login(*env, "psc-10001234567", "ciba");
    auto r = wait_outcome(*env);
    assert_ok(r);
    assert_string_equal(r->user.c_str(), "psc-10001234567");
    assert_string_equal(last_record().idnat.c_str(), kMedecin);
}

void ciba_user_unknown_at_provider(void**) {
    Config cfg = test_config();
    cfg.mapping.map_file = write_map(std::string(kNotAtPsc) + " sophie\n");
    // The account is managed: never unknown_user (the next PAM module), a refusal — StartLogin's,
    // since the provider refused the first request; done is never called.
    auto env = make_env(std::move(cfg));
    assert_start_fails(try_start(*env, "sophie", "ciba"), Errc::denied, "unknown_user_id");
    run_for(env->event.get(), milliseconds(100));
    assert_int_equal(env->done_calls, 0);
    assert_int_equal(env->engine->pending(), 0);
}

void ciba_other_identity_denied(void**) {
    script_next(R"({"outcome":"never"})");
    auto env = make_env(test_config());
    start_login(*env, "claire", "ciba");
    run_for(env->event.get(), milliseconds(300)); // the request reached the mock
    assert_string_equal(last_record().idnat.c_str(), kMedecin);
    // Someone else approves: the provider answers with the student's identity.
    script_last(R"({"outcome":"approve","approve_after":0})", kStudent);
    assert_fails(wait_outcome(*env), Errc::denied, "mapping_other_user");
}

void ciba_student_category_denied(void**) {
    script_next(R"({"outcome":"approve","approve_after":0})");
    Config cfg = test_config();
    cfg.mapping.authz.deny_categories = {'E'};
    assert_fails(ciba_login("lucas", std::move(cfg)), Errc::denied, "category_denied");
}

void ciba_service_timeout_sooner_than_expires_in(void**) {
    script_next(R"({"outcome":"never"})");
    Config cfg = test_config();
    ServiceOverride quick;
    quick.timeout = seconds(2);
    cfg.services.emplace("quick", quick);
    auto env = make_env(std::move(cfg));
    const auto t0 = Clock::now();
    auto started = start_login(*env, "claire", "ciba", "quick");
    assert_int_equal(started.display.expires_in.count(), 2);
    assert_fails(wait_outcome(*env, seconds(10)), Errc::timeout, "login_timeout");
    assert_true(Clock::now() - t0 < seconds(5)); // not the mock's 120 s expires_in
}

void ciba_cancel_mid_poll(void**) {
    script_next(R"({"outcome":"never"})");
    shared_mock().fault("stall", "next", "\"endpoint\":\"token\",\"seconds\":2");
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire", "ciba");
    // The first poll goes out one interval (1 s) after the answer, and stalls.
    run_for(env->event.get(), milliseconds(1400));
    assert_int_equal(env->engine->http_in_flight(), 1);
    env->engine->cancel(started.id);
    assert_int_equal(env->engine->pending(), 0);
    assert_int_equal(env->engine->http_in_flight(), 0);
    run_for(env->event.get(), milliseconds(2500));
    assert_int_equal(env->done_calls, 0);
}

void ciba_cancel_between_polls_stops_timer(void**) {
    script_next(R"({"outcome":"never"})");
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire", "ciba");
    run_for(env->event.get(), milliseconds(1500)); // one poll answered, the next one armed
    const std::size_t polls = last_record().polls.size();
    assert_int_equal(polls, 1);
    env->engine->cancel(started.id);
    assert_int_equal(env->engine->http_in_flight(), 0);
    run_for(env->event.get(), milliseconds(2000));
    assert_int_equal(last_record().polls.size(), polls);
    assert_int_equal(env->done_calls, 0);
}

void ciba_paste_refused(void**) {
    script_next(R"({"outcome":"never"})");
    auto env = make_env(test_config());
    auto started = start_login(*env, "claire", "ciba");
    assert_reason(env->engine->submit_callback(started.id, "http://127.0.0.1/callback?code=a"),
                  "flow_no_paste");
    env->engine->cancel(started.id);
}

// ---- private_key_jwt ----

void private_key_jwt_ciba_success(void**) {
    script_next(R"({"outcome":"approve","approve_after":0})");
    auto r = ciba_login("claire", private_key_jwt_config(g_client_key));
    assert_ok(r);
    assert_string_equal(r->user.c_str(), "claire");
}

void private_key_jwt_code_success(void**) {
    auto env = make_env(private_key_jwt_config(g_client_key));
    auto started = start_login(*env, "claire", "code");
    auto wallet = mocktest::browser_request(started.display.url + "&mock_approve=" + kMedecin,
                                            shared_mock().state().ca_file);
    assert_ok(wallet);
    assert_int_equal(wallet->status, 302);
    assert_ok(env->engine->submit_callback(started.id, wallet->location));
    auto r = wait_outcome(*env);
    assert_ok(r);
    assert_string_equal(r->user.c_str(), "claire");
}

void private_key_jwt_wrong_key_refused(void**) {
    script_next(R"({"outcome":"approve","approve_after":0})");
    auto env = make_env(private_key_jwt_config(g_wrong_key));
    assert_start_fails(try_start(*env, "claire", "ciba"), Errc::config, "invalid_client");
    assert_int_equal(requests_at("token"), 0); // refused at the CIBA endpoint already
}

void private_key_jwt_readable_key_refused(void**) {
    const std::string loose = write_file(
        "loose.key",
        testkeys::private_key_pem(testkeys::generate_key(testkeys::KeyType::RSA2048).get()), 0644);
    auto ev = event_new();
    assert_ok(ev);
    LoginEngineOptions opts;
    opts.trusted_owner = ::getuid();
    auto engine = LoginEngine::create(ev->get(), private_key_jwt_config(loose), opts);
    assert_reason(engine, "file_mode");
}

// ---- device grant ----

void device_success(void**) {
    auto env = make_env(generic_config());
    auto started = start_login(*env, "claire", "device");
    const auto& d = started.display;
    assert_string_equal(d.flow.c_str(), "device");
    assert_non_null(std::strstr(d.url.c_str(), "/wallet/device"));
    assert_int_equal(d.user_code.size(), 9); // XXXX-XXXX
    assert_non_null(std::strstr(d.qr.c_str(), "user_code="));
    assert_true(d.binding_code.empty());
    assert_false(d.accepts_paste);
    assert_int_equal(d.expires_in.count(), 20); // the service's 20 s < the mock's 120 s
    script_last(R"({"outcome":"approve","approve_after":0})", kMedecin);
    auto r = wait_outcome(*env);
    assert_ok(r);
    assert_string_equal(r->user.c_str(), "claire");
    assert_string_equal(r->idnat.c_str(), kMedecin);
    assert_polls_spaced(last_record(), 1000);
}

// The device authorization request is the provider's answer to wait for, but nothing waits on
// it: while it stalls, another login starts (its display comes out) and the loop keeps serving.
void device_start_blocks_nothing(void**) {
    auto env = make_env(generic_config());
    shared_mock().fault("stall", "next", "\"endpoint\":\"device\",\"seconds\":2");
    std::optional<Result<LoginDisplay>> device_display, code_display;
    LoginRequest dev;
    dev.user = "claire";
    dev.service = "login";
    dev.flow = "device";
    const auto t0 = Clock::now();
    auto id = env->engine->start(
        dev, [&](Result<LoginDisplay> d) { device_display = std::move(d); }, [](LoginOutcome) {});
    assert_ok(id);
    assert_true(Clock::now() - t0 < milliseconds(200)); // start() itself sent and returned
    LoginRequest code = dev;
    code.user = "lucas";
    code.flow = "code";
    auto id2 = env->engine->start(
        code, [&](Result<LoginDisplay> d) { code_display = std::move(d); }, [](LoginOutcome) {});
    assert_ok(id2);
    assert_true(run_until(
        env->event.get(), [&] { return code_display.has_value(); }, seconds(1)));
    assert_false(device_display.has_value()); // still stalled: the code login did not wait
    assert_true(run_until(
        env->event.get(), [&] { return device_display.has_value(); }, seconds(10)));
    // The mock's stall ends in 504: the device login never started (StartLogin's error).
    assert_reason(*device_display, "http_status");
    env->engine->cancel(*id);
    env->engine->cancel(*id2);
}

void device_denied(void**) {
    auto env = make_env(generic_config());
    start_login(*env, "claire", "device");
    script_last(R"({"outcome":"deny","approve_after":0})", kMedecin);
    assert_fails(wait_outcome(*env), Errc::denied, "access_denied");
}

void device_other_user_denied(void**) {
    auto env = make_env(generic_config());
    start_login(*env, "claire", "device");
    script_last(R"({"outcome":"approve","approve_after":0})", kStudent);
    assert_fails(wait_outcome(*env), Errc::denied, "mapping_other_user");
}

void device_tokens_without_id_token_refused(void**) {
    TokenResponse t;
    t.access_token = Secret("at");
    t.token_type = "Bearer";
    assert_reason(check_device_tokens(t), "device_no_id_token");
    t.id_token = Secret("x.y.z");
    assert_ok(check_device_tokens(t));
}

// A discovery document without the two decoupled endpoints, as a static metadata_file.
Config without_decoupled_endpoints(Config c) {
    const auto& s = shared_mock().state();
    auto doc = mocktest::browser_request(s.discovery_url, s.ca_file);
    assert_ok(doc);
    auto json = json_parse_object(doc->body);
    assert_ok(json);
    for (const char* name :
         {"backchannel_authentication_endpoint", "device_authorization_endpoint"}) {
        json_object_object_del(json->get(), name);
        if (json_object* aliases = json_member(json->get(), "mtls_endpoint_aliases"))
            json_object_object_del(aliases, name);
    }
    c.provider.metadata_file = write_file("metadata.json", json_to_string(json->get()), 0644);
    return c;
}

void device_refused_when_not_in_discovery(void**) {
    auto env = make_env(without_decoupled_endpoints(generic_config()));
    assert_start_fails(try_start(*env, "claire", "device"), Errc::invalid, "flow_unsupported");
    assert_start_fails(try_start(*env, "claire", "ciba"), Errc::invalid, "flow_unsupported");
    assert_int_equal(requests_at("device") + requests_at("ciba"), 0);
}

void device_not_allowed_by_service(void**) {
    auto env = make_env(test_config()); // flows = ciba code
    assert_start_fails(try_start(*env, "claire", "device"), Errc::invalid, "flow_not_allowed");
    assert_start_fails(try_start(*env, "claire", "bogus"), Errc::invalid, "flow_not_allowed");
}

// ---- flows_for ----

void flows_for_config_order_and_provider(void**) {
    Config cfg = generic_config(); // [login] flows = device ciba code
    ServiceOverride sshd;
    sshd.flows = std::vector<Flow>{Flow::code, Flow::ciba};
    cfg.services.emplace("sshd", sshd);
    auto env = make_env(cfg);
    assert_true(env->engine->flows_for("login") ==
                (std::vector<std::string>{"device", "ciba", "code"}));
    assert_true(env->engine->flows_for("sshd") == (std::vector<std::string>{"code", "ciba"}));
    // The default flow is the service's first one.
    auto started = start_login(*env, "claire", "", "sshd");
    assert_string_equal(started.display.flow.c_str(), "code");
    env->engine->cancel(started.id);

    auto bare = make_env(without_decoupled_endpoints(cfg));
    assert_true(bare->engine->flows_for("login") == (std::vector<std::string>{"code"}));
    assert_true(bare->engine->flows_for("sshd") == (std::vector<std::string>{"code"}));
}

// ---- the mock whose requests expire after 3 s ----

void ciba_expired_token(void**) {
    script_next(R"({"outcome":"never"})");
    const auto t0 = Clock::now();
    assert_fails(ciba_login("claire"), Errc::timeout, "expired_token");
    assert_true(Clock::now() - t0 < seconds(8)); // the service timeout is 20 s
}

void ciba_expires_in_honoured_locally(void**) {
    // A provider that keeps answering "pending" past its own expires_in: the engine stops anyway.
    script_next(R"({"outcome":"never"})");
    shared_mock().fault("oauth_error", "all",
                        "\"endpoint\":\"token\",\"error\":\"authorization_pending\"");
    const auto t0 = Clock::now();
    assert_fails(ciba_login("claire"), Errc::timeout, "ciba_expired");
    const auto took = Clock::now() - t0;
    assert_true(took >= milliseconds(2900) && took < seconds(8));
}

void device_expired_token(void**) {
    auto env = make_env(generic_config());
    auto started = start_login(*env, "claire", "device");
    assert_int_equal(started.display.expires_in.count(), 3); // the provider's, sooner
    assert_fails(wait_outcome(*env, seconds(10)), Errc::timeout, "expired_token");
}

// ---- the mock without the device grant ----

void device_refused_by_provider(void**) {
    // Listed in discovery as a Keycloak default, but off for the client (as at PSC).
    auto env = make_env(generic_config());
    assert_start_fails(try_start(*env, "claire", "device"), Errc::config, "unauthorized_client");
    assert_int_equal(env->engine->pending(), 0);
    assert_int_equal(env->engine->http_in_flight(), 0);
}

int main_group_setup(void**) {
    return mocktest::start_shared_mock({"--redirect-loopback-any-port", "--ciba-interval", "1",
                                        "--device-grant", "--client-public-key", g_client_pub});
}

int expiring_group_setup(void**) {
    return mocktest::start_shared_mock(
        {"--ciba-interval", "1", "--ciba-expires-in", "3", "--device-grant"});
}

int no_device_group_setup(void**) {
    return mocktest::start_shared_mock({"--ciba-interval", "1"});
}

bool make_keys() {
    char tmpl[] = "/tmp/psc-decoupled-test-XXXXXX";
    if (!mkdtemp(tmpl))
        return false;
    g_dir = tmpl;
    auto key = testkeys::generate_key(testkeys::KeyType::RSA2048);
    auto wrong = testkeys::generate_key(testkeys::KeyType::RSA2048);
    g_client_key = write_file("client.key", testkeys::private_key_pem(key.get()), 0600);
    g_client_pub = write_file("client.pub", testkeys::public_key_pem(key.get()), 0644);
    g_wrong_key = write_file("wrong.key", testkeys::private_key_pem(wrong.get()), 0600);
    return true;
}

} // namespace

#define T(name) cmocka_unit_test_setup(name, reset_and_mark)

int main() {
    if (!make_keys())
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest main_tests[] = {
        T(ciba_success_mobile_channel),
        T(ciba_success_card_channel),
        T(ciba_binding_code_sent_as_binding_message),
        T(ciba_login_hint_is_mapped_idnat),
        T(ciba_slow_down_honoured),
        T(ciba_provider_503_retried),
        T(ciba_denied),
        T(ciba_invalid_request_stops),
        T(ciba_provider_down_unavailable),
        T(ciba_unmapped_user_unknown_before_any_request),
        T(ciba_template_mapping_login_hint),
        T(ciba_user_unknown_at_provider),
        T(ciba_other_identity_denied),
        T(ciba_student_category_denied),
        T(ciba_service_timeout_sooner_than_expires_in),
        T(ciba_cancel_mid_poll),
        T(ciba_cancel_between_polls_stops_timer),
        T(ciba_paste_refused),
        T(private_key_jwt_ciba_success),
        T(private_key_jwt_code_success),
        T(private_key_jwt_wrong_key_refused),
        T(private_key_jwt_readable_key_refused),
        T(device_success),
        T(device_start_blocks_nothing),
        T(device_denied),
        T(device_other_user_denied),
        T(device_tokens_without_id_token_refused),
        T(device_refused_when_not_in_discovery),
        T(device_not_allowed_by_service),
        T(flows_for_config_order_and_provider),
    };
    const struct CMUnitTest expiring_tests[] = {
        T(ciba_expired_token),
        T(ciba_expires_in_honoured_locally),
        T(device_expired_token),
    };
    const struct CMUnitTest no_device_tests[] = {
        T(device_refused_by_provider),
    };
    int failed = cmocka_run_group_tests_name("decoupled", main_tests, main_group_setup,
                                             mocktest::stop_shared_mock);
    failed += cmocka_run_group_tests_name("decoupled_expiring", expiring_tests,
                                          expiring_group_setup, mocktest::stop_shared_mock);
    failed += cmocka_run_group_tests_name("decoupled_no_device", no_device_tests,
                                          no_device_group_setup, mocktest::stop_shared_mock);
    std::filesystem::remove_all(g_dir);
    curl_global_cleanup();
    return failed;
}
