// SPDX-License-Identifier: LGPL-2.1-or-later
#include "daemon.hpp"

#include "login_engine.hpp"

namespace psc {

Result<std::unique_ptr<LoginBackend>> make_login_backend(const Config& cfg, sd_event* event) {
    auto engine = LoginEngine::create(event, cfg);
    if (!engine)
        return std::move(engine).error();
    return std::unique_ptr<LoginBackend>(std::move(*engine));
}

} // namespace psc
