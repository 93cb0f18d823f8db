// SPDX-License-Identifier: LGPL-2.1-or-later
// org.psclogin.Auth1 over a real private dbus-daemon whose config includes the installed policy
// file (tests/dbus/system-bus.conf.in). The bus layer runs in-process on its own sd-event thread
// with a scripted backend; clients are plain sd-bus connections, some from forked non-root
// processes (uids from nss_wrapper: claire = 1001). The last tests run the real psc-authd binary.
#include "auth_bus.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "testing.hpp"

#include <atomic>
#include <csignal>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <mutex>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace psc;

namespace {

constexpr uid_t kClaireUid = 1001; // tests/data/nss/passwd
constexpr const char* kDest = "org.psclogin.Auth1";
constexpr const char* kPath = "/org/psclogin/Auth1";
constexpr const char* kIface = "org.psclogin.Auth1";

std::string err_name(Errc c) {
    return std::string(dbus_error_name(c));
}

// ---- the scripted backend (runs on the service thread) --------------------------------------
// Scripted by rhost: "ok" succeeds, "fail:<label>" fails with that Errc, "refuse" fails start()
// itself, anything else stays pending. SubmitCallback "bad" is rejected, anything else succeeds.
class ScriptedBackend final : public LoginBackend {
public:
    explicit ScriptedBackend(sd_event* ev) : event_(ev) {}

    std::vector<std::string> flows_for(std::string_view service) const override {
        if (service == "throw")
            throw std::runtime_error("scripted failure");
        return {"code", "ciba"};
    }

    Result<LoginStarted> start(const LoginRequest& req, LoginDone done) override {
        if (req.rhost == "refuse")
            return make_error(Errc::unavailable, "scripted_refusal", "refused");
        const BackendLoginId id = ++next_;
        live_[id].done = std::move(done);
        if (req.rhost == "ok")
            finish_later(id, LoginSuccess{req.user, "810001234567", "10", "CARD"});
        else if (req.rhost.rfind("fail:", 0) == 0)
            finish_later(id, failure(req.rhost.substr(5)));
        LoginStarted s;
        s.id = id;
        s.display.flow = req.flow.empty() ? "code" : req.flow;
        s.display.url = "https://idp.example.org/auth?x=1";
        s.display.qr = s.display.url;
        s.display.expires_in = std::chrono::seconds(180);
        s.display.accepts_paste = true;
        return s;
    }

    Status submit_callback(BackendLoginId id, std::string_view address) override {
        if (address == "bad")
            return make_error(Errc::invalid, "state_mismatch", "callback does not match");
        finish_later(id, LoginSuccess{"claire", "810001234567", "10", "CARD"});
        return {};
    }

    void cancel(BackendLoginId id) noexcept override {
        auto it = live_.find(id);
        if (it != live_.end()) {
            pending_fire_.erase(it->second.timer.get());
            live_.erase(it);
        }
        cancelled_.fetch_add(1);
    }

    std::atomic<int> cancelled_{0};

private:
    struct Live {
        LoginDone done;
        SdEventSourcePtr timer;
        std::optional<Result<LoginSuccess>> outcome;
    };

    static Result<LoginSuccess> failure(const std::string& label) {
        for (int c = 0; c <= static_cast<int>(Errc::internal); ++c)
            if (errc_label(static_cast<Errc>(c)) == label)
                return make_error(static_cast<Errc>(c), "scripted_" + label, "scripted");
        return make_error(Errc::internal, "bad_script");
    }

    // done() fires from the loop, never from inside start()/submit_callback() (the contract).
    void finish_later(BackendLoginId id, Result<LoginSuccess> outcome) {
        auto it = live_.find(id);
        if (it == live_.end())
            return;
        it->second.outcome.emplace(std::move(outcome));
        sd_event_source* s = nullptr;
        if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, 20'000, 1, on_fire, this) < 0)
            return;
        pending_fire_[s] = id;
        it->second.timer.reset(s);
    }

    static int on_fire(sd_event_source* s, uint64_t, void* userdata) noexcept {
        auto* self = static_cast<ScriptedBackend*>(userdata);
        const BackendLoginId id = self->pending_fire_[s];
        self->pending_fire_.erase(s);
        auto it = self->live_.find(id);
        if (it == self->live_.end())
            return 0;
        Live live = std::move(it->second);
        self->live_.erase(it);
        live.done(std::move(*live.outcome));
        return 0;
    }

