// SPDX-License-Identifier: LGPL-2.1-or-later
// [mapping] source = ldap without a server: RFC 4515 escaping, the two filters, the
// exactly-one rule of directory_account_idnat over a scripted DirectorySearch, and
// DirectoryLookups (the lookup thread, the cache, cancellation, one outage answering every
// waiting lookup). The real slapd runs in tests/ldap/test_ldap_mapping.sh.
#include "directory.hpp"
#include "directory_lookups.hpp"
#include "testing.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <systemd/sd-event.h>

using namespace psc;

namespace {

LdapConfig cfg() {
    LdapConfig c;
    c.uris = {"ldaps://dir.example"};
    c.base = "ou=people,dc=example";
    c.idnat_attribute = "employeeNumber";
    c.user_attribute = "uid";
    return c;
}

DirectoryEntry entry(std::string dn, std::vector<std::string> users,
                     std::vector<std::string> idnats) {
    return DirectoryEntry{std::move(dn), std::move(users), std::move(idnats)};
}

// Answers by exact filter text; an unknown filter finds nothing. Thread-safe; may hold searches
// until released.
class ScriptedSearch final : public LdapSearch {
public:
    ScriptedSearch() : LdapSearch(cfg()) {}
    std::map<std::string, Result<std::vector<DirectoryEntry>>> answers;
    std::atomic<int> calls{0};
    std::mutex mu;
    std::condition_variable cv;
    bool gate_open = true;

    Result<std::vector<DirectoryEntry>> search(const std::string& filter) override {
        ++calls;
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return gate_open; });
        auto it = answers.find(filter);
        if (it == answers.end())
            return std::vector<DirectoryEntry>{};
        return it->second;
    }
    std::string where() const override { return "scripted"; }
    void open() {
        std::lock_guard lock(mu); // notified under the lock: the thread may free us right after
        gate_open = true;
        cv.notify_all();
    }
};

const std::string kClaireFilter = "(&(uid=claire)(employeeNumber=*))";
const std::string kIdnatFilter = "(employeeNumber=810001234567)";

void script_claire(ScriptedSearch& s) {
    s.answers.insert_or_assign(
        kClaireFilter,
        std::vector{entry("uid=claire,ou=people", {"claire"}, {"810001234567"})});
    s.answers.insert_or_assign(
        kIdnatFilter, std::vector{entry("uid=claire,ou=people", {"claire"}, {"810001234567"})});
}

void test_escape(void**) {
    assert_string_equal(ldap_filter_escape("810001234567").c_str(), "810001234567");
    assert_string_equal(ldap_filter_escape("*").c_str(), "\\2a");
    assert_string_equal(ldap_filter_escape(")(uid=*").c_str(), "\\29\\28uid=\\2a");
    assert_string_equal(ldap_filter_escape("a\\b").c_str(), "a\\5cb");
    assert_string_equal(ldap_filter_escape(std::string("a\0b", 3)).c_str(), "a\\00b");
    assert_string_equal(ldap_filter_escape("\xc3\xa9\n").c_str(), "\\c3\\a9\\0a");
}

void test_filters(void**) {
    LdapConfig c = cfg();
    assert_string_equal(ldap_idnat_filter(c, "8*").c_str(), "(employeeNumber=8\\2a)");
    assert_string_equal(ldap_user_filter(c, "claire").c_str(), kClaireFilter.c_str());
    assert_string_equal(ldap_user_filter(c, "a*)(uid=b").c_str(),
                        "(&(uid=a\\2a\\29\\28uid=b)(employeeNumber=*))");
    c.filter = "(&(objectClass=person)(|(employeeNumber={idnat})(pscIdNat={idnat})))";
    assert_string_equal(
        ldap_idnat_filter(c, "8)").c_str(),
        "(&(objectClass=person)(|(employeeNumber=8\\29)(pscIdNat=8\\29)))");
    assert_string_equal(ldap_user_filter(c, "yann").c_str(),
                        "(&(uid=yann)(&(objectClass=person)(|(employeeNumber=*)(pscIdNat=*))))");
}

