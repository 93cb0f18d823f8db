// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-authd's login backend factory: main() builds the backend through this seam so the bus layer
// and the daemon's startup do not depend on the engine's insides.
#pragma once

#include "config.hpp"
#include "login_backend.hpp"
#include "result.hpp"

#include <functional>
#include <memory>
#include <string>
#include <systemd/sd-event.h>

namespace psc {

// The login engine (daemon/login_engine.hpp): provider state, callback listener, code flow.
// Fails (and the daemon refuses to start) when the client secret cannot be read or the callback
// address cannot be bound.
// `log` receives the lines an operator needs in the journal beyond the audit events (the provider
// failing to load and recovering); may be empty.
using DaemonLog = std::function<void(const std::string& line)>;
[[nodiscard]] Result<std::unique_ptr<LoginBackend>>
make_login_backend(const Config& cfg, sd_event* event, DaemonLog log = {});

} // namespace psc
