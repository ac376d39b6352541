// XChaCha20-Poly1305 sealing into a caller's buffer, for cookie replies (whitepaper 5.4.7), through
// the OpenSSL that Node.js links, as aead_batch.cc does. OpenSSL has ChaCha20 and
// ChaCha20-Poly1305 but not the "X" (24-byte nonce) form, which is HChaCha20 then ChaCha20-Poly1305
// under the subkey it derives. HChaCha20 is the ChaCha20 block function without its final
// addition of the input state, so it is read off one ChaCha20 keystream block (OpenSSL's "ChaCha20"
// takes the 16 bytes of state words 12..15 as its IV: here the nonce's first 16 bytes) minus the
// input words it needs (0..3: the constants; 12..15: those 16 bytes). No round is written here,
// and only the functions aead_batch.cc already imports from node.exe are used. Why at all: the
// gateway answers every initiation with a cookie reply under a flood, and @noble's XChaCha made
// about 8 KB of garbage and tens of µs per reply.
#include <napi.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstring>

#include "exports.hh"

namespace tunkit::wireguard {

namespace {

const EVP_CIPHER* fetched(Napi::Env env, const char* name) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  if (cipher == nullptr) throw Napi::Error::New(env, std::string("this OpenSSL has no ") + name);
  return cipher;
}

uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

void putLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

/** HChaCha20(key, nonce16) into subkey (32 bytes), from one OpenSSL ChaCha20 keystream block. */
bool hchacha20(EVP_CIPHER_CTX* ctx, const EVP_CIPHER* chacha20, const uint8_t key[32], const uint8_t nonce16[16],
               uint8_t subkey[32]) {
  static const uint8_t zeros[64] = {};
  static const uint32_t sigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};  // "expand 32-byte k"
  uint8_t block[64];
  int written = 0;
  if (EVP_EncryptInit_ex(ctx, chacha20, nullptr, key, nonce16) != 1 ||
      EVP_EncryptUpdate(ctx, block, &written, zeros, sizeof zeros) != 1 || written != 64)
    return false;
  for (int i = 0; i < 4; ++i) {
    putLe32(subkey + 4 * i, le32(block + 4 * i) - sigma[i]);
    putLe32(subkey + 16 + 4 * i, le32(block + 48 + 4 * i) - le32(nonce16 + 4 * i));
  }
  std::memset(block, 0, sizeof block);
  return true;
}

// JS thread. xsealInto(key32, nonce24, plaintext, aad, out, outOffset): ciphertext then the 16-byte
// tag at out[outOffset..]. Throws RangeError when a length or the output range is wrong.
Napi::Value XsealInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto key = info[0].As<Napi::Uint8Array>();
  auto nonce = info[1].As<Napi::Uint8Array>();
  auto plaintext = info[2].As<Napi::Uint8Array>();
  auto aad = info[3].As<Napi::Uint8Array>();
  auto out = info[4].As<Napi::Uint8Array>();
  const uint64_t at = info[5].As<Napi::Number>().Uint32Value();
  if (key.ByteLength() != 32 || nonce.ByteLength() != 24)
    throw Napi::RangeError::New(env, "xsealInto: a 32-byte key and a 24-byte nonce");
  if (at + plaintext.ByteLength() + 16 > out.ByteLength()) throw Napi::RangeError::New(env, "xsealInto: output range beyond the buffer");
  static const EVP_CIPHER* const chacha20 = fetched(env, "ChaCha20");
  static const EVP_CIPHER* const aead = fetched(env, "ChaCha20-Poly1305");
  thread_local EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) throw Napi::Error::New(env, "EVP_CIPHER_CTX_new failed");
  uint8_t subkey[32];
  uint8_t iv[12] = {};
  std::memcpy(iv + 4, nonce.Data() + 16, 8);
  uint8_t* target = out.Data() + at;
  int written = 0;
  int last = 0;
  int ignored = 0;
  const bool ok = hchacha20(ctx, chacha20, key.Data(), nonce.Data(), subkey) &&
                  EVP_EncryptInit_ex(ctx, aead, nullptr, subkey, iv) == 1 &&
                  EVP_EncryptUpdate(ctx, nullptr, &ignored, aad.Data(), static_cast<int>(aad.ByteLength())) == 1 &&
                  EVP_EncryptUpdate(ctx, target, &written, plaintext.Data(), static_cast<int>(plaintext.ByteLength())) == 1 &&
                  EVP_EncryptFinal_ex(ctx, target + written, &last) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, target + plaintext.ByteLength()) == 1;
  std::memset(subkey, 0, sizeof subkey);
  if (!ok) throw Napi::Error::New(env, "XChaCha20-Poly1305 sealing failed in OpenSSL");
  return env.Undefined();
}

}  // namespace

void registerXaeadExports(Napi::Env env, Napi::Object exports) { exports.Set("xsealInto", Napi::Function::New(env, XsealInto)); }

}  // namespace tunkit::wireguard
