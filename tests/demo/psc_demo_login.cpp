// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-demo-login: one whole Pro Santé Connect login against mock-psc, step by step, with the very
// parts psc-authd is built from — discovery at PSC's wallet path, JWKS, an authorization request
// with PKCE, the local callback listener inside sd-event, the RFC 9207 callback check, the token
// exchange with mTLS (tls_client_auth), ID-token validation, UserInfo, and the mapping decision
// for the requested local account. Used by scripts/demo.sh and by the test suite (--auto).
//
//   psc-demo-login --mock PATH/mock-psc --map FILE --user NAME [--auto IDNAT]
//
// Without --auto it prints the address to open in a browser and waits for the callback.
#include "auth_request.hpp"
#include "callback.hpp"
#include "callback_server.hpp"
#include "discovery.hpp"
#include "event_loop.hpp"
#include "file_io.hpp"
#include "http_client.hpp"
#include "id_token.hpp"
#include "json.hpp"
#include "jwks_cache.hpp"
#include "mapping.hpp"
#include "strutil.hpp"
#include "token_request.hpp"
#include "token_response.hpp"
#include "userinfo.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <curl/curl.h>
#include <filesystem>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace psc;

struct Args {
    std::string mock, map, user, auto_idnat;
};

struct MockInfo {
    pid_t pid = -1;
    std::string dir, issuer, discovery_url, ca_file, client_cert, client_key, client_id;
};

int step_failed(const char* step, const Error& e) {
    std::printf("  ✗ %s: %s\n", step, e.describe().c_str());
    std::printf("\nRESULT: login refused (%s)\n", e.reason.c_str());
    return 1;
}

void ok(const std::string& what) {
    std::printf("  ✓ %s\n", what.c_str());
}

Result<MockInfo> start_mock(const std::string& binary) {
    MockInfo m;
    char tmpl[] = "/tmp/psc-demo-XXXXXX";
    if (!mkdtemp(tmpl))
        return make_error(Errc::io, "demo_tmp", "cannot create a temporary directory");
    m.dir = tmpl;
    const std::string state = m.dir + "/state.json";
    m.pid = fork();
    if (m.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); // never outlive the demo
        const std::string log = m.dir + "/mock-psc.log";
        if (FILE* f = std::freopen(log.c_str(), "w", stderr))
            (void)f;
        // RFC 8252 §7.3: a native client's loopback redirect may use any port; ours is port 0.
        execl(binary.c_str(), binary.c_str(), "--state-file", state.c_str(), "--exit-with-parent",
              "--redirect-loopback-any-port", static_cast<char*>(nullptr));
        _exit(127);
    }
    for (int i = 0; i < 200 && !std::filesystem::exists(state); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto f = read_file_checked(state, {});
    if (!f)
        return make_error(Errc::unavailable, "demo_mock",
                          "mock-psc did not start: " + f.error().message);
    auto j = json_parse_object(f->content);
    if (!j)
        return make_error(Errc::unavailable, "demo_mock", "bad mock-psc state file");
    auto get = [&](const char* k) {
        auto v = json_get_string(j->get(), k);
        return v.ok() && v->has_value() ? std::string(**v) : std::string();
    };
    m.issuer = get("issuer");
    m.discovery_url = get("discovery_url");
    m.ca_file = get("ca_file");
    m.client_cert = get("client_cert");
    m.client_key = get("client_key");
    m.client_id = get("client_id");
    return m;
}

void stop_mock(const MockInfo& m) {
    if (m.pid > 0) {
        kill(m.pid, SIGTERM);
        waitpid(m.pid, nullptr, 0);
    }
    if (!m.dir.empty())
        std::filesystem::remove_all(m.dir);
}

// The browser of --auto: follows the wallet's redirect to our listener, like a real one would.
void auto_browser(std::string url, std::string ca_file) {
    CURL* c = curl_easy_init();
    if (!c)
        return;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t n, void*) { return s * n; });
    (void)curl_easy_perform(c);
    curl_easy_cleanup(c);
}

// The real callback listener in sd-event, for the one login of this demo.
struct Listener {
    SdEventPtr event;
    std::unique_ptr<CallbackServer> server;
    const AuthRequest* req = nullptr;
    const ProviderMetadata* md = nullptr;
    std::string redirect_uri;
    std::optional<Result<CallbackResponse>> got;

