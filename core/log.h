#pragma once
// Logging. One line per event: human-readable with colours when stderr is a terminal, JSON lines
// otherwise (for log shippers). Thread-safe; a line is written with one write() call.
//
//   LogInfo("server", "listening on {}", url);
//   LogWarn("session", "stt stream failed: {}", status.ToString(), {{"session", id}});

#include <fmt/format.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace artagent::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class LogFormat { kAuto, kText, kJson };

// A key/value pair attached to a log line (a JSON field, or "key=value" in text).
using LogField = std::pair<std::string_view, std::string_view>;

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void SetLogFormat(LogFormat format);
// Parses "debug" | "info" | "warn" | "error" | "off".
bool ParseLogLevel(std::string_view text, LogLevel* out);

// Receives every line that is written (after the level check) besides stderr, e.g. to export
// logs. Called on the logging thread, concurrently from several threads: it must be thread-safe,
// cheap and never block. SetLogSink(nullptr) removes it; a sink may still be running in another
// thread right after, so keep its state alive through the shared_ptr.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void OnLog(LogLevel level, std::string_view component, std::string_view message,
                     std::initializer_list<LogField> fields) = 0;
};
void SetLogSink(std::shared_ptr<LogSink> sink);

bool LogEnabled(LogLevel level);
void LogWrite(LogLevel level, std::string_view component, std::string_view message,
              std::initializer_list<LogField> fields = {});

// Renders one line (no trailing newline) in the given format; exposed for tests.
std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view component,
                          std::string_view message, std::initializer_list<LogField> fields);

template <typename... Args>
void LogDebug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (LogEnabled(LogLevel::kDebug))
    LogWrite(LogLevel::kDebug, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogInfo(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (LogEnabled(LogLevel::kInfo))
    LogWrite(LogLevel::kInfo, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogWarn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (LogEnabled(LogLevel::kWarn))
    LogWrite(LogLevel::kWarn, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogError(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (LogEnabled(LogLevel::kError))
    LogWrite(LogLevel::kError, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace artagent::core
