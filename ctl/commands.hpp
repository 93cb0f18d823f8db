// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl subcommands. Each returns the process exit status: 0 success, 1 the thing checked is bad
// (token rejected, config invalid, login failed, daemon refused, ...), 2 bad usage or unreadable
// input, 3 the daemon (or the bus) is not reachable.
#pragma once

namespace psc::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnavailable = 3;

int cmd_verify_id_token(int argc, char** argv);
int cmd_check_config(int argc, char** argv);
int cmd_status(int argc, char** argv);
int cmd_sessions(int argc, char** argv);
int cmd_logout(int argc, char** argv);
int cmd_jwks(int argc, char** argv);
int cmd_map(int argc, char** argv);
int cmd_discover(int argc, char** argv);
int cmd_login(int argc, char** argv);

} // namespace psc::ctl
