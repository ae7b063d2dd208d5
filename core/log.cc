#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

namespace artagent::core {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kAuto};
std::atomic<std::shared_ptr<LogSink>> g_sink;
std::atomic<bool> g_has_sink{false};  // skips the shared_ptr load when there is no sink

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "info";
}

std::string Timestamp(bool iso) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  if (iso) {
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms.count()));
  }
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}", buf, static_cast<int>(ms.count()));
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }
void SetLogSink(std::shared_ptr<LogSink> sink) {
  g_has_sink = sink != nullptr;
  g_sink.store(std::move(sink));
}
LogLevel GetLogLevel() { return g_level; }
void SetLogFormat(LogFormat format) { g_format = format; }

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                     LogLevel::kOff}) {
    if (text == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  if (text == "warning") {
    *out = LogLevel::kWarn;
    return true;
  }
  return false;
}

bool LogEnabled(LogLevel level) { return level >= g_level.load(std::memory_order_relaxed); }

std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view component,
                          std::string_view message, std::initializer_list<LogField> fields) {
  if (format == LogFormat::kJson) {
    nlohmann::json j;
    j["ts"] = Timestamp(true);
    j["level"] = LevelName(level);
    j["component"] = component;
    j["msg"] = message;
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  const bool colour = format == LogFormat::kAuto;  // kAuto reaches here only on a terminal
  std::string_view tag = LevelName(level);
  std::string line;
  if (colour) {
    const char* c = level >= LogLevel::kError ? "\033[31m"
                    : level == LogLevel::kWarn ? "\033[33m"
                    : level == LogLevel::kDebug ? "\033[90m"
                                                : "\033[32m";
    line = fmt::format("{} {}{:<5}\033[0m {:<9} {}", Timestamp(false), c, tag, component, message);
  } else {
    line = fmt::format("{} {:<5} {:<9} {}", Timestamp(false), tag, component, message);
  }
  for (const auto& [k, v] : fields) line += fmt::format(" {}={}", k, v);
  return line;
}

void LogWrite(LogLevel level, std::string_view component, std::string_view message,
              std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  LogFormat format = g_format.load(std::memory_order_relaxed);
  if (format == LogFormat::kAuto && !isatty(STDERR_FILENO)) format = LogFormat::kJson;
  std::string line = FormatLogLine(format, level, component, message, fields);
  line += '\n';
  // One write() per line keeps lines whole when threads log at once.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
  if (g_has_sink.load(std::memory_order_relaxed)) {
    if (auto sink = g_sink.load()) sink->OnLog(level, component, message, fields);
  }
}

}  // namespace artagent::core
