// SPDX-License-Identifier: LGPL-2.1-or-later
// JSON Web Encryption (RFC 7516), compact serialisation, for encrypted ID tokens and UserInfo
// JWTs (OIDC Core §10.2: signed, then encrypted — a nested JWT). Key management: RSA-OAEP,
// RSA-OAEP-256 and, only when the operator lists it, RSA1_5 (RFC 7518 §4.2-4.3); content
// encryption: A128/192/256GCM and A128CBC-HS256/A192CBC-HS384/A256CBC-HS512 (§5). The decrypted
// content is never trusted by itself: the caller verifies the inner JWS exactly as an unencrypted
// token (jws_verify does both).
#pragma once

#include "json.hpp"
#include "result.hpp"
#include "ssl_ptr.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

enum class JweAlg { RSA_OAEP, RSA_OAEP_256, RSA1_5 };
enum class JweEnc { A128GCM, A192GCM, A256GCM, A128CBC_HS256, A192CBC_HS384, A256CBC_HS512 };

[[nodiscard]] std::optional<JweAlg> jwe_alg_from_name(std::string_view name) noexcept;
[[nodiscard]] std::string_view jwe_alg_name(JweAlg alg) noexcept;
[[nodiscard]] std::optional<JweEnc> jwe_enc_from_name(std::string_view name) noexcept;
[[nodiscard]] std::string_view jwe_enc_name(JweEnc enc) noexcept;
// For `id_token_decryption_algs`: space-separated names, at least one, no duplicates.
// Reasons (Errc::config): alg_list_empty, alg_unknown, alg_duplicate.
[[nodiscard]] Result<std::vector<JweAlg>> parse_jwe_alg_list(std::string_view space_separated);

// One RSA private key (≥ 2048 bits) the provider encrypts to.
struct JweKey {
    std::string kid; // empty for a PEM key: it then answers any kid
    EvpPkeyPtr key;
    int bits = 0;
};

struct JweKeySet {
    std::vector<std::shared_ptr<const JweKey>> keys;
};

// A PEM private key (PKCS#8 or traditional RSA, unencrypted), one private JWK, or a JWK Set of
// private keys (key rotation: several kids). Reasons: jwe_key_format (neither PEM nor JSON),
// jwe_key_json, jwe_key_not_rsa, jwe_key_not_private, jwe_key_member, jwe_key_too_small,
// jwe_key_use (a JWK whose use is not "enc"), jwe_key_kid (several keys and one has no kid, or
// two share one), jwe_key_openssl.
[[nodiscard]] Result<JweKeySet> parse_jwe_keys(std::string_view text);
// The same from a root-only file (secret-file rules: owned by this uid, not readable or writable
// by group or others, no symlink, ≤ 64 KiB); file_io reasons besides.
[[nodiscard]] Result<JweKeySet> load_jwe_keys(const std::string& path);

struct JweDecryptPolicy {
    const JweKeySet* keys = nullptr;                              // none: jwe_no_key
    std::vector<JweAlg> allowed_algs{JweAlg::RSA_OAEP, JweAlg::RSA_OAEP_256}; // RSA1_5: opt-in
};

struct JweDecrypted {
    JsonPtr header;
    std::string plaintext;
    JweAlg alg = JweAlg::RSA_OAEP;
    JweEnc enc = JweEnc::A256GCM;
    std::string kid;
};

// Whether a compact token has the five parts of a JWE (four dots), without decoding it.
[[nodiscard]] bool is_compact_jwe(std::string_view compact) noexcept;

// Decrypts a compact JWE. The caller bounds its size first. Reasons (Errc::invalid):
// jwe_no_key, jwe_format, jwe_base64, jwe_header_json, jwe_alg_missing, jwe_alg_unknown,
// jwe_alg_not_allowed, jwe_enc_missing, jwe_enc_unknown, jwe_zip, jwe_crit_unsupported,
// jwe_kid_type, jwe_unknown_kid, jwe_kid_ambiguous, jwe_key_length, jwe_iv_length,
// jwe_tag_length, jwe_decrypt (the key unwrap or the authentication tag failed: one reason for
// both, so a caller cannot tell a padding failure from a tag failure), jwe_openssl.
[[nodiscard]] Result<JweDecrypted> jwe_decrypt(std::string_view compact,
                                               const JweDecryptPolicy& policy);

// Encryption (the mock provider, tests, benchmarks): header = {"alg","enc"[,"kid"][,"cty"]}
// plus extra_header members. Reasons: jwe_key_not_rsa, jwe_openssl.
[[nodiscard]] Result<std::string> jwe_encrypt(std::string_view plaintext, EVP_PKEY* public_key,
                                              JweAlg alg, JweEnc enc, std::string_view kid,
                                              std::string_view cty,
                                              json_object* extra_header = nullptr);

} // namespace psc
