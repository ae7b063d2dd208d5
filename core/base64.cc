#include "core/base64.h"

#include <array>

namespace artagent::core {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kDecode = MakeDecodeTable();

template <typename Out>
bool DecodeInto(std::string_view in, Out* out) {
  size_t n = in.size();
  // Strip up to two '=' of padding; anything else must be in the alphabet.
  size_t pad = 0;
  while (n > 0 && in[n - 1] == '=' && pad < 2) {
    --n;
    ++pad;
  }
  if (pad > 0 && (n + pad) % 4 != 0) return false;
  if (n % 4 == 1) return false;
  out->reserve(out->size() + n * 3 / 4);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    int a = kDecode[static_cast<uint8_t>(in[i])], b = kDecode[static_cast<uint8_t>(in[i + 1])];
    int c = kDecode[static_cast<uint8_t>(in[i + 2])], d = kDecode[static_cast<uint8_t>(in[i + 3])];
    if ((a | b | c | d) < 0) return false;
    uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
    out->push_back(static_cast<typename Out::value_type>(v >> 16));
    out->push_back(static_cast<typename Out::value_type>((v >> 8) & 0xff));
    out->push_back(static_cast<typename Out::value_type>(v & 0xff));
  }
  size_t rest = n - i;
  if (rest >= 2) {
    int a = kDecode[static_cast<uint8_t>(in[i])], b = kDecode[static_cast<uint8_t>(in[i + 1])];
    if ((a | b) < 0) return false;
    uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12);
    if (rest == 3) {
      int c = kDecode[static_cast<uint8_t>(in[i + 2])];
      if (c < 0) return false;
      v |= uint32_t(c) << 6;
      out->push_back(static_cast<typename Out::value_type>(v >> 16));
      out->push_back(static_cast<typename Out::value_type>((v >> 8) & 0xff));
    } else {
      out->push_back(static_cast<typename Out::value_type>(v >> 16));
    }
  }
  return true;
}

}  // namespace

std::string Base64Encode(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out;
  out.resize((size + 2) / 3 * 4);
  char* o = out.data();
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (size - i == 1) {
    uint32_t v = uint32_t(p[i]) << 16;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (size - i == 2) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8);
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = '=';
  }
  return out;
}

bool Base64Decode(std::string_view text, std::vector<uint8_t>* out) { return DecodeInto(text, out); }
bool Base64Decode(std::string_view text, std::string* out) { return DecodeInto(text, out); }

}  // namespace artagent::core
