// ChaCha20-Poly1305 over a whole batch in one N-API call, in place, through the OpenSSL that
// Node.js itself links (openssl_aead.hh, shared with the native data plane). Each
// job is a region of one buffer: `length` bytes at `offset`, the 16-byte tag right after them, the
// 64-bit counter as WireGuard's nonce (4 zero bytes, then the counter little-endian), and the
// index of its 32-byte key in `keys`. No allocation per packet; one cipher context per thread.
#include <napi.h>
#include <openssl/crypto.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "exports.hh"
#include "openssl_aead.hh"

namespace tunkit::wireguard {

namespace {

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

/** The jobs as the AEAD's, in a per-thread array reused call after call. */
const AeadJob* aeadJobs(const Jobs& jobs) {
  thread_local std::vector<AeadJob> out;
  if (out.size() < jobs.count) out.resize(jobs.count);
  for (uint32_t i = 0; i < jobs.count; ++i) {
    const uint64_t counter = uint64_t{jobs.counterLo[i]} | (uint64_t{jobs.counterHi[i]} << 32);
    out[i] = AeadJob{jobs.buffer + jobs.offsets[i], jobs.lengths[i], counter, jobs.keys + 32 * jobs.keyIndex[i]};
  }
  return out.data();
}

Napi::Value SealMany(const Napi::CallbackInfo& info) {
  const Jobs jobs = jobsFrom(info);
  try {
    openSslAead().seal(aeadJobs(jobs), jobs.count);
  } catch (const std::runtime_error& error) {
    throw Napi::Error::New(info.Env(), error.what());
  }
  return info.Env().Undefined();
}

// openMany(..., ok): ok[i] = 1 when job i authenticated (its bytes are then the plaintext).
Napi::Value OpenMany(const Napi::CallbackInfo& info) {
  const Jobs jobs = jobsFrom(info);
  uint8_t* ok = data<uint8_t>(info[8], jobs.count, "ok");
  try {
    openSslAead().open(aeadJobs(jobs), jobs.count, ok);
  } catch (const std::runtime_error& error) {
    throw Napi::Error::New(info.Env(), error.what());
  }
  uint32_t opened = 0;
  for (uint32_t i = 0; i < jobs.count; ++i) opened += ok[i];
  return Napi::Number::New(info.Env(), opened);
}

}  // namespace

void registerAeadExports(Napi::Env env, Napi::Object exports) {
  exports.Set("sealMany", Napi::Function::New(env, SealMany));
  exports.Set("openMany", Napi::Function::New(env, OpenMany));
  exports.Set("openssl", Napi::String::New(env, OpenSSL_version(OPENSSL_VERSION)));
}

}  // namespace tunkit::wireguard