    sd_event* event_;
    BackendLoginId next_ = 0;
    std::map<BackendLoginId, Live> live_;
    std::map<sd_event_source*, BackendLoginId> pending_fire_;
};

// ---- the private bus ------------------------------------------------------------------------
struct PrivateBus {
    std::string dir;
    std::string address;
    pid_t pid = -1;
};

std::string read_all(int fd) {
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    return out;
}

bool start_bus(PrivateBus& b) {
    char tmpl[] = "/tmp/psc-test-authbus-XXXXXX";
    if (!mkdtemp(tmpl))
        return false;
    b.dir = tmpl;
    chmod(b.dir.c_str(), 0755); // the forked non-root clients must reach the socket
    std::ifstream in(std::string(std::getenv("PSC_TEST_DBUS_DIR")) + "/system-bus.conf.in");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string conf = ss.str();
    conf.replace(conf.find("@LISTEN@"), 8, "unix:path=" + b.dir + "/bus");
    conf.replace(conf.find("@POLICY@"), 8, std::getenv("PSC_TEST_POLICY"));
    std::ofstream(b.dir + "/bus.conf") << conf;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return false;
    b.pid = fork();
    if (b.pid == 0) {
        dup2(fds[1], 1);
        const std::string arg = "--config-file=" + b.dir + "/bus.conf";
        execlp("dbus-daemon", "dbus-daemon", arg.c_str(), "--print-address", "--nofork",
               static_cast<char*>(nullptr));
        _exit(127);
    }
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n')
        b.address += c;
    close(fds[0]);
    return !b.address.empty();
}

void stop_bus(PrivateBus& b) {
    if (b.pid > 0) {
        kill(b.pid, SIGTERM);
        waitpid(b.pid, nullptr, 0);
    }
    if (!b.dir.empty())
        std::filesystem::remove_all(b.dir);
}

SdBusPtr connect(const std::string& address, const char* description = "test-client") {
    sd_bus* raw = nullptr;
    if (sd_bus_new(&raw) < 0)
        return nullptr;
    SdBusPtr bus(raw);
    if (sd_bus_set_description(raw, description) < 0 ||
        sd_bus_set_address(raw, address.c_str()) < 0 || sd_bus_set_bus_client(raw, 1) < 0 ||
        sd_bus_start(raw) < 0)
        return nullptr;
    return bus;
}

// ---- the in-process service ----------------------------------------------------------------
struct Service {
    Config cfg;
    SdBusPtr bus;
    SdEventPtr event;
    std::unique_ptr<ScriptedBackend> backend;
    std::unique_ptr<AuthBus> auth;
    SdEventSourcePtr command_source;
    int command_fds[2] = {-1, -1};
    std::thread thread;