void test_one_entry_maps(void**) {
    ScriptedSearch s;
    script_claire(s);
    auto m = directory_account_idnat(s, "claire");
    assert_ok(m);
    assert_true(m->idnat.has_value());
    assert_string_equal(m->idnat->c_str(), "810001234567");
    assert_string_equal(m->dn.c_str(), "uid=claire,ou=people");
    assert_int_equal(s.calls.load(), 2);
}

void test_unmapped(void**) {
    ScriptedSearch s;
    auto m = directory_account_idnat(s, "claire"); // no entry
    assert_ok(m);
    assert_false(m->idnat.has_value());
    // An entry that matched only because LDAP compares without case is not this account.
    s.answers.insert_or_assign(
        kClaireFilter, std::vector{entry("uid=Claire,ou=people", {"Claire"}, {"810001234567"})});
    m = directory_account_idnat(s, "claire");
    assert_ok(m);
    assert_false(m->idnat.has_value());
    // An entry whose idNat the bind account may not read.
    s.answers.insert_or_assign(kClaireFilter,
                               std::vector{entry("uid=claire,ou=people", {"claire"}, {})});
    m = directory_account_idnat(s, "claire");
    assert_ok(m);
    assert_false(m->idnat.has_value());
}

void test_ambiguous(void**) {
    ScriptedSearch s;
    script_claire(s);
    // Two entries for the account.
    s.answers.insert_or_assign(
        kClaireFilter, std::vector{entry("uid=claire,ou=a", {"claire"}, {"810001234567"}),
                                   entry("uid=claire,ou=b", {"claire"}, {"810001234567"})});
    auto m = directory_account_idnat(s, "claire");
    assert_reason(m, "directory_ambiguous");
    assert_int_equal(static_cast<int>(m.error().code), static_cast<int>(Errc::denied));
    // Two idNats on the entry.
    s.answers.insert_or_assign(
        kClaireFilter,
        std::vector{entry("uid=claire,ou=people", {"claire"}, {"810001234567", "810002345678"})});
    assert_reason(directory_account_idnat(s, "claire"), "directory_ambiguous");
    // The idNat held by another entry too.
    script_claire(s);
    s.answers.insert_or_assign(
        kIdnatFilter, std::vector{entry("uid=claire,ou=people", {"claire"}, {"810001234567"}),
                                  entry("uid=old,ou=people", {"old"}, {"810001234567"})});
    assert_reason(directory_account_idnat(s, "claire"), "directory_ambiguous");
    // The idNat search finding another entry only (a filter that disagrees with itself).
    s.answers.insert_or_assign(kIdnatFilter,
                               std::vector{entry("uid=old,ou=people", {"old"}, {"810001234567"})});
    assert_reason(directory_account_idnat(s, "claire"), "directory_ambiguous");
    s.answers.insert_or_assign(kIdnatFilter, std::vector<DirectoryEntry>{});
    assert_reason(directory_account_idnat(s, "claire"), "directory_ambiguous");
}

void test_value_invalid(void**) {
    ScriptedSearch s;
    for (const char* bad : {"8100 01", "8100\n01", ""}) {
        s.answers.insert_or_assign(kClaireFilter,
                                   std::vector{entry("uid=claire,ou=people", {"claire"}, {bad})});
        auto m = directory_account_idnat(s, "claire");
        assert_reason(m, "directory_value_invalid");
        assert_int_equal(static_cast<int>(m.error().code), static_cast<int>(Errc::config));
    }
    s.answers.insert_or_assign(
        kClaireFilter,
        std::vector{entry("uid=claire,ou=people", {"claire"}, {std::string(65, '8')})});
    assert_reason(directory_account_idnat(s, "claire"), "directory_value_invalid");
}

