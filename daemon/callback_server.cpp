// SPDX-License-Identifier: LGPL-2.1-or-later
#include "callback_server.hpp"

#include "file_io.hpp"
#include "secret.hpp"
#include "ssl_ptr.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <list>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace psc {
namespace {

using MhdResponsePtr = Owned<MHD_Response, MHD_destroy_response>;

constexpr std::size_t kMaxCertFileBytes = 256 * 1024;
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;
// Room in MHD's per-connection pool beyond the request line and headers: the response header
// block is built there too.
constexpr std::size_t kPoolSlackBytes = 8 * 1024;
constexpr uint64_t kMaxTimerMs = 3600 * 1000;

// Per request, from the URI log callback (the raw target: MHD's access handler only gets the
// decoded path and parsed arguments) to the completion callback.
struct RequestState {
    std::string target;
    bool too_long = false;
    bool headers_seen = false; // the access handler's first call (headers only) is done
    // Page::wait, or a deferred back-channel answer (one of the two): the connection is suspended
    // until it is completed or hold_timeout; then logout_fallback is the back-channel answer.
    std::shared_ptr<DeferredPage> held;
    std::shared_ptr<DeferredBackchannel> held_logout;
    BackchannelReply logout_fallback;
    SdEventSourcePtr hold_timer;
    bool hold_expired = false;
    [[nodiscard]] bool holding() const noexcept { return held || held_logout; }
    // Who to call when the deferred answer comes (nullptr: nobody, the request stopped waiting).
    void set_waker(std::function<void()> wake) noexcept {
        if (held)
            held->on_complete(std::move(wake));
        if (held_logout)
            held_logout->on_complete(std::move(wake));
    }
    MHD_Connection* conn = nullptr;
    CallbackServer* server = nullptr;
    // A back-channel logout POST: its body, read up to max_body.
    bool post = false;
    bool body_too_large = false;
    std::size_t body_seen = 0; // bytes received, kept or not
    std::string body;
};

uint64_t monotonic_usec() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000U + static_cast<uint64_t>(ts.tv_nsec) / 1000U;
}

Status check_options(const CallbackServerOptions& o) {
    const auto bad = [](std::string msg) {
        return make_error(Errc::config, "callback_options", std::move(msg));
    };
    if (o.path.empty() || o.path.front() != '/' ||
        o.path.find_first_of("?#") != std::string::npos || o.path.size() > 1024)
        return bad("the callback path must start with '/' and have no query or fragment");
    if (o.max_request_target < o.path.size() || o.max_request_target > 64 * 1024)
        return bad("callback request size limit must be between the path length and 64 KiB");
    if (o.max_header_bytes < 1024 || o.max_header_bytes > 64 * 1024)
        return bad("callback header size limit must be between 1 KiB and 64 KiB");
    if (o.max_connections == 0 || o.max_connections > 4096)
        return bad("callback connection limit must be between 1 and 4096");
    if (o.connection_timeout.count() <= 0 || o.connection_timeout.count() > 3600)
        return bad("callback connection timeout must be between 1 s and 1 h");
    if (o.tls_cert_file.empty() != o.tls_key_file.empty())
        return bad("callback_tls_cert and callback_tls_key must be set together");
    return {};
}

union ListenSockaddr {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
};

Result<ListenSockaddr> listen_sockaddr(const CallbackServerOptions& o, bool& ipv6) {
    ListenSockaddr a{};
    ipv6 = o.listen_host.find(':') != std::string::npos;
    int r = 0;
    if (ipv6) {
        a.v6.sin6_family = AF_INET6;
        a.v6.sin6_port = htons(o.listen_port);
        r = inet_pton(AF_INET6, o.listen_host.c_str(), &a.v6.sin6_addr);
    } else {
        a.v4.sin_family = AF_INET;
        a.v4.sin_port = htons(o.listen_port);
        r = inet_pton(AF_INET, o.listen_host.c_str(), &a.v4.sin_addr);
    }
    if (r != 1)
        return make_error(Errc::config, "callback_listen",
                          "\"" + o.listen_host + "\" is not a numeric IPv4 or IPv6 address");
    return a;
}

