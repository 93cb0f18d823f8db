// SPDX-License-Identifier: LGPL-2.1-or-later
#include "mapping.hpp"

#include "strutil.hpp"
#include "username_template.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <pwd.h>
#include <unistd.h>

namespace psc {
namespace {

constexpr std::size_t kMaxIdnat = 64;
constexpr std::size_t kMaxUsername = 32;

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

Error map_error(std::string reason, std::string_view path, std::size_t line, std::string why) {
    return make_error(Errc::config, std::move(reason),
                      std::string(path) + ":" + std::to_string(line) + ": " + why);
}

// Which of the identity's identifiers maps to `requested`, and how.
struct Match {
    std::string idnat;
    std::string how;
};

std::optional<Match> find_match(const PscIdentity& id, std::string_view requested,
                                const UserMap* map, const MappingPolicy& policy, bool& any) {
    std::optional<Match> found;
    auto consider = [&](const std::string& user, const std::string& idnat, const char* how) {
        any = true;
        if (!found && user == requested)
            found = Match{idnat, how};
    };
    if (map) {
        for (const auto& u : map->accounts_for(id.idnat))
            consider(u, id.idnat, "map");
        for (const auto& alias : id.aliases)
            if (alias != id.idnat && valid_idnat(alias))
                for (const auto& u : map->accounts_for(alias))
                    consider(u, alias, "alias");
    }
    if (!policy.username_template.empty()) {
        // A template that cannot produce a valid name for this idNat maps it nowhere.
        if (auto name = expand_username_template(policy.username_template, id.idnat); name.ok())
            consider(*name, id.idnat, "template");
    }
    return found;
}

// Authorization from UserInfo (SPEC §4). Only exercices whose profession is allowed count, and
// among them those in a denied category are dropped; nothing left → denied. Without
// allow_professions an identity with no exercice at all (e.g. a structure card) is not refused by
// this rule, but deny_categories still removes students.
Result<std::string> check_professions(const PscIdentity& id, const MappingPolicy& policy) {
    bool any_allowed_profession = false;
    for (const auto& ex : id.exercices) {
        if (!policy.allow_professions.empty() && !contains(policy.allow_professions, ex.profession))
            continue;
        any_allowed_profession = true;
        if (!contains(policy.deny_categories, ex.category))
            return ex.profession;
    }
    if (any_allowed_profession)
        return make_error(Errc::denied, "category_denied",
                          "every qualifying practice is in a denied category");
    if (!policy.allow_professions.empty())
        return make_error(Errc::denied, "profession_not_allowed",
                          "no practice with an allowed profession code");
    return std::string();
}

} // namespace

bool valid_idnat(std::string_view s) noexcept {
    if (s.empty() || s.size() > kMaxIdnat)
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '/' || c == '.' || c == '_' || c == '-';
    });
}

bool valid_local_username(std::string_view s) noexcept {
    // Existing local accounts may be less strict than generated ones (upper case, dots), but never
    // empty, over-long, starting with '-', or holding characters NSS backends treat specially.
    if (s.empty() || s.size() > kMaxUsername || s.front() == '-' || s == "." || s == "..")
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    });
}

