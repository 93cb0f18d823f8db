// SPDX-License-Identifier: LGPL-2.1-or-later
// The whole stack under load: the real psc-authd on a private dbus-daemon (the project's policy),
// against mock-psc on loopback, driven like pam_psc drives it. Everything is measured in the same
// run against baselines measured in the same run (ratios, never timed assertions):
//   floors   one warm RS256 verify, one keep-alive HTTPS exchange with the mock (mTLS), one
//            D-Bus round trip — the daemon's own work per login is made of these;
//   logins   code-flow logins (paste-back) and CIBA logins: completed logins/s, daemon CPU per
//            login ÷ its floor, daemon-added latency p50/p99 (not spent on the provider);
//   scale    daemon RSS at 0 / 1,000 / 10,000 pending logins; StartLogin and bogus-callback
//            cost at 10 vs 10,000 pending;
//   flood    a bogus-callback flood's rate and a real login's delay during it.
// Daemon CPU comes from /proc/PID/schedstat (nanoseconds on the CPU), RSS from /proc/PID/status.
// Goals (printed as met/missed, never asserted): RSS < 64 MiB at 1,000 and < 256 MiB at 10,000;
// CPU per login ≤ 3× floor; added p99 < 5 ms; growth 10 → 10,000 ≤ 1.5×.
//
// Usage: bench_stack [--quick] [--logins-only]   (environment: PSC_AUTHD, MOCK_PSC, PSC_TEST_DBUS_DIR,
//                                  PSC_TEST_POLICY, NSS_WRAPPER_* — meson sets them)
#include "bus_harness.hpp"
#include "http_client.hpp"
#include "json.hpp"
#include "jws.hpp"
#include "keys.hpp"
#include "mock_harness.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace psc;
using namespace psc::bustest;
using Clock = std::chrono::steady_clock;

bool g_quick = false;
bool g_logins_only = false; // --logins-only: floors and logins, for profiling the daemon
pid_t g_authd = -1; // killed by die(): children must not outlive a failed run
pid_t g_bus = -1;
int g_authd_err = -1;
// The daemon's stderr is drained all the time (a full pipe would stall it and skew every figure);
// its last lines are kept for die().
std::mutex g_tail_mu;
std::string g_tail;

void drain_authd_stderr(int fd) {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            return;
        std::lock_guard lock(g_tail_mu);
        g_tail.append(buf, static_cast<std::size_t>(n));
        if (g_tail.size() > 16384)
            g_tail.erase(0, g_tail.size() - 8192);
    }
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_stack: %s\n", what.c_str());
    if (g_authd > 0) {
        kill(g_authd, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::lock_guard lock(g_tail_mu);
        std::fprintf(stderr, "psc-authd's last words:\n%s\n", g_tail.c_str());
    }
    if (g_bus > 0)
        kill(g_bus, SIGKILL);
    std::_Exit(1); // no destructors: mock-psc dies with its parent
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Nanoseconds a process has spent on a CPU (/proc/PID/schedstat, first field).
std::uint64_t cpu_ns(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/schedstat");
    std::uint64_t ns = 0;
    f >> ns;
    return ns;
}

// This thread's CPU time.
std::uint64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(ts.tv_nsec);
}

double rss_mib(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    return 0;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
    return v[i];
}

const char* verdict(bool met) {
    return met ? "met" : "MISSED";
}

// ---- the stack --------------------------------------------------------------------------------

struct Stack {
    std::unique_ptr<mocktest::MockProcess> mock;
    PrivateBus bus;
    AuthdRun authd;
    std::string dir;
    SdBusPtr client;
    std::string listener;
};

void write_file(const std::string& path, const std::string& body, mode_t mode) {
    std::ofstream(path) << body;
    ::chmod(path.c_str(), mode);
}

