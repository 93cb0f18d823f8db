// SPDX-License-Identifier: LGPL-2.1-or-later
#include "directory.hpp"

#include "strutil.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LDAP_DEPRECATED 0
#include <ldap.h>

namespace psc {

std::string ldap_filter_escape(std::string_view value) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(value.size());
    for (const char ch : value) {
        const auto b = static_cast<unsigned char>(ch);
        if (b < 0x20 || b >= 0x7f || ch == '*' || ch == '(' || ch == ')' || ch == '\\') {
            out += '\\';
            out += kHex[b >> 4];
            out += kHex[b & 0xf];
        } else {
            out += ch;
        }
    }
    return out;
}

namespace {

std::string replace_all(std::string s, std::string_view what, std::string_view with) {
    for (std::size_t at = s.find(what); at != std::string::npos;
         at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
    return s;
}

// A directory value psc-login will carry as an idNat (CIBA's login_hint, logs): printable ASCII.
bool plausible_idnat(std::string_view v) {
    return !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char ch) {
               const auto b = static_cast<unsigned char>(ch);
               return b > 0x20 && b < 0x7f;
           });
}

Error ambiguous(std::string message) {
    return make_error(Errc::denied, "directory_ambiguous", std::move(message));
}

} // namespace

std::string ldap_idnat_filter(const LdapConfig& cfg, std::string_view idnat) {
    return replace_all(cfg.effective_filter(), "{idnat}", ldap_filter_escape(idnat));
}

std::string ldap_user_filter(const LdapConfig& cfg, std::string_view user) {
    return "(&(" + cfg.user_attribute + "=" + ldap_filter_escape(user) + ")" +
           replace_all(cfg.effective_filter(), "{idnat}", "*") + ")";
}

Result<DirectoryMapping> directory_account_idnat(DirectorySearch& dir, const std::string& user) {
    DirectoryMapping out;
    auto entries = dir.account_entries(user);
    if (!entries)
        return std::move(entries).error();
    // LDAP matching is usually case-insensitive: only an entry naming exactly this account counts.
    std::vector<DirectoryEntry> mine;
    for (auto& e : *entries)
        if (std::find(e.users.begin(), e.users.end(), user) != e.users.end())
            mine.push_back(std::move(e));
    if (mine.empty())
        return out;
    if (mine.size() > 1)
        return ambiguous("several directory entries name the account " + user + " (" +
                         strip_control(mine[0].dn) + ", " + strip_control(mine[1].dn) +
                         "): fix the directory");
    DirectoryEntry& entry = mine.front();
    if (entry.idnats.empty())
        return out; // the bind account may not read the attribute: not mapped
    if (entry.idnats.size() > 1)
        return ambiguous("the directory entry " + strip_control(entry.dn) + " holds " +
                         std::to_string(entry.idnats.size()) + " values of " +
                         dir.idnat_attribute() + ": an account has one idNat");
    const std::string& idnat = entry.idnats.front();
    if (!plausible_idnat(idnat))
        return make_error(Errc::config, "directory_value_invalid",
                          "the " + dir.idnat_attribute() + " of " + strip_control(entry.dn) +
                              " is not an idNat (printable ASCII, at most 64 characters)");
    // The idNat must point back at this entry alone: two accounts sharing one identity is a
    // directory error that would let one person into someone else's account.
    auto holders = dir.idnat_entries(idnat);
    if (!holders)
        return std::move(holders).error();
    if (holders->size() != 1 || holders->front().dn != entry.dn)
        return ambiguous("the idNat " + idnat + " of the account " + user + " is held by " +
                         std::to_string(holders->size()) +
                         " directory entries: an idNat must name one account");
    out.idnat = idnat;
    out.dn = entry.dn;
    return out;
}

Result<std::optional<Secret>> read_ldap_bind_password(const LdapConfig& cfg,
                                                      uid_t trusted_owner) {
    if (cfg.bind_password_file.empty())
        return std::optional<Secret>{};
    auto s = read_config_secret(cfg.bind_password_file, trusted_owner);
    if (!s)
        return std::move(s).error();
    return std::optional<Secret>(std::move(*s));
}

// ---------------------------------------------------------------------------------------------
// libldap

struct LdapDirectory::Handle {
    LDAP* ld = nullptr;
    ~Handle() {
        if (ld != nullptr)
            ldap_unbind_ext_s(ld, nullptr, nullptr);
    }
};

namespace {

constexpr int kSearchLimit = 2; // "more than one" is all the rule needs

timeval to_timeval(Seconds s) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(s.count());
    return tv;
}

std::string diagnostic(LDAP* ld, int rc) {
    std::string text = ldap_err2string(rc);
    char* msg = nullptr;
    if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS &&
        msg != nullptr) {
        if (*msg != '\0')
            text += " (" + strip_control(msg) + ")";
        ldap_memfree(msg);
    }
    return text;
}

bool is_unreachable(int rc) {
    return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_UNAVAILABLE ||
           rc == LDAP_BUSY || rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED;
}