std::string host_port(const CallbackServerOptions& o, bool ipv6, std::uint16_t port) {
    return (ipv6 ? "[" + o.listen_host + "]" : o.listen_host) + ":" + std::to_string(port);
}

// MHD only says that it failed; binding once ourselves first gives the operator the errno
// ("Address already in use"). MHD binds again right after, with the same SO_REUSEADDR.
Status probe_bind(const ListenSockaddr& a, bool ipv6, const std::string& shown) {
    UniqueFd fd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int on = 1;
    if (!fd.valid() || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        ::bind(fd.get(), &a.sa, ipv6 ? sizeof a.v6 : sizeof a.v4) != 0)
        return make_error(Errc::config, "callback_listen",
                          "cannot listen on " + shown + ": " + std::strerror(errno));
    return {};
}

struct TlsMaterial {
    std::string cert_pem;
    Secret key_pem;
};

// Checked with OpenSSL before MHD (GnuTLS) gets them, so a wrong file is named precisely.
Status check_tls_pair(const TlsMaterial& m, const CallbackServerOptions& o) {
    const auto fail = [](const char* reason, std::string msg) {
        ERR_clear_error();
        return make_error(Errc::config, reason, std::move(msg));
    };
    BioPtr cb(BIO_new_mem_buf(m.cert_pem.data(), static_cast<int>(m.cert_pem.size())));
    X509Ptr cert(cb ? PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!cert)
        return fail("callback_tls_cert", "no PEM certificate in " + o.tls_cert_file);
    BioPtr kb(BIO_new_mem_buf(m.key_pem.view().data(), static_cast<int>(m.key_pem.size())));
    EvpPkeyPtr key(kb ? PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key)
        return fail("callback_tls_key", "no unencrypted PEM private key in " + o.tls_key_file);
    if (X509_check_private_key(cert.get(), key.get()) != 1)
        return fail("callback_tls_key",
                    o.tls_key_file + " does not match the certificate " + o.tls_cert_file);
    return {};
}

Result<TlsMaterial> load_tls(const CallbackServerOptions& o) {
    FileRules cert_rules;
    cert_rules.max_bytes = kMaxCertFileBytes;
    cert_rules.refuse_group_world_writable = true;
    auto cert = read_file_checked(o.tls_cert_file, cert_rules);
    if (!cert)
        return std::move(cert).error();
    FileRules key_rules;
    key_rules.max_bytes = kMaxKeyFileBytes;
    key_rules.required_owner = static_cast<long>(::geteuid());
    key_rules.refuse_group_world_writable = true;
    key_rules.refuse_group_world_readable = true;
    auto key = read_secret_file(o.tls_key_file, key_rules);
    if (!key)
        return std::move(key).error();
    TlsMaterial m{std::move(cert->content), std::move(*key)};
    PSC_TRY(check_tls_pair(m, o));
    return m;
}