    static int on_command(sd_event_source*, int fd, uint32_t, void* userdata) noexcept {
        auto* s = static_cast<Service*>(userdata);
        char c = 0;
        if (read(fd, &c, 1) != 1 || c == 'q')
            return sd_event_exit(s->event.get(), 0);
        if (c == 'c')
            s->auth->cancel_all();
        return 0;
    }
};

struct Fixture {
    PrivateBus bus;
    Service svc;
};

Fixture* g = nullptr;

bool start_service(Service& s, const std::string& address) {
    s.cfg.services["quick"].timeout = std::chrono::seconds(1);
    auto ev = event_new();
    if (!ev)
        return false;
    s.event = std::move(*ev);
    s.bus = connect(address, "psc-authd-under-test");
    if (!s.bus)
        return false;
    s.backend = std::make_unique<ScriptedBackend>(s.event.get());
    AuthBusLimits limits;
    limits.max_pending = 6;
    limits.max_pending_per_user = 2;
    limits.safety_margin = std::chrono::seconds(0);
    limits.version = "test-version";
    auto auth = AuthBus::create(s.bus.get(), s.event.get(), *s.backend, s.cfg, limits);
    if (!auth)
        return false;
    s.auth = std::move(*auth);
    if (sd_bus_request_name(s.bus.get(), kDest, 0) < 0 ||
        sd_bus_attach_event(s.bus.get(), s.event.get(), 0) < 0 ||
        pipe2(s.command_fds, O_CLOEXEC) < 0)
        return false;
    sd_event_source* src = nullptr;
    if (sd_event_add_io(s.event.get(), &src, s.command_fds[0], EPOLLIN, Service::on_command, &s) <
        0)
        return false;
    s.command_source.reset(src);
    s.thread = std::thread([&s] { (void)sd_event_loop(s.event.get()); });
    return true;
}

void command(char c) {
    assert_int_equal(write(g->svc.command_fds[1], &c, 1), 1);
}

int group_setup(void**) {
    if (geteuid() != 0)
        return 0; // every test skips: only root may own org.psclogin.Auth1
    g = new Fixture;
    if (!start_bus(g->bus) || !start_service(g->svc, g->bus.address)) {
        std::fprintf(stderr, "cannot start the private bus or the service\n");
        return -1;
    }
    return 0;
}

int group_teardown(void**) {
    if (!g)
        return 0;
    if (g->svc.thread.joinable()) {
        command('q');
        g->svc.thread.join();
    }
    g->svc.auth.reset();
    g->svc.command_source.reset();
    g->svc.bus.reset();
    g->svc.event.reset();
    close(g->svc.command_fds[0]);
    close(g->svc.command_fds[1]);
    stop_bus(g->bus);
    delete g;
    g = nullptr;
    return 0;
}

// ---- client calls -----------------------------------------------------------------------------
struct Reply {
    std::string error;   // D-Bus error name, "" on success
    std::string message; // "reason: message"
    SdBusMessagePtr msg;
};

Reply call(sd_bus* bus, const char* member, const char* types, ...) {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    va_list ap;
    va_start(ap, types);
    int r = sd_bus_call_methodv(bus, kDest, kPath, kIface, member, &e, &reply, types, ap);
    va_end(ap);
    Reply out;
    out.msg.reset(reply);
    if (r < 0) {
        out.error = e.name ? e.name : "errno";
        out.message = e.message ? e.message : "";
    }
    sd_bus_error_free(&e);
    return out;
}

Reply start_login(sd_bus* bus, const char* user, const char* rhost, const char* service = "sshd",
                  const char* flow = "") {
    return call(bus, "StartLogin", "sssss", user, service, rhost, "pts/0", flow);
}

std::string login_id(Reply& r) {
    const char* id = nullptr;
    assert_string_equal(r.error.c_str(), "");
    assert_true(sd_bus_message_read(r.msg.get(), "s", &id) >= 0);
    return id;
}

// Reads the a{sv} of a reply into string values (u/b rendered as decimal).
std::map<std::string, std::string> read_dict(sd_bus_message* m) {
    std::map<std::string, std::string> out;
    assert_true(sd_bus_message_enter_container(m, 'a', "{sv}") >= 0);
    while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
        const char* key = nullptr;
        const char* contents = nullptr;
        assert_true(sd_bus_message_read(m, "s", &key) >= 0);
        assert_true(sd_bus_message_peek_type(m, nullptr, &contents) >= 0);
        assert_true(sd_bus_message_enter_container(m, 'v', contents) >= 0);
        if (std::string_view(contents) == "s") {
            const char* s = nullptr;
            assert_true(sd_bus_message_read(m, "s", &s) >= 0);
            out[key] = s;
        } else if (std::string_view(contents) == "u") {
            uint32_t u = 0;
            assert_true(sd_bus_message_read(m, "u", &u) >= 0);
            out[key] = std::to_string(u);
        } else {
            int b = 0;
            assert_true(sd_bus_message_read(m, "b", &b) >= 0);
            out[key] = std::to_string(b);
        }
        assert_true(sd_bus_message_exit_container(m) >= 0);
        assert_true(sd_bus_message_exit_container(m) >= 0);
    }
    assert_true(sd_bus_message_exit_container(m) >= 0);
    return out;
}

uint32_t pending_logins(sd_bus* bus) {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    uint32_t n = 0;
    int r = sd_bus_get_property_trivial(bus, kDest, kPath, kIface, "PendingLogins", &e, 'u', &n);
    sd_bus_error_free(&e);
    assert_true(r >= 0);
    return n;
}

