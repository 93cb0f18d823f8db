// SPDX-License-Identifier: LGPL-2.1-or-later
#include "module.hpp"

#include "bus_client.hpp"
#include "decision.hpp"
#include "login_flow.hpp"
#include "pam_glue.hpp"

#include <syslog.h>

namespace psc::pam {
namespace {

Options options_from(PamLog& log, int argc, const char** argv) {
    ParsedArgs args = parse_args(argc, argv);
    for (const auto& w : args.warnings)
        log.write(LOG_WARNING, w);
    return std::move(args.options);
}

LoginContext context_for(pam_handle_t* pamh, const PamItems& items, Options options) {
    LoginContext ctx;
    ctx.user = items.user;
    ctx.service = items.service;
    ctx.rhost = items.rhost;
    ctx.tty = items.tty;
    ctx.lang = resolve_lang(options.lang, env_value(pamh, "LC_ALL"), env_value(pamh, "LC_MESSAGES"),
                            env_value(pamh, "LANG"));
    ctx.qr_style = qr_style_for_locale(env_value(pamh, "LC_ALL"), env_value(pamh, "LC_CTYPE"),
                                       env_value(pamh, "LANG"));
    ctx.options = std::move(options);
    return ctx;
}

} // namespace

// OpenSSH hands keyboard-interactive PAM a fake PAM_AUTHTOK for invalid users
// ("\b\n\r\177INCORRECT"); this module never reads PAM_AUTHTOK, so it never matters.
int authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    PamLog log(pamh);
    Options options = options_from(log, argc, argv);
    clear_decisions(pamh);
    PamItems items;
    if (const int r = read_items(pamh, items); r != PAM_SUCCESS) {
        log.write(LOG_ERR, std::string("Failed to get the user name: ") + pam_strerror(pamh, r));
        return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
    }
    const LoginContext ctx = context_for(pamh, items, std::move(options));
    PamConversation conv(pamh, (flags & PAM_SILENT) != 0);
    auto client = BusClient::open();
    if (!client)
        return report_failure(conv, log, ctx.lang, client.error());
    const AuthResult result = run_login(**client, conv, log, ctx);
    if (result.pam_code != PAM_SUCCESS)
        return result.pam_code;
    if (!result.decision || result.decision->user != items.user)
        return PAM_SYSTEM_ERR; // run_login's contract; fail closed all the same
    if (const int r = store_decision(pamh, *result.decision); r != PAM_SUCCESS) {
        log.write(LOG_ERR, std::string("Failed to keep the decision: ") + pam_strerror(pamh, r));
        return PAM_SYSTEM_ERR;
    }
    return PAM_SUCCESS;
}

int account(pam_handle_t* pamh, int, int argc, const char** argv) {
    PamLog log(pamh);
    const Options options = options_from(log, argc, argv);
    const char* user = nullptr;
    if (pam_get_item(pamh, PAM_USER, reinterpret_cast<const void**>(&user)) != PAM_SUCCESS ||
        user == nullptr || *user == '\0') {
        log.write(LOG_ERR, "Failed to check the account: no PAM_USER");
        return PAM_USER_UNKNOWN;
    }
    const Decision* mine = find_decision(pamh, decision_key(user));
    const Decision* last = find_decision(pamh, kDecisionKey);
    const int r = account_result(mine, last, user, options.account);
    if (r == PAM_PERM_DENIED)
        log.write(LOG_ERR, last != nullptr ? "Failed to check the account: authenticated as \"" +
                                                 last->user + "\", not \"" + user + "\""
                                           : "Failed to check the account: no pam_psc "
                                             "authentication (account=require)");
    else if (r == PAM_IGNORE && options.debug)
        log.write(LOG_DEBUG, "no pam_psc decision for this handle: ignored");
    return r;
}

int open_session(pam_handle_t* pamh, int, int argc, const char** argv) {
    PamLog log(pamh);
    const Options options = options_from(log, argc, argv);
    if (!options.env)
        return PAM_SUCCESS;
    const char* user = nullptr;
    if (pam_get_item(pamh, PAM_USER, reinterpret_cast<const void**>(&user)) != PAM_SUCCESS ||
        user == nullptr || *user == '\0') {
        log.write(LOG_ERR, "Failed to open the session: no PAM_USER");
        return PAM_SESSION_ERR;
    }
    // No decision (another module authenticated): nothing to export, which is not an error.
    const Decision* d = find_decision(pamh, decision_key(user));
    if (d == nullptr || d->user != user)
        return PAM_SUCCESS;
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string&>{"PSC_IDNAT", d->idnat},
          {"PSC_PROFESSION", d->profession}}) {
        const std::string entry = std::string(name) + "=" + value;
        if (const int r = pam_putenv(pamh, entry.c_str()); r != PAM_SUCCESS) {
            log.write(LOG_ERR, std::string("Failed to set ") + name + ": " + pam_strerror(pamh, r));
            return PAM_SESSION_ERR;
        }
    }
    return PAM_SUCCESS;
}

} // namespace psc::pam
