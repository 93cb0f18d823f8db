// SPDX-License-Identifier: LGPL-2.1-or-later
// The configuration the login-engine tests start from: the PSC sandbox profile pointed at a
// running mock-psc (its wallet discovery path), mTLS with the mock's client certificate, the
// listener on port 0, the idNat and otherIds claims, and `map_file`. Tests adjust the rest.
#pragma once

#include "config.hpp"
#include "mock_harness.hpp"
#include "testing.hpp"

#include <chrono>
#include <string>
#include <utility>

namespace psc::mocktest {

inline Config engine_test_config(const MockState& s, std::string map_file) {
    auto cfg = load_config_from_text("test.conf", "[provider]\nissuer = " + s.issuer +
                                                      "\nclient_id = " + s.client_id +
                                                      "\ntoken_auth_method = tls_client_auth" +
                                                      "\ntls_client_cert = " + s.client_cert +
                                                      "\ntls_client_key = " + s.client_key + "\n");
    assert_ok(cfg);
    Config c = std::move(*cfg);
    c.provider.profile = Profile::psc_sandbox;
    c.provider.discovery_url = s.discovery_url;
    c.provider.ca_file = s.ca_file;
    c.provider.scopes = {"openid", "scope_all"};
    c.provider.acr_values = {"eidas1"};
    c.provider.acr_accept = {"eidas1"};
    c.provider.userinfo = true;
    c.provider.http_timeout = std::chrono::seconds(5);
    c.limits.jwks_refetch_interval = std::chrono::seconds(0);
    c.callback.listen_port = 0;
    c.mapping.identity_claim = "preferred_username";
    c.mapping.alias_claim = "otherIds";
    c.mapping.map_file = std::move(map_file);
    c.login.timeout = std::chrono::seconds(20);
    // Many CIBA logins for one person in a row: the push throttle is tested on its own.
    c.login.ciba_push_burst = 100;
    c.login.ciba_deny_cooldown = std::chrono::seconds(0);
    return c;
}

} // namespace psc::mocktest