// Logins of closed connections are dropped asynchronously; tests start from an empty registry.
void wait_idle(sd_bus* bus) {
    for (int i = 0; i < 250 && pending_logins(bus) != 0; ++i)
        usleep(20'000);
    assert_int_equal(pending_logins(bus), 0);
}

void assert_error(const Reply& r, Errc code, const char* reason) {
    if (r.error != err_name(code) || r.message.rfind(reason, 0) != 0) {
        print_error("expected %s (%s), got %s (%s)\n", err_name(code).c_str(), reason,
                    r.error.c_str(), r.message.c_str());
        fail();
    }
}

int setup(void** state) {
    if (!g)
        skip();
    auto* bus = connect(g->bus.address).release();
    assert_non_null(bus);
    wait_idle(bus);
    *state = bus;
    return 0;
}

int teardown(void** state) {
    SdBusPtr bus(static_cast<sd_bus*>(*state));
    return 0;
}

sd_bus* client(void** state) {
    return static_cast<sd_bus*>(*state);
}

// ---- tests ----------------------------------------------------------------------------------

void test_get_flows(void** state) {
    auto r = call(client(state), "GetFlows", "s", "sshd");
    assert_string_equal(r.error.c_str(), "");
    char** flows = nullptr;
    assert_true(sd_bus_message_read_strv(r.msg.get(), &flows) >= 0);
    assert_string_equal(flows[0], "code");
    assert_string_equal(flows[1], "ciba");
    assert_null(flows[2]);
    for (char** f = flows; *f; ++f)
        free(*f);
    free(flows);
}

void test_exception_becomes_internal(void** state) {
    assert_error(call(client(state), "GetFlows", "s", "throw"), Errc::internal, "exception");
}

void test_start_login_display(void** state) {
    auto r = start_login(client(state), "claire", "", "sshd", "ciba");
    const std::string id = login_id(r);
    assert_true(id.size() >= 43); // 256 random bits, base64url
    auto d = read_dict(r.msg.get());
    assert_string_equal(d["flow"].c_str(), "ciba");
    assert_string_equal(d["url"].c_str(), "https://idp.example.org/auth?x=1");
    assert_string_equal(d["expires_in"].c_str(), "180");
    assert_string_equal(d["accepts_paste"].c_str(), "1");
    assert_int_equal(pending_logins(client(state)), 1);
}

void test_login_ids_are_random(void** state) {
    auto a = start_login(client(state), "claire", "");
    auto b = start_login(client(state), "claire", "");
    assert_string_not_equal(login_id(a).c_str(), login_id(b).c_str());
}

void test_backend_start_error(void** state) {
    assert_error(start_login(client(state), "claire", "refuse"), Errc::unavailable,
                 "scripted_refusal");
    assert_int_equal(pending_logins(client(state)), 0);
}

void test_wait_success(void** state) {
    auto s = start_login(client(state), "claire", "ok");
    const std::string id = login_id(s);
    auto r = call(client(state), "WaitLogin", "su", id.c_str(), 5000u);
    assert_string_equal(r.error.c_str(), "");
    int done = 0;
    assert_true(sd_bus_message_read(r.msg.get(), "b", &done) >= 0);
    assert_true(done);
    auto d = read_dict(r.msg.get());
    assert_string_equal(d["user"].c_str(), "claire");
    assert_string_equal(d["idnat"].c_str(), "810001234567");
    assert_string_equal(d["auth_mode"].c_str(), "CARD");
}

void test_result_delivered_then_forgotten(void** state) {
    auto s = start_login(client(state), "claire", "ok");
    const std::string id = login_id(s);
    usleep(200'000); // done fires before anyone waits: the outcome is kept for the owner
    auto r = call(client(state), "WaitLogin", "su", id.c_str(), 0u);
    assert_string_equal(r.error.c_str(), "");
    assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 0u), Errc::invalid,
                 "no_such_login");
}

void test_wait_pending(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    auto r = call(client(state), "WaitLogin", "su", id.c_str(), 100u);
    assert_string_equal(r.error.c_str(), "");
    int done = 1;
    assert_true(sd_bus_message_read(r.msg.get(), "b", &done) >= 0);
    assert_false(done);
    auto d = read_dict(r.msg.get());
    assert_true(d.count("remaining") == 1);
    assert_true(std::stoi(d["remaining"]) > 100 && std::stoi(d["remaining"]) <= 180);
}

void test_wait_failure_maps_each_error(void** state) {
    for (int c = 0; c <= static_cast<int>(Errc::internal); ++c) {
        const auto code = static_cast<Errc>(c);
        const std::string rhost = "fail:" + std::string(errc_label(code));
        auto s = start_login(client(state), "root", rhost.c_str());
        const std::string id = login_id(s);
        const std::string reason = "scripted_" + std::string(errc_label(code));
        assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 5000u), code,
                     reason.c_str());
    }
}

