#include "agent/orchestrator.h"

#include <algorithm>
#include <cctype>

#include "agent/flow/flow_model.h"
#include "core/ids.h"
#include "core/log.h"
#include "platform/metrics.h"

namespace artagent::agent {
namespace {

using session::HistoryItem;
using session::ToolCallInfo;

nlohmann::json ReasonSchema() {
  return {
      {"type", "object"},
      {"properties", {{"reason", {{"type", "string"}, {"description", "Why, in a few words."}}}}},
      {"required", nlohmann::json::array()}};
}

ToolSpec EndCallSpec() {
  return {kEndCallTool,
          "End the phone call. Use it only after the caller's request is complete and you have "
          "said goodbye.",
          ReasonSchema()};
}

ToolSpec TransferSpec() {
  nlohmann::json params = {
      {"type", "object"},
      {"properties",
       {{"destination",
         {{"type", "string"},
          {"description", "Phone number in E.164 form (+14255550123) or a SIP URI."}}},
        {"reason", {{"type", "string"}}}}},
      {"required", {"destination"}}};
  return {kTransferTool,
          "Transfer the caller to a human or another phone line. Say that you are transferring "
          "them first.",
          params};
}

nlohmann::json ErrorOutput(const std::string& message) { return {{"error", message}}; }

}  // namespace

// One response: the model steps, the tools they call, and hand-offs, until an answer without a
// tool call (or a failure, or a cancel).
class Orchestrator::Turn : public std::enable_shared_from_this<Turn> {
 public:
  Turn(Orchestrator* o, session::ResponseCallbacks cb, const session::ResponseRequest& req)
      : o_(o), alive_(o->alive_), cb_(std::move(cb)) {
    if (req.history) history_ = *req.history;
    if (req.client_tools) {
      for (const auto& t : *req.client_tools) {
        // Realtime shape {"type":"function","name":...} (also accept the chat-completions nesting)
        const nlohmann::json& fn = t.contains("function") ? t["function"] : t;
        if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string()) continue;
        ToolSpec spec{fn["name"].get<std::string>(), fn.value("description", ""),
                      fn.value("parameters", nlohmann::json::object())};
        client_tools_.push_back(std::move(spec));
      }
    }
    instructions_ = req.instructions;
    traceparent_ = req.traceparent;
    event_ = req.event;
  }

  void Start(const session::ResponseRequest& req) {
    const AgentConfig& agent = o_->Current();
    messages_ = o_->MessagesFor(agent, history_);
    if (!instructions_.empty()) {
      messages_.push_back({ChatMessage::Role::kSystem, instructions_});
    }
    if (req.greeting) {
      Activate(agent, /*announce=*/true, /*returning=*/false);
      return;
    }
    RunModel(/*greeting=*/false, req.no_input);
  }

