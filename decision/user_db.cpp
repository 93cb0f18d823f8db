// SPDX-License-Identifier: LGPL-2.1-or-later
#include "user_db.hpp"

#include <cerrno>
#include <cstring>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace psc {

Result<std::optional<LocalUser>> NssUserDb::lookup(const std::string& name) const {
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
    for (;;) {
        struct passwd pw {};
        struct passwd* result = nullptr;
        const int r = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result);
        if (r == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        // getpwnam_r(3): "not found" may come back as 0 with no entry or as one of these.
        if (r != 0 && r != ENOENT && r != ESRCH && r != EBADF && r != EPERM)
            return make_error(Errc::io, "nss_lookup",
                              "looking up user \"" + name + "\": " + std::strerror(r));
        if (!result)
            return std::optional<LocalUser>{};
        return std::optional<LocalUser>{LocalUser{pw.pw_name, pw.pw_uid}};
    }
}

} // namespace psc
