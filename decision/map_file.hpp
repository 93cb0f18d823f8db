// SPDX-License-Identifier: LGPL-2.1-or-later
// The map file as psc-authd and pscctl read it (design §4): a file that grants access, so owned by
// root (or the trusted owner tests pass), not group/world writable, size-capped; any bad line
// rejects the whole map. A map that cannot be used is a configuration error (Errc::config, reason
// map_unusable, the message carries "path:line"): the operator must act, and it never opens the
// break-glass line.
#pragma once

#include "user_map.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <sys/types.h>

namespace psc {

// Reads and parses once. Reasons: map_unusable (config).
[[nodiscard]] Result<UserMap> read_user_map(const std::string& path, uid_t trusted_owner);

// The same, re-read only when the file's inode or mtime changes (psc-authd between logins).
class MapFileCache {
public:
    explicit MapFileCache(uid_t trusted_owner = 0) : trusted_owner_(trusted_owner) {}
    [[nodiscard]] Result<const UserMap*> get(const std::string& path);

private:
    uid_t trusted_owner_;
    std::optional<UserMap> map_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    off_t size_ = 0;
    struct timespec mtime_ {}, ctime_ {};
    // The file had not changed for a while when it was read: a later write in the same clock tick
    // (file times are coarse) cannot hide behind equal times and size.
    bool settled_ = false;
};

} // namespace psc
