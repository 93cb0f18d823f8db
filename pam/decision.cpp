// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decision.hpp"

#include <memory>

namespace psc::pam {
namespace {

void cleanup(pam_handle_t*, void* data, int) noexcept {
    delete static_cast<Decision*>(data);
}

int set(pam_handle_t* pamh, const std::string& key, const Decision& d) {
    auto copy = std::make_unique<Decision>(d);
    const int r = pam_set_data(pamh, key.c_str(), copy.get(), cleanup);
    if (r == PAM_SUCCESS)
        (void)copy.release(); // the handle owns it now; cleanup() deletes it
    return r;
}

} // namespace

std::string decision_key(std::string_view user) {
    return std::string(kDecisionKey) + ":" + std::string(user);
}

int store_decision(pam_handle_t* pamh, const Decision& d) {
    const int r = set(pamh, decision_key(d.user), d);
    return r != PAM_SUCCESS ? r : set(pamh, std::string(kDecisionKey), d);
}

void clear_decisions(pam_handle_t* pamh) noexcept {
    try {
        const Decision* last = find_decision(pamh, kDecisionKey);
        if (last != nullptr)
            (void)pam_set_data(pamh, decision_key(last->user).c_str(), nullptr, nullptr);
        (void)pam_set_data(pamh, std::string(kDecisionKey).c_str(), nullptr, nullptr);
    } catch (...) {
    }
}

const Decision* find_decision(pam_handle_t* pamh, std::string_view key) {
    const void* data = nullptr;
    if (pam_get_data(pamh, std::string(key).c_str(), &data) != PAM_SUCCESS)
        return nullptr;
    return static_cast<const Decision*>(data);
}

int account_result(const Decision* for_user, const Decision* last, std::string_view user,
                   AccountMode mode) noexcept {
    if (for_user != nullptr && for_user->user == user)
        return PAM_SUCCESS;
    if (last != nullptr || for_user != nullptr)
        return PAM_PERM_DENIED;
    return mode == AccountMode::require ? PAM_PERM_DENIED : PAM_IGNORE;
}

} // namespace psc::pam
