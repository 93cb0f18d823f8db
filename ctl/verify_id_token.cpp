// SPDX-License-Identifier: LGPL-2.1-or-later
#include "commands.hpp"

#include <cstdio>

namespace psc::ctl {

// (placeholder: implemented in a following commit)
int cmd_verify_id_token(int, char**) {
    std::fputs("pscctl verify-id-token: not implemented yet\n", stderr);
    return kExitUsage;
}

} // namespace psc::ctl
