// SPDX-License-Identifier: LGPL-2.1-or-later
#include "directory_lookups.hpp"

#include <condition_variable>
#include <csignal>
#include <pthread.h>
#include <deque>
#include <mutex>
#include <sys/eventfd.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace psc {

using Clock = std::chrono::steady_clock;

struct DirectoryLookups::Shared {
    struct Job {
        std::uint64_t id;
        std::string user;
    };
    struct Answer {
        std::uint64_t id;
        std::string user;
        Result<DirectoryMapping> result;
    };

    std::unique_ptr<DirectorySearch> search; // used by the lookup thread only
    int efd = -1;

    std::mutex mu;
    std::condition_variable cv;
    std::deque<Job> jobs;
    std::vector<Answer> answers;
    bool stop = false;

    ~Shared() {
        if (efd >= 0)
            ::close(efd);
    }

    void post(std::vector<Answer> more) {
        {
            std::lock_guard lock(mu);
            for (auto& a : more)
                answers.push_back(std::move(a));
        }
        const std::uint64_t one = 1;
        (void)!::write(efd, &one, sizeof one);
    }

    // The lookup thread. It keeps `self` alive: the engine may drop its side at any time (a
    // reload), and the thread then ends after its current lookup, bounded by ldap_timeout or sssd_timeout.
    static void run(std::shared_ptr<Shared> self) {
        // A write to a directory connection the server has closed must fail with EPIPE, never
        // end the daemon (psc-authd also ignores SIGPIPE; this holds wherever the engine runs).
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        (void)pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
        for (;;) {
            Job job;
            {
                std::unique_lock lock(self->mu);
                self->cv.wait(lock, [&] { return self->stop || !self->jobs.empty(); });
                if (self->stop)
                    return;
                job = std::move(self->jobs.front());
                self->jobs.pop_front();
            }
            Result<DirectoryMapping> r =
                directory_account_idnat(*self->search, job.user);
            std::vector<Answer> out;
            const bool unreachable = !r && r.error().code == Errc::unavailable;
            if (unreachable) {
                // Every lookup waiting meanwhile gets the same answer: the directory was just
                // tried and could not be reached, and each would wait for it again.
                std::lock_guard lock(self->mu);
                for (auto& job_waiting : self->jobs)
                    out.push_back(Answer{job_waiting.id, std::move(job_waiting.user), r.error()});
                self->jobs.clear();
            }
            out.insert(out.begin(), Answer{job.id, std::move(job.user), std::move(r)});
            self->post(std::move(out));
        }
    }
};

DirectoryLookups::DirectoryLookups(sd_event* event, std::chrono::seconds cache_ttl)
    : event_(event), ttl_(cache_ttl), shared_(std::make_shared<Shared>()) {}

Result<std::unique_ptr<DirectoryLookups>>
DirectoryLookups::create(sd_event* event, std::chrono::seconds cache_ttl,
                         std::unique_ptr<DirectorySearch> search) {
    std::unique_ptr<DirectoryLookups> d(new DirectoryLookups(event, cache_ttl));
    d->shared_->search = std::move(search);
    d->shared_->efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->shared_->efd < 0)
        return make_error(Errc::internal, "event_source", "cannot create the lookup eventfd");
    sd_event_source* src = nullptr;
    if (sd_event_add_io(event, &src, d->shared_->efd, EPOLLIN, on_ready, d.get()) < 0)
        return make_error(Errc::internal, "event_source", "cannot watch the lookup eventfd");
    d->io_.reset(src);
    src = nullptr;
    if (sd_event_add_defer(
            event, &src,
            [](sd_event_source*, void* userdata) {
                static_cast<DirectoryLookups*>(userdata)->drain();
                return 0;
            },
            d.get()) < 0 ||
        sd_event_source_set_enabled(src, SD_EVENT_OFF) < 0)
        return make_error(Errc::internal, "event_source", "cannot add the lookup source");
    d->defer_.reset(src);
    try {
        std::thread(Shared::run, d->shared_).detach();
    } catch (const std::system_error&) {
        return make_error(Errc::internal, "directory_thread", "cannot start the directory lookup thread");
    }
    return d;
}

DirectoryLookups::~DirectoryLookups() {
    {
        std::lock_guard lock(shared_->mu);
        shared_->stop = true;
        shared_->jobs.clear();
    }
    shared_->cv.notify_all();
}

Result<std::uint64_t> DirectoryLookups::account_idnat(const std::string& user, Done done) {
    const std::uint64_t id = next_id_++;
    if (auto it = cache_.find(user); it != cache_.end()) {
        if (Clock::now() < it->second.until) {
            waiting_.emplace(id, std::move(done));
            ready_.emplace(id, it->second.mapping);
            (void)sd_event_source_set_enabled(defer_.get(), SD_EVENT_ONESHOT);
            return id;
        }
        cache_.erase(it);
    }
    {
        std::lock_guard lock(shared_->mu);
        if (shared_->jobs.size() >= kMaxQueued)
            return make_error(Errc::busy, "directory_busy",
                              "too many directory lookups are waiting");
        shared_->jobs.push_back(Shared::Job{id, user});
    }
    shared_->cv.notify_one();
    waiting_.emplace(id, std::move(done));
    return id;
}

void DirectoryLookups::cancel(std::uint64_t id) noexcept {
    waiting_.erase(id);
    ready_.erase(id);
}

int DirectoryLookups::on_ready(sd_event_source*, int fd, std::uint32_t, void* userdata) {
    std::uint64_t n = 0;
    (void)!::read(fd, &n, sizeof n);
    static_cast<DirectoryLookups*>(userdata)->drain();
    return 0;
}

void DirectoryLookups::drain() {
    std::vector<Shared::Answer> answers;
    {
        std::lock_guard lock(shared_->mu);
        answers.swap(shared_->answers);
    }
    const auto now = Clock::now();
    for (auto& a : answers) {
        if (a.result && ttl_.count() > 0) {
            if (cache_.size() >= kMaxCached)
                std::erase_if(cache_, [&](const auto& kv) { return kv.second.until <= now; });
            if (cache_.size() >= kMaxCached)
                cache_.clear();
            cache_.insert_or_assign(a.user, Cached{*a.result, now + ttl_});
        }
    }
    std::map<std::uint64_t, Result<DirectoryMapping>> hits;
    hits.swap(ready_);
    for (auto& [id, r] : hits)
        deliver(id, std::move(r));
    for (auto& a : answers)
        deliver(a.id, std::move(a.result));
}

// A callback may start or cancel other lookups: it runs after its entry is gone.
void DirectoryLookups::deliver(std::uint64_t id, Result<DirectoryMapping> r) {
    auto it = waiting_.find(id);
    if (it == waiting_.end())
        return;
    Done done = std::move(it->second);
    waiting_.erase(it);
    done(std::move(r));
}

} // namespace psc
