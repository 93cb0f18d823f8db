// SPDX-License-Identifier: LGPL-2.1-or-later
// The control endpoint: tests arm faults, script CIBA outcomes and read poll records here. Only a
// request bearing the token printed at start-up gets in. Body: one JSON object (README.md).
#include "provider.hpp"
#include "random.hpp"
#include "secret.hpp"

namespace psc::mock {

namespace {

constexpr std::size_t kControlMaxBytes = 16 * 1024;

ServerResponse control_error(unsigned status, std::string_view reason, std::string_view message) {
    return oauth_error(status, reason, message);
}

ServerResponse control_error(const Error& e) {
    return control_error(400, e.reason, e.message);
}

JsonPtr json_new_array() {
    return JsonPtr(json_object_new_array());
}

// Moves item into arr (json-c takes the reference).
void append(json_object* arr, JsonPtr item) {
    json_object_array_add(arr, item.release());
}
void set_member(json_object* obj, const char* key, JsonPtr v) {
    json_object_object_add(obj, key, v.release());
}

JsonPtr armed_list(const FaultBoard& board) {
    JsonPtr arr = json_new_array();
    for (const auto& a : board.list()) {
        JsonPtr item = json_new_object();
        json_set(item.get(), "fault", fault_info(a.fault).name);
        json_set(item.get(), "scope", a.scope == FaultScope::next ? "next" : "all");
        if (a.endpoint)
            json_set(item.get(), "endpoint", endpoint_name(*a.endpoint));
        append(arr.get(), std::move(item));
    }
    return arr;
}

std::string optional_string(const json_object* body, const char* key) {
    auto v = json_get_string(body, key);
    return v && v->has_value() ? std::string(**v) : std::string();
}

} // namespace

ServerResponse Provider::control(const ServerRequest& req) {
    const Secret expected(cfg_.control_token);
    if (req.method != "POST" || !expected.equals(bearer_token(req)))
        return control_error(401, "control_unauthorized", "POST with the control token required");
    auto body = json_parse_object(req.body, JsonLimits{kControlMaxBytes, 8});
    if (!body)
        return control_error(body.error());
    const json_object* b = body->get();
    if (json_member(b, "fault"))
        return control_fault(b);
    if (json_member(b, "reset")) {
        faults_.reset();
        next_ciba_script_.reset();
        oauth_error_code_.clear();
        stall_for_ = std::chrono::seconds(30);
        JsonPtr doc = json_new_object();
        set_member(doc.get(), "armed", armed_list(faults_));
        return json_response(doc.get());
    }
    if (json_member(b, "ciba"))
        return control_ciba(b);
    if (json_member(b, "polls"))
        return control_polls(b);
    if (json_member(b, "log"))
        return control_log();
    if (json_member(b, "logout_token"))
        return control_logout_token(json_member(b, "logout_token"));
    return control_error(400, "control_unknown",
                         "expected fault, reset, ciba, polls, log or logout_token");
}

ServerResponse Provider::control_fault(const json_object* b) {
    auto name = json_get_string(b, "fault");
    if (!name || !name->has_value())
        return control_error(400, "fault_unknown", "fault must be a string");
    auto fault = fault_from_name(**name);
    if (!fault)
        return control_error(fault.error());
    ArmedFault armed{*fault, FaultScope::next, std::nullopt};
    if (const std::string scope = optional_string(b, "scope"); !scope.empty()) {
        auto s = fault_scope_from_name(scope);
        if (!s)
            return control_error(s.error());
        armed.scope = *s;
    }
    if (const std::string ep = optional_string(b, "endpoint"); !ep.empty()) {
        armed.endpoint = endpoint_from_name(ep);
        if (!armed.endpoint)
            return control_error(400, "fault_endpoint", "unknown endpoint " + ep);
    }
    auto seconds = json_get_int64(b, "seconds");
    if (!seconds || (seconds->has_value() && (**seconds < 1 || **seconds > 3600)))
        return control_error(400, "fault_seconds", "seconds must be 1-3600");
    if (auto st = faults_.arm(armed, false); !st)
        return control_error(st.error());
    if (seconds->has_value())
        stall_for_ = std::chrono::seconds(**seconds);
    if (const std::string code = optional_string(b, "error"); !code.empty())
        oauth_error_code_ = code;
    JsonPtr doc = json_new_object();
    set_member(doc.get(), "armed", armed_list(faults_));
    return json_response(doc.get());
}

ServerResponse Provider::control_ciba(const json_object* b) {
    const std::string id = optional_string(b, "auth_req_id");
    DecoupledRequest* target = nullptr;
    if (!id.empty()) {
        const auto it = decoupled_.find(id == "last" ? last_decoupled_id_ : id);
        if (it == decoupled_.end())
            return control_error(404, "ciba_unknown_request", "no such auth_req_id/device_code");
        target = &it->second;
    }
    auto script = parse_ciba_script(json_member(b, "ciba"), target ? target->script : CibaScript{});
    if (!script)
        return control_error(script.error());
    const std::string idnat = optional_string(b, "idnat");
    if (!idnat.empty() && !identity(idnat))
        return control_error(400, "unknown_user_id", "no identity " + idnat);
    if (target) {
        target->script = *script;
        if (!idnat.empty())
            target->idnat = idnat; // approves a device request on the user's behalf
    } else {
        next_ciba_script_ = *script;
    }
    JsonPtr doc = json_new_object();
    json_set(doc.get(), "outcome", ciba_outcome_name(script->outcome));
    json_set(doc.get(), "approve_after", static_cast<std::int64_t>(script->approve_after.count()));
    json_set(doc.get(), "slow_down_on_poll", static_cast<std::int64_t>(script->slow_down_on_poll));
    json_set(doc.get(), "applies_to", target ? target->id : std::string("next"));
    return json_response(doc.get());
}

ServerResponse Provider::control_polls(const json_object* b) const {
    std::string id = optional_string(b, "polls");
    if (id == "last")
        id = last_decoupled_id_;
    const auto it = decoupled_.find(id);
    if (it == decoupled_.end())
        return control_error(404, "ciba_unknown_request", "no such auth_req_id/device_code");
    const DecoupledRequest& r = it->second;
    JsonPtr doc = json_new_object();
    json_set(doc.get(), "id", r.id);
    json_set(doc.get(), "idnat", r.idnat);
    json_set(doc.get(), "binding_message", r.binding_message);
    json_set(doc.get(), "auth_mode", r.auth_mode);
    json_set(doc.get(), "interval", static_cast<std::int64_t>(r.interval.count()));
    JsonPtr polls = json_new_array();
    for (const auto& p : r.polls) {
        JsonPtr item = json_new_object();
        json_set(item.get(), "at_ms", p.at_ms);
        json_set(item.get(), "interval", p.interval_s);
        json_set(item.get(), "answer", poll_answer_name(p.answer));
        append(polls.get(), std::move(item));
    }
    set_member(doc.get(), "polls", std::move(polls));
    return json_response(doc.get());
}

ServerResponse Provider::control_log() const {
    JsonPtr arr = json_new_array();
    for (const auto& e : log_) {
        JsonPtr item = json_new_object();
        json_set(item.get(), "at_ms", e.at_ms);
        json_set(item.get(), "method", e.method);
        json_set(item.get(), "path", e.path);
        json_set(item.get(), "endpoint", e.endpoint);
        json_set(item.get(), "status", static_cast<std::int64_t>(e.status));
        json_set(item.get(), "took_us", e.took_us);
        append(arr.get(), std::move(item));
    }
    JsonPtr doc = json_new_object();
    set_member(doc.get(), "requests", std::move(arr));
    return json_response(doc.get());
}

// Back-Channel Logout 1.0 §2.4: iss, aud, iat, exp, jti, events, sid and sub. Faults: no_events,
// with_nonce, replay_jti (the jti of the previous token), bad_signature, sub_only (no sid),
// rotate_key (the signing key is rotated first, as key_rotation does for ID tokens).
ServerResponse Provider::control_logout_token(const json_object* body) {
    const std::string idnat = optional_string(body, "idnat");
    const std::string fault = optional_string(body, "fault");
    auto sid = last_sid_.find(idnat);
    const Identity* who = identity(idnat);
    if (sid == last_sid_.end() || !who)
        return control_error(400, "control_logout_token", "no session for this idnat yet");
    if (fault == "rotate_key")
        if (auto st = signer_.rotate(); !st)
            return control_error(st.error());
    auto jti = random_token(16);
    if (!jti)
        return control_error(jti.error());
    if (fault == "replay_jti" && !last_logout_jti_.empty())
        *jti = last_logout_jti_;
    last_logout_jti_ = *jti;
    JsonPtr c = json_new_object();
    json_set(c.get(), "iss", issuer_);
    json_set(c.get(), "aud", cfg_.options.client_id);
    json_set(c.get(), "iat", now_unix());
    json_set(c.get(), "exp", now_unix() + 120);
    json_set(c.get(), "jti", *jti);
    json_set(c.get(), "sub", who->sub);
    if (fault != "sub_only")
        json_set(c.get(), "sid", sid->second);
    if (fault == "with_nonce")
        json_set(c.get(), "nonce", "mock-psc-nonce");
    if (fault != "no_events") {
        auto events = json_parse_object(
            R"({"http://schemas.openid.net/event/backchannel-logout":{}})");
        if (!events)
            return control_error(events.error());
        set_member(c.get(), "events", std::move(*events));
    }
    auto token = signer_.sign(json_to_string(c.get()), "logout+jwt",
                              fault == "bad_signature" ? Forgery::bad_signature : Forgery::none);
    if (!token)
        return control_error(token.error());
    JsonPtr doc = json_new_object();
    json_set(doc.get(), "logout_token", *token);
    json_set(doc.get(), "sid", sid->second);
    return json_response(doc.get());
}

} // namespace psc::mock
