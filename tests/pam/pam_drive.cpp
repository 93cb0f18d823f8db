// SPDX-License-Identifier: LGPL-2.1-or-later
// pam-drive: runs a PAM service through the real libpam (pam_start_confdir, so the service file
// comes from a test directory and never from /etc/pam.d) with a scripted conversation, for the
// pam_psc tests.
//
//   pam-drive --confdir DIR --service NAME --user USER [--rhost HOST] [--tty TTY]
//             [--ops auth,account,session] [--switch-user USER]
//
// stdout, line-buffered: every conversation message as "INFO: …", "ERROR: …", "PROMPT: …" or
// "PROMPT_OFF: …" (a message's own lines after the first are printed as they are), then
// "RESULT <op> <PAM_CODE_NAME>" for each operation and "ENV NAME=value" for PSC_* after a
// session opened. Answers to prompts are read from stdin, one line each; end of input (or the line
// "!fail") makes the conversation fail, as Ctrl-C does in a real application.
// --switch-user sets PAM_USER after auth (an application that changed its mind about the user);
// "-" sets it to the empty string.
// Operations: auth, account, setcred, session, close; "hold" prints HOLD and waits for a line on
// stdin; "unset-user" empties PAM_USER (an application that lost it between two calls).
// pam_syslog lines go to stderr as "SYSLOG: …" (libpam's __syslog_chk is interposed below).
// Exit status: 0 when every operation returned PAM_SUCCESS, else 1; 2 on a usage error.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <security/pam_appl.h>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Args {
    std::string confdir, service, user, rhost, tty, switch_user;
    std::vector<std::string> ops{"auth"};
};

const char* code_name(int r) {
    switch (r) {
#define N(x)                                                                                       \
    case x:                                                                                        \
        return #x;
        N(PAM_SUCCESS)
        N(PAM_OPEN_ERR)
        N(PAM_SYMBOL_ERR)
        N(PAM_SERVICE_ERR)
        N(PAM_SYSTEM_ERR)
        N(PAM_BUF_ERR)
        N(PAM_PERM_DENIED)
        N(PAM_AUTH_ERR)
        N(PAM_CRED_INSUFFICIENT)
        N(PAM_AUTHINFO_UNAVAIL)
        N(PAM_USER_UNKNOWN)
        N(PAM_MAXTRIES)
        N(PAM_NEW_AUTHTOK_REQD)
        N(PAM_ACCT_EXPIRED)
        N(PAM_SESSION_ERR)
        N(PAM_CONV_ERR)
        N(PAM_IGNORE)
        N(PAM_ABORT)
        N(PAM_INCOMPLETE)
        N(PAM_MODULE_UNKNOWN)
#undef N
    default:
        return "PAM_OTHER";
    }
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const std::size_t end = std::min(s.find(',', start), s.size());
        if (end > start)
            out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

bool parse(int argc, char** argv, Args& a) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--confdir")
            a.confdir = v;
        else if (k == "--service")
            a.service = v;
        else if (k == "--user")
            a.user = v;
        else if (k == "--rhost")
            a.rhost = v;
        else if (k == "--tty")
            a.tty = v;
        else if (k == "--ops")
            a.ops = split(v);
        else if (k == "--switch-user")
            a.switch_user = v;
        else
            return false;
    }
    return argc % 2 == 1 && !a.confdir.empty() && !a.service.empty() && !a.user.empty();
}

// One answer line from stdin, without its newline; false at end of input or on "!fail".
bool read_answer(std::string& out) {
    out.clear();
    int c;
    while ((c = std::getchar()) != EOF && c != '\n')
        out.push_back(static_cast<char>(c));
    if (c == EOF && out.empty())
        return false;
    return out != "!fail";
}

