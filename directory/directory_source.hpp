// SPDX-License-Identifier: LGPL-2.1-or-later
// The directory of [mapping] source = ldap or sssd, as psc-authd and pscctl open it.
#pragma once

#include "config.hpp"
#include "directory.hpp"
#include "result.hpp"

#include <chrono>
#include <memory>
#include <sys/types.h>

namespace psc {

// True for the sources that ask a directory (ldap, sssd).
[[nodiscard]] bool uses_directory(const MappingConfig& m) noexcept;
// An LdapDirectory (its bind password read with the secret-file rules, owned by trusted_owner) or
// an SssdDirectory. Nothing is contacted yet. Reasons: read_ldap_bind_password's; a source that
// asks no directory is Errc::internal.
[[nodiscard]] Result<std::unique_ptr<DirectorySearch>> open_directory(const MappingConfig& m,
                                                                      uid_t trusted_owner);
// How long psc-authd keeps a directory answer: ldap_cache_ttl; with SSSD none (SSSD caches, by
// the site's own rules).
[[nodiscard]] std::chrono::seconds directory_cache_ttl(const MappingConfig& m) noexcept;

} // namespace psc