Stack start_stack() {
    Stack s;
    char tmpl[] = "/tmp/psc-bench-XXXXXX";
    if (!mkdtemp(tmpl))
        die("mkdtemp");
    s.dir = tmpl;
    ::chmod(s.dir.c_str(), 0755);
    auto mock = mocktest::MockProcess::start({"--redirect-loopback-any-port", "--ciba-interval", "1"});
    if (!mock)
        die("mock-psc: " + mock.error().describe());
    s.mock = std::move(*mock);
    const auto& m = s.mock->state();
    write_file(s.dir + "/users.map", "810001234567 claire\n", 0644);
    const std::string conf =
        "[provider]\nprofile = psc-sandbox\nissuer = " + m.issuer + "\ndiscovery_url = " +
        m.discovery_url + "\nclient_id = " + m.client_id +
        "\ntoken_auth_method = tls_client_auth\ntls_client_cert = " + m.client_cert +
        "\ntls_client_key = " + m.client_key + "\nca_file = " + m.ca_file +
        "\nid_token_algs = RS256\n[callback]\ncallback_listen = 127.0.0.1:0\n"
        "[login]\ntimeout = 600\nmax_pending = 20000\nmax_pending_per_user = 20000\n"
        "max_pending_per_source = 20000\nciba_push_burst = 100\nciba_push_interval = 0\n"
        "ciba_deny_cooldown = 0\n[service:bench-ciba]\nflows = ciba\n[mapping]\nmap_file = " +
        s.dir + "/users.map\n";
    write_file(s.dir + "/psc-login.conf", conf, 0644);
    if (!start_bus(s.bus))
        die("dbus-daemon did not start");
    g_bus = s.bus.pid;
    AuthdOptions o;
    o.keep_ld_preload = true; // nss_wrapper: the test account claire
    s.authd = spawn_authd(s.bus.address, s.dir + "/psc-login.conf", o);
    g_authd = s.authd.pid;
    g_authd_err = s.authd.err_fd;
    std::thread(drain_authd_stderr, s.authd.err_fd).detach();
    s.client = connect(s.bus.address, "bench");
    for (int i = 0; i < 200; ++i) {
        int ready = 0;
        sd_bus_error e{}; // == SD_BUS_ERROR_NULL, whose compound literal is not C++
        if (sd_bus_get_property_trivial(s.client.get(), "org.psclogin.Auth1", "/org/psclogin/Auth1",
                                        "org.psclogin.Auth1", "ProviderReady", &e, 'b', &ready) >= 0 &&
            ready)
            break;
        sd_bus_error_free(&e);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    char* addr = nullptr;
    if (sd_bus_get_property_string(s.client.get(), "org.psclogin.Auth1", "/org/psclogin/Auth1",
                                   "org.psclogin.Auth1", "ListenerAddress", nullptr, &addr) < 0)
        die("psc-authd did not come up");
    s.listener = addr;
    std::free(addr);
    return s;
}

void stop_stack(Stack& s) {
    s.client.reset();
    if (s.authd.pid > 0) {
        kill(s.authd.pid, SIGTERM);
        (void)reap(s.authd.pid);
    }
    stop_bus(s.bus);
    s.mock.reset();
    std::filesystem::remove_all(s.dir);
}

// StartLogin on `bus`; the login id and the display's url (empty on error).
struct Started {
    std::string id, url;
};
Started start(sd_bus* bus, const char* service = "login", const char* rhost = "") {
    sd_bus_message* reply = nullptr;
    sd_bus_error e{}; // == SD_BUS_ERROR_NULL, whose compound literal is not C++
    Started out;
    if (sd_bus_call_method(bus, "org.psclogin.Auth1", "/org/psclogin/Auth1", "org.psclogin.Auth1",
                           "StartLogin", &e, &reply, "sssss", "claire", service, rhost, "", "") <
        0) {
        sd_bus_error_free(&e);
        return out;
    }
    SdBusMessagePtr msg(reply);
    const char* id = nullptr;
    (void)sd_bus_message_read(msg.get(), "s", &id);
    out.id = id ? id : "";
    auto d = read_dict(msg.get());
    out.url = d["url"];
    return out;
}

// ---- floors -----------------------------------------------------------------------------------

struct Floors {
    double verify_us = 0;  // one warm RS256 verification (raw OpenSSL)
    double https_us = 0;   // one keep-alive HTTPS exchange with the mock, client CPU
    double https_wall_ms = 0;
    double dbus_us = 0;    // one D-Bus round trip, client CPU
};

double measure_verify_us() {
    auto key = testkeys::generate_key(testkeys::KeyType::RSA2048);
    const std::string input = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";
    EvpMdCtxPtr sctx(EVP_MD_CTX_new());
    std::size_t siglen = 0;
    EVP_DigestSignInit(sctx.get(), nullptr, EVP_sha256(), nullptr, key.get());
    EVP_DigestSign(sctx.get(), nullptr, &siglen, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(siglen, '\0');
    EVP_DigestSign(sctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &siglen,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EvpMdCtxPtr tmpl(EVP_MD_CTX_new());
    EVP_DigestVerifyInit(tmpl.get(), nullptr, EVP_sha256(), nullptr, key.get());
    const int n = 2000;
    const auto c0 = thread_cpu_ns();
    for (int i = 0; i < n; ++i) {
        EvpMdCtxPtr ctx(EVP_MD_CTX_new());
        EVP_MD_CTX_copy_ex(ctx.get(), tmpl.get());
        if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), siglen,
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
            die("verify floor failed");
    }
    return static_cast<double>(thread_cpu_ns() - c0) / n / 1000.0;
}

Floors measure_floors(Stack& s) {
    Floors f;
    f.verify_us = measure_verify_us();
    auto client = s.mock->client(true);
    const std::string url = s.mock->state().discovery_url;
    (void)perform(*client, HttpRequest{HttpMethod::get, url, {}, {}, true}); // connect once
    const int n = g_quick ? 100 : 400;
    const auto c0 = thread_cpu_ns();
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i)
        if (!perform(*client, HttpRequest{HttpMethod::get, url, {}, {}, true}))
            die("https floor failed");
    f.https_wall_ms = ms_since(t0) / n;
    f.https_us = static_cast<double>(thread_cpu_ns() - c0) / n / 1000.0;
    const auto d0 = thread_cpu_ns();
    for (int i = 0; i < n; ++i) {
        auto r = call(s.client.get(), "GetFlows", "s", "login");
        if (!r.error.empty())
            die("GetFlows failed");
    }
    f.dbus_us = static_cast<double>(thread_cpu_ns() - d0) / n / 1000.0;
    return f;
}

// ---- logins -----------------------------------------------------------------------------------

// The provider's own answering time for the last token and UserInfo requests (mock-psc's request
// log, TLS excluded), in milliseconds.
double provider_ms(Stack& s) {
    auto r = s.mock->control(R"({"log":true})");
    if (!r || r->status != 200)
        die("cannot read mock-psc's request log");
    auto doc = json_parse_object(r->body, JsonLimits{});
    if (!doc)
        die("mock-psc's request log is not JSON");
    const json_object* arr = nullptr;
    if (!json_object_object_get_ex(doc->get(), "requests", const_cast<json_object**>(&arr)))
        die("mock-psc's request log has no requests");
    std::int64_t token = -1, userinfo = -1;
    for (std::size_t i = json_object_array_length(arr); i-- > 0 && (token < 0 || userinfo < 0);) {
        const json_object* e = json_object_array_get_idx(arr, i);
        auto ep = json_get_string(e, "endpoint");
        json_object* took = nullptr;
        if (!ep || !ep->has_value() ||
            !json_object_object_get_ex(e, "took_us", &took))
            continue;
        if (**ep == "token" && token < 0)
            token = json_object_get_int64(took);
        else if (**ep == "userinfo" && userinfo < 0)
            userinfo = json_object_get_int64(took);
    }
    if (token < 0 || userinfo < 0)
        die("mock-psc's request log lacks the login's token or UserInfo request");
    return static_cast<double>(token + userinfo) / 1000.0;
}

struct LoginFigures {
    int done = 0;
    double per_s = 0;
    double cpu_us = 0; // daemon CPU per login
    std::vector<double> added_ms;
};

// Code flow with paste-back, one after another: StartLogin, the wallet approves (client side),
// SubmitCallback answers with the outcome.
LoginFigures code_logins(Stack& s, int n, const Floors& f) {
    LoginFigures out;
    double client_side_ms = 0;
    std::uint64_t daemon_ns = 0;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        const auto c0 = cpu_ns(s.authd.pid);
        auto st = start(s.client.get());
        if (st.id.empty())
            die("StartLogin failed");
        daemon_ns += cpu_ns(s.authd.pid) - c0;
        const auto b0 = Clock::now();
        auto back = mocktest::browser_request(st.url + "&mock_approve=810001234567",
                                              s.mock->state().ca_file);
        client_side_ms += ms_since(b0);
        if (!back || back->location.empty())
            die("the wallet did not approve");
        const auto c1 = cpu_ns(s.authd.pid);
        const auto s0 = Clock::now();
        auto r = call(s.client.get(), "SubmitCallback", "ss", st.id.c_str(), back->location.c_str());
        const double wall = ms_since(s0);
        daemon_ns += cpu_ns(s.authd.pid) - c1;
        if (!r.error.empty())
            die("login failed: " + r.message);
        // Two provider exchanges (token, UserInfo) happen inside: the provider's answering time
        // (signing the ID token …) and two keep-alive exchanges' transport are not the daemon's.
        const auto p0 = Clock::now();
        const double provider = provider_ms(s);
        client_side_ms += ms_since(p0);
        out.added_ms.push_back(std::max(0.0, wall - provider - 2 * f.https_wall_ms));
        ++out.done;
    }
    const double total_ms = ms_since(t0) - client_side_ms;
    out.per_s = out.done / (total_ms / 1000.0);
    out.cpu_us = static_cast<double>(daemon_ns) / out.done / 1000.0;
    return out;
}