    CallbackReply handle(std::string_view target) {
        auto resp = parse_callback_target(target);
        if (!resp || !req || resp->state != req->state) // not ours (or forged): not ours to end
            return CallbackReply{CallbackReply::Page::unknown_login, {}};
        auto checked = check_callback(*resp, {req->state, redirect_uri, md->issuer,
                                              md->authorization_response_iss_parameter_supported});
        got = checked ? Result<CallbackResponse>(std::move(*resp))
                      : Result<CallbackResponse>(checked.error());
        return checked ? CallbackReply{CallbackReply::Page::success, {}}
                       : CallbackReply{CallbackReply::Page::failure, checked.error().message};
    }
};

Status start_listener(Listener& l) {
    auto event = event_new();
    if (!event)
        return std::move(event).error();
    l.event = std::move(*event);
    CallbackServerOptions opts;
    opts.listen_host = "127.0.0.1";
    opts.listen_port = 0;
    auto server = CallbackServer::start(l.event.get(), opts,
                                        [&l](std::string_view t) { return l.handle(t); });
    if (!server)
        return std::move(server).error();
    l.server = std::move(*server);
    l.redirect_uri = l.server->url();
    return {};
}

Result<CallbackResponse> wait_for_callback(Listener& l, const std::string& browser_url,
                                           const std::string& ca_file) {
    std::atomic<bool> browser_done{browser_url.empty()};
    std::thread browser;
    if (!browser_url.empty())
        browser = std::thread([&] {
            auto_browser(browser_url, ca_file);
            browser_done = true;
        });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (!l.got && std::chrono::steady_clock::now() < deadline)
        (void)sd_event_run(l.event.get(), 200 * 1000);
    // Keep serving until the browser has its "you can close this window" page.
    for (int i = 0; i < 50 && (!browser_done || i < 10); ++i)
        (void)sd_event_run(l.event.get(), 20 * 1000);
    if (browser.joinable())
        browser.join();
    if (!l.got)
        return make_error(Errc::timeout, "demo_no_callback", "no callback arrived in 5 minutes");
    return std::move(*l.got);
}

