// SPDX-License-Identifier: LGPL-2.1-or-later
#include "login_flow.hpp"

#include "display.hpp"
#include "error_map.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <security/_pam_types.h>
#include <syslog.h>

namespace psc::pam {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kPassiveSliceMs = 5000; // how long one WaitLogin may block
constexpr std::uint32_t kAfterEnterMs = 3000;   // after Enter: the approval may be just behind
constexpr auto kInfoEvery = 30s;                // remaining-time line while waiting silently
constexpr auto kDefaultTimeout = 180s;          // design §9, when the daemon gives no expiry
constexpr std::size_t kMaxPaste = 2048;         // the daemon caps D-Bus strings at 1 KiB
constexpr int kMaxChoiceAttempts = 3;

std::string flow_label(const std::string& flow, Lang lang) {
    if (flow == "code")
        return text(Msg::flow_code, lang);
    if (flow == "ciba")
        return text(Msg::flow_ciba, lang);
    if (flow == "device")
        return text(Msg::flow_device, lang);
    return flow;
}

// The daemon's order, restricted to flows= when given.
std::vector<std::string> filter_flows(const std::vector<std::string>& offered,
                                      const std::vector<std::string>& wanted) {
    if (wanted.empty())
        return offered;
    std::vector<std::string> out;
    for (const auto& f : offered)
        if (std::find(wanted.begin(), wanted.end(), f) != wanted.end())
            out.push_back(f);
    return out;
}

class LoginRun {
public:
    LoginRun(AuthApi& api, Conversation& conv, Log& log, const LoginContext& ctx)
        : api_(api), conv_(conv), log_(log), ctx_(ctx) {}
    LoginRun(const LoginRun&) = delete;
    LoginRun& operator=(const LoginRun&) = delete;
    // Every way out of run() that leaves the daemon's login running cancels it.
    ~LoginRun() { cancel("abandoned"); }

    AuthResult run() {
        auto flow = choose_flow();
        if (!flow)
            return conv_failed_ ? AuthResult{PAM_CONV_ERR, {}} : fail(flow.error());
        auto started = api_.start_login({ctx_.user, ctx_.service, ctx_.rhost, ctx_.tty, *flow});
        if (!started)
            return fail(started.error());
        id_ = started->login_id;
        live_ = true;
        display_ = std::move(started->display);
        debug("login started, flow " + display_.flow);
        const auto timeout = ctx_.options.timeout.value_or(
            display_.expires_in > 0 ? std::chrono::seconds(display_.expires_in) : kDefaultTimeout);
        deadline_ = ctx_.now() + timeout;
        if (auto st = show(); !st)
            return conv_failed(st.error());
        return use_prompt(ctx_.options.prompt, ctx_.rhost) ? wait_prompting() : wait_passive();
    }

private:
    Result<std::string> choose_flow() {
        auto offered = api_.get_flows(ctx_.user, ctx_.service);
        if (!offered)
            return std::move(offered).error();
        const auto flows = filter_flows(*offered, ctx_.options.flows);
        if (flows.empty())
            return make_error(Errc::config, "no_flow",
                              "no flow both offered by psc-authd to \"" + ctx_.service +
                                  "\" and allowed by flows=");
        if (flows.size() == 1 || ctx_.options.prompt == PromptMode::never)
            return flows.front();
        std::string menu = text(Msg::choose_flow, ctx_.lang);
        for (std::size_t i = 0; i < flows.size(); ++i)
            menu += "\n  " + std::to_string(i + 1) + ") " + flow_label(flows[i], ctx_.lang);
        if (auto st = conv_.info(menu); !st)
            return note_conv_failure(st.error());
        for (int attempt = 0; attempt < kMaxChoiceAttempts; ++attempt) {
            auto answer = conv_.prompt(text(Msg::choose_prompt, ctx_.lang));
            if (!answer)
                return note_conv_failure(answer.error());
            const std::string_view a = trim(answer->view());
            if (a.empty())
                return flows.front();
            if (auto n = parse_int<std::size_t>(a, 1, flows.size()))
                return flows[*n - 1];
            conv_.error(text(Msg::choose_invalid, ctx_.lang));
        }
        return make_error(Errc::invalid, "flow_choice", "no valid flow chosen");
    }

