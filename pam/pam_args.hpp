// SPDX-License-Identifier: LGPL-2.1-or-later
// pam_psc(8) module arguments (design §6), parsed into one per-call options struct (as pam_faillock
// does): no globals, defaults first, then the arguments. Unknown arguments and bad values are
// reported as warnings for the caller to log, and ignored (the default stays in force).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace psc::pam {

enum class QrMode { automatic, on, off };
enum class PromptMode { automatic, always, never };
// `both` prints each line in French and English ("… / …"): the default when the locale says
// neither, as it does over SSH where sshd runs PAM without LANG.
enum class Lang { automatic, fr, en, both };
// What `account` does when no decision was stored at `auth` (another module authenticated).
enum class AccountMode { ignore, require };

struct Options {
    bool debug = false;
    std::vector<std::string> flows; // empty: every flow the daemon offers to the service
    std::optional<std::chrono::seconds> timeout;
    QrMode qr = QrMode::automatic;
    PromptMode prompt = PromptMode::automatic;
    Lang lang = Lang::automatic;
    bool env = false; // session: pam_putenv PSC_IDNAT and PSC_PROFESSION
    AccountMode account = AccountMode::ignore;
};

struct ParsedArgs {
    Options options;
    std::vector<std::string> warnings; // one line each, for pam_syslog
};

inline constexpr std::chrono::seconds kMinTimeout{5};
inline constexpr std::chrono::seconds kMaxTimeout{3600};

[[nodiscard]] ParsedArgs parse_args(int argc, const char** argv);

} // namespace psc::pam