  void Cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    Retire();
    for (auto& r : running_) {
      r.timer.reset();
      if (r.run) r.run->Cancel();
      r.run.reset();
    }
  }

 private:
  struct Running {
    ToolCall call;
    ToolCallInfo info;
    std::unique_ptr<ToolRun> run;
    std::unique_ptr<core::Timer> timer;
    core::TimePoint started;
    bool done = false;
  };

  bool Live() const { return !cancelled_ && !finished_ && *alive_; }

  // The model stream is destroyed on a later turn of the strand: never inside its own callback.
  void Retire() {
    if (!stream_) return;
    std::shared_ptr<ModelStream> old(std::move(stream_));
    old->Cancel();
    o_->deps_.executor->Post([old] {});
  }

  void Text(std::string_view delta) {
    if (delta.empty()) return;
    std::string piece(delta);
    // Steps (greeting text, then a model's first word) join with a space.
    if (step_start_ && !said_.empty() && !std::isspace(static_cast<unsigned char>(said_.back())) &&
        !std::isspace(static_cast<unsigned char>(piece.front()))) {
      piece.insert(piece.begin(), ' ');
    }
    step_start_ = false;
    said_ += piece;
    step_text_ += piece;
    if (cb_.on_text) cb_.on_text(piece);
  }

  void ReportSlots() {
    for (const auto& s : o_->memory_.TakeUpdates()) {
      if (cb_.on_slot) cb_.on_slot(s);
    }
  }

  void Finish(const core::Status& status) {
    if (finished_ || cancelled_) return;
    ReportSlots();
    finished_ = true;
    Retire();
    if (cb_.on_done) cb_.on_done(status);
  }

  // The agent takes the call: greeting (announced), then its model's opening when it has one.
  void Activate(const AgentConfig& agent, bool announce, bool returning) {
    o_->visited_.insert(agent.name);
    std::string greeting;
    if (announce) {
      greeting =
          returning && !agent.return_greeting.empty() ? agent.return_greeting : agent.greeting;
      greeting = o_->memory_.Render(greeting);
    }
    step_start_ = true;
    Text(greeting);
    const bool flow = o_->ProviderOf(agent) == "flow";
    if (flow && !announce) {
      // Discrete: the caller's request carries over to the new agent's first question.
      for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
        if (it->role != HistoryItem::Role::kUser) continue;
        auto model = o_->ModelFor(agent);
        if (model.ok()) {
          if (auto* fm = dynamic_cast<FlowModel*>(*model)) fm->CarryOver(it->text);
        }
        break;
      }
    }
    if (flow) {
      RunModel(/*greeting=*/true, false);  // the start node's prompt
    } else if (!announce) {
      RunModel(/*greeting=*/false, false);  // discrete: carry on with the caller's request
    } else if (greeting.empty()) {
      RunModel(/*greeting=*/true, false);  // no scripted greeting: the model greets
    } else {
      Finish(core::OkStatus());
    }
  }

  void RunModel(bool greeting, bool no_input) {
    const AgentConfig& agent = o_->Current();
    auto model = o_->ModelFor(agent);
    if (!model.ok()) {
      Finish(model.status());
      return;
    }
    model_name_ = (*model)->name();
    ModelRequest req;
    req.messages = messages_;
    if (model_name_ != "flow") {
      // Chat models only see messages: say what this request is for.
      if (greeting) {
        req.messages.push_back({ChatMessage::Role::kSystem,
                                "You have just taken this call. Greet the caller in one short "
                                "sentence and ask how you can help."});
      } else if (no_input) {
        req.messages.push_back({ChatMessage::Role::kSystem,
                                "The caller has said nothing for several seconds. Check briefly "
                                "that they are still there and repeat your last question."});
      } else if (!event_.empty()) {
        req.messages.push_back({ChatMessage::Role::kSystem,
                                "The event above just happened. Tell the caller in one short "
                                "sentence and carry on helping them."});
      }
    }
    req.event = std::move(event_);  // the first model step reacts; tool-loop steps do not
    event_.clear();
    req.tools = o_->ToolsFor(agent);
    req.tools.insert(req.tools.end(), client_tools_.begin(), client_tools_.end());
    req.greeting = greeting;
    req.no_input = no_input;
    req.traceparent = traceparent_;
    step_text_.clear();
    calls_.clear();
    step_start_ = true;
    std::weak_ptr<Turn> weak = weak_from_this();
    ModelCallbacks mc;
    mc.on_text = [weak](std::string_view d) {
      if (auto t = weak.lock(); t && t->Live()) t->Text(d);
    };
    mc.on_tool_call = [weak](ToolCall call) {
      if (auto t = weak.lock(); t && t->Live()) t->calls_.push_back(std::move(call));
    };
    mc.on_done = [weak](const core::Status& st, const ModelResult& r) {
      if (auto t = weak.lock(); t && t->Live()) t->OnModelDone(st, r);
    };
    stream_ = (*model)->Stream(req, std::move(mc));
  }

  void CountModel(const core::Status& st, const ModelResult& r) {
    platform::Metrics* m = o_->deps_.metrics;
    if (!m || model_name_ == "flow") return;
    m->model_requests_total.Add({{"model", model_name_}, {"status", st.ok() ? "ok" : "error"}})
        .Increment();
    if (r.usage.prompt_tokens > 0) {
      m->model_tokens_total.Add({{"model", model_name_}, {"kind", "prompt"}})
          .Increment(static_cast<double>(r.usage.prompt_tokens));
    }
    if (r.usage.completion_tokens > 0) {
      m->model_tokens_total.Add({{"model", model_name_}, {"kind", "completion"}})
          .Increment(static_cast<double>(r.usage.completion_tokens));
    }
    if (r.first_token_ms >= 0) {
      m->model_first_token_seconds
          .Add({{"model", model_name_}}, platform::Metrics::LatencyBuckets())
          .Observe(r.first_token_ms / 1000.0);
    }
    if (r.attempts > 1) {
      m->model_retries_total.Add({{"model", model_name_}}).Increment(r.attempts - 1);
    }
  }

  void OnModelDone(const core::Status& st, const ModelResult& result) {
    auto self = shared_from_this();
    Retire();
    CountModel(st, result);
    if (!st.ok()) {
      core::LogWarn("agent", "{}: model {} failed: {}", o_->opts_.session_id, model_name_,
                    st.ToString());
      Finish(st);
      return;
    }
    if (calls_.empty()) {
      Finish(core::OkStatus());
      return;
    }
    if (++iterations_ > o_->opts_.max_tool_iterations) {
      Finish(core::InternalError("the model was still calling tools after " +
                                 std::to_string(o_->opts_.max_tool_iterations) + " rounds"));
      return;
    }
    for (auto& c : calls_) {
      if (c.id.empty()) c.id = core::NewId("call");
    }
    ChatMessage assistant{ChatMessage::Role::kAssistant, step_text_};
    assistant.tool_calls = calls_;
    messages_.push_back(std::move(assistant));
    RunTools();
  }

  void RunTools() {
    const AgentConfig& agent = o_->Current();
    running_.clear();
    running_.resize(calls_.size());
    handoff_.reset();
    bool client_call = false;
    // Announce every call first, then start them: parallel calls run concurrently.
    for (size_t i = 0; i < calls_.size(); ++i) {
      Running& r = running_[i];
      r.call = calls_[i];
      r.info.call_id = r.call.id;
      r.info.name = r.call.name;
      r.info.arguments = r.call.arguments;
      r.info.agent = agent.name;
      r.started = o_->deps_.executor->Now();
      const bool is_client = std::any_of(client_tools_.begin(), client_tools_.end(),
                                         [&](const ToolSpec& s) { return s.name == r.call.name; });
      if (is_client) {
        r.info.status = "client";
        client_call = true;
      }
      if (cb_.on_tool_started) cb_.on_tool_started(r.info);
    }
    client_call_ = client_call;
    outstanding_ = static_cast<int>(running_.size());
    for (size_t i = 0; i < running_.size() && Live(); ++i) StartTool(i);
  }

  bool AgentLists(const AgentConfig& agent, const std::string& tool) const {
    if (std::find(agent.tools.begin(), agent.tools.end(), tool) != agent.tools.end()) return true;
    // A flow node may end or transfer the call without listing the tool.
    if (tool == kEndCallTool || tool == kTransferTool) {
      for (const auto& n : agent.flow.nodes) {
        if ((tool == kEndCallTool && n.end_call) || (tool == kTransferTool && !n.transfer.empty()))
          return true;
      }
    }
    return false;
  }

  void StartTool(size_t i) {
    Running& r = running_[i];
    const AgentConfig& agent = o_->Current();
    if (r.info.status == "client") {
      Complete(i, ToolResult{core::OkStatus(), {}});
      return;
    }
    nlohmann::json args =
        nlohmann::json::parse(r.call.arguments.empty() ? "{}" : r.call.arguments, nullptr, false);
    if (args.is_discarded() || !args.is_object()) {
      Complete(i, ToolResult{core::InvalidArgumentError("the arguments are not a JSON object: " +
                                                        r.call.arguments.substr(0, 200)),
                             {}});
      return;
    }
    if (const HandoffEdge* edge = o_->deps_.scenario->Edge(agent.name, r.call.name)) {
      handoff_ = Handoff{*edge, args.value("reason", "")};
      Complete(i, ToolResult{core::OkStatus(),
                             {{"handoff", true}, {"to", edge->to}, {"type", edge->type}}});
      return;
    }
    if (r.call.name == kEndCallTool || r.call.name == kTransferTool) {
      if (!AgentLists(agent, r.call.name)) {
        Complete(i, ToolResult{core::NotFoundError("tool '" + r.call.name +
                                                   "' is not available to this agent"),
                               {}});
        return;
      }
      session::CallControl control;
      control.reason = args.value("reason", "");
      if (r.call.name == kTransferTool) {
        control.kind = session::CallControl::Kind::kTransfer;
        control.target = args.value("destination", "");
        if (control.target.empty()) {
          Complete(i, ToolResult{core::InvalidArgumentError("'destination' is required"), {}});
          return;
        }
      }
      if (cb_.on_call_control) cb_.on_call_control(control);
      Complete(i, ToolResult{
                      core::OkStatus(),
                      {{"ok", true}, {"note", "done once you finish speaking; say goodbye now"}}});
      return;
    }
    const Tool* tool = o_->deps_.tools ? o_->deps_.tools->Find(r.call.name) : nullptr;
    if (!tool || !AgentLists(agent, r.call.name)) {
      Complete(i, ToolResult{core::NotFoundError("there is no tool named '" + r.call.name +
                                                 "' for this agent"),
                             {}});
      return;
    }
    ToolContext ctx;
    ctx.session_id = o_->opts_.session_id;
    ctx.agent = agent.name;
    ctx.slots = o_->memory_.Values();
    ctx.executor = o_->deps_.executor;
    ctx.traceparent = traceparent_;
    std::weak_ptr<Turn> weak = weak_from_this();
    auto executor = o_->deps_.executor;
    const std::string name = r.call.name;
    r.timer = executor->RunAfter(tool->timeout(), [weak, i, name, ms = tool->timeout().count()] {
      if (auto t = weak.lock(); t && t->Live()) {
        t->Complete(i,
                    ToolResult{core::DeadlineExceededError("tool '" + name + "' timed out after " +
                                                           std::to_string(ms) + " ms"),
                               {}});
      }
    });
    // Tools are shared by every session and keep no per-call state; the registry hands them out
    // const so that nothing can re-register or replace them mid-call.
    r.run = const_cast<Tool*>(tool)->Invoke(args, ctx, [weak, i, executor](ToolResult result) {
      executor->Post([weak, i, result = std::move(result)]() mutable {
        if (auto t = weak.lock(); t && t->Live()) t->Complete(i, std::move(result));
      });
    });
  }

  void Complete(size_t i, ToolResult result) {
    if (i >= running_.size() || running_[i].done) return;
    auto self = shared_from_this();
    Running& r = running_[i];
    r.done = true;
    r.timer.reset();
    if (r.run && !result.status.ok()) r.run->Cancel();
    r.run.reset();
    ToolCallInfo& info = r.info;
    info.duration_ms = core::MillisBetween(r.started, o_->deps_.executor->Now());
    if (info.status == "client") {
      info.output.clear();
    } else if (result.status.ok()) {
      info.status = "completed";
      info.output = result.output.dump();
      Remember(result.output);
    } else {
      info.status =
          result.status.code() == core::StatusCode::kDeadlineExceeded ? "timeout" : "failed";
      info.output = ErrorOutput(result.status.message()).dump();
      core::LogWarn("agent", "{}: tool {} {}: {}", o_->opts_.session_id, info.name, info.status,
                    result.status.message());
    }
    if (cb_.on_tool_finished) cb_.on_tool_finished(info);
    if (!Live()) return;
    if (--outstanding_ == 0) AfterTools();
  }

  // Fields of a tool's output the scenario remembers become slots (caller_name, claim_number...).
  void Remember(const nlohmann::json& output) {
    if (!output.is_object()) return;
    for (const auto& key : o_->deps_.scenario->remember) {
      auto it = output.find(key);
      if (it == output.end() || it->is_null()) continue;
      o_->memory_.Set(key, it->is_string() ? "text" : "json", *it, o_->current_);
    }
  }

  void AfterTools() {
    for (const auto& r : running_) {
      if (r.info.status == "client") continue;
      ChatMessage m{ChatMessage::Role::kTool, r.info.output};
      m.tool_call_id = r.info.call_id;
      m.name = r.info.name;
      messages_.push_back(std::move(m));
    }
    ReportSlots();
    if (handoff_) {
      DoHandoff();
      return;
    }
    if (client_call_) {
      Finish(core::OkStatus());  // the client runs its tool and asks for the next response
      return;
    }
    RunModel(false, false);
  }

  void DoHandoff() {
    Handoff h = std::move(*handoff_);
    handoff_.reset();
    const AgentConfig* to = o_->deps_.scenario->Find(h.edge.to);
    if (!to) {
      Finish(core::InternalError("hand-off to unknown agent '" + h.edge.to + "'"));
      return;
    }
    if (++iterations_ > o_->opts_.max_tool_iterations) {
      Finish(core::InternalError("too many hand-offs in one response"));
      return;
    }
    session::HandoffInfo info{o_->current_, to->name, h.edge.type, h.edge.share_context, h.reason};
    const bool returning = o_->visited_.count(to->name) > 0;
    o_->current_ = to->name;
    o_->share_context_[to->name] = h.edge.share_context;
    core::LogInfo("agent", "{}: hand-off {} -> {} ({})", o_->opts_.session_id, info.from, info.to,
                  info.type);
    if (cb_.on_handoff) cb_.on_handoff(info);
    if (!Live()) return;
    // The new agent's chat: the conversation as the session holds it at the start of this
    // response (what the caller said last included), plus a note of the hand-off.
    session::HistoryItem marker;
    marker.role = HistoryItem::Role::kHandoff;
    marker.handoff = info;
    history_.push_back(marker);
    messages_ = o_->MessagesFor(*to, history_);
    Activate(*to, h.edge.type == "announced", returning);
  }

  struct Handoff {
    HandoffEdge edge;
    std::string reason;
  };

  Orchestrator* o_;
  std::shared_ptr<bool> alive_;
  session::ResponseCallbacks cb_;
  std::vector<HistoryItem> history_;
  std::vector<ToolSpec> client_tools_;
  std::string instructions_;
  std::string traceparent_;  // the turn's span (telemetry)
  std::string event_;  // Notify: the first model step reacts to it
  std::vector<ChatMessage> messages_;
  std::unique_ptr<ModelStream> stream_;
  std::string model_name_;
  std::string step_text_;
  std::string said_;
  bool step_start_ = false;
  std::vector<ToolCall> calls_;
  std::vector<Running> running_;
  int outstanding_ = 0;
  int iterations_ = 0;
  std::optional<Handoff> handoff_;
  bool client_call_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

