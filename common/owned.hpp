// SPDX-License-Identifier: LGPL-2.1-or-later
// Ownership of C handles. Every handle lives in a std::unique_ptr with a stateless deleter, so no
// logic code calls free/unref by hand and every exit path releases what it took.
#pragma once

#include <memory>
#include <unistd.h>
#include <utility>

namespace psc {

// unique_ptr deleter calling a C free function: psc::Owned<EVP_PKEY, EVP_PKEY_free>.
template <auto FreeFn>
struct CDeleter {
    template <class T>
    void operator()(T* p) const noexcept {
        if (p)
            FreeFn(p);
    }
};

template <class T, auto FreeFn>
using Owned = std::unique_ptr<T, CDeleter<FreeFn>>;

// A file descriptor, closed on destruction. -1 means empty.
class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o)
            reset(std::exchange(o.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

} // namespace psc
