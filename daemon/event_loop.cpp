// SPDX-License-Identifier: LGPL-2.1-or-later
#include "event_loop.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/epoll.h>

namespace psc {
namespace {

// curl timers are short (connect steps, 1 ms retries); sd-event's default accuracy of 250 ms
// would add that much latency to every step of every exchange.

uint32_t epoll_events(unsigned events) noexcept {
    uint32_t ev = 0;
    if (events & HttpLoop::readable)
        ev |= EPOLLIN;
    if (events & HttpLoop::writable)
        ev |= EPOLLOUT;
    return ev;
}

unsigned loop_events(uint32_t revents) noexcept {
    unsigned ev = HttpLoop::none;
    if (revents & EPOLLIN)
        ev |= HttpLoop::readable;
    if (revents & EPOLLOUT)
        ev |= HttpLoop::writable;
    if (revents & (EPOLLERR | EPOLLHUP))
        ev |= HttpLoop::error;
    return ev;
}

uint64_t monotonic_usec() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000U + static_cast<uint64_t>(ts.tv_nsec) / 1000U;
}

} // namespace

Result<SdEventPtr> event_new() {
    sd_event* e = nullptr;
    const int r = sd_event_new(&e);
    if (r < 0)
        return make_error(Errc::internal, "event_new",
                          std::string("cannot create an event loop: ") + std::strerror(-r));
    return SdEventPtr(e);
}

Result<std::unique_ptr<SdEventHttpLoop>> SdEventHttpLoop::create(sd_event* event) {
    if (!event)
        return make_error(Errc::internal, "event_new", "no event loop given");
    return std::unique_ptr<SdEventHttpLoop>(new SdEventHttpLoop(event));
}

Result<SdEventHttpClient> sd_event_http_client(sd_event* event, HttpOptions options) {
    SdEventHttpClient out;
    auto loop = SdEventHttpLoop::create(event);
    if (!loop)
        return std::move(loop).error();
    out.loop = std::move(*loop);
    auto client = HttpClient::create(std::move(options), out.loop.get());
    if (!client)
        return std::move(client).error();
    out.client = std::move(*client);
    out.loop->attach(*out.client);
    return out;
}

SdEventHttpLoop::~SdEventHttpLoop() {
    detach();
    timer_.reset();
    io_.clear();
}

void SdEventHttpLoop::attach(HttpClient& client) noexcept {
    client_ = &client;
}
void SdEventHttpLoop::detach() noexcept {
    client_ = nullptr;
}

void SdEventHttpLoop::watch(int fd, unsigned events) {
    const auto it = io_.find(fd);
    const uint32_t ev = epoll_events(events);
    if (ev == 0) {
        // CURL_POLL_REMOVE: curl is about to close the socket, so the source goes first (the
        // number may be reused by the next connection).
        if (it != io_.end())
            io_.erase(it);
        return;
    }
    if (it != io_.end()) {
        if (sd_event_source_set_io_events(it->second.get(), ev) < 0)
            ++errors_;
        return;
    }
    sd_event_source* s = nullptr;
    if (sd_event_add_io(event_.get(), &s, fd, ev, &SdEventHttpLoop::on_io, this) < 0) {
        ++errors_;
        return;
    }
    SdEventSourcePtr owned(s);
    try {
        io_.emplace(fd, std::move(owned));
    } catch (...) {
        ++errors_; // owned releases the source on the way out
    }
}

void SdEventHttpLoop::set_timeout(long ms) {
    if (ms < 0) {
        timer_.reset();
        return;
    }
    const uint64_t when = monotonic_usec() + static_cast<uint64_t>(ms) * 1000U;
    if (timer_) {
        if (sd_event_source_set_time(timer_.get(), when) < 0 ||
            sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT) < 0)
            ++errors_;
        return;
    }
    sd_event_source* s = nullptr;
    if (sd_event_add_time(event_.get(), &s, CLOCK_MONOTONIC, when, kTimerAccuracyUsec,
                          &SdEventHttpLoop::on_time, this) < 0) {
        ++errors_;
        return;
    }
    timer_.reset(s);
}

std::size_t SdEventHttpLoop::source_count() const noexcept {
    // A oneshot timer that fired and was not re-armed is off: it no longer counts.
    const bool armed = timer_ && sd_event_source_get_enabled(timer_.get(), nullptr) > 0;
    return io_.size() + (armed ? 1U : 0U);
}

int SdEventHttpLoop::on_io(sd_event_source*, int fd, uint32_t revents, void* userdata) noexcept {
    auto* self = static_cast<SdEventHttpLoop*>(userdata);
    try {
        if (self->client_)
            self->client_->on_socket_ready(fd, loop_events(revents));
    } catch (...) {
        // Nothing may unwind into sd-event; a negative return disables only this source.
        return -EIO;
    }
    return 0;
}

int SdEventHttpLoop::on_time(sd_event_source*, uint64_t, void* userdata) noexcept {
    auto* self = static_cast<SdEventHttpLoop*>(userdata);
    try {
        if (self->client_)
            self->client_->on_timeout();
    } catch (...) {
        return -EIO;
    }
    return 0;
}

} // namespace psc
