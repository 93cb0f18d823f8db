// SPDX-License-Identifier: LGPL-2.1-or-later
// Map-file parsing and the mapping decision on arbitrary input. The input is split at the first
// NUL: before it a users.map, after it "idnat requested_user template alias...". Invariant checked:
// a successful decision is always for the requested user, never another account.
#include "mapping.hpp"
#include "strutil.hpp"

#include <cstddef>
#include <cstdint>

namespace {

class AllUsersExist final : public psc::UserDb {
public:
    psc::Result<std::optional<psc::LocalUser>> lookup(const std::string& name) const override {
        // Deterministic uids; some below 1000 so the system-account rule is exercised.
        uid_t uid = 0;
        for (char c : name)
            uid = uid * 31 + static_cast<unsigned char>(c);
        return std::optional<psc::LocalUser>{psc::LocalUser{name, uid % 3000}};
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = in.find('\0');
    const std::string_view map_text = in.substr(0, nul);
    const std::string_view rest = nul == std::string_view::npos ? "" : in.substr(nul + 1);

    auto map = psc::UserMap::parse(map_text, "fuzz.map");
    const auto words = psc::split_ws(rest);
    if (words.size() < 2)
        return 0;
    psc::PscIdentity id;
    id.idnat = words[0];
    id.exercices = {{"10", "C"}, {"60", "E"}};
    psc::MappingPolicy policy;
    if (words.size() > 2)
        policy.username_template = words[2];
    for (std::size_t i = 3; i < words.size(); ++i)
        id.aliases.push_back(words[i]);
    policy.deny_categories = {"E"};
    AllUsersExist users;
    auto d = psc::decide(id, words[1], map.ok() ? &map.value() : nullptr, policy, users);
    if (d.ok() && d->user.name != words[1])
        __builtin_trap();
    return 0;
}
