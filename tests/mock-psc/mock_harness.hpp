// SPDX-License-Identifier: LGPL-2.1-or-later
// For the tests of mock-psc (and any test that wants a provider): starts mock-psc as a child
// process, reads its state file, drives its control endpoint, plays the browser with libcurl
// (redirects are read, not followed) and runs a whole code-flow login with the OIDC core.
#pragma once

#include "http_client.hpp"
#include "id_token.hpp"
#include "jwk.hpp"
#include "result.hpp"
#include "token_request.hpp"
#include "token_response.hpp"
#include "userinfo.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace psc::mocktest {

struct MockState {
    std::string base_url;
    std::string issuer;
    std::string discovery_url;
    std::string ca_file;
    std::string untrusted_ca_file;
    std::string client_cert;
    std::string client_key;
    std::string client_cert_subject;
    std::string client_id;
    std::string client_secret;
    std::string control_url;
    std::string control_token;
    std::string demo_url;
};

class MockProcess {
public:
    // Runs $MOCK_PSC with args plus --state-file and --exit-with-parent; waits (≤ 10 s) for the
    // state file. Reasons: mock_spawn, mock_exited, mock_timeout, mock_state.
    [[nodiscard]] static Result<std::unique_ptr<MockProcess>> start(std::vector<std::string> args);
    ~MockProcess(); // SIGTERM, then waits
    MockProcess(const MockProcess&) = delete;
    MockProcess& operator=(const MockProcess&) = delete;

    [[nodiscard]] const MockState& state() const noexcept { return state_; }
    [[nodiscard]] std::chrono::milliseconds startup_time() const noexcept { return startup_; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // SIGTERM and wait; returns the exit status (or -1).
    int stop();

    // POST body to the control endpoint with the token (or with `token` when given).
    [[nodiscard]] Result<HttpResponse> control(const std::string& json_body,
                                               const std::string* token = nullptr);
    // Arms a fault; aborts the test on failure.
    void fault(const std::string& name, const std::string& scope = "next",
               const std::string& extra_members = "");
    // An HTTP client trusting the mock's CA; with_cert: presents the issued client certificate.
    [[nodiscard]] std::unique_ptr<HttpClient>
    client(bool with_cert = false,
           std::chrono::milliseconds total_timeout = std::chrono::milliseconds(10000)) const;

private:
    MockProcess() = default;
    pid_t pid_ = -1;
    std::string dir_;
    MockState state_;
    std::chrono::milliseconds startup_{0};
};

struct BrowserResponse {
    long status = 0;
    std::string location;
    std::string content_type;
    std::string body;
};
// One GET (or a form POST when post_body is set) like a browser, without following redirects.
// Reasons: browser_transfer (any libcurl failure; the message says which).
[[nodiscard]] Result<BrowserResponse> browser_request(const std::string& url,
                                                      const std::string& ca_file,
                                                      const std::string* post_body = nullptr);

// GET with a client; the test fails unless the transfer works.
[[nodiscard]] HttpResponse must_get(HttpClient& client, const std::string& url,
                                    const std::string& bearer = "");

// Everything a completed code-flow login produced, step by step.
struct LoginResult {
    std::string state;
    std::string nonce;
    std::string redirect_uri;
    BrowserResponse authorize; // the wallet's answer (302 to the client)
    Status callback_check;     // check_callback() on the redirect
    std::optional<HttpResponse> token_http;
    Status token_parse; // parse_token_response() failing (malformed answers)
    std::optional<TokenResponse> tokens;
    std::optional<OAuthError> token_error;
    JwkSet keys;
    std::optional<Result<IdToken>> id_token;
};

// The standard flow of the daemon, with the OIDC core: authorization URL (PKCE S256, state, nonce,
// acr eidas1, scope "openid scope_all") → wallet approves `idnat` (mock_approve knob) → redirect
// checked → code redeemed with client_secret_basic → ID token validated with the JWKS.
// Stops at the first step that fails, leaving the later members empty.
[[nodiscard]] LoginResult
code_login(MockProcess& mock, const std::string& idnat,
           const std::string& redirect_uri = "http://127.0.0.1:8765/callback");

// The HTTP request a token_request.hpp builder described.
[[nodiscard]] HttpRequest to_http(const HttpFormRequest& form);

// The ID token policy the daemon uses for this mock.
[[nodiscard]] IdTokenPolicy policy_for(const MockState& s, const std::string& nonce);

[[nodiscard]] std::int64_t unix_now();

// One mock shared by a CMocka group: started by the group setup, reset before each test.
[[nodiscard]] MockProcess& shared_mock();
[[nodiscard]] int start_shared_mock(std::vector<std::string> args);
int stop_shared_mock(void**);
int reset_shared_mock(void**);

} // namespace psc::mocktest
