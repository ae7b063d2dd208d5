#pragma once
// Standard base64 (RFC 4648, with padding), as used for audio in Realtime and ACS media events.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace artagent::core {

std::string Base64Encode(const void* data, size_t size);
inline std::string Base64Encode(std::string_view bytes) {
  return Base64Encode(bytes.data(), bytes.size());
}
// Appends the decoded bytes of `text` to `out`. Returns false (and leaves `out` with an
// unspecified tail) if `text` is not valid base64. Whitespace is not allowed; missing padding is
// accepted.
bool Base64Decode(std::string_view text, std::vector<uint8_t>* out);
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace artagent::core
