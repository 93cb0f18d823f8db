// SPDX-License-Identifier: LGPL-2.1-or-later
#include "daemon.hpp"

#include "login_engine.hpp"

namespace psc {

Result<std::unique_ptr<LoginBackend>> make_login_backend(const Config& cfg, sd_event* event,
                                                        DaemonLog log) {
    LoginEngineOptions opts;
    if (log)
        opts.provider.on_event = [log](const ProviderEvent& e) { log(e.message); };
    auto engine = LoginEngine::create(event, cfg, opts);
    if (!engine)
        return std::move(engine).error();
    return std::unique_ptr<LoginBackend>(std::move(*engine));
}

} // namespace psc
