// SPDX-License-Identifier: LGPL-2.1-or-later
// [mapping] source = sssd (design §4): the directory rule of directory.hpp asked of SSSD's InfoPipe
// (the sssd-dbus responder, org.freedesktop.sssd.infopipe on the system bus), so the site's SSSD
// configuration, its caches and its offline behaviour apply.
//
//   the account's entry   Users.FindByName(user) → the user object, then its `name` and the
//                         sssd_idnat_attribute values of its `extraAttributes`
//   the idNat's holders   Users.ListByAttr(sssd_idnat_attribute, idnat, 3) → user objects, each
//                         read the same way
//
// SSSD's "not found" (sbus.Error.NotFound, as SSSD 2.x names it, or
// org.freedesktop.sssd.Error.NotFound; or an empty list) is no entry. ListByAttr searches SSSD's
// cache only: FindByName, asked first, brings the account's own entry into it; another account
// holding the same idNat is seen once SSSD has cached it (always, with enumerate = true).
// Reasons: directory_unavailable (InfoPipe not on the bus, its activation failing, the bus gone)
// and directory_timeout (no answer in sssd_timeout): Errc::unavailable; directory_search_failed
// (InfoPipe refused psc-authd, or any other error it answered): Errc::config.
//
// Synchronous calls on a connection of its own, opened on first use: psc-authd calls it from its
// lookup thread, pscctl directly.
#pragma once

#include "config.hpp"
#include "directory.hpp"
#include "result.hpp"

#include <string>
#include <vector>

struct sd_bus;

namespace psc {

// The system bus: DBUS_SYSTEM_BUS_ADDRESS when set (read with getenv(), as the tests' clients
// need under setpriv --euid), else sd_bus_open_system(). A negative errno on failure.
[[nodiscard]] int open_system_bus(sd_bus** out);

class SssdDirectory final : public DirectorySearch {
public:
    explicit SssdDirectory(SssdConfig cfg);
    ~SssdDirectory() override;
    SssdDirectory(const SssdDirectory&) = delete;
    SssdDirectory& operator=(const SssdDirectory&) = delete;

    [[nodiscard]] Result<std::vector<DirectoryEntry>>
    account_entries(const std::string& user) override;
    [[nodiscard]] Result<std::vector<DirectoryEntry>>
    idnat_entries(const std::string& idnat) override;
    [[nodiscard]] std::string idnat_attribute() const override { return cfg_.idnat_attribute; }
    [[nodiscard]] std::string where() const override;

    static constexpr unsigned kMaxEntries = 3; // "more than one" is all the rule needs
    static constexpr std::size_t kMaxValues = 3;

private:
    [[nodiscard]] Status open();
    void close() noexcept;
    [[nodiscard]] Result<DirectoryEntry> entry_at(const std::string& path);
    [[nodiscard]] Result<std::string> get_name(const std::string& path);
    [[nodiscard]] Result<std::vector<std::string>> get_idnats(const std::string& path);

    SssdConfig cfg_;
    sd_bus* bus_ = nullptr;
};

} // namespace psc
