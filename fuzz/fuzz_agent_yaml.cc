// Agent YAML files: the bytes are written to a temporary file and loaded with LoadAgentFile (the
// agent module parses from a path only). Any outcome is fine but a crash or an escaped exception.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/agent_config.h"

namespace {

std::string TempPath() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/artagent_fuzz_agent_" +
         std::to_string(getpid()) + ".yaml";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = TempPath();
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, file) != size) std::abort();
  std::fclose(file);
  auto result = artagent::agent::LoadAgentFile(path);
  if (!result.ok() && result.status().message().empty()) std::abort();
  return 0;
}