    Error note_conv_failure(const Error& e) {
        conv_failed_ = true;
        log_.write(LOG_ERR, "Failed to converse with the application: " + e.describe());
        return e;
    }

    Status show() {
        DisplayStyle style{ctx_.lang, want_qr(ctx_.options.qr, ctx_.rhost), ctx_.qr_style};
        auto lines = display_lines(display_, style);
        if (!lines.qr_error.empty())
            log_.write(LOG_WARNING, "Failed to draw the QR code: " + lines.qr_error);
        for (const auto& m : lines.messages)
            PSC_TRY(conv_.info(m));
        return {};
    }

    [[nodiscard]] std::chrono::milliseconds left() const {
        return std::max(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - ctx_.now()), 0ms);
    }

    std::uint32_t slice(std::uint32_t max_ms) const {
        return static_cast<std::uint32_t>(
            std::min<long long>(max_ms, std::max<long long>(left().count(), 1)));
    }

    Status info_remaining() {
        const auto s = std::chrono::duration_cast<std::chrono::seconds>(left()).count();
        return conv_.info(text(Msg::remaining, ctx_.lang, format_duration(s)));
    }

    // Local terminal, GDM: the info lines are on screen already; block in WaitLogin slices.
    AuthResult wait_passive() {
        auto last_info = ctx_.now();
        while (left() > 0ms) {
            auto r = api_.wait_login(id_, slice(kPassiveSliceMs));
            if (!r)
                return ended(r.error());
            if (r->done)
                return finish(*r);
            // confirm_code: the browser's page shows a code; only the person here can type it.
            if (r->confirm) {
                auto typed = conv_.prompt(text(Msg::prompt_code, ctx_.lang));
                if (!typed)
                    return conv_failed(typed.error());
                if (auto done = submit(trim(typed->view()), Msg::code_rejected))
                    return *done;
                continue;
            }
            if (ctx_.now() - last_info >= kInfoEvery) {
                if (auto st = info_remaining(); !st)
                    return conv_failed(st.error());
                last_info = ctx_.now();
            }
        }
        return timed_out();
    }

    // SSH (and prompt=always): Enter checks, a pasted address completes the code flow.
    AuthResult wait_prompting() {
        while (left() > 0ms) {
            auto answer = conv_.prompt(text(display_.confirm_code    ? Msg::prompt_paste_code
                                            : display_.accepts_paste ? Msg::prompt_paste
                                                                     : Msg::prompt_enter,
                                            ctx_.lang));
            if (!answer)
                return conv_failed(answer.error());
            const std::string_view a = trim(answer->view());
            if (a.empty() || !display_.accepts_paste) {
                if (!a.empty())
                    (void)conv_.info(text(Msg::paste_unused, ctx_.lang));
                auto r = api_.wait_login(id_, slice(kAfterEnterMs));
                if (!r)
                    return ended(r.error());
                if (r->done)
                    return finish(*r);
                if (auto st = info_remaining(); !st)
                    return conv_failed(st.error());
                continue;
            }
            if (auto done = submit(a, Msg::paste_rejected))
                return *done;
        }
        return timed_out();
    }

    // A pasted address or a confirmation code: the outcome when it ended the login, or nullopt
    // when the daemon refused the text and the login goes on (someone else's address, a typo, a
    // wrong code).
    std::optional<AuthResult> submit(std::string_view a, Msg rejected) {
        if (a.size() > kMaxPaste) {
            (void)conv_.info(text(Msg::paste_too_long, ctx_.lang));
            return std::nullopt;
        }
        auto r = api_.submit_callback(id_, a);
        if (r)
            return finish(*r);
        auto probe = api_.wait_login(id_, 0);
        if (!probe || probe->done)
            return probe && probe->done ? finish(*probe) : ended(r.error());
        (void)conv_.info(text(rejected, ctx_.lang, r.error().reason));
        return std::nullopt;
    }