namespace {

class TurnStream : public session::ResponseStream {
 public:
  explicit TurnStream(std::shared_ptr<void> turn, std::function<void()> cancel)
      : turn_(std::move(turn)), cancel_(std::move(cancel)) {}
  ~TurnStream() override { Cancel(); }
  void Cancel() override {
    if (cancel_) {
      auto c = std::move(cancel_);
      cancel_ = nullptr;
      c();
    }
  }

 private:
  std::shared_ptr<void> turn_;
  std::function<void()> cancel_;
};

}  // namespace

Orchestrator::Orchestrator(OrchestratorDeps deps, OrchestratorOptions options)
    : deps_(std::move(deps)), opts_(std::move(options)) {
  current_ = deps_.scenario->start_agent;
  memory_.SetTemplateVars(deps_.scenario->template_vars);
}

Orchestrator::~Orchestrator() {
  *alive_ = false;
  if (deps_.on_call_summary) {
    if (auto summary = Summary()) deps_.on_call_summary(std::move(*summary));
  }
}

std::optional<CallSummary> Orchestrator::Summary() {
  const auto& email = deps_.scenario->email;
  if (!email) return std::nullopt;
  if (!email->when.empty() && memory_.Find(email->when) == nullptr) return std::nullopt;
  auto vars = deps_.scenario->template_vars;
  vars["session_id"] = opts_.session_id;
  memory_.SetTemplateVars(std::move(vars));
  CallSummary s;
  s.session_id = opts_.session_id;
  s.scenario = deps_.scenario->name;
  const std::string to = memory_.Render(email->to);
  for (size_t at = 0; at <= to.size();) {
    size_t comma = std::min(to.find(',', at), to.size());
    std::string address = to.substr(at, comma - at);
    address.erase(0, address.find_first_not_of(" \t"));
    address.erase(address.find_last_not_of(" \t") + 1);
    if (address.find('@') != std::string::npos) s.to.push_back(address);
    at = comma + 1;
  }
  if (s.to.empty()) return std::nullopt;  // e.g. {{email}} was never collected
  s.subject = memory_.Render(email->subject);
  s.body = memory_.Render(email->body);
  if (email->attach_transcript) {
    for (const auto& item : last_history_) {
      if (item.role == session::HistoryItem::Role::kUser) {
        s.transcript += "Caller: " + item.text + (item.dtmf ? " [keypad]" : "") + "\n";
      } else if (item.role == session::HistoryItem::Role::kAssistant && !item.text.empty()) {
        s.transcript += "Agent (" + item.agent + "): " + item.text +
                        (item.interrupted ? " [interrupted]" : "") + "\n";
      }
    }
  }
  return s;
}