Result<UserMap> UserMap::parse(std::string_view text, std::string_view path) {
    UserMap map;
    std::size_t lineno = 0;
    while (!text.empty()) {
        ++lineno;
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (const std::size_t hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        for (char c : line)
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r')
                return map_error("map_syntax", path, lineno, "control character");
        const auto fields = split_ws(line);
        if (fields.empty())
            continue;
        if (fields.size() < 2)
            return map_error("map_syntax", path, lineno,
                             "expected \"IDNAT localuser\", found only \"" + fields[0] + "\"");
        if (!valid_idnat(fields[0]))
            return map_error("map_idnat", path, lineno,
                             "\"" + strip_control(fields[0]) + "\" is not a valid idNat");
        for (std::size_t i = 1; i < fields.size(); ++i) {
            const std::string& user = fields[i];
            if (!valid_local_username(user))
                return map_error("map_user", path, lineno,
                                 "\"" + strip_control(user) + "\" is not a valid user name");
            auto same_user = std::find_if(map.entries_.begin(), map.entries_.end(),
                                          [&](const Entry& e) { return e.user == user; });
            if (same_user != map.entries_.end()) {
                if (same_user->idnat == fields[0])
                    continue; // repeated line: harmless
                return map_error("map_conflict", path, lineno,
                                 "user \"" + user + "\" is already mapped to another idNat (" +
                                     same_user->idnat + "); a local account has at most one");
            }
            map.entries_.push_back(Entry{fields[0], user});
        }
    }
    return map;
}

std::vector<std::string> UserMap::accounts_for(std::string_view idnat) const {
    std::vector<std::string> out;
    for (const auto& e : entries_)
        if (e.idnat == idnat)
            out.push_back(e.user);
    return out;
}

std::optional<std::string> UserMap::idnat_for(std::string_view user) const {
    for (const auto& e : entries_) // parse() refused a second idNat for one account
        if (e.user == user)
            return e.idnat;
    return std::nullopt;
}

Result<std::optional<LocalUser>> NssUserDb::lookup(const std::string& name) const {
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
    for (;;) {
        struct passwd pw {};
        struct passwd* result = nullptr;
        const int r = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result);
        if (r == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (r != 0 && r != ENOENT && r != ESRCH)
            return make_error(Errc::unavailable, "nss_lookup",
                              "looking up user \"" + name + "\": " + std::strerror(r));
        if (!result)
            return std::optional<LocalUser>{};
        return std::optional<LocalUser>{LocalUser{pw.pw_name, pw.pw_uid}};
    }
}

Result<Decision> decide(const PscIdentity& id, std::string_view requested_user, const UserMap* map,
                        const MappingPolicy& policy, const UserDb& users) {
    if (!valid_idnat(id.idnat))
        return make_error(Errc::invalid, "idnat_invalid",
                          "the identity claim is not a valid idNat");
    if (!valid_local_username(requested_user))
        return make_error(Errc::invalid, "requested_user_invalid", "invalid PAM user name");

    bool maps_somewhere = false;
    const auto match = find_match(id, requested_user, map, policy, maps_somewhere);
    if (!maps_somewhere)
        return make_error(Errc::unknown_user, "identity_unmapped",
                          "idNat " + id.idnat + " is not mapped to any local account");
    if (!match)
        return make_error(Errc::denied, "mapping_other_user",
                          "idNat " + id.idnat + " is not mapped to user \"" +
                              std::string(requested_user) + "\"");

    if (!policy.allow_idnat.empty() && !contains(policy.allow_idnat, match->idnat))
        return make_error(Errc::denied, "idnat_not_allowed", "idNat not in allow_idnat");

    auto user = users.lookup(std::string(requested_user));
    if (!user)
        return std::move(user).error();
    if (!user->has_value())
        return make_error(Errc::unknown_user, "user_missing",
                          "no local account \"" + std::string(requested_user) + "\"");
    const LocalUser& lu = **user;
    if ((lu.uid == 0 || lu.uid < policy.min_uid) && !contains(policy.allow_system_users, lu.name))
        return make_error(Errc::denied, "system_user",
                          "\"" + lu.name + "\" is a system account (uid " + std::to_string(lu.uid) +
                              " < min_uid " + std::to_string(policy.min_uid) +
                              ") and not in allow_system_users");

    if (!policy.require_auth_mode.empty() && id.auth_mode != policy.require_auth_mode)
        return make_error(Errc::denied, "auth_mode_required",
                          "authentication by " + policy.require_auth_mode + " is required");

    auto profession = check_professions(id, policy);
    if (!profession)
        return std::move(profession).error();

    return Decision{lu, match->idnat, match->how, std::move(*profession)};
}

} // namespace psc
