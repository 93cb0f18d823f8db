// SPDX-License-Identifier: LGPL-2.1-or-later
// How psc-authd and pscctl talk to the provider, from psc-login.conf: https only unless
// allow_insecure_http, the configured CA, the client certificate under tls_client_auth, the
// connect/total timeouts and the response size cap.
#pragma once

#include "config.hpp"
#include "http_client.hpp"

namespace psc {

[[nodiscard]] HttpOptions http_options(const Config& cfg);

} // namespace psc
