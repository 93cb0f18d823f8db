// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-login.conf parsing and validation on arbitrary bytes: the INI reader, every value parser,
// the presets and the cross-key rules. Every issue must carry a location and a reason, and a
// failed load must report at least one error.
#include "config.hpp"
#include "ini.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    psc::ConfigDiagnostics diag;
    auto r = psc::load_config_from_text("fuzz.conf", in, &diag);
    if (r.ok() != diag.errors.empty())
        __builtin_trap();
    for (const auto* list : {&diag.errors, &diag.warnings})
        for (const auto& issue : *list)
            if (issue.reason.empty() || issue.text().empty())
                __builtin_trap();
    if (r.ok()) {
        // Effective settings for a configured and an unconfigured service.
        for (const auto& [name, ov] : r->services)
            if (r->policy_for(name).login.flows.empty())
                __builtin_trap();
        if (r->login_for("fuzz").flows.empty())
            __builtin_trap();
    }
    return 0;
}