void test_wait_unknown_id(void** state) {
    assert_error(call(client(state), "WaitLogin", "su", "nope", 0u), Errc::invalid,
                 "no_such_login");
}

void test_safety_timeout(void** state) {
    auto s = start_login(client(state), "claire", "", "quick"); // [service:quick] timeout 1 s
    const std::string id = login_id(s);
    const int before = g->svc.backend->cancelled_.load();
    assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 10000u), Errc::timeout,
                 "login_timeout");
    assert_int_equal(g->svc.backend->cancelled_.load(), before + 1);
}

void test_submit_callback(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    auto r = call(client(state), "SubmitCallback", "ss", id.c_str(),
                  "http://127.0.0.1:8765/callback?code=x&state=y");
    assert_string_equal(r.error.c_str(), "");
    auto d = read_dict(r.msg.get());
    assert_string_equal(d["user"].c_str(), "claire");
    assert_int_equal(pending_logins(client(state)), 0);
}

void test_submit_callback_rejected(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    assert_error(call(client(state), "SubmitCallback", "ss", id.c_str(), "bad"), Errc::invalid,
                 "state_mismatch");
}

void test_cancel_login(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    const int before = g->svc.backend->cancelled_.load();
    auto r = call(client(state), "CancelLogin", "s", id.c_str());
    assert_string_equal(r.error.c_str(), "");
    assert_int_equal(g->svc.backend->cancelled_.load(), before + 1);
    assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 0u), Errc::invalid,
                 "no_such_login");
}

// A second WaitLogin (or SubmitCallback) while one is outstanding on the same login is refused.
void test_second_wait_busy(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    sd_bus_slot* raw = nullptr;
    assert_true(sd_bus_call_method_async(client(state), &raw, kDest, kPath, kIface, "WaitLogin",
                                         nullptr, nullptr, "su", id.c_str(), 20000u) >= 0);
    SdBusSlotPtr first(raw);
    assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 0u), Errc::busy,
                 "wait_in_progress");
}

void test_second_submit_busy(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    sd_bus_slot* raw = nullptr;
    // Not "bad": the scripted backend accepts it and finishes 20 ms later.
    assert_true(sd_bus_call_method_async(client(state), &raw, kDest, kPath, kIface,
                                         "SubmitCallback", nullptr, nullptr, "ss", id.c_str(),
                                         "http://127.0.0.1/callback") >= 0);
    SdBusSlotPtr first(raw);
    assert_error(call(client(state), "SubmitCallback", "ss", id.c_str(), "x"), Errc::busy,
                 "submit_in_progress");
}

void test_shutdown_cancels_waits(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    Reply r;
    std::thread waiter([&] { r = call(client(state), "WaitLogin", "su", id.c_str(), 20000u); });
    usleep(300'000);
    command('c');
    waiter.join();
    assert_error(r, Errc::cancelled, "shutdown");
}

void test_other_connection_cannot_use_login(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    auto other = connect(g->bus.address, "intruder");
    assert_non_null(other.get());
    assert_error(call(other.get(), "WaitLogin", "su", id.c_str(), 0u), Errc::invalid,
                 "no_such_login");
    assert_error(call(other.get(), "CancelLogin", "s", id.c_str()), Errc::invalid, "no_such_login");
    assert_error(call(other.get(), "SubmitCallback", "ss", id.c_str(), "x"), Errc::invalid,
                 "no_such_login");
    auto mine = call(client(state), "WaitLogin", "su", id.c_str(), 0u);
    assert_string_equal(mine.error.c_str(), ""); // still alive for its owner
}

void test_caller_leaving_cancels(void** state) {
    const int before = g->svc.backend->cancelled_.load();
    {
        auto leaver = connect(g->bus.address, "leaver");
        auto s = start_login(leaver.get(), "claire", "");
        (void)login_id(s);
        assert_int_equal(pending_logins(client(state)), 1);
    }
    wait_idle(client(state));
    assert_int_equal(g->svc.backend->cancelled_.load(), before + 1);
}

void test_limit_per_user(void** state) {
    auto a = start_login(client(state), "claire", "");
    auto b = start_login(client(state), "claire", "");
    (void)login_id(a), (void)login_id(b);
    assert_error(start_login(client(state), "claire", ""), Errc::busy, "too_many_user_logins");
}

void test_limit_total(void** state) {
    const char* users[] = {"claire", "lucas", "sophie"};
    for (const char* u : users)
        for (int i = 0; i < 2; ++i) {
            auto r = start_login(client(state), u, "");
            (void)login_id(r);
        }
    assert_error(start_login(client(state), "root", ""), Errc::busy, "too_many_logins");
}

void test_string_too_long(void** state) {
    const std::string huge(1025, 'a');
    assert_error(start_login(client(state), huge.c_str(), ""), Errc::invalid, "arg_too_long");
    assert_error(call(client(state), "GetFlows", "s", huge.c_str()), Errc::invalid, "arg_too_long");
}

void test_string_control_char(void** state) {
    assert_error(start_login(client(state), "claire", "host\nforged: line"), Errc::invalid,
                 "arg_control_char");
}

// ---- non-root callers (forked, setresuid to claire) -------------------------------------------

// Runs `body` as uid/gid 1001 in a child; the child's exit status is the result (0 = as expected).
int as_claire(const std::function<int()>& body) {
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, nullptr) < 0 || setresgid(kClaireUid, kClaireUid, kClaireUid) < 0 ||
            setresuid(kClaireUid, kClaireUid, kClaireUid) < 0)
            _exit(100);
        _exit(body());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

