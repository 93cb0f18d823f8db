// SPDX-License-Identifier: LGPL-2.1-or-later
#include "bus_harness.hpp"

#include "errors.hpp"
#include "testing.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace psc::bustest {

namespace {

std::vector<pid_t> g_spawned_pids;
std::deque<PrivateBus> g_spawned_buses; // deque: handed-out pointers stay valid

} // namespace

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
    chmod(b.dir.c_str(), 0755); // forked non-root clients must reach the socket
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
        b.pid = -1;
    }
    if (!b.dir.empty())
        std::filesystem::remove_all(b.dir);
    b.dir.clear();
}

SdBusPtr connect(const std::string& address, const char* description) {
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

Reply call(sd_bus* bus, const char* member, const char* types, ...) {
    sd_bus_error e{}; // == SD_BUS_ERROR_NULL, whose compound literal is not C++
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

Reply start_login(sd_bus* bus, const char* user, const char* rhost, const char* service,
                  const char* flow) {
    return call(bus, "StartLogin", "sssss", user, service, rhost, "pts/0", flow);
}

std::string login_id(Reply& r) {
    const char* id = nullptr;
    if (!r.error.empty())
        fail_msg("StartLogin failed: %s (%s)", r.error.c_str(), r.message.c_str());
    assert_true(sd_bus_message_read(r.msg.get(), "s", &id) >= 0);
    return id;
}

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

std::string err_name(Errc c) {
    return std::string(dbus_error_name(c));
}

void assert_error(const Reply& r, Errc code, const char* reason) {
    if (r.error != err_name(code) || r.message.rfind(reason, 0) != 0) {
        print_error("expected %s (%s), got %s (%s)\n", err_name(code).c_str(), reason,
                    r.error.c_str(), r.message.c_str());
        fail();
    }
}

bool name_has_owner(sd_bus* bus) {
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", nullptr, &reply, "s", kDest);
    SdBusMessagePtr owned(reply);
    int has = 0;
    return r >= 0 && sd_bus_message_read(reply, "b", &has) >= 0 && has;
}

bool wait_name_owned(sd_bus* bus) {
    for (int i = 0; i < 250; ++i) {
        if (name_has_owner(bus))
            return true;
        usleep(20'000);
    }
    return false;
}

AuthdRun spawn_authd(const std::string& address, const std::string& config,
                     const AuthdOptions& opts) {
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    AuthdRun run;
    run.pid = fork();
    if (run.pid == 0) {
        dup2(fds[1], 2);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
        unsetenv("JOURNAL_STREAM"); // auto must mean stderr here, even under a journal-run CI
        if (opts.notify_socket.empty())
            unsetenv("NOTIFY_SOCKET");
        else
            setenv("NOTIFY_SOCKET", opts.notify_socket.c_str(), 1);
        if (!opts.keep_ld_preload)
            unsetenv("LD_PRELOAD");
        const char* exe = std::getenv("PSC_AUTHD");
        std::vector<std::string> args{exe, "--config", config};
        args.insert(args.end(), opts.extra_args.begin(), opts.extra_args.end());
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(exe, argv.data());
        _exit(127);
    }
    close(fds[1]);
    g_spawned_pids.push_back(run.pid);
    run.err_fd = fds[0];
    return run;
}

int reap(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    std::erase(g_spawned_pids, pid);
    return status;
}

std::string write_authd_config(const std::string& dir, const std::string& body,
                               const std::string& secret) {
    std::ofstream(dir + "/client_secret") << secret << "\n";
    chmod((dir + "/client_secret").c_str(), 0600);
    std::ofstream(dir + "/psc-login.conf") << body;
    chmod((dir + "/psc-login.conf").c_str(), 0644);
    return dir + "/psc-login.conf";
}

PrivateBus* spawned_bus() {
    PrivateBus& b = g_spawned_buses.emplace_back();
    return start_bus(b) ? &b : nullptr;
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

} // namespace psc::bustest