MhdResponsePtr build_response(CallbackPageKind kind, std::string_view reason = {}) {
    const std::string html = render_callback_page(kind, reason);
    MhdResponsePtr r(MHD_create_response_from_buffer(html.size(), const_cast<char*>(html.data()),
                                                     MHD_RESPMEM_MUST_COPY));
    if (!r)
        return r;
    for (const auto& [name, value] : callback_page_headers())
        if (MHD_add_response_header(r.get(), name.c_str(), value.c_str()) != MHD_YES)
            return MhdResponsePtr();
    if (kind == CallbackPageKind::method_not_allowed &&
        MHD_add_response_header(r.get(), MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)
        return MhdResponsePtr();
    return r;
}

// The address a connection comes from, as a map key ("127.0.0.1", "::1").
std::string client_address(MHD_Connection* conn) {
    const MHD_ConnectionInfo* ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return {};
    char buf[INET6_ADDRSTRLEN] = {};
    const sockaddr* sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
    return buf;
}

int connection_fd(MHD_Connection* conn) {
    const MHD_ConnectionInfo* ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

} // namespace

bool callback_path_matches(std::string_view target, std::string_view path) noexcept {
    return target.substr(0, target.find('?')) == path;
}

// Pages that never vary are built once: a flood of bogus requests costs no rendering.
struct CallbackServer::Responses {
    MhdResponsePtr received, unknown_login, not_found, method_not_allowed, too_long, internal;

    bool complete() const noexcept {
        return received && unknown_login && not_found && method_not_allowed && too_long && internal;
    }
};

// Connections still waiting for their request headers ("unfinished"), oldest first, in all and
// per client address. Each is closed when its header deadline passes, or when a newer connection
// would put its address or the whole listener over the cap (the oldest goes first). Closing is
// shutdown(2) on MHD's socket: MHD reads the EOF at its next run and closes the connection itself.
struct CallbackServer::Connections {
    struct Conn {
        MHD_Connection* conn = nullptr;
        int fd = -1;
        std::string address;
        uint64_t deadline_usec = 0;
        bool unfinished = true;
        bool evicted = false;
    };
    std::list<Conn> all;                                        // accept order
    std::unordered_set<RequestState*> held;                     // suspended, waiting for a page
    std::unordered_map<std::string, std::size_t> unfinished_by_address;
    std::size_t unfinished = 0;

    void finished(Conn& c) noexcept {
        if (!c.unfinished)
            return;
        c.unfinished = false;
        --unfinished;
        auto it = unfinished_by_address.find(c.address);
        if (it != unfinished_by_address.end() && --it->second == 0)
            unfinished_by_address.erase(it);
    }
    // Closes the oldest unfinished connection (of `address`, or of any when empty).
    bool evict_oldest(const std::string& address, std::size_t& counter) noexcept {
        for (Conn& c : all)
            if (c.unfinished && !c.evicted && (address.empty() || c.address == address)) {
                evict(c, counter);
                return true;
            }
        return false;
    }
    void evict(Conn& c, std::size_t& counter) noexcept {
        c.evicted = true;
        ++counter;
        finished(c);
        if (c.fd >= 0)
            (void)::shutdown(c.fd, SHUT_RDWR);
    }
};

struct CallbackServer::Internals {
    static void on_connection(void* cls, MHD_Connection* conn, void** socket_context,
                              MHD_ConnectionNotificationCode code) noexcept;
    static void expire_unfinished(CallbackServer& s) noexcept;
    static Connections::Conn* conn_of(MHD_Connection* conn) noexcept;
    static MHD_Result hold(CallbackServer& s, MHD_Connection* conn, RequestState& st);
    static MHD_Result answer_held(CallbackServer& s, MHD_Connection* conn, RequestState& st);
    static int on_hold_timeout(sd_event_source*, uint64_t, void* userdata) noexcept;
    static void resume(RequestState& st) noexcept;
    static void* on_uri(void* cls, const char* uri, MHD_Connection*) noexcept;
    static void on_completed(void*, MHD_Connection*, void** req_cls,
                             MHD_RequestTerminationCode) noexcept;
    static MHD_Result on_request(void* cls, MHD_Connection* conn, const char* url,
                                 const char* method, const char* version, const char* upload_data,
                                 std::size_t* upload_data_size, void** req_cls) noexcept;
    static MHD_Result answer(CallbackServer& s, MHD_Connection* conn, const RequestState& st);
    static MHD_Result answer_backchannel(CallbackServer& s, MHD_Connection* conn,
                                         RequestState& st);
    static MHD_Result send_reply(CallbackServer& s, MHD_Connection* conn,
                                 const CallbackReply& reply);
    static MHD_Result send_backchannel(CallbackServer& s, MHD_Connection* conn,
                                       const BackchannelReply& reply);
    static int on_epoll(sd_event_source*, int, uint32_t, void* userdata) noexcept;
    static int on_timer(sd_event_source*, uint64_t, void* userdata) noexcept;
    static void run(CallbackServer& s) noexcept;
    static void rearm(CallbackServer& s) noexcept;
    static Status start_mhd(CallbackServer& s, const ListenSockaddr& addr, bool ipv6,
                            const TlsMaterial* tls);
    static Status attach(CallbackServer& s, sd_event* event);
};

void* CallbackServer::Internals::on_uri(void* cls, const char* uri, MHD_Connection*) noexcept {
    const auto* s = static_cast<const CallbackServer*>(cls);
    try {
        auto st = std::make_unique<RequestState>();
        // design §9: the cap applies before anything is copied.
        const std::size_t n = ::strnlen(uri, s->options_.max_request_target + 1);
        if (n > s->options_.max_request_target)
            st->too_long = true;
        else
            st->target.assign(uri, n);
        return st.release(); // owned by MHD's req_cls until on_completed
    } catch (...) {
        return nullptr; // answered with the internal-error page
    }
}

void CallbackServer::Internals::on_completed(void* cls, MHD_Connection*, void** req_cls,
                                             MHD_RequestTerminationCode) noexcept {
    std::unique_ptr<RequestState> st(static_cast<RequestState*>(*req_cls));
    *req_cls = nullptr;
    if (st && st->holding()) {
        auto& s = *static_cast<CallbackServer*>(cls);
        st->set_waker(nullptr);
        if (s.conns_->held.erase(st.get()) != 0)
            --s.held_;
    }
}

MHD_Result CallbackServer::Internals::answer_backchannel(CallbackServer& s, MHD_Connection* conn,
                                                         RequestState& st) {
    BackchannelReply reply;
    if (st.body_too_large) {
        reply.json = R"({"error":"invalid_request","error_description":"body too large"})";
    } else {
        const char* ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_TYPE);
        reply = s.backchannel_(ct ? ct : "", st.body);
    }
    if (reply.deferred) {
        auto deferred = std::exchange(reply.deferred, nullptr);
        if (deferred->result())
            return send_backchannel(s, conn, *deferred->result());
        st.held_logout = std::move(deferred);
        st.logout_fallback = std::move(reply);
        return hold(s, conn, st);
    }
    return send_backchannel(s, conn, reply);
}

