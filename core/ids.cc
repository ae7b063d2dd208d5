#include "core/ids.h"

#include <random>

namespace artagent::core {

std::string NewId(std::string_view prefix) {
  static constexpr char kChars[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(prefix);
  id += '_';
  for (int i = 0; i < 20; ++i) id += kChars[rng() % 62];
  return id;
}

}  // namespace artagent::core
