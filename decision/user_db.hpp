// SPDX-License-Identifier: LGPL-2.1-or-later
// Local account lookup, behind an interface so the decision's callers (psc-authd, pscctl) use NSS
// and tests use a table. The decision itself (decision.hpp) never calls it: lookups are facts the
// caller passes in.
#pragma once

#include "result.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace psc {

struct LocalUser {
    std::string name;
    uid_t uid = 0;
};

class UserDb {
public:
    virtual ~UserDb() = default;
    // nullopt when the account does not exist; an error when the lookup itself failed.
    [[nodiscard]] virtual Result<std::optional<LocalUser>>
    lookup(const std::string& name) const = 0;
};

// getpwnam_r. A failed lookup (not "no such user") is Errc::io "nss_lookup": a local fault,
// never "unavailable" (which would open the break-glass line).
class NssUserDb final : public UserDb {
public:
    [[nodiscard]] Result<std::optional<LocalUser>> lookup(const std::string& name) const override;
};

} // namespace psc