const AgentConfig& Orchestrator::Current() const { return *deps_.scenario->Find(current_); }

std::string Orchestrator::ProviderOf(const AgentConfig& agent) const {
  std::string p = agent.model.provider.empty() ? opts_.default_provider : agent.model.provider;
  // An agent without a flow cannot run on the flow model.
  if (p == "flow" && agent.flow.nodes.empty()) p = "openai";
  return p;
}

core::Result<Model*> Orchestrator::ModelFor(const AgentConfig& agent) {
  auto it = models_.find(agent.name);
  if (it != models_.end()) return it->second.get();
  std::unique_ptr<Model> model;
  if (ProviderOf(agent) == "flow") {
    model = std::make_unique<FlowModel>(deps_.scenario.get(), &agent, &memory_, deps_.executor);
  } else {
    if (!deps_.model_factory) {
      return core::FailedPreconditionError("agent '" + agent.name +
                                           "' needs an LLM but no model endpoint is configured "
                                           "(model.provider / model.endpoint)");
    }
    auto created = deps_.model_factory(agent, deps_.executor);
    if (!created.ok()) return created.status();
    model = std::move(created).value();
  }
  Model* raw = model.get();
  models_.emplace(agent.name, std::move(model));
  return raw;
}

std::vector<ToolSpec> Orchestrator::ToolsFor(const AgentConfig& agent) const {
  std::vector<ToolSpec> out;
  for (const auto& name : agent.tools) {
    if (name == kEndCallTool) {
      out.push_back(EndCallSpec());
    } else if (name == kTransferTool) {
      out.push_back(TransferSpec());
    } else if (const Tool* t = deps_.tools ? deps_.tools->Find(name) : nullptr) {
      out.push_back(t->spec());
    }
  }
  for (const auto* e : EdgesFrom(*deps_.scenario, agent.name)) {
    const AgentConfig* to = deps_.scenario->Find(e->to);
    std::string description =
        !e->description.empty()
            ? e->description
            : "Hand the conversation to " + e->to +
                  (to && !to->description.empty() ? ": " + to->description : std::string("."));
    out.push_back({e->tool, description, ReasonSchema()});
  }
  return out;
}

