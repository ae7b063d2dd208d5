#pragma once
// Internal to `artagent loadgen` (loadgen*.cc): the options, the caller audio pre-encoded for a
// transport, and one simulated caller over a transport. Every caller lives on the one io_context
// the command runs (single-threaded: no locks); a shared 1 ms timer wheel calls Tick() on each
// caller every 20 ms, spread over the 20 slots so that callers do not all send at once.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/loadgen_script.h"
#include "core/executor.h"
#include "net/http_client.h"

namespace artagent::app {

struct LoadgenOptions {
  std::string url;        // the server: http://HOST:PORT (ws:// accepted)
  std::string transport;  // "realtime" | "acs"
  int sessions = 1;
  double duration_s = 30;  // after the ramp
  double ramp_s = 0;       // sessions start evenly over this
  std::vector<std::string> audio;
  uint64_t seed = 1;
  std::string format = "pcm";  // realtime: "pcm" (24 kHz) or "pcmu" (8 kHz G.711)
  std::string scenario;        // realtime: /v1/realtime?scenario=
  std::string acs_listen = "127.0.0.1:0";
  std::string access_key = "c2ltdWxhdG9yLWFjY2Vzcy1rZXktMDEyMzQ1Njc4OWFi";
  int acs_rate = 16000;
  CallerOptions caller;
};

// Caller clips at the transport's rate and encoding, each 20 ms frame a ready-to-send message.
struct EncodedAudio {
  int sample_rate = 0;
  std::vector<ClipInfo> clips;
  std::vector<std::vector<std::shared_ptr<const std::string>>> frames;  // [clip][frame]
  std::shared_ptr<const std::string> silence;

  const std::shared_ptr<const std::string>& Frame(const FrameChoice& c) const {
    return c.clip < 0 ? silence : frames[c.clip][c.index];
  }
};

// One WebSocket client: a write queue (one write in flight) and a read loop. Callbacks run on the
// io_context. Close() is graceful; the socket is then done (closed()).
class LoadSocket : public std::enable_shared_from_this<LoadSocket> {
 public:
  using Stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;
  struct Handlers {
    // The upgrade succeeded (true) or not: `http_status` is the refusal's status, 0 when the
    // connection itself failed.
    std::function<void(bool ok, int http_status, const std::string& error)> on_open;
    std::function<void(std::string_view text)> on_message;
    // The socket ended: the close code (1006 when it dropped without a close frame).
    std::function<void(int code)> on_close;
  };
  LoadSocket(boost::asio::io_context& io, Handlers handlers);
  // ws://host:port/target; extra headers on the upgrade; `subprotocol` may be empty.
  void Open(const boost::asio::ip::tcp::endpoint& endpoint, const std::string& host,
            const std::string& target, std::vector<std::pair<std::string, std::string>> headers,
            const std::string& subprotocol);
  // Queues a text message; false (dropped) when more than `max_queue` are waiting.
  bool Send(std::shared_ptr<const std::string> message, size_t max_queue = 50);
  void Close();
  bool open() const { return open_; }
  bool closed() const { return closed_; }

 private:
  void Read();
  void Pump();
  void CloseNow();
  void Finish(int code);

  Stream ws_;
  Handlers handlers_;
  boost::beast::flat_buffer buffer_;
  boost::beast::websocket::response_type response_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::shared_ptr<const std::string> in_flight_;  // kept alive until its write completes
  bool writing_ = false;
  bool open_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

// A simulated caller over some transport.
class LoadCaller {
 public:
  virtual ~LoadCaller() = default;
  // Connects (asynchronously); counts itself in stats as connected or refused.
  virtual void Start() = 0;
  // Every 20 ms: sends the next frame once the call is up.
  virtual void Tick(core::TimePoint now) = 0;
  // Hangs up.
  virtual void Stop() = 0;
  // Connected and not ended.
  virtual bool live() const = 0;
  // Nothing more will happen (ended, refused or failed).
  virtual bool done() const = 0;
};

// Shared by the callers of one run.
struct LoadContext {
  boost::asio::io_context* io = nullptr;
  LoadgenOptions options;
  EncodedAudio audio;
  LoadStats* stats = nullptr;
  boost::asio::ip::tcp::endpoint server;
  std::string host;  // HOST:PORT of the server
  int live = 0;      // callers connected now
  bool stopping = false;
  void Connected();
  void Ended(bool dropped);
  void Refused(const std::string& kind);
};

// Realtime: pcm 24 kHz or pcmu 8 kHz input_audio_buffer.append messages.
core::Result<EncodedAudio> EncodeRealtimeAudio(const std::vector<std::vector<int16_t>>& clips16k,
                                               const std::string& format);
std::unique_ptr<LoadCaller> NewRealtimeCaller(LoadContext* context, int index);

// ACS: AudioData frames at the call's rate. The fake ACS endpoint (Call Automation REST on
// options.acs_listen, checking every HMAC signature) is shared by the callers; the server must be
// configured with connection_string().
core::Result<EncodedAudio> EncodeAcsAudio(const std::vector<std::vector<int16_t>>& clips16k,
                                          int rate);
class AcsFleet {
 public:
  // Listens for the server's REST calls; everything runs on io_context().
  static core::Result<std::unique_ptr<AcsFleet>> Start(LoadContext* context);
  virtual ~AcsFleet() = default;
  virtual std::string connection_string() const = 0;
  virtual boost::asio::io_context& io_context() = 0;
  // Shared HTTP client (IncomingCall, callbacks, /metrics) posting to the io_context.
  virtual net::HttpClient* http() = 0;
  virtual std::shared_ptr<core::Executor> executor() = 0;
  virtual std::unique_ptr<LoadCaller> NewCaller(int index) = 0;
  // Stops serving REST (after every call ended).
  virtual void Shutdown() = 0;
};

}  // namespace artagent::app