MHD_Result CallbackServer::Internals::send_backchannel(CallbackServer& s, MHD_Connection* conn,
                                                       const BackchannelReply& reply) {
    MhdResponsePtr resp(MHD_create_response_from_buffer(
        reply.json.size(), const_cast<char*>(reply.json.data()), MHD_RESPMEM_MUST_COPY));
    if (!resp ||
        MHD_add_response_header(resp.get(), MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
        (!reply.json.empty() && MHD_add_response_header(resp.get(), MHD_HTTP_HEADER_CONTENT_TYPE,
                                                        "application/json") != MHD_YES))
        return MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                  s.responses_->internal.get());
    return MHD_queue_response(conn, reply.status, resp.get());
}

MHD_Result CallbackServer::Internals::on_request(void* cls, MHD_Connection* conn, const char*,
                                                 const char* method, const char*,
                                                 const char* upload_data,
                                                 std::size_t* upload_data_size,
                                                 void** req_cls) noexcept {
    auto& s = *static_cast<CallbackServer*>(cls);
    auto* st = static_cast<RequestState*>(*req_cls);
    const Responses& r = *s.responses_;
    if (!st)
        return MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, r.internal.get());
    if (st->holding()) {
        try {
            return answer_held(s, conn, *st); // resumed: the answer came, or the wait ended
        } catch (...) {
            return MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, r.internal.get());
        }
    }
    if (!st->headers_seen) {
        st->headers_seen = true;
        if (Connections::Conn* c = conn_of(conn))
            s.conns_->finished(*c); // its headers came in time
        // Refusals are queued at once, before any body: MHD then closes the connection without
        // reading it.
        const std::string_view m = method ? method : "";
        if (m == MHD_HTTP_METHOD_POST && s.backchannel_ && !st->too_long &&
            callback_path_matches(st->target, s.options_.backchannel_path)) {
            st->post = true;
            return MHD_YES;
        }
        if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD)
            return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                      r.method_not_allowed.get());
        if (st->too_long)
            return MHD_queue_response(conn, MHD_HTTP_URI_TOO_LONG, r.too_long.get());
        // A page is queued on the next call, once the request is complete: an answer queued on
        // this first call makes MHD 0.9.75 close the connection (no keep-alive for browsers).
        return MHD_YES;
    }
    if (st->post) {
        if (*upload_data_size != 0) {
            // Past the cap nothing is kept, and the rest is read so the 400 reaches the client;
            // past four times the cap the sender is not a provider: the connection is dropped.
            st->body_seen += *upload_data_size;
            if (st->body_seen > 4 * s.options_.max_body)
                return MHD_NO;
            const std::size_t room = s.options_.max_body - std::min(s.options_.max_body,
                                                                     st->body.size());
            if (*upload_data_size > room)
                st->body_too_large = true;
            else
                st->body.append(upload_data, *upload_data_size);
            *upload_data_size = 0;
            return MHD_YES;
        }
        try {
            return answer_backchannel(s, conn, *st);
        } catch (...) {
            return MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, r.internal.get());
        }
    }
    // A GET or HEAD with a body: it is never read, the connection is dropped.
    if (*upload_data_size != 0)
        return MHD_NO;
    try {
        return answer(s, conn, *st);
    } catch (...) {
        return MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, r.internal.get());
    }
}

