// SPDX-License-Identifier: LGPL-2.1-or-later
// mock-psc's pure parts: the fault table and board, the decoupled-flow state machine, identity
// files (the shipped set included) and the command line.
#include "decoupled.hpp"
#include "faults.hpp"
#include "identities.hpp"
#include "options.hpp"
#include "testing.hpp"

#include <cstdlib>

using namespace psc;
using namespace psc::mock;
using namespace std::chrono_literals;

namespace {

std::string identities_dir() {
    const char* d = std::getenv("MOCK_PSC_IDENTITIES");
    return d ? d : "identities";
}

DecoupledRequest request(CibaScript script, std::chrono::seconds interval = 5s) {
    DecoupledRequest r;
    r.idnat = "810001234567";
    r.created = SteadyClock::now();
    r.expires = r.created + 60s;
    r.interval = interval;
    r.script = script;
    return r;
}

Result<ParsedArgs> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "mock-psc");
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    return parse_args(static_cast<int>(argv.size()), argv.data());
}

} // namespace

static void test_fault_table_names_every_fault_once(void**) {
    std::set<std::string_view> names;
    for (const auto& info : fault_table()) {
        assert_true(names.insert(info.name).second);
        auto back = fault_from_name(info.name);
        assert_ok(back);
        assert_true(*back == info.fault);
    }
    // Every enumerator up to the last one is in the table.
    assert_int_equal(fault_table().size(), static_cast<std::size_t>(Fault::tls_untrusted) + 1);
    assert_reason(fault_from_name("id_token_sparkles"), "fault_unknown");
}

static void test_fault_spec_parsing(void**) {
    auto f = parse_fault_spec("http_503:next@token");
    assert_ok(f);
    assert_true(f->fault == Fault::http_503);
    assert_true(f->scope == FaultScope::next);
    assert_true(f->endpoint == Endpoint::token);
    auto plain = parse_fault_spec("id_token_expired");
    assert_ok(plain);
    assert_true(plain->scope == FaultScope::all);
    assert_false(plain->endpoint.has_value());
    assert_reason(parse_fault_spec("http_503:sometimes"), "fault_scope");
    assert_reason(parse_fault_spec("http_503@nowhere"), "fault_endpoint");
    assert_reason(parse_fault_spec("http_555"), "fault_unknown");
}

static void test_next_fault_fires_once_at_its_endpoint(void**) {
    FaultBoard b;
    assert_ok(b.arm({Fault::id_token_wrong_iss, FaultScope::next, std::nullopt}, false));
    assert_false(b.take(Fault::id_token_wrong_iss, Endpoint::userinfo)); // not its endpoint
    assert_true(b.take(Fault::id_token_wrong_iss, Endpoint::token));
    assert_false(b.take(Fault::id_token_wrong_iss, Endpoint::token));
}

static void test_all_fault_keeps_firing(void**) {
    FaultBoard b;
    assert_ok(b.arm({Fault::http_502, FaultScope::all, Endpoint::userinfo}, false));
    assert_false(b.take_transport(Endpoint::token).has_value());
    for (int i = 0; i < 3; ++i)
        assert_true(b.take_transport(Endpoint::userinfo) == Fault::http_502);
    b.reset();
    assert_false(b.take_transport(Endpoint::userinfo).has_value());
}

static void test_transport_faults_never_hit_control(void**) {
    FaultBoard b;
    assert_ok(b.arm({Fault::stall, FaultScope::all, std::nullopt}, false));
    assert_false(b.take_transport(Endpoint::control).has_value());
    assert_true(b.take_transport(Endpoint::certs) == Fault::stall);
}

static void test_fault_refused_where_it_cannot_fire(void**) {
    FaultBoard b;
    assert_reason(b.arm({Fault::id_token_alg_none, FaultScope::next, Endpoint::discovery}, false),
                  "fault_endpoint");
    assert_reason(b.arm({Fault::malformed_json, FaultScope::next, Endpoint::authorize}, false),
                  "fault_endpoint");
}

static void test_tls_untrusted_only_at_startup(void**) {
    FaultBoard b;
    assert_reason(b.arm({Fault::tls_untrusted, FaultScope::all, std::nullopt}, false),
                  "fault_startup_only");
    assert_ok(b.arm({Fault::tls_untrusted, FaultScope::all, std::nullopt}, true));
    assert_true(b.armed(Fault::tls_untrusted));
}

static void test_decoupled_approves_after_delay(void**) {
    auto r = request({CibaOutcome::approve, 10s, 0});
    assert_true(r.poll(r.created + 1s) == PollAnswer::pending);
    assert_true(r.poll(r.created + 7s) == PollAnswer::pending);
    assert_true(r.poll(r.created + 12s) == PollAnswer::approved);
    assert_true(r.poll(r.created + 18s) == PollAnswer::spent);
    assert_int_equal(r.polls.size(), 4);
    assert_int_equal(r.polls[2].at_ms, 12000);
}

static void test_decoupled_denies(void**) {
    auto r = request({CibaOutcome::deny, 0s, 0});
    assert_true(r.poll(r.created + 1s) == PollAnswer::denied);
}

static void test_decoupled_never_expires(void**) {
    auto r = request({CibaOutcome::never, 0s, 0}, 20s);
    assert_true(r.poll(r.created + 20s) == PollAnswer::pending);
    assert_true(r.poll(r.created + 40s) == PollAnswer::pending);
    assert_true(r.poll(r.created + 60s) == PollAnswer::expired);
}

