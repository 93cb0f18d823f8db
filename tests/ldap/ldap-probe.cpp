// SPDX-License-Identifier: LGPL-2.1-or-later
// The directory searches of psc-login (directory/directory.hpp) against a real server (source =
// ldap) or an InfoPipe (source = sssd), from a psc-login.conf, with values the PAM stack could
// never pass (NUL, '*', parentheses): the injection cases of tests/ldap/test_ldap_mapping.sh and
// tests/sssd/test_sssd_mapping.sh.
//
//   ldap-probe CONFIG entries HEX   the entries holding the idNat whose bytes are HEX
//   ldap-probe CONFIG account HEX   the account's mapping (directory_account_idnat)
// Prints one line per entry ("dn users=... idnats=...") or "mapped IDNAT DN" / "unmapped", or
// "error REASON: message" (exit 1).
#include "config.hpp"
#include "directory.hpp"
#include "directory_source.hpp"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace {

std::string unhex(const std::string& h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

int fail(const psc::Error& e) {
    std::printf("error %s: %s\n", e.reason.c_str(), e.message.c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: ldap-probe CONFIG entries|account HEX\n");
        return 2;
    }
    auto cfg = psc::load_config(argv[1]);
    if (!cfg)
        return fail(cfg.error());
    auto dir = psc::open_directory(cfg->mapping, ::geteuid());
    if (!dir)
        return fail(dir.error());
    const std::string what = argv[2], value = unhex(argv[3]);
    if (what == "entries") {
        auto r = (*dir)->idnat_entries(value);
        if (!r)
            return fail(r.error());
        for (const auto& e : *r) {
            std::string users, idnats;
            for (const auto& u : e.users)
                users += (users.empty() ? "" : ",") + u;
            for (const auto& i : e.idnats)
                idnats += (idnats.empty() ? "" : ",") + i;
            std::printf("%s users=%s idnats=%s\n", e.dn.c_str(), users.c_str(), idnats.c_str());
        }
        std::printf("%zu entries\n", r->size());
        return 0;
    }
    auto m = psc::directory_account_idnat(**dir, value);
    if (!m)
        return fail(m.error());
    if (m->idnat)
        std::printf("mapped %s %s\n", m->idnat->c_str(), m->dn.c_str());
    else
        std::printf("unmapped\n");
    return 0;
}