MHD_Result CallbackServer::Internals::answer(CallbackServer& s, MHD_Connection* conn,
                                             const RequestState& st) {
    const Responses& r = *s.responses_;
    // No echo of the unknown path: the same fixed page for every other target.
    if (!callback_path_matches(st.target, s.options_.path))
        return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r.not_found.get());
    CallbackReply reply;
    try {
        reply = s.handler_(st.target);
    } catch (...) {
        return MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, r.internal.get());
    }
    if (reply.page == CallbackReply::Page::wait && reply.deferred) {
        if (!reply.deferred->result()) {
            auto& state = const_cast<RequestState&>(st);
            state.held = std::move(reply.deferred);
            return hold(s, conn, state);
        }
        reply = *reply.deferred->result();
    }
    return send_reply(s, conn, reply);
}

MHD_Result CallbackServer::Internals::send_reply(CallbackServer& s, MHD_Connection* conn,
                                                 const CallbackReply& reply) {
    const Responses& r = *s.responses_;
    switch (reply.page) {
    case CallbackReply::Page::received:
        return MHD_queue_response(conn, callback_page_status(CallbackPageKind::received),
                                  r.received.get());
    case CallbackReply::Page::unknown_login:
        return MHD_queue_response(conn, callback_page_status(CallbackPageKind::unknown_login),
                                  r.unknown_login.get());
    case CallbackReply::Page::failure:
    case CallbackReply::Page::confirm:
    case CallbackReply::Page::signed_in:
    case CallbackReply::Page::refused:
    case CallbackReply::Page::wait: // answered once its page is known (hold())
        break;
    }
    const CallbackPageKind kind = reply.page == CallbackReply::Page::confirm     ? CallbackPageKind::confirm
                                  : reply.page == CallbackReply::Page::signed_in ? CallbackPageKind::signed_in
                                  : reply.page == CallbackReply::Page::refused   ? CallbackPageKind::refused
                                                                                 : CallbackPageKind::failure;
    MhdResponsePtr page = build_response(kind, reply.detail);
    if (!page)
        return MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, r.internal.get());
    // MHD keeps its own reference while the response is queued.
    return MHD_queue_response(conn, callback_page_status(kind), page.get());
}

CallbackServer::Connections::Conn* CallbackServer::Internals::conn_of(MHD_Connection* conn) noexcept {
    const MHD_ConnectionInfo* ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? static_cast<Connections::Conn*>(ci->socket_context) : nullptr;
}

