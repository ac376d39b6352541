// ChaCha20-Poly1305 over a whole batch in one N-API call, in place, through the OpenSSL that
// Node.js itself links (its headers ship with Node's; its symbols are the node binary's). Each
// job is a region of one buffer: `length` bytes at `offset`, the 16-byte tag right after them, the
// 64-bit counter as WireGuard's nonce (4 zero bytes, then the counter little-endian), and the
// index of its 32-byte key in `keys`. No allocation per packet; one cipher context per thread.
#include <napi.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstring>

#include "exports.hh"

namespace tunkit::wireguard {

namespace {

constexpr int kTagLength = 16;

struct Jobs {
  uint8_t* buffer;
  size_t bufferLength;
  const uint32_t* offsets;
  const uint32_t* lengths;
  const uint32_t* counterLo;
  const uint32_t* counterHi;
  const uint16_t* keyIndex;
  const uint8_t* keys;
  size_t keyCount;
  uint32_t count;
};

template <typename T>
T* data(const Napi::Value& value, size_t need, const char* what) {
  auto array = value.As<Napi::TypedArrayOf<T>>();
  if (array.ElementLength() < need) throw Napi::RangeError::New(value.Env(), std::string(what) + " is shorter than the job count");
  return array.Data();
}

// (buffer, offsets, lengths, counterLo, counterHi, keyIndex, keys, count[, ok])
Jobs jobsFrom(const Napi::CallbackInfo& info) {
  Jobs jobs{};
  auto buffer = info[0].As<Napi::Uint8Array>();
  jobs.buffer = buffer.Data();
  jobs.bufferLength = buffer.ByteLength();
  jobs.count = info[7].As<Napi::Number>().Uint32Value();
  jobs.offsets = data<uint32_t>(info[1], jobs.count, "offsets");
  jobs.lengths = data<uint32_t>(info[2], jobs.count, "lengths");
  jobs.counterLo = data<uint32_t>(info[3], jobs.count, "counterLo");
  jobs.counterHi = data<uint32_t>(info[4], jobs.count, "counterHi");
  jobs.keyIndex = data<uint16_t>(info[5], jobs.count, "keyIndex");
  auto keys = info[6].As<Napi::Uint8Array>();
  jobs.keys = keys.Data();
  jobs.keyCount = keys.ByteLength() / 32;
  for (uint32_t i = 0; i < jobs.count; ++i) {
    if (uint64_t{jobs.offsets[i]} + jobs.lengths[i] + kTagLength > jobs.bufferLength)
      throw Napi::RangeError::New(info.Env(), "aead job " + std::to_string(i) + " lies outside the buffer");
    if (jobs.keyIndex[i] >= jobs.keyCount) throw Napi::RangeError::New(info.Env(), "aead job " + std::to_string(i) + " names a missing key");
  }
  return jobs;
}

void nonceFor(const Jobs& jobs, uint32_t i, uint8_t nonce[12]) {
  std::memset(nonce, 0, 4);
  const uint32_t lo = jobs.counterLo[i];
  const uint32_t hi = jobs.counterHi[i];
  for (int b = 0; b < 4; ++b) {
    nonce[4 + b] = static_cast<uint8_t>(lo >> (8 * b));
    nonce[8 + b] = static_cast<uint8_t>(hi >> (8 * b));
  }
}

// The cipher, fetched once by name. Not EVP_chacha20_poly1305(): node.exe does not export that
// function (Node's Windows export list leaves it out, while it does export EVP_CIPHER_fetch), so a
// Windows addon calling it cannot load; found by the Wine run of the win32 prebuild
// (scripts/test/prebuilds-wine.test.ts). A fetched cipher also spares OpenSSL 3 the implicit
// fetch on every init.
const EVP_CIPHER* chacha20Poly1305(Napi::Env env) {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  if (cipher == nullptr) throw Napi::Error::New(env, "this OpenSSL has no ChaCha20-Poly1305");
  return cipher;
}

EVP_CIPHER_CTX* context(Napi::Env env) {
  thread_local EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) throw Napi::Error::New(env, "EVP_CIPHER_CTX_new failed");
  return ctx;
}

Napi::Value SealMany(const Napi::CallbackInfo& info) {
  const Jobs jobs = jobsFrom(info);
  EVP_CIPHER_CTX* ctx = context(info.Env());
  const EVP_CIPHER* cipher = chacha20Poly1305(info.Env());
  uint8_t nonce[12];
  for (uint32_t i = 0; i < jobs.count; ++i) {
    uint8_t* body = jobs.buffer + jobs.offsets[i];
    const int length = static_cast<int>(jobs.lengths[i]);
    nonceFor(jobs, i, nonce);
    int written = 0;
    int last = 0;
    if (EVP_EncryptInit_ex(ctx, cipher, nullptr, jobs.keys + 32 * jobs.keyIndex[i], nonce) != 1 ||
        EVP_EncryptUpdate(ctx, body, &written, body, length) != 1 || EVP_EncryptFinal_ex(ctx, body + written, &last) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagLength, body + length) != 1) {
      throw Napi::Error::New(info.Env(), "ChaCha20-Poly1305 sealing failed in OpenSSL");
    }
  }
  return info.Env().Undefined();
}

// openMany(..., ok): ok[i] = 1 when job i authenticated (its bytes are then the plaintext).
Napi::Value OpenMany(const Napi::CallbackInfo& info) {
  const Jobs jobs = jobsFrom(info);
  uint8_t* ok = data<uint8_t>(info[8], jobs.count, "ok");
  EVP_CIPHER_CTX* ctx = context(info.Env());
  const EVP_CIPHER* cipher = chacha20Poly1305(info.Env());
  uint8_t nonce[12];
  uint32_t opened = 0;
  for (uint32_t i = 0; i < jobs.count; ++i) {
    uint8_t* body = jobs.buffer + jobs.offsets[i];
    const int length = static_cast<int>(jobs.lengths[i]);
    nonceFor(jobs, i, nonce);
    int written = 0;
    int last = 0;
    ok[i] = EVP_DecryptInit_ex(ctx, cipher, nullptr, jobs.keys + 32 * jobs.keyIndex[i], nonce) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagLength, body + length) == 1 &&
            EVP_DecryptUpdate(ctx, body, &written, body, length) == 1 && EVP_DecryptFinal_ex(ctx, body + written, &last) == 1;
    opened += ok[i];
  }
  return Napi::Number::New(info.Env(), opened);
}

}  // namespace

void registerAeadExports(Napi::Env env, Napi::Object exports) {
  exports.Set("sealMany", Napi::Function::New(env, SealMany));
  exports.Set("openMany", Napi::Function::New(env, OpenMany));
  exports.Set("openssl", Napi::String::New(env, OpenSSL_version(OPENSSL_VERSION)));
}

}  // namespace tunkit::wireguard