int expect_start_as_claire(const char* user, const std::string& want_error, const char* reason) {
    auto bus = connect(g->bus.address, "claire");
    if (!bus)
        return 101;
    auto r = start_login(bus.get(), user, "");
    if (r.error != want_error)
        return 102;
    if (!want_error.empty() && r.message.rfind(reason, 0) != 0)
        return 103;
    return 0;
}

void test_non_root_may_start_for_itself(void**) {
    assert_int_equal(as_claire([] { return expect_start_as_claire("claire", "", ""); }), 0);
}

void test_non_root_denied_for_other_user(void**) {
    assert_int_equal(as_claire([] {
                         return expect_start_as_claire("lucas", err_name(Errc::denied),
                                                       "caller_not_user");
                     }),
                     0);
}

void test_non_root_denied_for_root(void**) {
    assert_int_equal(as_claire([] {
                         return expect_start_as_claire("root", err_name(Errc::denied),
                                                       "caller_not_user");
                     }),
                     0);
}

void test_non_root_unknown_user(void**) {
    assert_int_equal(as_claire([] {
                         return expect_start_as_claire("no-such-user", err_name(Errc::unknown_user),
                                                       "unknown_user");
                     }),
                     0);
}

void test_non_root_cannot_own_name(void**) {
    assert_int_equal(as_claire([] {
                         auto bus = connect(g->bus.address, "squatter");
                         if (!bus)
                             return 101;
                         int r = sd_bus_request_name(bus.get(), kDest, SD_BUS_NAME_QUEUE);
                         return r == -EACCES ? 0 : 102;
                     }),
                     0);
}

// ---- the psc-authd binary, on a bus of its own ------------------------------------------------

// Everything a binary test starts, so a failed assertion (a longjmp) still leaves nothing behind.
std::vector<pid_t> g_spawned_pids;
std::vector<PrivateBus> g_spawned_buses;

int reap(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    std::erase(g_spawned_pids, pid);
    return status;
}

int cleanup_spawned(void**) {
    for (pid_t p : g_spawned_pids) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
    }
    g_spawned_pids.clear();
    for (auto& b : g_spawned_buses)
        stop_bus(b);
    g_spawned_buses.clear();
    return 0;
}

struct AuthdRun {
    pid_t pid = -1;
    int err_fd = -1;
};

