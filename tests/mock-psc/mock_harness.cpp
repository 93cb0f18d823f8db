// SPDX-License-Identifier: LGPL-2.1-or-later
#include "mock_harness.hpp"

#include "auth_request.hpp"
#include "callback.hpp"
#include "json.hpp"
#include "jwks_cache.hpp"
#include "owned.hpp"
#include "strutil.hpp"
#include "testing.hpp"
#include "token_request.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace psc::mocktest {

namespace {

using CurlPtr = Owned<CURL, curl_easy_cleanup>;
using CurlList = Owned<curl_slist, curl_slist_free_all>;

std::string get(const json_object* doc, const char* key) {
    auto v = json_get_string(doc, key);
    return v && v->has_value() ? std::string(**v) : std::string();
}

Result<MockState> read_state(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto doc = json_parse_object(ss.str());
    if (!doc)
        return make_error(Errc::invalid, "mock_state", doc.error().describe());
    const json_object* d = doc->get();
    MockState s{get(d, "base_url"),          get(d, "issuer"),
                get(d, "discovery_url"),     get(d, "ca_file"),
                get(d, "untrusted_ca_file"), get(d, "client_cert"),
                get(d, "client_key"),        get(d, "client_cert_subject"),
                get(d, "client_id"),         get(d, "client_secret"),
                get(d, "control_url"),       get(d, "control_token"),
                get(d, "demo_url")};
    if (s.base_url.empty() || s.control_token.empty())
        return make_error(Errc::invalid, "mock_state", "incomplete state file");
    return s;
}

[[noreturn]] void exec_child(const std::vector<std::string>& argv) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::vector<char*> raw;
    for (const auto& a : argv)
        raw.push_back(const_cast<char*>(a.c_str()));
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

std::size_t collect_location(char* data, std::size_t size, std::size_t n, void* out) {
    std::string_view line(data, size * n);
    if (line.size() > 9 && (line.substr(0, 9) == "Location:" || line.substr(0, 9) == "location:"))
        *static_cast<std::string*>(out) = std::string(trim(line.substr(9)));
    return size * n;
}

std::unique_ptr<MockProcess> g_shared;

} // namespace

MockProcess& shared_mock() {
    return *g_shared;
}

int start_shared_mock(std::vector<std::string> args) {
    auto m = MockProcess::start(std::move(args));
    if (!m) {
        print_error("cannot start mock-psc: %s\n", m.error().describe().c_str());
        return -1;
    }
    g_shared = std::move(*m);
    std::printf("mock-psc start-up (until the state file appeared): %lld ms\n",
                static_cast<long long>(g_shared->startup_time().count()));
    return 0;
}

int stop_shared_mock(void**) {
    g_shared.reset();
    return 0;
}