void test_search_errors_pass_through(void**) {
    ScriptedSearch s;
    s.answers.insert_or_assign(kClaireFilter,
                               make_error(Errc::unavailable, "directory_unavailable", "down"));
    auto m = directory_account_idnat(s, "claire");
    assert_reason(m, "directory_unavailable");
    assert_int_equal(static_cast<int>(m.error().code), static_cast<int>(Errc::unavailable));
    script_claire(s);
    s.answers.insert_or_assign(kIdnatFilter,
                               make_error(Errc::config, "directory_search_failed", "no base"));
    assert_reason(directory_account_idnat(s, "claire"), "directory_search_failed");
}

// ---- DirectoryLookups: the thread, the cache, cancellation ----

struct Loop {
    sd_event* ev = nullptr;
    Loop() { assert_true(sd_event_new(&ev) >= 0); }
    ~Loop() { sd_event_unref(ev); }
    // Runs until pred() or 10 s.
    template <class P>
    void until(P pred) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!pred() && std::chrono::steady_clock::now() < end)
            (void)sd_event_run(ev, 10'000);
        assert_true(pred());
    }
};

std::unique_ptr<DirectoryLookups> lookups(Loop& loop, ScriptedSearch*& raw,
                                          std::chrono::seconds ttl = cfg().cache_ttl) {
    auto s = std::make_unique<ScriptedSearch>();
    raw = s.get();
    auto d = DirectoryLookups::create(loop.ev, ttl, std::move(s));
    assert_ok(d);
    return std::move(*d);
}

void test_lookup_and_cache(void**) {
    Loop loop;
    ScriptedSearch* s = nullptr;
    auto d = lookups(loop, s);
    script_claire(*s);
    std::optional<Result<DirectoryMapping>> got;
    bool inside = true;
    auto id = d->account_idnat("claire", [&](Result<DirectoryMapping> r) {
        assert_false(inside); // never from inside account_idnat
        got = std::move(r);
    });
    inside = false;
    assert_ok(id);
    loop.until([&] { return got.has_value(); });
    assert_ok(*got);
    assert_string_equal((*got)->idnat->c_str(), "810001234567");
    assert_int_equal(s->calls.load(), 2);
    // Cached: answered without a search, still from the loop.
    got.reset();
    inside = true;
    assert_ok(d->account_idnat("claire", [&](Result<DirectoryMapping> r) {
        assert_false(inside);
        got = std::move(r);
    }));
    inside = false;
    loop.until([&] { return got.has_value(); });
    assert_ok(*got);
    assert_int_equal(s->calls.load(), 2);
}

void test_errors_not_cached_and_ttl_zero(void**) {
    Loop loop;
    ScriptedSearch* s = nullptr;
    auto d = lookups(loop, s, std::chrono::seconds(0));
    s->answers.insert_or_assign(kClaireFilter,
                                make_error(Errc::unavailable, "directory_unavailable", "down"));
    int answers = 0;
    for (int i = 0; i < 2; ++i)
        assert_ok(d->account_idnat("claire", [&](Result<DirectoryMapping> r) {
            assert_reason(r, "directory_unavailable");
            ++answers;
        }));
    loop.until([&] { return answers == 2; });
    script_claire(*s);
    std::optional<Result<DirectoryMapping>> got;
    const int before = s->calls.load();
    assert_ok(d->account_idnat("claire", [&](Result<DirectoryMapping> r) { got = std::move(r); }));
    loop.until([&] { return got.has_value(); });
    assert_ok(*got);
    got.reset();
    assert_ok(d->account_idnat("claire", [&](Result<DirectoryMapping> r) { got = std::move(r); }));
    loop.until([&] { return got.has_value(); });
    assert_int_equal(s->calls.load(), before + 4); // ttl 0: nothing kept
}

