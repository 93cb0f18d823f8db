// SPDX-License-Identifier: LGPL-2.1-or-later
#include "token_poller.hpp"

#include <utility>
#include <variant>

namespace psc {

namespace {

// sd-event's CLOCK_MONOTONIC and libstdc++'s steady_clock read the same clock.
uint64_t monotonic_usec(TokenPoller::Clock::time_point t) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
    return us.count() > 0 ? static_cast<uint64_t>(us.count()) : 0;
}

} // namespace

Status TokenPoller::start(PollOptions opts, BuildPoll build, Done done) {
    opts_ = std::move(opts);
    build_ = std::move(build);
    done_ = std::move(done);
    const auto now = Clock::now();
    schedule_.emplace(now, opts_.interval, opts_.expires_in);
    return arm(schedule_->next_poll(now));
}

Status TokenPoller::arm(Clock::time_point when) {
    const uint64_t usec = monotonic_usec(when);
    if (timer_) {
        if (sd_event_source_set_time(timer_.get(), usec) < 0 ||
            sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT) < 0)
            return make_error(Errc::internal, "event_source", "cannot re-arm the poll timer");
        return {};
    }
    sd_event_source* s = nullptr;
    if (sd_event_add_time(event_, &s, CLOCK_MONOTONIC, usec, kTimerAccuracyUsec, &on_timer,
                          this) < 0)
        return make_error(Errc::internal, "event_source", "cannot add the poll timer");
    timer_ = SdEventSourcePtr(s);
    return {};
}

int TokenPoller::on_timer(sd_event_source*, uint64_t, void* userdata) noexcept {
    try {
        static_cast<TokenPoller*>(userdata)->poll();
    } catch (...) { // nothing may cross sd-event's C callback
    }
    return 0;
}

void TokenPoller::poll() {
    if (!done_)
        return;
    auto form = build_();
    if (!form)
        return finish(std::move(form).error());
    auto id = http_.start(to_http_request(*form),
                          [this](Result<HttpResponse> r) { on_answer(std::move(r)); });
    if (!id)
        return finish(std::move(id).error());
    ++polls_;
    request_ = ScopedHttpRequest(http_, *id);
}

void TokenPoller::on_answer(Result<HttpResponse> resp) {
    if (!resp) {
        // Only the provider's side can be transient; anything else is final.
        if (resp.error().code != Errc::unavailable || ++transient_ > opts_.max_transient_failures)
            return finish(std::move(resp).error());
        return again(std::move(resp).error());
    }
    auto parsed =
        parse_token_response(static_cast<int>(resp->status), resp->body, opts_.require_id_token,
                             opts_.json_max_depth);
    if (!parsed)
        return finish(std::move(parsed).error());
    const auto* e = std::get_if<OAuthError>(&*parsed);
    if (!e)
        return finish(std::get<TokenResponse>(std::move(*parsed)));
    if (!oauth_error_is_pending(e->kind))
        return finish(oauth_error_to_error(*e));
    transient_ = 0;
    if (e->kind == OAuthErrorKind::slow_down)
        schedule_->slow_down();
    again(make_error(Errc::timeout, opts_.expired_reason,
                     "the provider's expires_in passed before the user answered"));
}

// Polls once more, unless expires_in has passed: then `last` (the pending answer's timeout or
// the transient failure) ends the login.
void TokenPoller::again(Error last) {
    const auto now = Clock::now();
    if (schedule_->expired(now))
        return finish(std::move(last));
    if (auto st = arm(schedule_->next_poll(now)); !st)
        finish(std::move(st).error());
}

void TokenPoller::finish(Result<TokenResponse> r) {
    if (!done_)
        return;
    if (timer_)
        (void)sd_event_source_set_enabled(timer_.get(), SD_EVENT_OFF);
    auto done = std::exchange(done_, nullptr);
    done(std::move(r));
}

} // namespace psc
