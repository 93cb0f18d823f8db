// SPDX-License-Identifier: LGPL-2.1-or-later
#include "http_config.hpp"

namespace psc {

HttpOptions http_options(const Config& cfg) {
    HttpOptions o;
    o.allow_insecure_http = cfg.provider.allow_insecure_http;
    o.ca_file = cfg.provider.ca_file;
    if (cfg.provider.token_auth_method == TokenAuthMethod::tls_client_auth) {
        o.client_cert = cfg.provider.tls_client_cert;
        o.client_key = cfg.provider.tls_client_key;
    }
    o.connect_timeout = cfg.provider.http_connect_timeout;
    o.total_timeout = cfg.provider.http_timeout;
    o.max_response_bytes = cfg.limits.http_max_bytes;
    o.proxy = cfg.provider.https_proxy;
    for (const auto& h : cfg.provider.no_proxy)
        o.no_proxy += (o.no_proxy.empty() ? "" : ",") + h;
    return o;
}

} // namespace psc