std::string Orchestrator::SystemPrompt(const AgentConfig& agent) const {
  std::string prompt = memory_.Render(agent.instructions);
  nlohmann::json facts = memory_.Values();
  if (!facts.empty()) {
    prompt += "\n\nKnown about this call (do not ask again):";
    for (const auto& [k, v] : facts.items()) prompt += "\n- " + k + ": " + ValueText(v);
  }
  return prompt;
}

std::vector<ChatMessage> Orchestrator::MessagesFor(const AgentConfig& agent,
                                                   const std::vector<HistoryItem>& history) const {
  std::vector<ChatMessage> out;
  std::string system = SystemPrompt(agent);
  if (!system.empty()) out.push_back({ChatMessage::Role::kSystem, system});
  size_t start = 0;
  auto sc = share_context_.find(agent.name);
  if (sc != share_context_.end() && !sc->second) {
    for (size_t i = history.size(); i-- > 0;) {
      if (history[i].role == HistoryItem::Role::kHandoff && history[i].handoff.to == agent.name) {
        start = i;
        break;
      }
    }
    // Without shared context the agent still hears what the caller asked for last.
    for (size_t i = start; i-- > 0;) {
      if (history[i].role == HistoryItem::Role::kUser) {
        out.push_back({ChatMessage::Role::kUser, history[i].text});
        out.back().dtmf = history[i].dtmf;
        break;
      }
    }
  }
  const bool llm = ProviderOf(agent) != "flow";
  for (size_t i = start; i < history.size(); ++i) {
    const HistoryItem& h = history[i];
    switch (h.role) {
      case HistoryItem::Role::kUser: {
        ChatMessage m{ChatMessage::Role::kUser, h.dtmf && llm ? "(keypad) " + h.text : h.text};
        m.dtmf = h.dtmf;
        out.push_back(std::move(m));
        break;
      }
      case HistoryItem::Role::kAssistant:
        if (!h.text.empty()) out.push_back({ChatMessage::Role::kAssistant, h.text});
        break;
      case HistoryItem::Role::kSystem:
        out.push_back({ChatMessage::Role::kSystem, h.text});
        break;
      case HistoryItem::Role::kTool: {
        if (h.tool.output.empty()) break;  // a client call still waiting for its output
        ChatMessage call{ChatMessage::Role::kAssistant, ""};
        call.tool_calls.push_back({h.tool.call_id, h.tool.name, h.tool.arguments});
        out.push_back(std::move(call));
        ChatMessage result{ChatMessage::Role::kTool, h.tool.output};
        result.tool_call_id = h.tool.call_id;
        result.name = h.tool.name;
        out.push_back(std::move(result));
        break;
      }
      case HistoryItem::Role::kHandoff: {
        std::string note = "(The conversation was handed from " + h.handoff.from + " to " +
                           h.handoff.to +
                           (h.handoff.reason.empty() ? "" : ": " + h.handoff.reason) + ".)";
        out.push_back({ChatMessage::Role::kSystem, note});
        break;
      }
    }
  }
  return out;
}

