// SPDX-License-Identifier: LGPL-2.1-or-later
// source = ldap without a server (directory/directory.hpp). The first byte picks the mode:
//   even: the rest is a value; its RFC 4515 escape holds only printable ASCII, no '*', '(' or ')',
//         every '\' starts a two-digit hex escape, and unescaping gives the value back — so no
//         value can change a filter's structure (the filters built from it are balanced).
//   odd:  the rest is two directories' worth of entries (for the account search, then for the
//         idNat search), split at the first NUL; one entry per line, "dn|user,user|idnat,idnat".
//         The account is "claire". Invariants: a mapping exists only when exactly one entry names
//         claire byte for byte, with exactly one idNat, and the idNat search returned that entry
//         alone; an ambiguous directory is always refused as denied, never mapped.
#include "directory.hpp"
#include "strutil.hpp"

#include <cstddef>
#include <cstdint>
#include <cctype>
#include <cstdlib>

using namespace psc;

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t at = 0;
    for (;;) {
        const std::size_t next = s.find(sep, at);
        out.emplace_back(s.substr(at, next == std::string_view::npos ? s.npos : next - at));
        if (next == std::string_view::npos)
            return out;
        at = next + 1;
    }
}

std::vector<DirectoryEntry> parse_entries(std::string_view text) {
    std::vector<DirectoryEntry> out;
    for (const auto& line : split(text, '\n')) {
        if (line.empty() || out.size() >= 8)
            continue;
        auto f = split(line, '|');
        DirectoryEntry e;
        e.dn = f[0];
        if (f.size() > 1 && !f[1].empty())
            e.users = split(f[1], ',');
        if (f.size() > 2 && !f[2].empty())
            e.idnats = split(f[2], ',');
        out.push_back(std::move(e));
    }
    return out;
}

class Scripted final : public DirectorySearch {
public:
    std::vector<DirectoryEntry> for_user, for_idnat;
    int calls = 0;
    Result<std::vector<DirectoryEntry>> account_entries(const std::string&) override {
        ++calls;
        return for_user;
    }
    Result<std::vector<DirectoryEntry>> idnat_entries(const std::string&) override {
        ++calls;
        return for_idnat;
    }
    std::string idnat_attribute() const override { return "employeeNumber"; }
    std::string where() const override { return "fuzz"; }
};

void check_escape(std::string_view value) {
    const std::string esc = ldap_filter_escape(value);
    std::string back;
    for (std::size_t i = 0; i < esc.size(); ++i) {
        const auto b = static_cast<unsigned char>(esc[i]);
        if (b < 0x20 || b >= 0x7f || esc[i] == '*' || esc[i] == '(' || esc[i] == ')')
            std::abort();
        if (esc[i] == '\\') {
            if (i + 2 >= esc.size())
                std::abort();
            const std::string hex = esc.substr(i + 1, 2);
            if (hex.size() != 2 || !std::isxdigit(static_cast<unsigned char>(hex[0])) ||
                !std::isxdigit(static_cast<unsigned char>(hex[1])))
                std::abort();
            back += static_cast<char>(std::strtol(hex.c_str(), nullptr, 16));
            i += 2;
        } else {
            back += esc[i];
        }
    }
    if (back != value)
        std::abort();
    LdapConfig c;
    c.idnat_attribute = "employeeNumber";
    const std::string f = ldap_idnat_filter(c, value), u = ldap_user_filter(c, value);
    for (const std::string* s : {&f, &u}) {
        int depth = 0;
        for (char ch : *s) {
            depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
            if (depth < 0)
                std::abort();
        }
        if (depth != 0)
            std::abort();
    }
}

void check_rule(std::string_view text) {
    const std::size_t nul = text.find('\0');
    Scripted s;
    s.for_user = parse_entries(text.substr(0, nul));
    s.for_idnat = nul == std::string_view::npos ? std::vector<DirectoryEntry>{}
                                                : parse_entries(text.substr(nul + 1));
    auto r = directory_account_idnat(s, "claire");
    std::vector<const DirectoryEntry*> mine;
    for (const auto& e : s.for_user)
        for (const auto& u : e.users)
            if (u == "claire") {
                mine.push_back(&e);
                break;
            }
    if (!r) {
        const auto& e = r.error();
        if (e.reason == "directory_ambiguous" && e.code != Errc::denied)
            std::abort();
        if (e.reason != "directory_ambiguous" && e.reason != "directory_value_invalid")
            std::abort(); // the scripted search never fails
        return;
    }
    if (!r->idnat) {
        // Unmapped: no entry names claire, or its entry holds no idNat.
        if (mine.size() > 1 || (mine.size() == 1 && !mine[0]->idnats.empty()))
            std::abort();
        return;
    }
    if (mine.size() != 1 || mine[0]->idnats.size() != 1 || mine[0]->idnats[0] != *r->idnat ||
        s.for_idnat.size() != 1 || s.for_idnat[0].dn != mine[0]->dn || r->dn != mine[0]->dn)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1) == 0)
        check_escape(rest);
    else
        check_rule(rest);
    return 0;
}
