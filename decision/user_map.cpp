// SPDX-License-Identifier: LGPL-2.1-or-later
#include "user_map.hpp"

#include "strutil.hpp"

#include <algorithm>

namespace psc {
namespace {

constexpr std::size_t kMaxIdnat = 64;
constexpr std::size_t kMaxUsername = 32;

Error map_error(std::string reason, std::string_view path, std::size_t line, std::string why) {
    return make_error(Errc::config, std::move(reason),
                      std::string(path) + ":" + std::to_string(line) + ": " + why);
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
                if (same_user->idnat == fields[0]) {
                    map.dups_.push_back(std::string(path) + ":" + std::to_string(lineno) +
                                        ": " + fields[0] + " " + user + " is already mapped");
                    continue;
                }
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

std::vector<std::string> UserMap::users() const {
    std::vector<std::string> out;
    for (const auto& e : entries_)
        out.push_back(e.user);
    return out;
}

} // namespace psc
