// SPDX-License-Identifier: LGPL-2.1-or-later
// [mapping] source = ldap (design §4): the account ↔ idNat mapping read from the site's directory.
//
// The one rule: an account is managed when exactly one directory entry names it (its
// ldap_user_attribute equals the PAM user, byte for byte) and that entry holds exactly one idNat
// that no other entry holds. Zero entries: the account is not mapped (Errc::unknown_user later,
// so pam_unix serves it). Anything ambiguous is refused (directory_ambiguous), never "the first".
// The directory unreachable is Errc::unavailable; every other directory error (bind refused,
// base missing, TLS not verified) is the administrator's to fix: Errc::config.
//
// The searches run through DirectorySearch so the rule is tested without a server; LdapDirectory
// is the libldap implementation (synchronous, bounded by ldap_timeout: psc-authd calls it from its
// lookup thread, pscctl directly).
#pragma once

#include "config.hpp"
#include "result.hpp"
#include "secret.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// One entry as a search returns it: the two attributes asked for.
struct DirectoryEntry {
    std::string dn;
    std::vector<std::string> users;  // ldap_user_attribute values
    std::vector<std::string> idnats; // ldap_idnat_attribute values
};

// The two questions the rule asks a directory. Each answer holds at most a few entries (three:
// the rule only needs to know "more than one"). Reasons: see LdapDirectory and SssdDirectory.
class DirectorySearch {
public:
    virtual ~DirectorySearch() = default;
    // The entries that may name this account (the rule keeps those naming it byte for byte).
    [[nodiscard]] virtual Result<std::vector<DirectoryEntry>>
    account_entries(const std::string& user) = 0;
    // The entries holding this idNat.
    [[nodiscard]] virtual Result<std::vector<DirectoryEntry>>
    idnat_entries(const std::string& idnat) = 0;
    // The idNat attribute's name, for messages.
    [[nodiscard]] virtual std::string idnat_attribute() const = 0;
    // Where the answer came from, for messages ("ldaps://dir1.example (ou=people,dc=...)").
    [[nodiscard]] virtual std::string where() const = 0;
};

// RFC 4515 §3: a value inside a filter. `*`, `(`, `)`, `\`, NUL and every byte outside printable
// ASCII become \XX, so a value can never change the filter's structure.
[[nodiscard]] std::string ldap_filter_escape(std::string_view value);
// The entries holding this idNat: ldap_filter with {idnat} replaced by the escaped value.
[[nodiscard]] std::string ldap_idnat_filter(const LdapConfig& cfg, std::string_view idnat);
// The entry of one account: (&(<user_attribute>=<user>)<ldap_filter with {idnat} as *>).
[[nodiscard]] std::string ldap_user_filter(const LdapConfig& cfg, std::string_view user);

// An LDAP directory: both questions are searches with a filter (ldap_user_filter,
// ldap_idnat_filter) under ldap_base.
class LdapSearch : public DirectorySearch {
public:
    explicit LdapSearch(LdapConfig cfg) : cfg_(std::move(cfg)) {}
    [[nodiscard]] virtual Result<std::vector<DirectoryEntry>>
    search(const std::string& filter) = 0;

    [[nodiscard]] Result<std::vector<DirectoryEntry>>
    account_entries(const std::string& user) final {
        return search(ldap_user_filter(cfg_, user));
    }
    [[nodiscard]] Result<std::vector<DirectoryEntry>>
    idnat_entries(const std::string& idnat) final {
        return search(ldap_idnat_filter(cfg_, idnat));
    }
    [[nodiscard]] std::string idnat_attribute() const final { return cfg_.idnat_attribute; }

protected:
    LdapConfig cfg_;
};

struct DirectoryMapping {
    std::optional<std::string> idnat; // nullopt: the directory does not map this account
    std::string dn;                   // the entry that did (or "")
};

// The account's idNat: its entry (exactly one), its idNat value (exactly one), and no other entry
// holding that idNat. Reasons: directory_ambiguous (denied), directory_value_invalid (config),
// and the search's.
[[nodiscard]] Result<DirectoryMapping> directory_account_idnat(DirectorySearch& dir,
                                                               const std::string& user);

// libldap, one connection kept open between searches (reopened once when the server dropped
// it). ldap:// always runs StartTLS, ldaps:// is TLS from the start, ldapi:// is the local
// socket; certificates are always verified (ldap_ca_file, else the system's trust store) with the
// host name checked. Reasons: directory_unavailable, directory_timeout (Errc::unavailable: no
// server answered in ldap_timeout), directory_tls, directory_bind_refused,
// directory_search_failed (Errc::config).
class LdapDirectory final : public LdapSearch {
public:
    LdapDirectory(LdapConfig cfg, std::optional<Secret> bind_password);
    ~LdapDirectory() override;
    LdapDirectory(const LdapDirectory&) = delete;
    LdapDirectory& operator=(const LdapDirectory&) = delete;

    [[nodiscard]] Result<std::vector<DirectoryEntry>> search(const std::string& filter) override;
    [[nodiscard]] std::string where() const override;
    // Connects and binds now (check-config --online); the address that answered.
    [[nodiscard]] Result<std::string> connect();

private:
    struct Handle;
    [[nodiscard]] Status open_one(const std::string& uri);
    [[nodiscard]] Result<std::vector<DirectoryEntry>> search_once(const std::string& filter);
    void close() noexcept;

    std::optional<Secret> password_;
    std::unique_ptr<Handle> handle_;
    std::string connected_uri_;
};

// The bind password file, read with the secret-file rules (root-only), first line, no newline.
[[nodiscard]] Result<std::optional<Secret>> read_ldap_bind_password(const LdapConfig& cfg,
                                                                    uid_t trusted_owner);

} // namespace psc