static void test_decoupled_scripted_slow_down(void**) {
    auto r = request({CibaOutcome::approve, 100s, 2});
    assert_true(r.poll(r.created + 5s) == PollAnswer::pending);
    assert_true(r.poll(r.created + 10s) == PollAnswer::slow_down);
    assert_int_equal(r.interval.count(), 10);
    assert_int_equal(r.polls[1].interval_s, 5); // recorded with the interval then in force
}

static void test_decoupled_too_fast_poll_slows_down(void**) {
    auto r = request({CibaOutcome::approve, 100s, 0});
    assert_true(r.poll(r.created + 5s) == PollAnswer::pending);
    assert_true(r.poll(r.created + 7s) == PollAnswer::slow_down);
    assert_int_equal(r.interval.count(), 10);
    // Within the tolerance of the interval is not too fast.
    assert_true(r.poll(r.created + 7s + 9900ms) == PollAnswer::pending);
}

static void test_decoupled_device_waits_for_a_user(void**) {
    auto r = request({CibaOutcome::approve, 0s, 0});
    r.idnat.clear();
    assert_true(r.poll(r.created + 5s) == PollAnswer::pending);
    r.idnat = "810001234567";
    assert_true(r.poll(r.created + 10s) == PollAnswer::approved);
}

static void test_shipped_identities_cover_the_issue(void**) {
    auto ids = load_identities(identities_dir());
    assert_ok(ids);
    assert_int_equal(ids->size(), 6);
    for (const char* idnat : {"810001234567", "810002345678", "899900045871",
                              "500000001815646/CPAT00045", "810003456789", "ANS20231122132732"})
        assert_true(ids->count(idnat) == 1);
    const Identity& student = ids->at("899900045871");
    assert_true(student.userinfo_json.find("\"codeCategorieProfessionnelle\":\"E\"") !=
                std::string::npos);
    const Identity& migrated = ids->at("810003456789");
    assert_true(migrated.userinfo_json.find("\"origine\":\"ADELI\"") != std::string::npos);
    assert_true(ids->at("500000001815646/CPAT00045").sub.find(":500000001815646/CPAT00045") !=
                std::string::npos);
}

static void test_identity_rejections(void**) {
    assert_reason(parse_identity("{"), "identity_json");
    assert_reason(parse_identity(R"({"authMode":"CARD","userinfo":{}})"), "identity_field");
    assert_reason(parse_identity(R"({"idNat":"1","authMode":"PIGEON","userinfo":{}})"),
                  "identity_field");
    assert_reason(parse_identity(R"({"idNat":"1","authMode":"CARD","userinfo":
        {"sub":"f:x:2","SubjectNameID":"2"}})"),
                  "identity_field");
    assert_reason(parse_identity(R"({"idNat":"1","authMode":"CARD","ciba":{"outcome":"maybe"},
        "userinfo":{"sub":"f:x:1","SubjectNameID":"1"}})"),
                  "ciba_script");
    assert_reason(load_identities("/nonexistent-mock-psc-dir"), "identity_dir");
}

static void test_ciba_script_parsing(void**) {
    auto doc = json_parse_object(R"({"outcome":"deny","approve_after":3})");
    assert_ok(doc);
    auto s = parse_ciba_script(doc->get(), CibaScript{CibaOutcome::approve, 0s, 4});
    assert_ok(s);
    assert_true(s->outcome == CibaOutcome::deny);
    assert_int_equal(s->approve_after.count(), 3);
    assert_int_equal(s->slow_down_on_poll, 4); // kept from the base
    auto neg = json_parse_object(R"({"approve_after":-1})");
    assert_ok(neg);
    assert_reason(parse_ciba_script(neg->get(), {}), "ciba_script");
}

static void test_options(void**) {
    auto a = parse({"--client-id", "x", "--redirect-uri", "http://127.0.0.1:1/cb", "--redirect-uri",
                    "https://bastion.example/cb", "--access-ttl", "5", "--fault", "http_500",
                    "--es256", "--device-grant"});
    assert_ok(a);
    assert_string_equal(a->options.client_id.c_str(), "x");
    assert_int_equal(a->options.redirect_uris.size(), 2); // the default is replaced
    assert_int_equal(a->options.access_ttl.count(), 5);
    assert_int_equal(a->options.faults.size(), 1);
    assert_true(a->options.es256 && a->options.device_grant);
    assert_reason(parse({"--bogus"}), "usage");
    assert_reason(parse({"--client-id"}), "usage");
    assert_reason(parse({"--access-ttl", "0"}), "number_range");
    assert_reason(parse({"--access-ttl", "12s"}), "number");
    assert_reason(parse({"--fault", "nope"}), "fault_unknown");
    auto help = parse({"--help"});
    assert_ok(help);
    assert_true(help->outcome == ParseOutcome::help);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_table_names_every_fault_once),
        cmocka_unit_test(test_fault_spec_parsing),
        cmocka_unit_test(test_next_fault_fires_once_at_its_endpoint),
        cmocka_unit_test(test_all_fault_keeps_firing),
        cmocka_unit_test(test_transport_faults_never_hit_control),
        cmocka_unit_test(test_fault_refused_where_it_cannot_fire),
        cmocka_unit_test(test_tls_untrusted_only_at_startup),
        cmocka_unit_test(test_decoupled_approves_after_delay),
        cmocka_unit_test(test_decoupled_denies),
        cmocka_unit_test(test_decoupled_never_expires),
        cmocka_unit_test(test_decoupled_scripted_slow_down),
        cmocka_unit_test(test_decoupled_too_fast_poll_slows_down),
        cmocka_unit_test(test_decoupled_device_waits_for_a_user),
        cmocka_unit_test(test_shipped_identities_cover_the_issue),
        cmocka_unit_test(test_identity_rejections),
        cmocka_unit_test(test_ciba_script_parsing),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