void CallbackServer::Internals::on_connection(void* cls, MHD_Connection* conn,
                                              void** socket_context,
                                              MHD_ConnectionNotificationCode code) noexcept {
    auto& s = *static_cast<CallbackServer*>(cls);
    Connections& cs = *s.conns_;
    try {
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
            Connections::Conn c;
            c.conn = conn;
            c.fd = connection_fd(conn);
            c.address = client_address(conn);
            c.deadline_usec = monotonic_usec() + static_cast<uint64_t>(
                                  std::chrono::duration_cast<std::chrono::microseconds>(
                                      s.options_.header_timeout).count());
            cs.all.push_back(std::move(c));
            Connections::Conn& added = cs.all.back();
            *socket_context = &added;
            ++cs.unfinished;
            std::size_t& mine = cs.unfinished_by_address[added.address];
            ++mine;
            // A crowd from one address, or in all: the oldest waits no longer.
            if (mine > s.options_.max_unfinished_per_address)
                cs.evict_oldest(added.address, s.evicted_);
            if (cs.unfinished > s.options_.max_unfinished)
                cs.evict_oldest({}, s.evicted_);
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
            auto* c = static_cast<Connections::Conn*>(*socket_context);
            if (!c)
                return;
            cs.finished(*c);
            for (auto it = cs.all.begin(); it != cs.all.end(); ++it)
                if (&*it == c) {
                    cs.all.erase(it);
                    break;
                }
            *socket_context = nullptr;
        }
    } catch (...) {
        ++s.errors_;
    }
}

// The header deadline cannot be renewed by trickling bytes: it runs from accept.
void CallbackServer::Internals::expire_unfinished(CallbackServer& s) noexcept {
    const uint64_t now = monotonic_usec();
    for (Connections::Conn& c : s.conns_->all) {
        if (c.deadline_usec > now)
            break; // accept order: the rest are younger
        if (c.unfinished && !c.evicted)
            s.conns_->evict(c, s.evicted_);
    }
}

// st.held or st.held_logout is set, not yet completed: the connection waits for it.
MHD_Result CallbackServer::Internals::hold(CallbackServer& s, MHD_Connection* conn,
                                           RequestState& st) {
    st.conn = conn;
    st.server = &s;
    sd_event_source* t = nullptr;
    const auto usec = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(s.options_.hold_timeout).count());
    if (sd_event_add_time_relative(sd_event_source_get_event(s.timer_.get()), &t, CLOCK_MONOTONIC,
                                   usec, kTimerAccuracyUsec, &on_hold_timeout, &st) < 0) {
        st.hold_expired = true;
        return answer_held(s, conn, st);
    }
    st.hold_timer.reset(t);
    RequestState* raw = &st;
    s.conns_->held.insert(raw);
    ++s.held_;
    st.set_waker([raw] { resume(*raw); });
    MHD_suspend_connection(conn);
    return MHD_YES;
}

// The answer of a request that waited: what came in time, else the "received" page or the
// back-channel fallback. A stale waker must not fire again.
MHD_Result CallbackServer::Internals::answer_held(CallbackServer& s, MHD_Connection* conn,
                                                  RequestState& st) {
    st.set_waker(nullptr);
    st.hold_timer.reset();
    if (s.conns_->held.erase(&st) != 0)
        --s.held_;
    if (auto logout = std::exchange(st.held_logout, nullptr)) {
        const BackchannelReply& reply =
            logout->result() && !st.hold_expired ? *logout->result() : st.logout_fallback;
        return send_backchannel(s, conn, reply);
    }
    auto page = std::exchange(st.held, nullptr);
    CallbackReply reply = page && page->result() && !st.hold_expired
                              ? *page->result()
                              : CallbackReply(CallbackReply::Page::received);
    if (reply.page == CallbackReply::Page::wait)
        reply = CallbackReply(CallbackReply::Page::received);
    return send_reply(s, conn, reply);
}

void CallbackServer::Internals::resume(RequestState& st) noexcept {
    if (!st.conn || !st.server)
        return;
    st.set_waker(nullptr);
    st.hold_timer.reset();
    MHD_resume_connection(st.conn);
    // MHD picks resumed connections up at its next run; nothing on its epoll fd says so.
    CallbackServer& s = *st.server;
    if (sd_event_source_set_time(s.timer_.get(), 0) < 0 ||
        sd_event_source_set_enabled(s.timer_.get(), SD_EVENT_ONESHOT) < 0)
        ++s.errors_;
}

int CallbackServer::Internals::on_hold_timeout(sd_event_source*, uint64_t, void* userdata) noexcept {
    auto* st = static_cast<RequestState*>(userdata);
    st->hold_expired = true;
    resume(*st);
    return 0;
}

