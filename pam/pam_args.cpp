// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pam_args.hpp"

#include "strutil.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace psc::pam {
namespace {

// Arguments come from /etc/pam.d (root's), but a typo must never widen access: a bad value keeps
// the default and is logged.
template <class E, std::size_t N>
bool parse_enum(std::string_view value, const std::array<std::pair<std::string_view, E>, N>& names,
                E& out) {
    for (const auto& [name, v] : names)
        if (value == name) {
            out = v;
            return true;
        }
    return false;
}

constexpr std::array<std::pair<std::string_view, QrMode>, 3> kQr{
    {{"auto", QrMode::automatic}, {"on", QrMode::on}, {"off", QrMode::off}}};
constexpr std::array<std::pair<std::string_view, PromptMode>, 3> kPrompt{
    {{"auto", PromptMode::automatic},
     {"always", PromptMode::always},
     {"never", PromptMode::never}}};
constexpr std::array<std::pair<std::string_view, Lang>, 4> kLang{
    {{"auto", Lang::automatic}, {"fr", Lang::fr}, {"en", Lang::en}, {"both", Lang::both}}};
constexpr std::array<std::pair<std::string_view, AccountMode>, 2> kAccount{
    {{"ignore", AccountMode::ignore}, {"require", AccountMode::require}}};

// flows=ciba,code (PAM arguments cannot hold spaces outside [...]).
std::vector<std::string> parse_flows(std::string_view value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= value.size()) {
        const std::size_t end = std::min(value.find(',', start), value.size());
        const std::string_view f = trim(value.substr(start, end - start));
        if (!f.empty())
            out.emplace_back(f);
        start = end + 1;
    }
    return out;
}

struct Parser {
    ParsedArgs& out;

    void bad_value(std::string_view arg) {
        out.warnings.push_back("bad value in argument \"" + strip_control(arg) +
                               "\", default kept");
    }

    template <class E, std::size_t N>
    void set_enum(std::string_view arg, std::string_view value,
                  const std::array<std::pair<std::string_view, E>, N>& names, E& field) {
        if (!parse_enum(value, names, field))
            bad_value(arg);
    }

    void set_timeout(std::string_view arg, std::string_view value) {
        auto n = parse_int<long>(value, kMinTimeout.count(), kMaxTimeout.count());
        if (!n)
            return bad_value(arg);
        out.options.timeout = std::chrono::seconds(*n);
    }

    void one(std::string_view arg) {
        Options& o = out.options;
        const std::size_t eq = arg.find('=');
        const std::string_view key = arg.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
        const bool has_value = eq != std::string_view::npos;
        if (arg == "debug")
            o.debug = true;
        else if (arg == "env")
            o.env = true;
        else if (key == "flows" && has_value) {
            o.flows = parse_flows(value);
            if (o.flows.empty())
                bad_value(arg);
        } else if (key == "timeout" && has_value)
            set_timeout(arg, value);
        else if (key == "qr" && has_value)
            set_enum(arg, value, kQr, o.qr);
        else if (key == "prompt" && has_value)
            set_enum(arg, value, kPrompt, o.prompt);
        else if (key == "lang" && has_value)
            set_enum(arg, value, kLang, o.lang);
        else if (key == "account" && has_value)
            set_enum(arg, value, kAccount, o.account);
        else
            out.warnings.push_back("unknown argument \"" + strip_control(arg) + "\" ignored");
    }
};

} // namespace

ParsedArgs parse_args(int argc, const char** argv) {
    ParsedArgs out;
    Parser p{out};
    for (int i = 0; i < argc && argv != nullptr; ++i)
        if (argv[i] != nullptr)
            p.one(argv[i]);
    return out;
}

} // namespace psc::pam
