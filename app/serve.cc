// `artagent serve`: the server.

#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "app/acs_routes.h"
#include "app/commands.h"
#include "app/live_config.h"
#include "app/routes.h"
#include "app/runtime.h"
#include "core/log.h"
#include "server/admin_routes.h"
#include "server/dev_cert.h"
#include "server/http_server.h"

namespace artagent::app {
namespace {

constexpr char kServeHelp[] = R"(Usage: artagent serve [flags]

Runs the server: the web console at /, the OpenAI Realtime protocol at /v1/realtime, the API at
/api/v1/..., /healthz, /readyz and /metrics. Offline by default (pocketsphinx, flite, the flow
model, SQLite).

Flags:
  --config FILE        YAML configuration (default: ./artagent.yaml if it exists)
  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080; port 0 = any free port)
  --tls-cert FILE      PEM certificate: the same port then also accepts TLS (https/wss)
  --tls-key FILE       PEM private key for --tls-cert
  --scenario NAME      scenario to run (default: insurance)
  --log-level LEVEL    debug | info | warn | error
  --help               this text

Every setting can also come from the environment: ARTAGENT_SERVER__LISTEN, ARTAGENT_BACKEND__
MAX_CONCURRENT_CALLS, ... ('__' between levels). When ready, prints one line to stdout:
  artagent listening on http://HOST:PORT/
)";

bool ParseListen(const std::string& listen, std::string* host, uint16_t* port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    *port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  return !host->empty();
}

// The YAML path and the environment (flags included) the configuration is built from.
ConfigInputs InputsFromArgs(const Args& args) {
  std::string path = args.Get("config");
  if (path.empty() && std::filesystem::exists("artagent.yaml")) path = "artagent.yaml";
  auto env = platform::ProcessEnvironment();
  // Flags are the highest layer: they go in as environment spellings.
  auto flag = [&](const char* name, const char* key) {
    if (args.Has(name)) env[platform::EnvVarName(key)] = args.Get(name);
  };
  flag("listen", "server.listen");
  flag("tls-cert", "server.tls_cert");
  flag("tls-key", "server.tls_key");
  flag("scenario", "agents.scenario");
  flag("log-level", "log.level");
  flag("store", "store.path");
  return {path, env};
}

}  // namespace

core::Result<platform::Config> LoadConfig(const Args& args, nlohmann::json* effective) {
  ConfigInputs inputs = InputsFromArgs(args);
  platform::ConfigLoader loader;
  auto config = loader.Load(inputs.yaml_path, inputs.env);
  if (!config.ok()) return config.status();
  core::LogLevel level;
  if (core::ParseLogLevel(config->log.level, &level)) core::SetLogLevel(level);
  if (config->log.format == "json") core::SetLogFormat(core::LogFormat::kJson);
  if (config->log.format == "text") core::SetLogFormat(core::LogFormat::kText);
  for (const auto& w : loader.warnings()) core::LogWarn("config", "{}", w);
  if (effective) *effective = loader.Effective();
  return config;
}