int converse(int n, const struct pam_message** msgs, struct pam_response** resp, void*) {
    auto* r =
        static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    if (r == nullptr)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; ++i) {
        const char* text = msgs[i]->msg ? msgs[i]->msg : "";
        switch (msgs[i]->msg_style) {
        case PAM_TEXT_INFO:
            std::printf("INFO: %s\n", text);
            break;
        case PAM_ERROR_MSG:
            std::printf("ERROR: %s\n", text);
            break;
        case PAM_PROMPT_ECHO_ON:
        case PAM_PROMPT_ECHO_OFF: {
            std::printf("%s: %s\n",
                        msgs[i]->msg_style == PAM_PROMPT_ECHO_ON ? "PROMPT" : "PROMPT_OFF", text);
            std::fflush(stdout);
            std::string answer;
            if (!read_answer(answer)) {
                std::printf("CONV: failing\n");
                for (int j = 0; j < i; ++j)
                    std::free(r[j].resp);
                std::free(r);
                return PAM_CONV_ERR;
            }
            r[i].resp = strdup(answer.c_str());
            break;
        }
        default:
            break;
        }
    }
    std::fflush(stdout);
    *resp = r;
    return PAM_SUCCESS;
}

int run_op(pam_handle_t* pamh, const std::string& op) {
    if (op == "auth")
        return pam_authenticate(pamh, 0);
    if (op == "account")
        return pam_acct_mgmt(pamh, 0);
    if (op == "setcred")
        return pam_setcred(pamh, PAM_ESTABLISH_CRED);
    if (op == "session") {
        const int r = pam_open_session(pamh, 0);
        for (const char* name : {"PSC_IDNAT", "PSC_PROFESSION"})
            if (const char* v = pam_getenv(pamh, name))
                std::printf("ENV %s=%s\n", name, v);
        return r;
    }
    if (op == "close")
        return pam_close_session(pamh, 0);
    if (op == "unset-user") // an application that lost PAM_USER between two PAM calls
        return pam_set_item(pamh, PAM_USER, "");
    if (op == "hold") { // the test looks at the open session, then sends a line to go on
        std::printf("HOLD\n");
        char line[64];
        return std::fgets(line, sizeof line, stdin) != nullptr ? PAM_SUCCESS : PAM_SYSTEM_ERR;
    }
    return PAM_SYSTEM_ERR;
}

} // namespace

// libpam's pam_syslog() ends in __syslog_chk (fortified); the executable's definition wins over
// libc's, so the tests can read the module's log lines without a syslog daemon.
extern "C" __attribute__((visibility("default"), format(printf, 3, 4))) void
__syslog_chk(int priority, int flag, const char* fmt, ...);

extern "C" void __syslog_chk(int priority, int, const char* fmt, ...) {
    std::va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "SYSLOG: <%d> ", priority & 7);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
}

int main(int argc, char** argv) {
    Args a;
    if (!parse(argc, argv, a)) {
        std::fprintf(stderr, "usage: pam-drive --confdir DIR --service NAME --user USER "
                             "[--rhost H] [--tty T] [--ops auth,account,session] "
                             "[--switch-user U]\n");
        return 2;
    }
    setvbuf(stdout, nullptr, _IOLBF, 0);
    setvbuf(stderr, nullptr, _IOLBF, 0);
    const struct pam_conv conv = {converse, nullptr};
    pam_handle_t* pamh = nullptr;
    int r = pam_start_confdir(a.service.c_str(), a.user.c_str(), &conv, a.confdir.c_str(), &pamh);
    if (r != PAM_SUCCESS) {
        std::printf("RESULT start %s\n", code_name(r));
        return 1;
    }
    if (!a.rhost.empty())
        (void)pam_set_item(pamh, PAM_RHOST, a.rhost.c_str());
    if (!a.tty.empty())
        (void)pam_set_item(pamh, PAM_TTY, a.tty.c_str());
    int status = 0;
    for (const auto& op : a.ops) {
        r = run_op(pamh, op);
        std::printf("RESULT %s %s\n", op.c_str(), code_name(r));
        if (r != PAM_SUCCESS) {
            status = 1;
            break;
        }
        // "-" clears PAM_USER (an application that lost it): pam_psc must fail, not carry on.
        if (op == "auth" && !a.switch_user.empty())
            (void)pam_set_item(pamh, PAM_USER, a.switch_user == "-" ? "" : a.switch_user.c_str());
    }
    pam_end(pamh, r);
    return status;
}