    AuthResult finish(const Outcome& o) {
        live_ = false; // a finished login is forgotten by the daemon
        if (o.user != ctx_.user) {
            log_.write(LOG_ERR, "Failed to authenticate: psc-authd answered for \"" + o.user +
                                    "\", not \"" + ctx_.user + "\"");
            conv_.error(text(Msg::err_wrong_user, ctx_.lang));
            acknowledge(PAM_PERM_DENIED);
            return {PAM_PERM_DENIED, {}};
        }
        log_.write(LOG_NOTICE, "authenticated " + ctx_.user + " (idNat " + o.idnat + ", " +
                                   display_.flow + ", " + o.auth_mode + ")");
        return {PAM_SUCCESS, Decision{o.user, o.idnat, o.profession, o.auth_mode, o.session_ticket}};
    }

    // The daemon answered with an error: the login is over on its side.
    AuthResult ended(const Error& e) {
        live_ = false;
        return fail(e);
    }

    AuthResult fail(const Error& e) {
        const int code = report_failure(conv_, log_, ctx_.lang, e);
        acknowledge(code);
        return {code, {}};
    }

    // OpenSSH's keyboard-interactive shows info and error lines only together with a prompt: without
    // one more, an SSH user would never read why the login was refused. Not for
    // PAM_AUTHINFO_UNAVAIL or PAM_USER_UNKNOWN (the next module prompts anyway), nor once the
    // conversation has failed. The answer is not used; the PAM code is already decided.
    void acknowledge(int pam_code) {
        if (pam_code == PAM_AUTHINFO_UNAVAIL || pam_code == PAM_USER_UNKNOWN || conv_failed_ ||
            !use_prompt(ctx_.options.prompt, ctx_.rhost))
            return;
        (void)conv_.prompt(text(Msg::ack_failure, ctx_.lang));
    }

    AuthResult timed_out() {
        cancel("timeout");
        return fail(make_error(Errc::timeout, "pam_timeout", "no answer before the deadline"));
    }

    AuthResult conv_failed(const Error& e) {
        (void)note_conv_failure(e);
        cancel("conversation failed");
        return {PAM_CONV_ERR, {}};
    }

    void cancel(const char* why) noexcept {
        if (!live_)
            return;
        live_ = false;
        try {
            if (auto st = api_.cancel_login(id_); !st)
                log_.write(LOG_WARNING, "Failed to cancel the login (" + std::string(why) +
                                            "): " + st.error().describe());
            else
                log_.write(LOG_NOTICE, std::string("login cancelled: ") + why);
        } catch (...) {
        }
    }

    void debug(const std::string& line) {
        if (ctx_.options.debug)
            log_.write(LOG_DEBUG, line);
    }

    AuthApi& api_;
    Conversation& conv_;
    Log& log_;
    const LoginContext& ctx_;
    std::string id_;
    bool live_ = false;
    bool conv_failed_ = false;
    Display display_;
    Clock::time_point deadline_{};
};

} // namespace

bool use_prompt(PromptMode mode, std::string_view rhost) noexcept {
    switch (mode) {
    case PromptMode::always:
        return true;
    case PromptMode::never:
        return false;
    case PromptMode::automatic:
        break;
    }
    return !rhost.empty();
}

int report_failure(Conversation& conv, Log& log, Lang lang, const Error& e) {
    const PamFailure f = pam_failure_for(e.code);
    // An account psc-login does not manage (root, service accounts, unmapped users) goes to the
    // next module without a word: the person at the prompt sees that module's prompt, nothing else.
    if (e.code == Errc::unknown_user) {
        log.write(LOG_INFO, "not a psc-login account, passed on: " + e.describe());
        return f.pam_code;
    }
    log.write(e.code == Errc::denied || e.code == Errc::unknown_user ? LOG_NOTICE : LOG_ERR,
              "Failed to authenticate via psc-authd: " + e.describe());
    if (e.reason == "ciba_throttled") {
        // The daemon says when: "ciba_throttled: next push for this account in 45 s".
        const auto in = e.message.rfind(" in ");
        const std::string when = in == std::string::npos ? "" : e.message.substr(in + 1);
        conv.error(text(Msg::err_push_throttled, lang, when.empty() ? "later" : when));
        return f.pam_code;
    }
    conv.error(text(f.message, lang, e.reason));
    return f.pam_code;
}

AuthResult run_login(AuthApi& api, Conversation& conv, Log& log, const LoginContext& ctx) {
    LoginRun run(api, conv, log, ctx);
    return run.run();
}

} // namespace psc::pam