int ServeCommand(int argc, char** argv) {
  auto args = ParseArgs(argc - 1, argv + 1,
                        {"config", "listen", "tls-cert", "tls-key", "scenario", "log-level",
                         "store"},
                        {"help"});
  if (!args.ok()) {
    std::fprintf(stderr, "artagent serve: %s\n", args.status().message().c_str());
    return 2;
  }
  if (args->Has("help")) {
    std::fputs(kServeHelp, stdout);
    return 0;
  }
  // Signals are taken by sigwait() below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  nlohmann::json effective;
  auto config = LoadConfig(*args, &effective);
  if (!config.ok()) {
    core::LogError("config", "{}", config.status().message());
    return 1;
  }
  // Azure App Configuration, when configured, is a layer between the file and the environment.
  std::unique_ptr<LiveConfig> live;
  if (platform::AppConfigConfigured(*config)) {
    auto created = LiveConfig::Create(InputsFromArgs(*args), *config);
    if (!created.ok()) {
      core::LogError("config", "{}", created.status().message());
      return 1;
    }
    live = std::move(created).value();
    *config = live->config();
    effective = live->effective();
    core::LogLevel level;
    if (core::ParseLogLevel(config->log.level, &level)) core::SetLogLevel(level);
  }
  RuntimeOptions runtime_options;
  runtime_options.secrets = live ? live->secrets() : nullptr;
  auto runtime = Runtime::Create(*config, runtime_options);
  if (!runtime.ok()) {
    core::LogError("serve", "{}", runtime.status().message());
    return 1;
  }
  Runtime* rt = runtime->get();
  rt->SetEffectiveConfig(effective);
  if (live) live->Attach(rt);

  server::ServerOptions so;
  if (!ParseListen(config->server.listen, &so.host, &so.port)) {
    core::LogError("config", "server.listen '{}' is not HOST:PORT (e.g. 127.0.0.1:8080)",
                   config->server.listen);
    return 1;
  }
  so.io_threads = config->server.io_threads;
  so.tls_cert_file = config->server.tls_cert;
  so.tls_key_file = config->server.tls_key;
  so.web_root = config->server.web_root;
  so.max_header_bytes = static_cast<size_t>(config->server.max_header_bytes);
  so.max_body_bytes = static_cast<size_t>(config->server.max_body_bytes);
  so.max_ws_message_bytes = static_cast<size_t>(config->server.max_ws_message_bytes);
  so.ws_send_queue_bytes = static_cast<size_t>(config->server.ws_send_queue_bytes);
  so.idle_timeout = std::chrono::seconds(config->server.idle_timeout_s);
  so.shutdown_grace = std::chrono::seconds(config->server.shutdown_grace_s);

  auto router = std::make_shared<server::Router>();
  server::AddAdminRoutes(*router, &rt->metrics(), [rt] { return rt->Readiness(); });
  AddApiRoutes(*router, rt);
  AddRealtimeRoute(*router, rt);
  AddAcsRoutes(*router, rt);

  auto srv = server::HttpServer::Create(so, router, &rt->metrics());
  if (!srv.ok()) {
    core::LogError("serve", "{}", srv.status().message());
    return 1;
  }
  core::Status started = (*srv)->Start();
  if (!started.ok()) {
    core::LogError("serve", "{}", started.message());
    return 1;
  }
  core::LogInfo("serve", "scenario '{}', agent '{}', stt {}, tts {}", rt->scenario()->name,
                rt->scenario()->start_agent, config->speech.stt.provider,
                config->speech.tts.provider);
  std::printf("artagent listening on %s\n", (*srv)->url().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  core::LogInfo("serve", "{} received: shutting down (live sessions get up to {} s)",
                sig == SIGINT ? "SIGINT" : "SIGTERM", config->server.shutdown_grace_s);
  (*srv)->Stop();
  srv->reset();
  if (live) live->Stop();
  if (rt->store()) {
    core::Status flushed = rt->store()->Flush();
    if (!flushed.ok()) core::LogError("serve", "store flush: {}", flushed.message());
  }
  runtime->reset();
  core::LogInfo("serve", "stopped");
  return 0;
}

int GenCertCommand(int argc, char** argv) {
  auto args = ParseArgs(argc - 1, argv + 1, {"cert", "key"}, {"help"});
  if (!args.ok() || args->Has("help")) {
    std::fputs(
        "Usage: artagent gen-cert [--cert FILE] [--key FILE]\n\n"
        "Writes a self-signed certificate for localhost / 127.0.0.1 (default data/dev-cert.pem\n"
        "and data/dev-key.pem), for clients that only speak wss:// such as the official openai\n"
        "npm Realtime client. Then: artagent serve --tls-cert data/dev-cert.pem --tls-key\n"
        "data/dev-key.pem\n",
        args.ok() ? stdout : stderr);
    return args.ok() ? 0 : 2;
  }
  std::string cert = args->Get("cert", "data/dev-cert.pem");
  std::string key = args->Get("key", "data/dev-key.pem");
  for (const auto& p : {cert, key}) {
    auto parent = std::filesystem::path(p).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  }
  core::Status st = server::GenerateDevCertificate(cert, key);
  if (!st.ok()) {
    std::fprintf(stderr, "artagent gen-cert: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("wrote %s and %s\n", cert.c_str(), key.c_str());
  return 0;
}

}  // namespace artagent::app
