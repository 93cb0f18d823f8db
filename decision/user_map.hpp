// SPDX-License-Identifier: LGPL-2.1-or-later
// users.map(5): `IDNAT  localuser [localuser...]` lines, `#` comments (design §4). One idNat may be
// allowed several local accounts; a local account has at most one idNat — so every mapped account
// names exactly one person, which is what the decision compares the authenticated identity with.
#pragma once

#include "result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// 1–64 characters of [A-Za-z0-9/._-]: RPPS `8…`, ADELI `0…`, structure `5<SIRET>/<id>`,
// Corsican FINESS `32A…/…`, sandbox `ANS…`.
[[nodiscard]] bool valid_idnat(std::string_view idnat) noexcept;
// Existing local accounts may be less strict than generated ones (upper case, dots), but never
// empty, over 32 characters, starting with '-', or holding characters NSS backends treat specially.
[[nodiscard]] bool valid_local_username(std::string_view name) noexcept;

class UserMap {
public:
    // Parses the whole file; any bad line rejects the whole map (Errc::config, reasons
    // map_syntax, map_idnat, map_user, map_conflict), with "path:line: why" in the message.
    [[nodiscard]] static Result<UserMap> parse(std::string_view text, std::string_view path);

    // Local accounts this idNat may use (empty when unmapped).
    [[nodiscard]] std::vector<std::string> accounts_for(std::string_view idnat) const;
    // The reverse: the idNat mapped to a local account, nullopt when none.
    [[nodiscard]] std::optional<std::string> idnat_for(std::string_view user) const;
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    // Every local account named, in file order (pscctl check-config looks each up).
    [[nodiscard]] std::vector<std::string> users() const;
    // Lines that repeat an earlier mapping word for word (harmless, but worth a warning).
    [[nodiscard]] const std::vector<std::string>& duplicates() const noexcept { return dups_; }

private:
    struct Entry {
        std::string idnat;
        std::string user;
    };
    std::vector<Entry> entries_; // small (hundreds of lines): linear scans keep it obviously right
    std::vector<std::string> dups_;
};

} // namespace psc