void CallbackServer::Internals::run(CallbackServer& s) noexcept {
    expire_unfinished(s);
    if (MHD_run(s.daemon_.get()) != MHD_YES)
        ++s.errors_;
    rearm(s);
}

// MHD_get_timeout is the longest we may wait before the next MHD_run (connection timeouts, data
// already buffered by TLS); "no timeout" switches the timer off.
void CallbackServer::Internals::rearm(CallbackServer& s) noexcept {
    MHD_UNSIGNED_LONG_LONG ms = 0;
    bool armed = MHD_get_timeout(s.daemon_.get(), &ms) == MHD_YES;
    // At the connection limit MHD takes its listen socket out of its epoll set, and puts it back
    // only at the start of a later MHD_run. Once below the limit nothing would wake us for that
    // run (new connections wait in the backlog, invisible): schedule it ourselves.
    const MHD_DaemonInfo* info =
        MHD_get_daemon_info(s.daemon_.get(), MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    const bool at_limit = info && info->num_connections >= s.options_.max_connections;
    if (s.at_limit_ && !at_limit) {
        armed = true;
        ms = 0;
    }
    s.at_limit_ = at_limit;
    // The oldest unfinished connection's header deadline.
    for (const Connections::Conn& c : s.conns_->all)
        if (c.unfinished && !c.evicted) {
            const uint64_t now = monotonic_usec();
            const uint64_t left_ms = c.deadline_usec > now ? (c.deadline_usec - now) / 1000 + 1 : 0;
            if (!armed || left_ms < ms)
                ms = left_ms;
            armed = true;
            break;
        }
    if (!armed) {
        if (sd_event_source_set_enabled(s.timer_.get(), SD_EVENT_OFF) < 0)
            ++s.errors_;
        return;
    }
    const uint64_t when = monotonic_usec() + std::min<uint64_t>(ms, kMaxTimerMs) * 1000U;
    if (sd_event_source_set_time(s.timer_.get(), when) < 0 ||
        sd_event_source_set_enabled(s.timer_.get(), SD_EVENT_ONESHOT) < 0)
        ++s.errors_;
}

int CallbackServer::Internals::on_epoll(sd_event_source*, int, uint32_t, void* userdata) noexcept {
    run(*static_cast<CallbackServer*>(userdata));
    return 0;
}

int CallbackServer::Internals::on_timer(sd_event_source*, uint64_t, void* userdata) noexcept {
    run(*static_cast<CallbackServer*>(userdata));
    return 0;
}

Status CallbackServer::Internals::start_mhd(CallbackServer& s, const ListenSockaddr& addr,
                                            bool ipv6, const TlsMaterial* tls) {
    const CallbackServerOptions& o = s.options_;
    const std::size_t pool = o.max_request_target + o.max_header_bytes + kPoolSlackBytes;
    std::vector<MHD_OptionItem> opts = {
        {MHD_OPTION_SOCK_ADDR, 0, const_cast<sockaddr*>(&addr.sa)},
        {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&on_uri), &s},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), &s},
        {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&on_connection), &s},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(pool), nullptr},
        {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(o.max_connections), nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(o.connection_timeout.count()),
         nullptr},
        // Reject malformed requests instead of guessing (RFC 9112 §2.2 leniency off).
        {MHD_OPTION_STRICT_FOR_CLIENT, 1, nullptr},
    };
    // External polling (sd-event watches MHD's epoll fd); suspend/resume lets a page wait for the
    // login's outcome without holding the loop.
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    if (tls) {
        flags |= MHD_USE_TLS;
        opts.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(tls->cert_pem.c_str())});
        opts.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(tls->key_pem.c_str())});
        opts.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0,
                        const_cast<char*>("NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2")});
    }
    opts.push_back({MHD_OPTION_END, 0, nullptr});
    s.daemon_.reset(MHD_start_daemon(flags, 0, nullptr, nullptr, &on_request, &s, MHD_OPTION_ARRAY,
                                     opts.data(), MHD_OPTION_END));
    if (!s.daemon_)
        return make_error(Errc::config, "callback_start",
                          "libmicrohttpd refused to start the callback listener on " +
                              host_port(o, ipv6, o.listen_port));
    const MHD_DaemonInfo* info = MHD_get_daemon_info(s.daemon_.get(), MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0)
        return make_error(Errc::internal, "callback_start", "cannot read the bound port");
    s.port_ = info->port;
    return {};
}

