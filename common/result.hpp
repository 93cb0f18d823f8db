// SPDX-License-Identifier: LGPL-2.1-or-later
// Errors as values. Every fallible function in psc-login returns Result<T>; exceptions never cross
// a C boundary (PAM entry points, sd-bus/curl/MHD callbacks), so they are not used for expected
// failures.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace psc {

// The error classes a caller must tell apart. Each maps to one D-Bus error name (errors.hpp) and,
// in the PAM module, to one PAM return code. Keep this list small: finer detail goes in `reason`.
enum class Errc {
    invalid,      // malformed or rejected input (token, callback, argument)
    denied,       // a valid identity that policy refuses
    timeout,      // the login or an HTTP exchange ran out of time
    unavailable,  // the provider (or a dependency) cannot be reached or answered wrongly
    unknown_user, // no mapping for this identity / local user
    cancelled,    // the caller gave up
    busy,         // limits reached (pending logins, rate limits)
    config,       // configuration is wrong; the operator must act
    io,           // local file or system call failure
    internal,     // a bug or an impossible state; still fails closed
};

struct Error {
    Errc code = Errc::internal;
    // Stable, machine-readable token (e.g. "exp_expired", "aud_mismatch"); goes to PSC_REASON in
    // the journal and is what tests assert on. Never contains secrets or token material.
    std::string reason;
    // Human-readable detail for operators ("token expired 75 s ago (clock skew 60 s)").
    std::string message;

    // "reason: message" or just one of them; the form used in logs and `pscctl` output.
    [[nodiscard]] std::string describe() const;
};

[[nodiscard]] Error make_error(Errc code, std::string reason, std::string message = {});

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    [[nodiscard]] T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    [[nodiscard]] const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    [[nodiscard]] T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    [[nodiscard]] const Error& error() const& {
        assert(!ok());
        return std::get<1>(v_);
    }
    [[nodiscard]] Error&& error() && {
        assert(!ok());
        return std::get<1>(std::move(v_));
    }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : err_(std::move(error)), failed_(true) {}

    [[nodiscard]] bool ok() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] const Error& error() const& {
        assert(failed_);
        return err_;
    }
    [[nodiscard]] Error&& error() && {
        assert(failed_);
        return std::move(err_);
    }

private:
    Error err_;
    bool failed_ = false;
};

using Status = Result<void>;

} // namespace psc

// Propagate an error from an expression yielding Result<...>; the value is discarded.
#define PSC_TRY(expr)                                                                              \
    do {                                                                                           \
        auto psc_try_r_ = (expr);                                                                  \
        if (!psc_try_r_.ok())                                                                      \
            return std::move(psc_try_r_).error();                                                  \
    } while (0)
