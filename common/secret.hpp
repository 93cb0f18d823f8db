// SPDX-License-Identifier: LGPL-2.1-or-later
// A byte string that wipes itself. Client secrets, private-key passphrases, authorization codes and
// PKCE verifiers live in Secret so they do not linger in freed heap memory. Copying is explicit.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace psc {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string_view s) : data_(s) {}
    // Takes ownership and wipes the source string's buffer.
    static Secret adopt(std::string&& s);

    Secret(Secret&& o) noexcept;
    Secret& operator=(Secret&& o) noexcept;
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    ~Secret();

    [[nodiscard]] Secret clone() const { return Secret(view()); }
    [[nodiscard]] std::string_view view() const noexcept { return data_; }
    [[nodiscard]] const char* c_str() const noexcept { return data_.c_str(); }
    [[nodiscard]] std::size_t size() const noexcept { return data_.size(); }
    [[nodiscard]] bool empty() const noexcept { return data_.empty(); }
    void clear() noexcept;

    // Constant-time comparison (length is not hidden).
    [[nodiscard]] bool equals(std::string_view other) const noexcept;

private:
    std::string data_;
};

// Wipe a buffer in a way the compiler may not elide.
void secure_wipe(void* p, std::size_t n) noexcept;
void secure_wipe(std::string& s) noexcept;

} // namespace psc
