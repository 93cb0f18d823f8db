// SPDX-License-Identifier: LGPL-2.1-or-later
#include "file_io.hpp"
#include "testing.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

using namespace psc;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/psc-test-file-io-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const char* name, std::string_view content, mode_t mode) const {
        const std::string p = path + "/" + name;
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(::write(fd, content.data(), content.size()),
                         static_cast<ssize_t>(content.size()));
        ::close(fd);
        assert_int_equal(::chmod(p.c_str(), mode), 0);
        return p;
    }
};

} // namespace

static void test_reads_regular_file(void**) {
    TempDir d;
    auto p = d.write("a.conf", "[provider]\n", 0644);
    auto r = read_file_checked(p, {});
    assert_ok(r);
    assert_string_equal(r->content.c_str(), "[provider]\n");
}

static void test_refuses_symlink(void**) {
    TempDir d;
    auto target = d.write("target", "x", 0600);
    const std::string link = d.path + "/link";
    assert_int_equal(::symlink(target.c_str(), link.c_str()), 0);
    assert_reason(read_file_checked(link, {}), "file_symlink");
}

static void test_refuses_directory(void**) {
    TempDir d;
    assert_reason(read_file_checked(d.path, {}), "file_not_regular");
}

static void test_missing_file(void**) {
    TempDir d;
    auto r = read_file_checked(d.path + "/nope", {});
    assert_reason(r, "file_open");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::config));
}

static void test_size_cap(void**) {
    TempDir d;
    auto p = d.write("big", std::string(2049, 'x'), 0600);
    FileRules rules;
    rules.max_bytes = 2048;
    assert_reason(read_file_checked(p, rules), "file_too_large");
    rules.max_bytes = 2049;
    assert_ok(read_file_checked(p, rules));
}

static void test_world_writable_refused(void**) {
    TempDir d;
    auto p = d.write("users.map", "810001234567 claire\n", 0646);
    FileRules rules;
    rules.refuse_group_world_writable = true;
    assert_reason(read_file_checked(p, rules), "file_mode");
    assert_int_equal(::chmod(p.c_str(), 0644), 0);
    assert_ok(read_file_checked(p, rules));
}

static void test_secret_must_not_be_group_readable(void**) {
    TempDir d;
    auto p = d.write("client_secret", "s3cr3t\n", 0640);
    FileRules rules;
    rules.refuse_group_world_readable = true;
    assert_reason(read_secret_file(p, rules), "file_mode");
    assert_int_equal(::chmod(p.c_str(), 0600), 0);
    auto s = read_secret_file(p, rules);
    assert_ok(s);
    assert_true(s->view() == "s3cr3t"); // trailing newline removed
}

static void test_owner_must_be_root_or_required(void**) {
    if (geteuid() != 0)
        skip(); // chown to another uid needs root; CI runs as root.
    TempDir d;
    auto p = d.write("client_secret", "s3cr3t", 0600);
    assert_int_equal(::chown(p.c_str(), 4242, 4242), 0);
    FileRules rules;
    rules.required_owner = 0;
    assert_reason(read_secret_file(p, rules), "file_owner");
    rules.required_owner = 4242;
    assert_ok(read_secret_file(p, rules));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_regular_file),
        cmocka_unit_test(test_refuses_symlink),
        cmocka_unit_test(test_refuses_directory),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_world_writable_refused),
        cmocka_unit_test(test_secret_must_not_be_group_readable),
        cmocka_unit_test(test_owner_must_be_root_or_required),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