bool mentions_tls(const std::string& text) {
    for (std::string_view word : {"certificate", "TLS", "tls", "handshake", "SSL"})
        if (text.find(word) != std::string::npos)
            return true;
    return false;
}

Error unreachable(const std::string& uri, int rc, const std::string& why) {
    if (rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED)
        return make_error(Errc::unavailable, "directory_timeout",
                          "the directory " + uri + " did not answer in time: " + why);
    return make_error(Errc::unavailable, "directory_unavailable",
                      "cannot reach the directory " + uri + ": " + why);
}

std::vector<std::string> values_of(LDAP* ld, LDAPMessage* entry, const std::string& attr) {
    std::vector<std::string> out;
    berval** vals = ldap_get_values_len(ld, entry, attr.c_str());
    if (vals == nullptr)
        return out;
    for (int i = 0; vals[i] != nullptr; ++i)
        out.emplace_back(vals[i]->bv_val, vals[i]->bv_len);
    ldap_value_free_len(vals);
    return out;
}

const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

bool tcp_connects(const sockaddr* addr, socklen_t len, int timeout_ms) {
    const int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = ::connect(fd, addr, len) == 0;
    if (!ok && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int err = 0;
        socklen_t l = sizeof err;
        ok = ::poll(&p, 1, timeout_ms) == 1 &&
             ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0;
    }
    ::close(fd);
    return ok;
}

// libldap reports an ldaps:// certificate it could not verify as "Can't contact LDAP server",
// like a server that is down. A server that accepts TCP connections is up: the TLS session is
// what failed, which is the administrator's to fix (ldap_ca_file, the name), not an outage.
bool accepts_tcp(const std::string& uri, Seconds timeout) {
    LDAPURLDesc* lud = nullptr;
    if (ldap_url_parse(uri.c_str(), &lud) != LDAP_URL_SUCCESS || lud == nullptr)
        return false;
    const std::string host = lud->lud_host != nullptr ? lud->lud_host : "";
    const int port = lud->lud_port != 0 ? lud->lud_port : 636;
    ldap_free_urldesc(lud);
    const int ms = static_cast<int>(timeout.count() * 1000);
    sockaddr_in v4{};
    sockaddr_in6 v6{};
    if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(static_cast<std::uint16_t>(port));
        return tcp_connects(reinterpret_cast<const sockaddr*>(&v4), sizeof v4, ms);
    }
    if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(static_cast<std::uint16_t>(port));
        return tcp_connects(reinterpret_cast<const sockaddr*>(&v6), sizeof v6, ms);
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (host.empty() || ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0)
        return false;
    bool ok = false;
    for (const addrinfo* a = res; a != nullptr && !ok; a = a->ai_next)
        ok = tcp_connects(a->ai_addr, a->ai_addrlen, ms);
    ::freeaddrinfo(res);
    return ok;
}

} // namespace

LdapDirectory::LdapDirectory(LdapConfig cfg, std::optional<Secret> bind_password)
    : LdapSearch(std::move(cfg)), password_(std::move(bind_password)) {}

LdapDirectory::~LdapDirectory() = default;

void LdapDirectory::close() noexcept {
    handle_.reset();
    connected_uri_.clear();
}

std::string LdapDirectory::where() const {
    const std::string& uri = connected_uri_.empty()
                                 ? (cfg_.uris.empty() ? std::string("-") : cfg_.uris.front())
                                 : connected_uri_;
    return uri + " (" + cfg_.base + ")";
}

