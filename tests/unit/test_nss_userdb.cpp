// SPDX-License-Identifier: LGPL-2.1-or-later
// The real account lookup (getpwnam_r) against test users served by nss_wrapper; meson runs this
// test with LD_PRELOAD=libnss_wrapper.so and NSS_WRAPPER_PASSWD pointing at tests/data/nss.
#include "login_finish.hpp"
#include "testing.hpp"

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace psc;

static void test_nss_wrapper_active(void**) {
    // Guard: without the wrapper the test would silently look at the real /etc/passwd.
    assert_non_null(std::getenv("NSS_WRAPPER_PASSWD"));
}

static void test_lookup_existing_user(void**) {
    NssUserDb db;
    auto u = db.lookup("claire");
    assert_ok(u);
    assert_true(u->has_value());
    assert_int_equal((*u)->uid, 1001);
}

static void test_lookup_missing_user(void**) {
    NssUserDb db;
    auto u = db.lookup("nobody-here");
    assert_ok(u);
    assert_false(u->has_value());
}

static Config resolver_config(const std::string& map_file) {
    Config cfg;
    cfg.mapping.map_file = map_file;
    return cfg;
}

// A map file answers inside resolve().
static Result<ManagedAccount> resolve_now(const AccountResolver& resolver, const std::string& user) {
    std::uint64_t lookup = 0;
    auto now = resolver.resolve(user, [](Result<ManagedAccount>) { fail_msg("answered later"); },
                                &lookup);
    assert_true(now.has_value());
    return std::move(*now);
}

// AccountResolver with the real getpwnam_r: a map file that grants claire, none for root.
static void test_resolver_with_real_lookup(void**) {
    char dir[] = "/tmp/psc-nss.XXXXXX";
    assert_non_null(mkdtemp(dir));
    const std::string map = std::string(dir) + "/users.map";
    std::ofstream(map) << "810001234567 claire\n810009999999 root\n";
    const Config cfg = resolver_config(map);
    MapFileCache maps(::geteuid());
    NssUserDb db;
    AccountResolver resolver(cfg, maps, db);
    auto claire = resolve_now(resolver, "claire");
    assert_ok(claire);
    assert_string_equal(claire->idnat.c_str(), "810001234567");
    assert_int_equal(claire->user.uid, 1001);
    assert_reason(resolve_now(resolver, "root"), "system_user");
    assert_reason(resolve_now(resolver, "sophie"), "user_unmapped");
    assert_reason(resolve_now(resolver, "nobody-here"), "user_missing");
    std::filesystem::remove_all(dir);
}

// A broken map is a configuration error for managed users — and never stands between root (or
// a missing account) and the next PAM module.
static void test_broken_map_never_blocks_root(void**) {
    const Config cfg = resolver_config("/nonexistent/users.map");
    MapFileCache maps(::geteuid());
    NssUserDb db;
    AccountResolver resolver(cfg, maps, db);
    auto r = resolve_now(resolver, "root");
    assert_reason(r, "system_user");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::unknown_user));
    assert_reason(resolve_now(resolver, "nobody-here"), "user_missing");
    auto c = resolve_now(resolver, "claire");
    assert_reason(c, "map_unusable");
    assert_int_equal(static_cast<int>(c.error().code), static_cast<int>(Errc::config));
}

static std::string mapped_for(AccountResolver& r, const char* user) {
    auto a = resolve_now(r, user);
    return a ? a->idnat : "error:" + a.error().reason;
}

// The map is re-read only when it changed, and every change is seen: an in-place rewrite in the
// same instant (unsettled file), a replacement, a chmod that makes it unsafe, a symbolic link.
static void test_map_cache_sees_every_change(void**) {
    char dir[] = "/tmp/psc-nss.XXXXXX";
    assert_non_null(mkdtemp(dir));
    const std::string map = std::string(dir) + "/users.map";
    std::ofstream(map) << "810001234567 claire\n";
    const Config cfg = resolver_config(map);
    MapFileCache maps(::geteuid());
    NssUserDb db;
    AccountResolver resolver(cfg, maps, db);
    assert_string_equal(mapped_for(resolver, "claire").c_str(), "810001234567");
    std::ofstream(map) << "810001234568 claire\n"; // same size, same instant
    assert_string_equal(mapped_for(resolver, "claire").c_str(), "810001234568");
    const std::string next = map + ".new";
    std::ofstream(next) << "810001234569 claire\n";
    std::filesystem::rename(next, map);
    assert_string_equal(mapped_for(resolver, "claire").c_str(), "810001234569");
    // A settled file (times two seconds in the past) is served from the cache ...
    struct timespec old[2] = {{::time(nullptr) - 10, 0}, {::time(nullptr) - 10, 0}};
    assert_int_equal(::utimensat(AT_FDCWD, map.c_str(), old, 0), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2100)); // ctime settles
    assert_string_equal(mapped_for(resolver, "claire").c_str(), "810001234569");
    assert_string_equal(mapped_for(resolver, "claire").c_str(), "810001234569");
    // ... until it is made unsafe, or replaced by a symbolic link (refused, never followed).
    assert_int_equal(::chmod(map.c_str(), 0666), 0);
    assert_string_equal(mapped_for(resolver, "claire").c_str(), "error:map_unusable");
    assert_int_equal(::chmod(map.c_str(), 0644), 0);
    assert_string_equal(mapped_for(resolver, "claire").c_str(), "810001234569");
    const std::string other = std::string(dir) + "/other.map";
    std::ofstream(other) << "810001234560 claire\n";
    std::filesystem::remove(map);
    std::filesystem::create_symlink(other, map);
    assert_string_equal(mapped_for(resolver, "claire").c_str(), "error:map_unusable"); // O_NOFOLLOW
    std::filesystem::remove_all(dir);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nss_wrapper_active),
        cmocka_unit_test(test_lookup_existing_user),
        cmocka_unit_test(test_lookup_missing_user),
        cmocka_unit_test(test_resolver_with_real_lookup),
        cmocka_unit_test(test_broken_map_never_blocks_root),
        cmocka_unit_test(test_map_cache_sees_every_change),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
