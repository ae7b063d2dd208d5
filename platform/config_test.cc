#include "platform/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace artagent::platform {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "config_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteYaml(const std::string& text) {
    std::string path = dir_ + "/artagent.yaml";
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
  ConfigLoader loader_;
};

// A flat key/value layer standing in for Azure App Configuration.
class FakeSource : public ConfigSource {
 public:
  explicit FakeSource(std::map<std::string, std::string> pairs) : pairs_(std::move(pairs)) {}
  std::string name() const override { return "appconfig"; }
  core::Result<std::map<std::string, std::string>> Fetch() override {
    if (fail_) return core::UnavailableError("endpoint unreachable");
    return pairs_;
  }
  bool fail_ = false;

 private:
  std::map<std::string, std::string> pairs_;
};

TEST_F(ConfigTest, DefaultsWithoutFileOrEnvironment) {
  auto config = loader_.Load("", {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->environment, "development");
  EXPECT_EQ(config->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config->server.max_ws_message_bytes, 16777216);
  EXPECT_EQ(config->backend.max_concurrent_calls, 200);
  EXPECT_EQ(config->speech.stt.provider, "pocketsphinx");
  EXPECT_EQ(config->session.end_of_turn_silence_ms, 500);
  EXPECT_EQ(config->store.path, "data/artagent.db");
  EXPECT_THAT(config->server.api_keys, IsEmpty());
  EXPECT_THAT(loader_.warnings(), IsEmpty());
  for (const auto& [key, entry] : loader_.Effective().items()) {
    EXPECT_EQ(entry["source"], "default") << key;
  }
}

TEST_F(ConfigTest, FileOverridesDefaults) {
  std::string path = WriteYaml(
      "environment: production\n"
      "server:\n"
      "  listen: 0.0.0.0:0\n"
      "  api_keys: [k1, k2]\n"
      "backend:\n"
      "  max_concurrent_calls: 300\n"
      "speech:\n"
      "  vad: {aggressiveness: 3}\n"
      "session.end_of_turn_silence_ms: 700\n");
  auto config = loader_.Load(path, {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->environment, "production");
  EXPECT_EQ(config->server.listen, "0.0.0.0:0");
  EXPECT_THAT(config->server.api_keys, ElementsAre("k1", "k2"));
  EXPECT_EQ(config->backend.max_concurrent_calls, 300);
  EXPECT_EQ(config->speech.vad.aggressiveness, 3);
  EXPECT_EQ(config->speech.vad.provider, "webrtc");  // siblings keep their defaults
  EXPECT_EQ(config->session.end_of_turn_silence_ms, 700);
  const auto& effective = loader_.Effective();
  EXPECT_EQ(effective["backend.max_concurrent_calls"]["source"], "file:" + path + ":6");
  EXPECT_EQ(effective["backend.max_concurrent_calls"]["value"], 300);
  EXPECT_EQ(effective["session.end_of_turn_silence_ms"]["source"], "file:" + path + ":9");
  EXPECT_EQ(effective["server.io_threads"]["source"], "default");
}

TEST_F(ConfigTest, EnvironmentOverridesFile) {
  std::string path = WriteYaml("backend:\n  max_concurrent_calls: 300\nlog:\n  level: debug\n");
  auto config = loader_.Load(path, {{"ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS", "400"},
                                    {"ARTAGENT_SPEECH__TTS__VOICE", "kal16"},
                                    {"ARTAGENT_SERVER__API_KEYS", "a, b,"},
                                    {"HOME", "/root"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->backend.max_concurrent_calls, 400);
  EXPECT_EQ(config->speech.tts.voice, "kal16");
  EXPECT_THAT(config->server.api_keys, ElementsAre("a", "b"));
  EXPECT_EQ(config->log.level, "debug");
  EXPECT_EQ(loader_.Effective()["backend.max_concurrent_calls"]["source"],
            "env:ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS");
  EXPECT_EQ(loader_.Effective()["log.level"]["source"], "file:" + path + ":4");
}

TEST_F(ConfigTest, SourceSitsBetweenFileAndEnvironment) {
  std::string path = WriteYaml(
      "backend:\n  max_concurrent_calls: 300\nspeech:\n  tts:\n"
      "    voice: rms\n");
  loader_.AddSource(std::make_unique<FakeSource>(
      std::map<std::string, std::string>{{"Backend:MaxConcurrentCalls", "250"},
                                         {"Speech:Tts:Voice", "awb"},
                                         {"Server:ApiKeys", "x,y"}}));
  auto config = loader_.Load(path, {{"ARTAGENT_SPEECH__TTS__VOICE", "kal16"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->backend.max_concurrent_calls, 250);  // source beats file
  EXPECT_EQ(config->speech.tts.voice, "kal16");          // environment beats source
  EXPECT_THAT(config->server.api_keys, ElementsAre("x", "y"));
  EXPECT_EQ(loader_.Effective()["backend.max_concurrent_calls"]["source"],
            "appconfig:Backend:MaxConcurrentCalls");
}

TEST_F(ConfigTest, FailingSourceFailsLoad) {
  auto source = std::make_unique<FakeSource>(std::map<std::string, std::string>{});
  source->fail_ = true;
  loader_.AddSource(std::move(source));
  auto config = loader_.Load("", {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), core::StatusCode::kUnavailable);
  EXPECT_THAT(config.status().message(), HasSubstr("config source appconfig"));
}

TEST_F(ConfigTest, KeyHasThreeSpellings) {
  EXPECT_EQ(AppConfigKey("backend.max_concurrent_calls"), "Backend:MaxConcurrentCalls");
  EXPECT_EQ(AppConfigKey("speech.vad.aggressiveness"), "Speech:Vad:Aggressiveness");
  EXPECT_EQ(EnvVarName("backend.max_concurrent_calls"), "ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS");
  EXPECT_EQ(EnvVarName("environment"), "ARTAGENT_ENVIRONMENT");

  // Every key is reachable through each spelling.
  for (const ConfigKeyInfo& key : ConfigKeys()) {
    ConfigLoader by_env;
    ConfigLoader by_source;
    if (key.key.starts_with("server.tls_")) continue;  // must be set as a pair
    const std::string& value = key.default_value;
    ASSERT_TRUE(by_env.Load("", {{EnvVarName(key.key), value}}).ok()) << key.key;
    EXPECT_EQ(by_env.Effective()[key.key]["source"], "env:" + EnvVarName(key.key));
    by_source.AddSource(std::make_unique<FakeSource>(
        std::map<std::string, std::string>{{AppConfigKey(key.key), value}}));
    ASSERT_TRUE(by_source.Load("", {}).ok()) << key.key;
    EXPECT_EQ(by_source.Effective()[key.key]["source"], "appconfig:" + AppConfigKey(key.key));
    EXPECT_THAT(by_source.warnings(), IsEmpty());
  }
}

TEST_F(ConfigTest, ConfigKeysDescribeDefaults) {
  std::vector<ConfigKeyInfo> keys = ConfigKeys();
  // Every key once, each described (the table grows with every integration).
  std::set<std::string> names;
  for (const auto& key : keys) {
    EXPECT_TRUE(names.insert(key.key).second) << "twice: " << key.key;
    EXPECT_FALSE(key.help.empty()) << key.key;
  }
  EXPECT_GT(keys.size(), 90u);
  auto find = [&](const std::string& name) {
    for (const auto& key : keys) {
      if (key.key == name) return key;
    }
    return ConfigKeyInfo{};
  };
  EXPECT_EQ(find("backend.max_concurrent_calls").default_value, "200");
  EXPECT_EQ(find("backend.max_concurrent_calls").type, "integer");
  EXPECT_EQ(find("server.api_keys").type, "list");
  EXPECT_EQ(find("speech.tts.voice").default_value, "slt");
  EXPECT_EQ(find("speech.stt.max_streams").default_value, "64");
  for (const auto& key : keys) EXPECT_FALSE(key.help.empty()) << key.key;
}

TEST_F(ConfigTest, WrongTypeNamesKeyFileAndLine) {
  std::string path = WriteYaml("server:\n  listen: 127.0.0.1:9000\n\n  io_threads: many\n");
  auto config = loader_.Load(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "server.io_threads: expected an integer, got 'many' (" + path + ":4)");

  path = WriteYaml("backend:\n  max_concurrent_calls: [1, 2]\n");
  config = loader_.Load(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "backend.max_concurrent_calls: expected an integer, got a list (" + path + ":2)");

  path = WriteYaml("server: 5\n");
  config = loader_.Load(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("server: expected a map of settings"));

  config = loader_.Load("", {{"ARTAGENT_COMPUTE__THREADS", "4.5"}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "compute.threads: expected an integer, got '4.5' (environment variable "
            "ARTAGENT_COMPUTE__THREADS)");
}

TEST_F(ConfigTest, OutOfRangeValuesAreErrors) {
  std::string path = WriteYaml("speech:\n  vad:\n    aggressiveness: 7\n");
  auto config = loader_.Load(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(
      config.status().message(),
      "speech.vad.aggressiveness: 7 is out of range; use a value from 0 to 3 (" + path + ":3)");

  config = loader_.Load("", {{"ARTAGENT_SERVER__LISTEN", "localhost:70000"}});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("server.listen: expected host:port with a port from 0 to 65535, got "
                        "'localhost:70000'"));

  EXPECT_FALSE(loader_.Load("", {{"ARTAGENT_SERVER__LISTEN", "8080"}}).ok());
  EXPECT_TRUE(loader_.Load("", {{"ARTAGENT_SERVER__LISTEN", "[::1]:0"}}).ok());

  config = loader_.Load("", {{"ARTAGENT_SERVER__MAX_BODY_BYTES", "-1"}});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("server.max_body_bytes: -1 is out of range"));

  config = loader_.Load("", {{"ARTAGENT_LOG__LEVEL", "verbose"}});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("log.level: expected one of debug, info, warn, error, off, got 'verbose'"));
}

TEST_F(ConfigTest, TlsCertificateAndKeyComeTogether) {
  std::string path = WriteYaml("server:\n  tls_cert: cert.pem\n");
  auto config = loader_.Load(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("server.tls_cert is set (file:" + path +
                                                   ":2) but server.tls_key is empty"));
  config = loader_.Load(path, {{"ARTAGENT_SERVER__TLS_KEY", "key.pem"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.tls_key, "key.pem");
}

TEST_F(ConfigTest, MalformedYamlNamesThePlace) {
  std::string path = WriteYaml("server:\n  listen: 127.0.0.1:1\n  api_keys: [a, b\nlog: {}\n");
  auto config = loader_.Load(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr(path + ":"));
  EXPECT_THAT(config.status().message(), HasSubstr("malformed YAML"));

  path = WriteYaml("- just\n- a list\n");
  config = loader_.Load(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("expected a map of settings at the top level"));
}

TEST_F(ConfigTest, EmptyFileAndNullValues) {
  std::string path = WriteYaml("# nothing yet\n");
  ASSERT_TRUE(loader_.Load(path, {}).ok());
  path = WriteYaml("server:\n  tls_cert:\n  tls_key: ~\n  api_keys:\nlog:\n");
  auto config = loader_.Load(path, {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.tls_cert, "");
  EXPECT_THAT(config->server.api_keys, IsEmpty());
}

TEST_F(ConfigTest, MissingExplicitFileIsAnError) {
  auto config = loader_.Load(dir_ + "/nope.yaml", {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr(dir_ + "/nope.yaml"));
}

TEST_F(ConfigTest, UnknownKeysWarnWithClosestKnownKey) {
  std::string path = WriteYaml(
      "backend:\n"
      "  max_concurent_calls: 3\n"
      "servr:\n"
      "  listen: 127.0.0.1:1\n"
      "frobnicate: true\n");
  auto config = loader_.Load(path, {{"ARTAGENT_LOG__LEVLE", "debug"},
                                    {"ARTAGENT_NOTHING__LIKE_IT", "1"},
                                    {"ARTAGENT_SOURCE_DIR", "/src"},
                                    {"ARTAGENT_ENVIRONMNT", "prod"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->backend.max_concurrent_calls, 200);
  EXPECT_THAT(
      loader_.warnings(),
      ElementsAre(
          "unknown key 'backend.max_concurent_calls' (" + path +
              ":2); did you mean 'backend.max_concurrent_calls'?",
          "unknown key 'servr' (" + path + ":3); did you mean 'server'?",
          "unknown key 'frobnicate' (" + path + ":5); it is ignored",
          "unknown key 'ARTAGENT_ENVIRONMNT' (environment); did you mean 'ARTAGENT_ENVIRONMENT'?",
          "unknown key 'ARTAGENT_LOG__LEVLE' (environment); did you mean 'ARTAGENT_LOG__LEVEL'?",
          "unknown key 'ARTAGENT_NOTHING__LIKE_IT' (environment); it is ignored"));
}

TEST_F(ConfigTest, UnknownSourceKeySuggestsItsOwnSpelling) {
  loader_.AddSource(std::make_unique<FakeSource>(
      std::map<std::string, std::string>{{"Backend:MaxConcurentCalls", "3"}}));
  ASSERT_TRUE(loader_.Load("", {}).ok());
  EXPECT_THAT(loader_.warnings(),
              ElementsAre("unknown key 'Backend:MaxConcurentCalls' (appconfig); did you mean "
                          "'Backend:MaxConcurrentCalls'?"));
}

TEST_F(ConfigTest, EffectiveRedactsSecrets) {
  std::string path = WriteYaml("server:\n  tls_cert: c.pem\n  tls_key: k.pem\n");
  auto config = loader_.Load(path, {{"ARTAGENT_SERVER__API_KEYS", "sk-123,sk-456"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_THAT(config->server.api_keys, ElementsAre("sk-123", "sk-456"));
  const nlohmann::json& effective = loader_.Effective();
  EXPECT_EQ(effective.size(), ConfigKeys().size());
  EXPECT_EQ(effective["server.api_keys"]["value"], "<redacted>");
  EXPECT_EQ(effective["server.api_keys"]["source"], "env:ARTAGENT_SERVER__API_KEYS");
  EXPECT_EQ(effective["server.tls_key"]["value"], "k.pem");  // a path, not the secret itself
  EXPECT_EQ(effective["server.listen"]["value"], "127.0.0.1:8080");
  EXPECT_EQ(effective.dump().find("sk-123"), std::string::npos);

  ConfigLoader without_keys;
  ASSERT_TRUE(without_keys.Load("", {}).ok());
  EXPECT_EQ(without_keys.Effective()["server.api_keys"]["value"], nlohmann::json::array());
}

TEST(ProcessEnvironmentTest, KeepsOnlyArtagentVariables) {
  ASSERT_EQ(setenv("ARTAGENT_CONFIG_TEST_PROBE", "1", 1), 0);
  ASSERT_EQ(setenv("CONFIG_TEST_OTHER", "2", 1), 0);
  std::map<std::string, std::string> env = ProcessEnvironment();
  EXPECT_EQ(env["ARTAGENT_CONFIG_TEST_PROBE"], "1");
  EXPECT_EQ(env.count("CONFIG_TEST_OTHER"), 0u);
  for (const auto& [name, value] : env) EXPECT_TRUE(name.starts_with("ARTAGENT_")) << name;
  unsetenv("ARTAGENT_CONFIG_TEST_PROBE");
  unsetenv("CONFIG_TEST_OTHER");
}

}  // namespace
}  // namespace artagent::platform