std::unique_ptr<session::ResponseStream> Orchestrator::Respond(
    const session::ResponseRequest& request, session::ResponseCallbacks callbacks) {
  if (request.history && deps_.scenario->email) last_history_ = *request.history;
  auto turn = std::make_shared<Turn>(this, std::move(callbacks), request);
  std::weak_ptr<Turn> weak = turn;
  auto stream = std::make_unique<TurnStream>(turn, [weak] {
    if (auto t = weak.lock()) t->Cancel();
  });
  // Start on a later turn of the strand: the session expects no callback inside Respond().
  // The flow model's next node is decided now so that ExpectedGrammar() already reflects it.
  deps_.executor->Post([weak, request_copy = session::ResponseRequest{
                                  .greeting = request.greeting, .no_input = request.no_input}] {
    if (auto t = weak.lock()) t->Start(request_copy);
  });
  return stream;
}

std::string Orchestrator::ExpectedGrammar() const {
  auto it = models_.find(current_);
  if (it == models_.end()) return "";
  if (auto* flow = dynamic_cast<const FlowModel*>(it->second.get())) {
    return flow->ExpectedGrammar();
  }
  return "";
}

session::AgentSpeech Orchestrator::speech() const {
  const AgentConfig& a = Current();
  session::AgentSpeech s;
  s.voice = a.voice;
  s.end_of_turn_silence_ms = a.end_of_turn_silence_ms;
  s.no_input_timeout_ms = a.no_input_timeout_ms;
  s.phrase_hints = a.phrase_hints;
  return s;
}

}  // namespace artagent::agent
