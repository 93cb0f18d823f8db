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

namespace {

// The decision `auth` left for the session's user, or nullptr (another module authenticated).
const Decision* session_decision(pam_handle_t* pamh, PamLog& log, const char* what, int& rc) {
    const char* user = nullptr;
    if (pam_get_item(pamh, PAM_USER, reinterpret_cast<const void**>(&user)) != PAM_SUCCESS ||
        user == nullptr || *user == '\0') {
        log.write(LOG_ERR, std::string("Failed to ") + what + ": no PAM_USER");
        rc = PAM_SESSION_ERR;
        return nullptr;
    }
    const Decision* d = find_decision(pamh, decision_key(user));
    return d != nullptr && d->user == user ? d : nullptr;
}

// OpenSession / CloseSession with the ticket of this authentication. A failure is logged and
// returned as PAM_SESSION_ERR; the shipped stacks list pam_psc's session line as optional, so a
// daemon restarted between login and logout never blocks the session itself.
int record_session(pam_handle_t* pamh, PamLog& log, const Decision& d, bool open) {
    if (d.session_ticket.empty())
        return PAM_SUCCESS; // the daemon kept no record for this login (its store was full)
    auto client = BusClient::open();
    Status st = client ? Status{} : Status(client.error());
    if (client) {
        if (open) {
            const char* logind = pam_getenv(pamh, "XDG_SESSION_ID");
            st = (*client)->open_session(d.session_ticket, logind ? logind : "");
        } else {
            st = (*client)->close_session(d.session_ticket);
        }
    }
    if (!st) {
        log.write(LOG_ERR, std::string("Failed to ") + (open ? "record" : "end") +
                               " the session with psc-authd: " + st.error().describe());
        return PAM_SESSION_ERR;
    }
    return PAM_SUCCESS;
}

} // namespace

int open_session(pam_handle_t* pamh, int, int argc, const char** argv) {
    PamLog log(pamh);
    const Options options = options_from(log, argc, argv);
    int rc = PAM_SUCCESS;
    const Decision* d = session_decision(pamh, log, "open the session", rc);
    if (d == nullptr)
        return rc; // no decision (another module authenticated): nothing to do, not an error
    if (options.env) {
        for (const auto& [name, value] :
             {std::pair<const char*, const std::string&>{"PSC_IDNAT", d->idnat},
              {"PSC_PROFESSION", d->profession}}) {
            const std::string entry = std::string(name) + "=" + value;
            if (const int r = pam_putenv(pamh, entry.c_str()); r != PAM_SUCCESS) {
                log.write(LOG_ERR,
                          std::string("Failed to set ") + name + ": " + pam_strerror(pamh, r));
                return PAM_SESSION_ERR;
            }
        }
    }
    return record_session(pamh, log, *d, true);
}

int close_session(pam_handle_t* pamh, int, int argc, const char** argv) {
    PamLog log(pamh);
    (void)options_from(log, argc, argv); // unknown arguments are logged as for every entry point
    int rc = PAM_SUCCESS;
    const Decision* d = session_decision(pamh, log, "close the session", rc);
    if (d == nullptr)
        return rc;
    return record_session(pamh, log, *d, false);
}

} // namespace psc::pam