void test_cancel(void**) {
    Loop loop;
    ScriptedSearch* s = nullptr;
    auto d = lookups(loop, s);
    script_claire(*s);
    bool called = false, other = false;
    auto id = d->account_idnat("claire", [&](Result<DirectoryMapping>) { called = true; });
    assert_ok(id);
    assert_ok(d->account_idnat("claire", [&](Result<DirectoryMapping>) { other = true; }));
    d->cancel(*id);
    loop.until([&] { return other; });
    assert_false(called);
}

// An outage answers every lookup that was waiting when the failing attempt began, at once.
void test_outage_answers_all_waiting(void**) {
    Loop loop;
    ScriptedSearch* s = nullptr;
    auto d = lookups(loop, s);
    s->answers.insert_or_assign(kClaireFilter,
                                make_error(Errc::unavailable, "directory_timeout", "stalled"));
    {
        std::lock_guard lock(s->mu);
        s->gate_open = false;
    }
    int answers = 0;
    assert_ok(d->account_idnat("claire", [&](Result<DirectoryMapping> r) {
        assert_reason(r, "directory_timeout");
        ++answers;
    }));
    // The first lookup is inside its search; these wait behind it.
    for (int i = 0; i < 50 && s->calls.load() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    assert_int_equal(s->calls.load(), 1);
    for (const char* user : {"lucas", "sophie"})
        assert_ok(d->account_idnat(user, [&](Result<DirectoryMapping> r) {
            assert_reason(r, "directory_timeout");
            ++answers;
        }));
    s->open();
    loop.until([&] { return answers == 3; });
    assert_int_equal(s->calls.load(), 1);
}

// A stalled directory cannot make the queue grow without bound: past kMaxQueued waiting lookups,
// the next is refused at once (busy), and the queue works again once the directory answers.
void test_queue_bounded(void**) {
    Loop loop;
    ScriptedSearch* s = nullptr;
    auto d = lookups(loop, s, std::chrono::seconds(0));
    script_claire(*s);
    {
        std::lock_guard lock(s->mu);
        s->gate_open = false;
    }
    std::size_t answers = 0;
    auto count = [&](Result<DirectoryMapping> r) {
        assert_ok(r);
        ++answers;
    };
    assert_ok(d->account_idnat("claire", count));
    for (int i = 0; i < 50 && s->calls.load() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    assert_int_equal(s->calls.load(), 1); // the thread holds the first one
    for (std::size_t i = 0; i < DirectoryLookups::kMaxQueued; ++i)
        assert_ok(d->account_idnat("claire", count));
    assert_reason(d->account_idnat("claire", count), "directory_busy");
    s->open();
    loop.until([&] { return answers == DirectoryLookups::kMaxQueued + 1; });
    assert_ok(d->account_idnat("claire", count));
    loop.until([&] { return answers == DirectoryLookups::kMaxQueued + 2; });
}

// The engine's side may go (a reload) while a search is running: the thread ends on its own.
void test_destroyed_while_searching(void**) {
    Loop loop;
    ScriptedSearch* s = nullptr;
    auto d = lookups(loop, s);
    script_claire(*s);
    {
        std::lock_guard lock(s->mu);
        s->gate_open = false;
    }
    bool called = false;
    assert_ok(d->account_idnat("claire", [&](Result<DirectoryMapping>) { called = true; }));
    for (int i = 0; i < 50 && s->calls.load() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ScriptedSearch* still = s; // owned by the lookup thread's shared state from now on
    d.reset();
    still->open();
    for (int i = 0; i < 20; ++i)
        (void)sd_event_run(loop.ev, 10'000);
    assert_false(called);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_one_entry_maps),
        cmocka_unit_test(test_unmapped),
        cmocka_unit_test(test_ambiguous),
        cmocka_unit_test(test_value_invalid),
        cmocka_unit_test(test_search_errors_pass_through),
        cmocka_unit_test(test_lookup_and_cache),
        cmocka_unit_test(test_errors_not_cached_and_ttl_zero),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_outage_answers_all_waiting),
        cmocka_unit_test(test_queue_bounded),
        cmocka_unit_test(test_destroyed_while_searching),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