int reset_shared_mock(void**) {
    auto r = g_shared->control("{\"reset\":true}");
    return r && r->status == 200 ? 0 : -1;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Result<std::unique_ptr<MockProcess>> MockProcess::start(std::vector<std::string> args) {
    const char* exe = std::getenv("MOCK_PSC");
    if (!exe)
        return make_error(Errc::config, "mock_spawn", "MOCK_PSC is not set");
    std::unique_ptr<MockProcess> m(new MockProcess());
    char tmpl[] = "/tmp/mock-psc-test-XXXXXX";
    if (!mkdtemp(tmpl))
        return make_error(Errc::io, "mock_spawn", "mkdtemp failed");
    m->dir_ = tmpl;
    const std::string state_file = m->dir_ + "/state.json";
    std::vector<std::string> argv{exe, "--state-file", state_file, "--exit-with-parent"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto t0 = std::chrono::steady_clock::now();
    m->pid_ = fork();
    if (m->pid_ < 0)
        return make_error(Errc::io, "mock_spawn", "fork failed");
    if (m->pid_ == 0)
        exec_child(argv);
    while (!std::filesystem::exists(state_file)) {
        int status = 0;
        if (waitpid(m->pid_, &status, WNOHANG) == m->pid_) {
            m->pid_ = -1;
            return make_error(Errc::unavailable, "mock_exited", "mock-psc exited during start-up");
        }
        if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(10))
            return make_error(Errc::timeout, "mock_timeout", "no state file after 10 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    m->startup_ = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    auto st = read_state(state_file);
    if (!st)
        return std::move(st).error();
    m->state_ = std::move(*st);
    return m;
}

int MockProcess::stop() {
    if (pid_ <= 0)
        return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    const pid_t r = waitpid(pid_, &status, 0);
    pid_ = -1;
    return r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

MockProcess::~MockProcess() {
    (void)stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::unique_ptr<HttpClient> MockProcess::client(bool with_cert,
                                                std::chrono::milliseconds total_timeout) const {
    HttpOptions o;
    o.ca_file = state_.ca_file;
    o.total_timeout = total_timeout;
    if (with_cert) {
        o.client_cert = state_.client_cert;
        o.client_key = state_.client_key;
    }
    auto c = HttpClient::create(o);
    assert_ok(c);
    return std::move(*c);
}

Result<HttpResponse> MockProcess::control(const std::string& json_body, const std::string* token) {
    auto c = client();
    HttpRequest req;
    req.method = HttpMethod::post;
    req.url = state_.control_url;
    req.headers = {"Authorization: Bearer " + (token ? *token : state_.control_token),
                   "Content-Type: application/json"};
    req.body = json_body;
    return perform(*c, std::move(req));
}

void MockProcess::fault(const std::string& name, const std::string& scope,
                        const std::string& extra_members) {
    auto r = control("{\"fault\":\"" + name + "\",\"scope\":\"" + scope + "\"" +
                     (extra_members.empty() ? "" : "," + extra_members) + "}");
    assert_ok(r);
    if (r->status != 200)
        print_error("control answered %ld: %s\n", r->status, r->body.c_str());
    assert_int_equal(r->status, 200);
}

HttpResponse must_get(HttpClient& client, const std::string& url, const std::string& bearer) {
    HttpRequest req;
    req.url = url;
    if (!bearer.empty())
        req.headers.push_back("Authorization: Bearer " + bearer);
    auto r = perform(client, std::move(req));
    assert_ok(r);
    return std::move(*r);
}

Result<BrowserResponse> browser_request(const std::string& url, const std::string& ca_file,
                                        const std::string* post_body) {
    CurlPtr curl(curl_easy_init());
    if (!curl)
        return make_error(Errc::internal, "browser_transfer", "curl_easy_init");
    BrowserResponse out;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, collect_location);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &out.location);
    if (post_body) {
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, post_body->c_str());
    }
    const CURLcode rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK)
        return make_error(Errc::unavailable, "browser_transfer", curl_easy_strerror(rc));
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.status);
    char* ct = nullptr;
    if (curl_easy_getinfo(curl.get(), CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        out.content_type = ct;
    return out;
}

HttpRequest to_http(const HttpFormRequest& form) {
    return to_http_request(form);
}

IdTokenPolicy policy_for(const MockState& s, const std::string& nonce) {
    IdTokenPolicy p;
    p.issuer = s.issuer;
    p.client_id = s.client_id;
    if (!nonce.empty())
        p.nonce = nonce;
    return p;
}

LoginResult code_login(MockProcess& mock, const std::string& idnat,
                       const std::string& redirect_uri) {
    const MockState& s = mock.state();
    LoginResult out;
    out.redirect_uri = redirect_uri;
    AuthRequestParams params;
    params.authorization_endpoint = s.base_url + "/wallet/auth";
    params.client_id = s.client_id;
    params.redirect_uri = redirect_uri;
    params.scope = "openid scope_all";
    params.acr_values = "eidas1";
    auto req = make_auth_request(params);
    assert_ok(req);
    out.state = req->state;
    out.nonce = req->nonce;
    auto browser = browser_request(req->url + "&mock_approve=" + idnat, s.ca_file);
    assert_ok(browser);
    out.authorize = *browser;
    auto cb = parse_pasted_callback(browser->location);
    if (!cb) {
        out.callback_check = std::move(cb).error();
        return out;
    }
    out.callback_check = check_callback(*cb, {req->state, redirect_uri, s.issuer, true});
    if (!out.callback_check.ok())
        return out;
    const Secret secret(s.client_secret);
    ClientAuth auth{ClientAuthMethod::client_secret_basic, s.client_id, &secret, nullptr, s.issuer};
    auto token_req = build_code_token_request(
        auth,
        s.base_url + "/auth/realms/esante-wallet/"
                     "protocol/openid-connect/token",
        cb->code.view(), redirect_uri, req->pkce.verifier.view(), std::chrono::system_clock::now());
    assert_ok(token_req);
    auto client = mock.client();
    auto resp = perform(*client, to_http(*token_req));
    assert_ok(resp);
    out.token_http = *resp;
    auto parsed = parse_token_response(static_cast<int>(resp->status), resp->body);
    if (!parsed) {
        out.token_parse = std::move(parsed).error();
        return out;
    }
    if (auto* err = std::get_if<OAuthError>(&*parsed)) {
        out.token_error = *err;
        return out;
    }
    out.tokens = std::move(std::get<TokenResponse>(*parsed));
    auto keys = fetch_jwks(*client, s.base_url + "/auth/realms/esante-wallet/protocol/"
                                                 "openid-connect/certs");
    assert_ok(keys);
    out.keys = std::move(*keys);
    out.id_token = validate_id_token(out.tokens->id_token.view(), out.keys,
                                     policy_for(s, out.nonce), unix_now());
    return out;
}

} // namespace psc::mocktest