Status CallbackServer::Internals::attach(CallbackServer& s, sd_event* event) {
    const MHD_DaemonInfo* info = MHD_get_daemon_info(s.daemon_.get(), MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || info->epoll_fd < 0)
        return make_error(Errc::internal, "callback_start", "libmicrohttpd has no epoll fd");
    sd_event_source* io = nullptr;
    int r = sd_event_add_io(event, &io, info->epoll_fd, EPOLLIN, &on_epoll, &s);
    if (r < 0)
        return make_error(Errc::internal, "event_source",
                          std::string("cannot watch the callback listener: ") + std::strerror(-r));
    s.io_.reset(io);
    sd_event_source* timer = nullptr;
    r = sd_event_add_time(event, &timer, CLOCK_MONOTONIC, 0, kTimerAccuracyUsec, &on_timer, &s);
    if (r < 0)
        return make_error(Errc::internal, "event_source",
                          std::string("cannot add the callback timer: ") + std::strerror(-r));
    s.timer_.reset(timer);
    rearm(s);
    return {};
}

Result<std::unique_ptr<CallbackServer>>
CallbackServer::start(sd_event* event, CallbackServerOptions options, CallbackHandler handler) {
    PSC_TRY(check_options(options));
    if (!event || !handler)
        return make_error(Errc::internal, "callback_options", "no event loop or handler");
    bool ipv6 = false;
    auto addr = listen_sockaddr(options, ipv6);
    if (!addr)
        return std::move(addr).error();
    std::optional<TlsMaterial> material;
    if (!options.tls_cert_file.empty()) {
        auto m = load_tls(options);
        if (!m)
            return std::move(m).error();
        material.emplace(std::move(*m));
    }
    if (options.listen_port != 0)
        PSC_TRY(probe_bind(*addr, ipv6, host_port(options, ipv6, options.listen_port)));
    std::unique_ptr<CallbackServer> s(new CallbackServer());
    s->options_ = std::move(options);
    s->handler_ = std::move(handler);
    s->tls_ = material.has_value();
    s->conns_ = std::make_unique<Connections>();
    s->responses_ = std::make_unique<Responses>(Responses{
        build_response(CallbackPageKind::received), build_response(CallbackPageKind::unknown_login),
        build_response(CallbackPageKind::not_found),
        build_response(CallbackPageKind::method_not_allowed),
        build_response(CallbackPageKind::target_too_long),
        build_response(CallbackPageKind::internal_error)});
    if (!s->responses_->complete())
        return make_error(Errc::internal, "oom", "cannot build the callback pages");
    PSC_TRY(Internals::start_mhd(*s, *addr, ipv6, material ? &*material : nullptr));
    material.reset(); // the key is wiped now: GnuTLS holds its own parsed copy
    PSC_TRY(Internals::attach(*s, event));
    return s;
}

CallbackServer::~CallbackServer() {
    // Held pages stop waiting (MHD closes suspended connections only once resumed), then the
    // sources go: MHD_stop_daemon closes the epoll fd they watch. MHD then closes every connection
    // and calls on_completed for the open requests (which frees their state).
    if (daemon_ && conns_ && !conns_->held.empty()) {
        for (RequestState* st : std::vector<RequestState*>(conns_->held.begin(), conns_->held.end())) {
            st->hold_expired = true;
            st->set_waker(nullptr);
            st->hold_timer.reset();
            MHD_resume_connection(st->conn);
        }
        MHD_run(daemon_.get()); // answers them ("received", the fallback) and lets MHD forget them
    }
    timer_.reset();
    io_.reset();
    daemon_.reset();
}

std::string CallbackServer::url() const {
    const bool v6 = options_.listen_host.find(':') != std::string::npos;
    return std::string(tls_ ? "https" : "http") + "://" + host_port(options_, v6, port_) +
           options_.path;
}

} // namespace psc