// CIBA logins started together (each its own connection, as pam_psc does), then waited for.
LoginFigures ciba_logins(Stack& s, int n) {
    LoginFigures out;
    std::vector<SdBusPtr> conns;
    std::vector<std::string> ids;
    const auto c0 = cpu_ns(s.authd.pid);
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        conns.push_back(connect(s.bus.address, "bench-ciba"));
        auto st = start(conns.back().get(), "bench-ciba", "");
        if (st.id.empty())
            die("CIBA StartLogin failed");
        ids.push_back(st.id);
    }
    for (int i = 0; i < n; ++i) {
        auto r = call(conns[static_cast<std::size_t>(i)].get(), "WaitLogin", "su",
                      ids[static_cast<std::size_t>(i)].c_str(), 20000u);
        if (!r.error.empty())
            die("CIBA login failed: " + r.message);
        ++out.done;
    }
    const double wall_s = ms_since(t0) / 1000.0;
    out.cpu_us = static_cast<double>(cpu_ns(s.authd.pid) - c0) / n / 1000.0;
    out.per_s = out.done / wall_s;
    return out;
}

// ---- scale ------------------------------------------------------------------------------------

// Holds `count` more pending logins on one connection of its own.
void fill(Stack& s, std::vector<SdBusPtr>& holders, int count) {
    holders.push_back(connect(s.bus.address, "bench-fill"));
    for (int i = 0; i < count; ++i)
        if (start(holders.back().get(), "login", "198.51.100.1").id.empty())
            die("fill: StartLogin refused");
}

