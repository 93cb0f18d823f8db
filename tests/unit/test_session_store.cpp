// SPDX-License-Identifier: LGPL-2.1-or-later
// The session records (daemon/session_store.hpp): a ticket opens one session once and only for the
// uid that started the login; unopened tickets expire; the store is bounded (the oldest gives
// way); a logout at the provider hands over each ID token once and keeps the record.
#include "session_store.hpp"
#include "testing.hpp"

using namespace psc;

namespace {

constexpr std::uint64_t kMinute = 60'000'000;

SessionRecord record(const char* user, uid_t caller = 0) {
    SessionRecord r;
    r.user = user;
    r.idnat = "810001234567";
    r.service = "sshd";
    r.caller_uid = caller;
    r.id_token = std::make_shared<const Secret>("header.claims.signature");
    return r;
}

std::string add(SessionStore& s, SessionRecord r, std::uint64_t now) {
    auto t = s.add(std::move(r), now);
    assert_true(t.ok());
    assert_true(t->size() >= 40); // 256 bits, base64url
    return *t;
}

} // namespace

static void test_open_close_once(void**) {
    SessionStore s;
    const std::string t = add(s, record("claire"), kMinute);
    assert_true(s.open_sessions().empty());
    auto o = s.open(t, 0, "c7", kMinute + 1, 1'700'000'000'000'000);
    assert_true(o.ok());
    assert_string_equal((*o)->logind_session.c_str(), "c7");
    assert_int_equal(s.open_sessions().size(), 1);
    assert_reason(s.open(t, 0, "c7", kMinute + 2, 0), "session_unknown"); // once
    auto closed = s.close(t, 0);
    assert_true(closed.ok());
    assert_string_equal(closed->user.c_str(), "claire");
    assert_non_null(closed->id_token.get());
    assert_reason(s.close(t, 0), "session_unknown");
    assert_int_equal(s.size(), 0);
}

static void test_other_uid_and_forged_ticket_refused(void**) {
    SessionStore s;
    const std::string t = add(s, record("claire", 0), 0);
    assert_reason(s.open(t, 1001, "", 1, 0), "session_not_yours");
    assert_reason(s.open(t + "x", 0, "", 1, 0), "session_unknown");
    assert_reason(s.open("", 0, "", 1, 0), "session_unknown");
    assert_reason(s.close(t, 0), "session_unknown"); // never opened
    assert_true(s.open(t, 0, "", 1, 0).ok());
    assert_reason(s.close(t, 1001), "session_not_yours");
    assert_true(s.close(t, 0).ok());
}

static void test_unopened_ticket_expires(void**) {
    SessionStore s;
    const std::string t = add(s, record("claire"), kMinute);
    const std::uint64_t after = kMinute + 11 * kMinute;
    assert_reason(s.open(t, 0, "", after, 0), "session_unknown");
    assert_int_equal(s.size(), 0);
    // An open session does not expire with the ticket's time limit.
    const std::string u = add(s, record("lucas"), kMinute);
    assert_true(s.open(u, 0, "", kMinute + 1, 0).ok());
    (void)add(s, record("sophie"), after);
    assert_int_equal(s.open_sessions().size(), 1);
}

static void test_bounded_oldest_gives_way(void**) {
    SessionStore s;
    const std::string first = add(s, record("first"), 0);
    assert_true(s.open(first, 0, "", 0, 0).ok());
    for (std::size_t i = 1; i < SessionStore::kMaxRecords; ++i)
        (void)add(s, record("other"), 0);
    assert_int_equal(s.size(), SessionStore::kMaxRecords);
    (void)add(s, record("newest"), 0);
    assert_int_equal(s.size(), SessionStore::kMaxRecords);
    assert_reason(s.close(first, 0), "session_unknown"); // the oldest, open or not, gave way
}

static void test_end_at_provider_once(void**) {
    SessionStore s;
    const std::string a = add(s, record("claire"), 0);
    const std::string b = add(s, record("claire"), 0);
    const std::string c = add(s, record("lucas"), 0);
    const std::string unopened = add(s, record("claire"), 0);
    for (const auto* t : {&a, &b, &c})
        assert_true(s.open(*t, 0, "", 0, 0).ok());
    auto ending = s.end_at_provider("claire", "");
    assert_int_equal(ending.size(), 2); // open sessions only
    for (const auto& e : ending)
        assert_non_null(e.id_token.get());
    assert_true(s.end_at_provider("claire", "").empty()); // once
    assert_int_equal(s.open_sessions().size(), 3);         // the local sessions stay
    auto closed = s.close(a, 0);
    assert_true(closed.ok());
    assert_true(closed->ended_at_provider);
    assert_null(closed->id_token.get()); // handed over, not kept
    const std::string lucas_id = s.open_sessions().back()->id;
    auto by_id = s.end_at_provider("", lucas_id);
    assert_int_equal(by_id.size(), 1);
    assert_string_equal(by_id[0].user.c_str(), "lucas");
    assert_true(s.end_at_provider("nobody", "").empty());
    (void)unopened;
}

// A back-channel logout names the provider session (sid) and/or the person (sub): only open
// sessions that match are ended; their logind ids are handed back; the ID token is dropped.
static void test_end_by_provider(void**) {
    SessionStore s;
    auto mk = [&](const char* user, const char* sid, const char* sub, const char* logind) {
        SessionRecord r = record(user);
        r.sid = sid;
        r.sub = sub;
        const std::string t = add(s, std::move(r), kMinute);
        assert_true(s.open(t, 0, logind, kMinute + 1, 1).ok());
    };
    mk("claire", "sid-a", "sub-1", "c1");
    mk("claire", "sid-b", "sub-1", "c2");
    mk("sophie", "sid-c", "sub-2", "");
    (void)add(s, [] {
        SessionRecord r = record("lucas");
        r.sid = "sid-d";
        r.sub = "sub-3";
        return r;
    }(), kMinute); // never opened: not a session yet
    assert_true(s.end_by_provider("", "").empty());
    assert_true(s.end_by_provider("sid-d", "").empty());
    assert_true(s.end_by_provider("sid-a", "sub-2").empty()); // both given: both must match
    auto a = s.end_by_provider("sid-a", "sub-1");
    assert_int_equal(a.size(), 1);
    assert_string_equal(a[0].logind_session.c_str(), "c1");
    assert_string_equal(a[0].user.c_str(), "claire");
    auto by_sub = s.end_by_provider("", "sub-1"); // every session of the person
    assert_int_equal(by_sub.size(), 2);
    auto c = s.end_by_provider("sid-c", "");
    assert_int_equal(c.size(), 1);
    assert_true(c[0].logind_session.empty());
    for (const SessionRecord* r : s.open_sessions()) {
        assert_true(r->ended_at_provider);
        assert_null(r->id_token.get());
    }
    assert_true(s.end_at_provider("claire", "").empty()); // nothing left to end there
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_close_once),
        cmocka_unit_test(test_other_uid_and_forged_ticket_refused),
        cmocka_unit_test(test_unopened_ticket_expires),
        cmocka_unit_test(test_bounded_oldest_gives_way),
        cmocka_unit_test(test_end_at_provider_once),
        cmocka_unit_test(test_end_by_provider),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
