// SPDX-License-Identifier: LGPL-2.1-or-later
// Common include for CMocka tests, with assertions on psc::Result.
#pragma once

// Standard headers come before cmocka.h: it defines a fail() macro that breaks <ios> and friends.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

// cmocka.h needs these first.
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

extern "C" { // cmocka 1.1 has no C++ guards
#include <cmocka.h>
}

#include "result.hpp"

#include <cstdio>
#include <string>
#include <string_view>

namespace psc::testing {

// Fails the test, printing the error, unless r is ok.
template <class R>
void expect_ok(const R& r, const char* file, int line) {
    if (!r.ok()) {
        print_error("%s:%d: expected success, got error %s\n", file, line,
                    r.error().describe().c_str());
        _fail(file, line);
    }
}

// Fails unless r failed with exactly this reason token.
template <class R>
void expect_reason(const R& r, std::string_view reason, const char* file, int line) {
    if (r.ok()) {
        print_error("%s:%d: expected error \"%.*s\", got success\n", file, line,
                    static_cast<int>(reason.size()), reason.data());
        _fail(file, line);
        return;
    }
    if (r.error().reason != reason) {
        print_error("%s:%d: expected error \"%.*s\", got %s\n", file, line,
                    static_cast<int>(reason.size()), reason.data(), r.error().describe().c_str());
        _fail(file, line);
    }
}

} // namespace psc::testing

#define assert_ok(r) ::psc::testing::expect_ok((r), __FILE__, __LINE__)
#define assert_reason(r, reason) ::psc::testing::expect_reason((r), (reason), __FILE__, __LINE__)