struct Costs {
    double start_us = 0;    // daemon CPU per StartLogin
    double callback_us = 0; // daemon CPU per bogus callback
    double start_wall_ms = 0;
};

Costs costs_now(Stack& s, HttpClient& http) {
    Costs c;
    const int n = g_quick ? 100 : 300;
    auto holder = connect(s.bus.address, "bench-cost");
    const auto c0 = cpu_ns(s.authd.pid);
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i)
        if (start(holder.get(), "login", "203.0.113.9").id.empty())
            die("cost: StartLogin refused");
    c.start_wall_ms = ms_since(t0) / n;
    c.start_us = static_cast<double>(cpu_ns(s.authd.pid) - c0) / n / 1000.0;
    holder.reset(); // its logins go (the departure is handled before the next figure)
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const int m = g_quick ? 300 : 1500;
    const auto c1 = cpu_ns(s.authd.pid);
    for (int i = 0; i < m; ++i)
        (void)perform(http, HttpRequest{HttpMethod::get,
                                        s.listener + "?code=x&state=bogus" + std::to_string(i),
                                        {}, {}, false});
    c.callback_us = static_cast<double>(cpu_ns(s.authd.pid) - c1) / m / 1000.0;
    return c;
}

// ---- flood ------------------------------------------------------------------------------------

