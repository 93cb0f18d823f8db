// SPDX-License-Identifier: LGPL-2.1-or-later
// UserInfo responses (OIDC Core §5.3): JSON, or a signed JWT (§5.3.2). Fetched right after the
// token exchange (PSC access tokens live 2 minutes); its `sub` must equal the ID token's `sub` byte
// for byte (§5.3.4: otherwise the response must not be used). PSC's profession data lives here
// (docs/pro-sante-connect.md: SubjectNameID, authMode, SubjectRefPro.exercices[], otherIds).
#pragma once

#include "http_client.hpp"
#include "json.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// design §9 HTTP cap; a PSC UserInfo with many practice sites stays well below it.
inline constexpr std::size_t kUserInfoMaxBytes = 256 * 1024;

struct UserInfoCheck {
    std::string expected_sub; // the validated ID token's sub
    // For application/jwt only: OIDC Core §5.3.2 requires iss and aud when signed.
    std::string issuer;
    std::string client_id;
    const JwkSet* keys = nullptr;
    JwsVerifyPolicy policy; // max_bytes is raised to max_bytes below (UserInfo JWTs are larger)
    std::size_t max_bytes = kUserInfoMaxBytes;
    int json_max_depth = kJsonMaxDepth; // [limits] json_max_depth
};

struct UserInfo {
    JsonPtr claims;
    std::string sub;
    bool was_signed = false;
};

// Reasons: userinfo_status (non-200), userinfo_content_type (neither application/json nor
// application/jwt), userinfo_too_large, userinfo_json, userinfo_sub_missing,
// userinfo_claim_type, userinfo_sub_mismatch, userinfo_no_keys, userinfo_iss_mismatch,
// userinfo_aud_mismatch, and jws_* from verification. Errors are Errc::invalid except
// userinfo_status (Errc::unavailable).
[[nodiscard]] Result<UserInfo> parse_userinfo(const HttpResponse& response,
                                              const UserInfoCheck& check);
[[nodiscard]] Result<UserInfo> parse_userinfo_body(std::string_view body,
                                                   std::string_view content_type,
                                                   const UserInfoCheck& check);

// PSC accessors: a missing or empty member gives nullopt / an empty list; a member of the wrong
// type is an error (reason userinfo_claim_type) so a malformed answer never reads as "no data".
// The national identifier: `SubjectNameID` by default (equal to `preferred_username`).
[[nodiscard]] Result<std::optional<std::string>>
userinfo_idnat(const UserInfo& info, std::string_view claim = "SubjectNameID");
// "CARD", "MOBILE", ...
[[nodiscard]] Result<std::optional<std::string>> userinfo_auth_mode(const UserInfo& info);
// codeProfession of each SubjectRefPro.exercices[] entry (distinct, in order).
[[nodiscard]] Result<std::vector<std::string>> userinfo_professions(const UserInfo& info);
// codeCategorieProfessionnelle of each exercice (distinct, in order).
[[nodiscard]] Result<std::vector<std::string>> userinfo_categories(const UserInfo& info);
// Each SubjectRefPro.exercices[] entry as a (profession, category) pair, in order: authorization
// rules must see which category goes with which profession (a nurse who is also a student).
struct PscExercice {
    std::string profession; // codeProfession ("" when absent)
    std::string category;   // codeCategorieProfessionnelle ("" when absent)
};
// nullopt when the person has no practice data at all (no SubjectRefPro, or no exercices in it):
// rules that need practices must tell "none sent" from "none allowed".
[[nodiscard]] Result<std::optional<std::vector<PscExercice>>>
userinfo_exercices(const UserInfo& info);
// `claim` (alias_claim, PSC: otherIds) entries: {identifiant, origine} pairs, in order. An entry
// without an identifiant is skipped.
struct PscOtherId {
    std::string id;     // identifiant
    std::string origin; // origine ("ADELI", "RPPS", ...; "" when absent)
};
[[nodiscard]] Result<std::vector<PscOtherId>> userinfo_other_ids(const UserInfo& info,
                                                                 std::string_view claim = "otherIds");

} // namespace psc