AuthdRun spawn_authd(const std::string& address, const std::string& config) {
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    AuthdRun run;
    run.pid = fork();
    if (run.pid == 0) {
        dup2(fds[1], 2);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
        unsetenv("NOTIFY_SOCKET");
        // The daemon needs no test accounts here, and nss_wrapper's resolver hooks (reached when
        // the engine resolves the provider's host) dlopen libc with RTLD_DEEPBIND, which aborts
        // an ASan build.
        unsetenv("LD_PRELOAD");
        const char* exe = std::getenv("PSC_AUTHD");
        execl(exe, exe, "--config", config.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(fds[1]);
    g_spawned_pids.push_back(run.pid);
    run.err_fd = fds[0];
    return run;
}

std::string write_authd_config(const std::string& dir, const std::string& body) {
    std::ofstream(dir + "/client_secret") << "s3cr3t\n";
    chmod((dir + "/client_secret").c_str(), 0600);
    std::ofstream(dir + "/psc-login.conf") << body;
    chmod((dir + "/psc-login.conf").c_str(), 0644);
    return dir + "/psc-login.conf";
}

bool name_has_owner(sd_bus* bus) {
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", nullptr, &reply, "s", kDest);
    SdBusMessagePtr owned(reply);
    int has = 0;
    return r >= 0 && sd_bus_message_read(reply, "b", &has) >= 0 && has;
}

void test_authd_serves_and_stops_on_sigterm(void**) {
    if (!g)
        skip();
    PrivateBus& b = g_spawned_buses.emplace_back();
    assert_true(start_bus(b));
    const std::string conf = write_authd_config(
        b.dir, "[provider]\nissuer = https://idp.example.org/realms/x\nclient_id = psc-login\n"
               "client_secret_file = " +
                   b.dir + "/client_secret\n[callback]\ncallback_listen = 127.0.0.1:0\n");
    AuthdRun run = spawn_authd(b.address, conf);
    auto bus = connect(b.address);
    assert_non_null(bus.get());
    bool owned = false;
    for (int i = 0; i < 250 && !(owned = name_has_owner(bus.get())); ++i)
        usleep(20'000);
    assert_true(owned);
    char* version = nullptr;
    assert_true(sd_bus_get_property_string(bus.get(), kDest, kPath, kIface, "Version", nullptr,
                                           &version) >= 0);
    assert_true(std::strlen(version) > 0);
    free(version);
    // The provider (idp.example.org) cannot be reached from a test: every login fails closed.
    assert_error(start_login(bus.get(), "claire", ""), Errc::unavailable, "provider_not_ready");
    kill(run.pid, SIGTERM);
    const int status = reap(run.pid);
    close(run.err_fd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

void test_authd_refuses_bad_config(void**) {
    if (!g)
        skip();
    PrivateBus& b = g_spawned_buses.emplace_back();
    assert_true(start_bus(b));
    const std::string conf = write_authd_config(b.dir, "[provider]\nnot a key value line\n");
    AuthdRun run = spawn_authd(b.address, conf);
    const std::string err = read_all(run.err_fd);
    const int status = reap(run.pid);
    close(run.err_fd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_true(err.find(conf + ":2:") != std::string::npos);
}

void test_authd_refuses_when_name_taken(void**) {
    if (!g)
        skip();
    // The in-process service owns the name on the shared bus already.
    const std::string dir = g->bus.dir + "/second";
    std::filesystem::create_directory(dir);
    const std::string conf = write_authd_config(
        dir, "[provider]\nissuer = https://idp.example.org/realms/x\nclient_id = psc-login\n"
             "client_secret_file = " +
                 dir + "/client_secret\n[callback]\ncallback_listen = 127.0.0.1:0\n");
    AuthdRun run = spawn_authd(g->bus.address, conf);
    const std::string err = read_all(run.err_fd);
    const int status = reap(run.pid);
    close(run.err_fd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_true(err.find("Failed to own the bus name") != std::string::npos);
}

} // namespace

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main() {
    const struct CMUnitTest tests[] = {
        T(test_get_flows),
        T(test_exception_becomes_internal),
        T(test_start_login_display),
        T(test_login_ids_are_random),
        T(test_backend_start_error),
        T(test_wait_success),
        T(test_result_delivered_then_forgotten),
        T(test_wait_pending),
        T(test_wait_failure_maps_each_error),
        T(test_wait_unknown_id),
        T(test_safety_timeout),
        T(test_submit_callback),
        T(test_submit_callback_rejected),
        T(test_cancel_login),
        T(test_second_wait_busy),
        T(test_second_submit_busy),
        T(test_shutdown_cancels_waits),
        T(test_other_connection_cannot_use_login),
        T(test_caller_leaving_cancels),
        T(test_limit_per_user),
        T(test_limit_total),
        T(test_string_too_long),
        T(test_string_control_char),
        T(test_non_root_may_start_for_itself),
        T(test_non_root_denied_for_other_user),
        T(test_non_root_denied_for_root),
        T(test_non_root_unknown_user),
        T(test_non_root_cannot_own_name),
        cmocka_unit_test_teardown(test_authd_serves_and_stops_on_sigterm, cleanup_spawned),
        cmocka_unit_test_teardown(test_authd_refuses_bad_config, cleanup_spawned),
        cmocka_unit_test_teardown(test_authd_refuses_when_name_taken, cleanup_spawned),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
