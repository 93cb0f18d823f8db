// SPDX-License-Identifier: LGPL-2.1-or-later
#include "secret.hpp"

#include <string.h> // explicit_bzero (glibc); no OpenSSL here so the PAM module can link common/

namespace psc {

void secure_wipe(void* p, std::size_t n) noexcept {
    if (p && n)
        explicit_bzero(p, n);
}

void secure_wipe(std::string& s) noexcept {
    // Wipe the whole capacity: a shrunk string may have left bytes past size().
    secure_wipe(s.data(), s.capacity());
    s.clear();
}

Secret Secret::adopt(std::string&& s) {
    Secret out(s);
    secure_wipe(s);
    return out;
}

Secret::Secret(Secret&& o) noexcept {
    // Swapping short strings copies their inline buffers; wipe what the source keeps.
    data_.swap(o.data_);
    o.clear();
}

Secret& Secret::operator=(Secret&& o) noexcept {
    if (this != &o) {
        clear();
        data_.swap(o.data_);
        o.clear();
    }
    return *this;
}

Secret::~Secret() {
    clear();
}

void Secret::clear() noexcept {
    secure_wipe(data_);
}

bool Secret::equals(std::string_view other) const noexcept {
    if (other.size() != data_.size())
        return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < other.size(); ++i)
        diff |= static_cast<unsigned char>(data_[i] ^ other[i]);
    return diff == 0;
}

} // namespace psc
