// SPDX-License-Identifier: LGPL-2.1-or-later
// What `pscctl check-config` checks beyond the configuration's own syntax: the files and accounts
// it depends on, as they are on this machine (design §7). A mistake here would otherwise show up as
// refused logins: a [service:NAME] for no PAM service (its rules never apply), a map naming a
// missing account, a client certificate that expired or does not match its key, a broken CA file.
#pragma once

#include "config.hpp"

#include <ctime>
#include <string>
#include <sys/types.h>
#include <vector>

namespace psc::ctl {

struct Finding {
    bool error = true;   // false: a warning (exit status stays 0)
    std::string where;   // "file:line", "file" or ""
    std::string reason;  // stable token
    std::string message; // what is wrong and what to do
    [[nodiscard]] std::string text() const; // "where: [warning: ]message"
};

struct DeployCheckOptions {
    std::string pam_dir = "/etc/pam.d";
    uid_t trusted_owner = 0;
    std::time_t now = 0;
    int expiry_warning_days = 30;
    bool online = false; // contact the directory (source = ldap or sssd)
};

// Reasons: service_no_pam_file; map_unusable, map_user_missing, map_duplicate (warning),
// map_system_user (warning); tls_cert_*/tls_key_* (tls_files.hpp), tls_cert_expiring (warning);
// ca_file_invalid; source = ldap: ldap_bind_password_file's, ldap_ca_file's, and with
// online the directory's (directory_unavailable, directory_bind_refused, ...); source = sssd,
// with online: SSSD InfoPipe's (directory_unavailable, directory_search_failed, ...). Lines for
// the summary (certificate subject and expiry, map size) are added to `notes`.
[[nodiscard]] std::vector<Finding> deploy_checks(const Config& cfg, const DeployCheckOptions& o,
                                                 std::vector<std::string>& notes);

} // namespace psc::ctl