struct Flood {
    double rate = 0;        // bogus callbacks answered per second
    double delay_ms = 0;    // a real login's SubmitCallback during the flood
    double quiet_ms = 0;    // the same without the flood
};

Flood flood(Stack& s) {
    Flood f;
    auto one = [&] {
        auto st = start(s.client.get());
        auto back = mocktest::browser_request(st.url + "&mock_approve=810001234567",
                                              s.mock->state().ca_file);
        const auto t0 = Clock::now();
        auto r = call(s.client.get(), "SubmitCallback", "ss", st.id.c_str(), back->location.c_str());
        if (!r.error.empty())
            die("login during flood failed");
        return ms_since(t0);
    };
    f.quiet_ms = one();
    std::atomic<bool> stop{false};
    std::atomic<long> answered{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            HttpOptions o;
            o.allow_insecure_http = true;
            auto c = HttpClient::create(o);
            if (!c)
                return;
            long i = 0;
            while (!stop)
                if (perform(**c, HttpRequest{HttpMethod::get,
                                             s.listener + "?code=x&state=flood" + std::to_string(t) +
                                                 "-" + std::to_string(++i),
                                             {}, {}, false}))
                    ++answered;
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto t0 = Clock::now();
    const long a0 = answered.load();
    f.delay_ms = one();
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    f.rate = (answered.load() - a0) / (ms_since(t0) / 1000.0);
    stop = true;
    for (auto& t : threads)
        t.join();
    return f;
}

} // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--quick")
            g_quick = true;
        else if (a == "--logins-only")
            g_logins_only = true;
        else
            die("usage: bench_stack [--quick] [--logins-only]");
    }
    for (const char* v : {"PSC_AUTHD", "MOCK_PSC", "PSC_TEST_DBUS_DIR", "PSC_TEST_POLICY"})
        if (!std::getenv(v))
            die(std::string(v) + " is not set (run through meson: meson test --benchmark)");
    Stack s = start_stack();
    const int rounds = g_quick ? 1 : 3;
    std::printf("psc-login full-stack benchmark (%s), %d round(s), daemon pid %d\n",
                g_quick ? "quick" : "full", rounds, static_cast<int>(s.authd.pid));

    std::vector<double> v_us, h_us, d_us, code_cpu, ciba_cpu, code_rate, p50, p99;
    Floors f{};
    for (int r = 0; r < rounds; ++r) {
        f = measure_floors(s);
        v_us.push_back(f.verify_us);
        h_us.push_back(f.https_us);
        d_us.push_back(f.dbus_us);
        auto code = code_logins(s, g_quick ? 50 : 200, f);
        code_cpu.push_back(code.cpu_us);
        code_rate.push_back(code.per_s);
        p50.push_back(percentile(code.added_ms, 0.50));
        p99.push_back(percentile(code.added_ms, 0.99));
        auto ciba = ciba_logins(s, g_quick ? 20 : 60);
        ciba_cpu.push_back(ciba.cpu_us);
    }
    const double verify = percentile(v_us, 0), https = percentile(h_us, 0),
                 dbus = percentile(d_us, 0);
    // The daemon's own work per login, in floors: code flow = 1 verify + 2 HTTPS exchanges (token,
    // UserInfo) + 2 D-Bus round trips (StartLogin, SubmitCallback); CIBA = 1 verify + 3 exchanges
    // (backchannel request, token poll, UserInfo) + 2 round trips (StartLogin, WaitLogin).
    const double code_floor = verify + 2 * https + 2 * dbus;
    const double ciba_floor = verify + 3 * https + 2 * dbus;
    std::printf("\nfloors (min of %d): RS256 verify %.1f us, keep-alive HTTPS exchange %.1f us "
                "(%.2f ms wall), D-Bus round trip %.1f us\n",
                rounds, verify, https, f.https_wall_ms, dbus);
    std::printf("\n%-34s %10s %10s\n", "logins", "min", "median");
    std::printf("%-34s %10.1f %10.1f\n", "code flow logins/s (sequential)",
                percentile(code_rate, 0), percentile(code_rate, 0.5));
    const double code_ratio = percentile(code_cpu, 0) / code_floor;
    const double ciba_ratio = percentile(ciba_cpu, 0) / ciba_floor;
    std::printf("%-34s %10.1f %10.1f   floor %.1f us, ratio %.2fx (goal <= 3x: %s)\n",
                "daemon CPU per code login (us)", percentile(code_cpu, 0),
                percentile(code_cpu, 0.5), code_floor, code_ratio, verdict(code_ratio <= 3));
    std::printf("%-34s %10.1f %10.1f   floor %.1f us, ratio %.2fx (goal <= 3x: %s)\n",
                "daemon CPU per CIBA login (us)", percentile(ciba_cpu, 0),
                percentile(ciba_cpu, 0.5), ciba_floor, ciba_ratio, verdict(ciba_ratio <= 3));
    std::printf("%-34s %10.2f %10.2f\n", "daemon-added latency p50 (ms)", percentile(p50, 0),
                percentile(p50, 0.5));
    std::printf("%-34s %10.2f %10.2f   (goal < 5 ms: %s)\n", "daemon-added latency p99 (ms)",
                percentile(p99, 0), percentile(p99, 0.5), verdict(percentile(p99, 0.5) < 5));

    if (g_logins_only) {
        stop_stack(s);
        return 0;
    }
    HttpOptions ho;
    ho.allow_insecure_http = true;
    auto http = HttpClient::create(ho);
    if (!http)
        die("http client");
    std::vector<SdBusPtr> holders;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const double rss0 = rss_mib(s.authd.pid);
    fill(s, holders, 10);
    const Costs at10 = costs_now(s, **http);
    fill(s, holders, 990);
    const double rss1k = rss_mib(s.authd.pid);
    const int big = g_quick ? 3000 : 10000;
    fill(s, holders, big - 1000);
    const double rss10k = rss_mib(s.authd.pid);
    const Costs at10k = costs_now(s, **http);
    std::printf("\n%-34s %10.1f MiB\n", "daemon RSS, 0 pending", rss0);
    std::printf("%-34s %10.1f MiB   (goal < 64: %s)\n", "daemon RSS, 1,000 pending", rss1k,
                verdict(rss1k < 64));
    std::printf("%-34s %10.1f MiB   (goal < 256: %s)\n",
                g_quick ? "daemon RSS, 3,000 pending" : "daemon RSS, 10,000 pending", rss10k,
                verdict(rss10k < 256));
    const double g_start = at10k.start_us / at10.start_us;
    const double g_cb = at10k.callback_us / at10.callback_us;
    std::printf("%-34s %10.1f us at 10, %.1f us at %d: %.2fx (goal <= 1.5x: %s)\n",
                "daemon CPU per StartLogin", at10.start_us, at10k.start_us, big, g_start,
                verdict(g_start <= 1.5));
    std::printf("%-34s %10.1f us at 10, %.1f us at %d: %.2fx (goal <= 1.5x: %s)\n",
                "daemon CPU per bogus callback", at10.callback_us, at10k.callback_us, big, g_cb,
                verdict(g_cb <= 1.5));
    holders.clear();
    std::this_thread::sleep_for(std::chrono::seconds(1));

    const Flood fl = flood(s);
    std::printf("\n%-34s %10.0f /s\n", "bogus callbacks answered (flood)", fl.rate);
    std::printf("%-34s %10.2f ms (%.2f ms without the flood)\n", "a real login during the flood",
                fl.delay_ms, fl.quiet_ms);
    stop_stack(s);
    return 0;
}
