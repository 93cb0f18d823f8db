// SPDX-License-Identifier: LGPL-2.1-or-later
// Reading files that decide who gets in (config, secrets, map file, static JWKS): opened with
// O_NOFOLLOW|O_CLOEXEC, checked with fstat on the opened descriptor (no check-then-open race),
// size-capped before reading.
#pragma once

#include "result.hpp"
#include "secret.hpp"

#include <cstddef>
#include <string>
#include <sys/types.h>

namespace psc {

struct FileRules {
    std::size_t max_bytes = 1024 * 1024;
    // Must be owned by this uid (or by root) — nullopt-like: -1 disables the owner check.
    long required_owner = -1;
    // Refuse if writable by group or others (files that grant access).
    bool refuse_group_world_writable = false;
    // Refuse if readable by group or others (files that hold secrets).
    bool refuse_group_world_readable = false;
};

struct FileData {
    std::string content;
    uid_t owner = 0;
    mode_t mode = 0;
    struct timespec mtime {};
    struct timespec ctime {}; // changes with the content and with chmod/chown
    off_t size = 0;
    dev_t dev = 0;
    ino_t ino = 0;
};

[[nodiscard]] Result<FileData> read_file_checked(const std::string& path, const FileRules& rules);
// For secrets: same checks, content kept in a self-wiping buffer; a trailing newline is removed.
[[nodiscard]] Result<Secret> read_secret_file(const std::string& path, const FileRules& rules);

} // namespace psc
