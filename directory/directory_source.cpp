// SPDX-License-Identifier: LGPL-2.1-or-later
#include "directory_source.hpp"

#include "sssd.hpp"

namespace psc {

bool uses_directory(const MappingConfig& m) noexcept {
    return m.source == MappingSource::ldap || m.source == MappingSource::sssd;
}

Result<std::unique_ptr<DirectorySearch>> open_directory(const MappingConfig& m,
                                                        uid_t trusted_owner) {
    switch (m.source) {
    case MappingSource::ldap: {
        auto password = read_ldap_bind_password(m.ldap, trusted_owner);
        if (!password)
            return std::move(password).error();
        return std::unique_ptr<DirectorySearch>(
            std::make_unique<LdapDirectory>(m.ldap, std::move(*password)));
    }
    case MappingSource::sssd:
        return std::unique_ptr<DirectorySearch>(std::make_unique<SssdDirectory>(m.sssd));
    case MappingSource::file:
    case MappingSource::template_:
        break;
    }
    return make_error(Errc::internal, "directory_missing",
                      "source = " + std::string(to_string(m.source)) + " asks no directory");
}

std::chrono::seconds directory_cache_ttl(const MappingConfig& m) noexcept {
    return m.source == MappingSource::ldap ? m.ldap.cache_ttl : std::chrono::seconds(0);
}

} // namespace psc
