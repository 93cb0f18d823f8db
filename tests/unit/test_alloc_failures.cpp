// SPDX-License-Identifier: LGPL-2.1-or-later
// Allocation failures injected along a whole login (design §3: fail closed): the engine is created,
// loads the provider from a real mock-psc, starts a code-flow login, takes the pasted-back
// address, exchanges the code, validates the ID token, fetches UserInfo, decides, and is
// destroyed — with the Nth operator new on this thread throwing std::bad_alloc, for many N. Each
// run must end in a failure code (or, when the failed allocation did not matter, the one right
// success), never hang past its deadline, never crash; the ASan build checks that nothing leaked.
#include "testing.hpp"

#include "config.hpp"
#include "engine_test_config.hpp"
#include "event_loop.hpp"
#include "login_engine.hpp"
#include "mock_harness.hpp"

#include <atomic>
#include <cstdlib>
#include <curl/curl.h>
#include <filesystem>
#include <fstream>
#include <new>
#include <sys/stat.h>
#include <thread>

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_count{0};
std::atomic<long> g_fail_at{0}; // 0: never
std::thread::id g_main;

} // namespace

// The replaceable allocation functions: count on the main thread, fail the chosen one.
void* operator new(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed) && std::this_thread::get_id() == g_main) {
        const long c = ++g_count;
        if (c == g_fail_at.load(std::memory_order_relaxed))
            throw std::bad_alloc();
    }
    if (void* p = std::malloc(n ? n : 1))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return operator new(n);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

using namespace psc;
using psc::mocktest::shared_mock;

constexpr const char* kMedecin = "810001234567";
std::string g_dir;

struct Counting {
    Counting() { g_counting = true; }
    ~Counting() { g_counting = false; }
};

bool run_until(sd_event* ev, const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end)
        (void)sd_event_run(ev, 20 * 1000);
    return done();
}

enum class End { success, failure, not_started };

// One login with allocations counted (and the g_fail_at-th failing). Exceptions are caught where
// psc-authd's own C boundaries catch them (the bus layer around start() and submit_callback()).
End one_login(const Config& cfg) {
    auto ev = event_new();
    if (!ev)
        return End::not_started;
    SdEventPtr event = std::move(*ev);
    std::unique_ptr<LoginEngine> engine;
    LoginEngineOptions opts;
    opts.trusted_owner = ::getuid();
    opts.provider.retry_min = std::chrono::seconds(1);
    std::optional<Result<LoginDisplay>> display;
    std::optional<Result<LoginSuccess>> outcome;
    BackendLoginId id = 0;
    End end = End::not_started;
    try {
        Counting counting;
        auto e = LoginEngine::create(event.get(), cfg, opts);
        if (!e)
            return End::failure;
        engine = std::move(*e);
        if (!run_until(event.get(), [&] { return engine->provider_ready(); },
                       std::chrono::milliseconds(1500)))
            end = End::failure; // a fetch failed: logins would be refused (provider_not_ready)
        LoginRequest req;
        req.user = "claire";
        req.service = "login";
        auto started = engine->start(
            req, [&](Result<LoginDisplay> d) { display = std::move(d); },
            [&](LoginOutcome o) { outcome = std::move(o.result); });
        if (!started)
            return End::failure;
        id = *started;
        run_until(event.get(), [&] { return display.has_value(); }, std::chrono::seconds(2));
    } catch (const std::bad_alloc&) {
        end = End::failure;
    }
    if (display && *display) {
        // The browser leg, not counted: the wallet approves and names the address to paste.
        auto back = mocktest::browser_request((*display)->url + "&mock_approve=" + kMedecin,
                                              shared_mock().state().ca_file);
        try {
            Counting counting;
            if (back && !back->location.empty()) {
                if (auto st = engine->submit_callback(id, back->location); !st)
                    end = End::failure;
            }
            // Whatever failed, the login ends by its deadline (2 s here) at the latest.
            if (!run_until(event.get(), [&] { return outcome.has_value(); },
                           std::chrono::seconds(4)))
                fail_msg("a login with failure at allocation %ld never ended", g_fail_at.load());
            if (outcome && *outcome) {
                if ((*outcome)->user != "claire" || (*outcome)->idnat != kMedecin)
                    fail_msg("a wrong success after failing allocation %ld", g_fail_at.load());
                end = End::success;
            } else {
                end = End::failure;
            }
        } catch (const std::bad_alloc&) {
            end = End::failure;
        }
    } else if (display) {
        end = End::failure;
    }
    try {
        Counting counting;
        engine.reset(); // may fail allocations too: still nothing may leak
    } catch (const std::bad_alloc&) {
    }
    return end;
}

Config test_config() {
    const std::string map = g_dir + "/users.map";
    std::ofstream(map) << kMedecin << " claire\n";
    ::chmod(map.c_str(), 0644);
    Config c = mocktest::engine_test_config(shared_mock().state(), map);
    c.login.timeout = std::chrono::seconds(2);
    c.callback.listen_port = 0;
    return c;
}

void allocation_failures_fail_closed(void**) {
    g_main = std::this_thread::get_id();
    const Config cfg = test_config();
    g_fail_at = 0;
    g_count = 0;
    assert_true(one_login(cfg) == End::success);
    const long total = g_count.load();
    assert_true(total > 100);
    // Every one of the first allocations, then about 40 spread over the whole login.
    std::vector<long> points;
    for (long n = 1; n <= 40; ++n)
        points.push_back(n);
    for (long n = 41; n <= total; n += std::max<long>(1, total / 40))
        points.push_back(n);
    if (const char* only = std::getenv("PSC_ALLOC_POINTS")) { // debugging: "from-to"
        long from = 0, to = 0;
        if (std::sscanf(only, "%ld-%ld", &from, &to) == 2) {
            points.clear();
            for (long n = from; n <= to; ++n)
                points.push_back(n);
        }
    }
    int successes = 0, failures = 0;
    for (long n : points) {
        g_fail_at = n;
        g_count = 0;
        const End e = one_login(cfg);
        (e == End::success ? successes : failures) += 1;
    }
    g_fail_at = 0;
    std::printf("%ld allocations per login; %zu runs with one failing: %d ended in a failure "
                "code, %d succeeded (the allocation did not matter)\n",
                total, points.size(), failures, successes);
    assert_true(failures > 0);
}

int group_setup(void**) {
    char tmpl[] = "/tmp/psc-alloc-test-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    g_dir = tmpl;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return mocktest::start_shared_mock({"--redirect-loopback-any-port"});
}

int group_teardown(void** state) {
    (void)mocktest::stop_shared_mock(state);
    std::filesystem::remove_all(g_dir);
    curl_global_cleanup();
    return 0;
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocation_failures_fail_closed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
