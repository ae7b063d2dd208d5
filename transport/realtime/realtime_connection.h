#pragma once
// RealtimeConnection: one OpenAI-Realtime WebSocket client bound to one Session. It parses client
// events, drives the session, and encodes the session's events back. It knows nothing of sockets:
// the server glue (app/) hands it messages and gives it a RealtimePeer to write to. All calls come
// on the connection's strand, which is also the session's executor.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "session/session.h"
#include "transport/realtime/realtime_protocol.h"

namespace artagent::platform {
class Metrics;
}

namespace artagent::transport::realtime {

// Where the connection writes. Implemented over the server's WebSocketConnection.
class RealtimePeer {
 public:
  virtual ~RealtimePeer() = default;
  virtual void SendText(std::string message) = 0;
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// Builds the session for a connection (providers, model, store are the app's business).
using SessionFactory = std::function<core::Result<std::shared_ptr<session::Session>>(
    session::SessionOptions options, session::SessionOutput* output)>;

class RealtimeConnection : public session::SessionOutput {
 public:
  RealtimeConnection(RealtimePeer* peer, SessionFactory factory, session::SessionOptions defaults,
                     platform::Metrics* metrics);
  ~RealtimeConnection() override;

  // Creates the session and sends session.created. On failure closes with 1011.
  void Open();
  void OnMessage(std::string_view data, bool is_text);
  // The socket is gone (code 1006 if it dropped without a close frame).
  void OnClose(uint16_t code);

  void OnSessionEvent(session::SessionEvent event) override;

  const SessionConfig& config() const { return config_; }
  const std::shared_ptr<session::Session>& session() const { return session_; }

 private:
  void Handle(ClientEvent& event);
  void ApplyUpdate(const SessionUpdate& update);
  void SendError(const ProtocolError& error);
  void Send(std::string message);

  RealtimePeer* peer_;
  SessionFactory factory_;
  session::SessionOptions defaults_;
  platform::Metrics* metrics_;
  SessionConfig config_;
  ServerEventEncoder encoder_;
  std::shared_ptr<session::Session> session_;
  audio::Samples decoded_;
  std::vector<std::string> out_;
  bool closed_ = false;
};

}  // namespace artagent::transport::realtime