Status LdapDirectory::open_one(const std::string& uri) {
    auto h = std::make_unique<Handle>();
    int rc = ldap_initialize(&h->ld, uri.c_str());
    if (rc != LDAP_SUCCESS || h->ld == nullptr)
        return make_error(Errc::config, "directory_search_failed",
                          "ldap_uri " + uri + ": " + ldap_err2string(rc));
    LDAP* ld = h->ld;
    const int v3 = LDAP_VERSION3;
    const timeval tv = to_timeval(cfg_.timeout);
    const int demand = LDAP_OPT_X_TLS_DEMAND;
    const int is_server = 0;
    const std::string ca = cfg_.ca_file.empty()
                               ? (::access(kSystemCaFile, R_OK) == 0 ? kSystemCaFile : "")
                               : cfg_.ca_file;
    bool ok = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) == LDAP_OPT_SUCCESS &&
              ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) == LDAP_OPT_SUCCESS &&
              ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) == LDAP_OPT_SUCCESS &&
              ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) == LDAP_OPT_SUCCESS &&
              ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) == LDAP_OPT_SUCCESS;
    if (ok && !ca.empty())
        ok = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca.c_str()) == LDAP_OPT_SUCCESS;
    if (ok) // a TLS context of this handle's own, with the settings above
        ok = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) == LDAP_OPT_SUCCESS;
    if (!ok)
        return make_error(Errc::config, "directory_tls",
                          "ldap_uri " + uri + ": cannot set up TLS (ldap_ca_file \"" + ca + "\")");

    if (uri.rfind("ldap://", 0) == 0) {
        rc = ldap_start_tls_s(ld, nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
            const std::string why = diagnostic(ld, rc);
            if ((rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT) && !mentions_tls(why))
                return unreachable(uri, rc, why);
            return make_error(Errc::config, "directory_tls",
                              "StartTLS with " + uri + " failed: " + why +
                                  " (check ldap_ca_file and the server's certificate name)");
        }
    } else {
        rc = ldap_connect(ld);
        if (rc != LDAP_SUCCESS) {
            const std::string why = diagnostic(ld, rc);
            if (mentions_tls(why) ||
                (uri.rfind("ldaps://", 0) == 0 && accepts_tcp(uri, cfg_.timeout)))
                return make_error(Errc::config, "directory_tls",
                                  "TLS with " + uri + " failed: " + why +
                                      " (check ldap_ca_file and the server's certificate name)");
            return unreachable(uri, rc, why);
        }
    }
    if (password_) {
        berval cred{};
        cred.bv_val = const_cast<char*>(password_->c_str());
        cred.bv_len = password_->size();
        rc = ldap_sasl_bind_s(ld, cfg_.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr,
                              nullptr);
        if (rc != LDAP_SUCCESS) {
            const std::string why = diagnostic(ld, rc);
            if (is_unreachable(rc))
                return unreachable(uri, rc, why);
            return make_error(Errc::config, "directory_bind_refused",
                              "the directory " + uri + " refused the bind as " +
                                  strip_control(cfg_.bind_dn) + ": " + why +
                                  " (check ldap_bind_dn and ldap_bind_password_file)");
        }
    }
    handle_ = std::move(h);
    connected_uri_ = uri;
    return {};
}

Result<std::string> LdapDirectory::connect() {
    if (handle_)
        return connected_uri_;
    std::optional<Error> first_unreachable, other;
    for (const auto& uri : cfg_.uris) {
        auto st = open_one(uri);
        if (st)
            return connected_uri_;
        Error e = std::move(st).error();
        if (e.code == Errc::unavailable) {
            if (!first_unreachable)
                first_unreachable = std::move(e);
        } else if (!other) {
            other = std::move(e);
        }
    }
    // Every server failed: a server that answered wrongly is the one to fix.
    if (other)
        return *other;
    if (first_unreachable)
        return *first_unreachable;
    return make_error(Errc::config, "directory_search_failed", "no ldap_uri configured");
}

Result<std::vector<DirectoryEntry>> LdapDirectory::search(const std::string& filter) {
    const bool reused = static_cast<bool>(handle_);
    auto r = search_once(filter);
    // A kept connection the server has since closed: once more on a fresh one.
    if (!r && reused && r.error().code == Errc::unavailable &&
        r.error().reason == "directory_unavailable")
        r = search_once(filter);
    return r;
}

Result<std::vector<DirectoryEntry>> LdapDirectory::search_once(const std::string& filter) {
    auto uri = connect();
    if (!uri)
        return std::move(uri).error();
    LDAP* ld = handle_->ld;
    std::string attrs_store[2] = {cfg_.user_attribute, cfg_.idnat_attribute};
    char* attrs[3] = {attrs_store[0].data(), attrs_store[1].data(), nullptr};
    timeval tv = to_timeval(cfg_.timeout);
    LDAPMessage* res = nullptr;
    const int rc = ldap_search_ext_s(ld, cfg_.base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(),
                                     attrs, 0, nullptr, nullptr, &tv, kSearchLimit + 1, &res);
    struct FreeMsg {
        LDAPMessage* m;
        ~FreeMsg() {
            if (m != nullptr)
                ldap_msgfree(m);
        }
    } guard{res};
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
        const std::string why = diagnostic(ld, rc);
        const std::string at = *uri;
        if (is_unreachable(rc)) {
            close();
            return unreachable(at, rc, why);
        }
        return make_error(Errc::config, "directory_search_failed",
                          "the directory " + at + " refused the search " + strip_control(filter) +
                              " under " + strip_control(cfg_.base) + ": " + why);
    }
    std::vector<DirectoryEntry> out;
    for (LDAPMessage* e = ldap_first_entry(ld, res); e != nullptr; e = ldap_next_entry(ld, e)) {
        DirectoryEntry entry;
        if (char* dn = ldap_get_dn(ld, e)) {
            entry.dn = dn;
            ldap_memfree(dn);
        }
        entry.users = values_of(ld, e, cfg_.user_attribute);
        entry.idnats = values_of(ld, e, cfg_.idnat_attribute);
        out.push_back(std::move(entry));
    }
    if (rc == LDAP_SIZELIMIT_EXCEEDED && out.size() <= 1)
        return make_error(Errc::config, "directory_search_failed",
                          "the directory " + *uri + " stops searches after " +
                              std::to_string(out.size()) +
                              " entry: psc-login needs at least 2 to see an ambiguous mapping "
                              "(raise the bind account's size limit)");
    return out;
}

} // namespace psc