int run(const Args& a) {
    std::printf("psc-login demo: a Pro Santé Connect login against mock-psc (nothing leaves this "
                "machine)\n\n");
    auto mock = start_mock(a.mock);
    if (!mock)
        return step_failed("start mock-psc", mock.error());
    struct Stop {
        const MockInfo& m;
        ~Stop() { stop_mock(m); }
    } stop{*mock};
    ok("mock-psc listening, issuer " + mock->issuer);

    HttpOptions hopts;
    hopts.ca_file = mock->ca_file;
    hopts.client_cert = mock->client_cert;
    hopts.client_key = mock->client_key;
    auto http = HttpClient::create(hopts);
    if (!http)
        return step_failed("HTTP client", http.error());

    auto md =
        fetch_discovery(**http, discovery_source(mock->issuer, mock->discovery_url, true, false));
    if (!md)
        return step_failed("discovery", md.error());
    ok("discovery at PSC's wallet path; issuer matches byte for byte");
    auto keys = fetch_jwks(**http, md->jwks_uri);
    if (!keys)
        return step_failed("JWKS", keys.error());
    ok("JWKS: " + std::to_string(keys->keys.size()) + " signing key(s), " +
       std::to_string(keys->skipped.size()) + " other key(s) ignored");

    Listener listener;
    if (auto st = start_listener(listener); !st)
        return step_failed("callback listener", st.error());
    const std::string& redirect_uri = listener.redirect_uri;
    ok("callback listener (libmicrohttpd in sd-event) on " + redirect_uri);
    AuthRequestParams params{md->authorization_endpoint,
                             mock->client_id,
                             redirect_uri,
                             "openid scope_all",
                             "eidas1",
                             std::nullopt,
                             {},
                             {}};
    auto req = make_auth_request(params);
    if (!req)
        return step_failed("authorization request", req.error());
    ok("authorization request: PKCE S256, fresh state and nonce, acr_values=eidas1");
    std::string browser_url;
    if (!a.auto_idnat.empty()) {
        browser_url = req->url + "&mock_approve=" + a.auto_idnat;
        std::printf("    (--auto: a scripted browser approves as %s)\n", a.auto_idnat.c_str());
    } else {
        std::printf("\n  Open this address in a browser on this machine (accept mock-psc's test "
                    "certificate):\n\n    %s\n\n",
                    req->url.c_str());
        std::fflush(stdout);
    }
    listener.req = &*req;
    listener.md = &*md;
    auto cb = wait_for_callback(listener, browser_url, mock->ca_file);
    if (!cb)
        return step_failed("callback", cb.error());
    ok("callback received: state and RFC 9207 iss checked");

    ClientAuth auth;
    auth.method = ClientAuthMethod::tls_client_auth;
    auth.client_id = mock->client_id;
    auto token_endpoint = endpoint_for(*md, "token_endpoint", true);
    if (!token_endpoint)
        return step_failed("token endpoint", token_endpoint.error());
    auto form =
        build_code_token_request(auth, *token_endpoint, cb->code.view(), redirect_uri,
                                 req->pkce.verifier.view(), std::chrono::system_clock::now());
    if (!form)
        return step_failed("token request", form.error());
    auto resp = perform(**http, to_http_request(*form));
    if (!resp)
        return step_failed("token exchange", resp.error());
    auto tokens = parse_token_response(static_cast<int>(resp->status), resp->body);
    if (!tokens)
        return step_failed("token response", tokens.error());
    if (auto* e = std::get_if<OAuthError>(&*tokens))
        return step_failed("token response", oauth_error_to_error(*e));
    const auto& tok = std::get<TokenResponse>(*tokens);
    ok("code redeemed with mTLS (tls_client_auth) and the PKCE verifier");

    IdTokenPolicy policy;
    policy.issuer = md->issuer;
    policy.client_id = mock->client_id;
    policy.nonce = req->nonce;
    auto idt = validate_id_token(tok.id_token.view(), *keys, policy, std::time(nullptr));
    if (!idt)
        return step_failed("ID token", idt.error());
    ok(std::string("ID token: ") + std::string(jws_alg_name(idt->alg)) +
       " signature, iss, aud, exp, iat, nonce, acr=" + idt->acr.value_or("(none)"));

    HttpRequest ui_req;
    ui_req.url = md->userinfo_endpoint;
    ui_req.headers.push_back("Authorization: Bearer " + std::string(tok.access_token.view()));
    auto ui_resp = perform(**http, ui_req);
    if (!ui_resp)
        return step_failed("UserInfo", ui_resp.error());
    UserInfoCheck check;
    check.expected_sub = idt->sub;
    check.issuer = md->issuer;
    check.client_id = mock->client_id;
    check.keys = &*keys;
    auto ui = parse_userinfo(*ui_resp, check);
    if (!ui)
        return step_failed("UserInfo", ui.error());
    auto idnat = userinfo_idnat(*ui, "preferred_username");
    auto exercices = userinfo_exercices(*ui);
    auto mode = userinfo_auth_mode(*ui);
    auto aliases = userinfo_other_ids(*ui);
    if (!idnat || !exercices || !mode || !aliases || !idnat->has_value())
        return step_failed("UserInfo", make_error(Errc::invalid, "userinfo_identity",
                                                  "no usable identity in UserInfo"));
    ok("UserInfo: same sub; idNat " + **idnat + ", authMode " + mode->value_or("?"));

    PscIdentity who{**idnat, *aliases, {}, mode->value_or("")};
    for (const auto& e : *exercices)
        who.exercices.push_back({e.profession, e.category});
    FileRules rules;
    rules.refuse_group_world_writable = true;
    auto map_text = read_file_checked(a.map, rules);
    if (!map_text)
        return step_failed("map file", map_text.error());
    auto map = UserMap::parse(map_text->content, a.map);
    if (!map)
        return step_failed("map file", map.error());
    MappingPolicy mp;
    mp.deny_categories = {"E"};
    NssUserDb users;
    auto d = decide(who, a.user, &*map, mp, users);
    if (!d)
        return step_failed(("mapping to local user \"" + a.user + "\"").c_str(), d.error());
    ok("mapped by " + d->matched_by + " to local user " + d->user.name + " (uid " +
       std::to_string(d->user.uid) + "), profession " + d->profession);
    std::printf("\nRESULT: %s may log in as %s\n", strip_control(**idnat).c_str(),
                d->user.name.c_str());
    return 0;
}

} // namespace

int main(int argc, char** argv) try {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--mock")
            a.mock = v;
        else if (k == "--map")
            a.map = v;
        else if (k == "--user")
            a.user = v;
        else if (k == "--auto")
            a.auto_idnat = v;
        else {
            std::fprintf(stderr, "psc-demo-login: unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (a.mock.empty() || a.map.empty() || a.user.empty()) {
        std::fprintf(stderr, "usage: psc-demo-login --mock MOCK_PSC --map USERS_MAP --user NAME "
                             "[--auto IDNAT]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const int rc = run(a);
    curl_global_cleanup();
    return rc;
} catch (const std::exception& e) {
    std::fprintf(stderr, "psc-demo-login: %s\n", e.what());
    return 1;
}
