#include "agent/flow/flow_model.h"

#include <cctype>
#include <ctime>

#include "agent/flow/grammar.h"
#include "agent/flow/slots.h"
#include "core/ids.h"

namespace artagent::agent {
namespace {

class PostedStream : public ModelStream {
 public:
  PostedStream() : cancelled_(std::make_shared<bool>(false)) {}
  ~PostedStream() override { *cancelled_ = true; }
  void Cancel() override { *cancelled_ = true; }
  std::shared_ptr<bool> cancelled() const { return cancelled_; }

 private:
  std::shared_ptr<bool> cancelled_;
};

void Say(FlowModel::Step* step, const std::string& text) {
  if (text.empty()) return;
  if (!step->text.empty() && step->text.back() != ' ') step->text += ' ';
  step->text += text;
}
}  // namespace

FlowModel::FlowModel(const ScenarioConfig* scenario, const AgentConfig* agent, Memory* memory,
                     std::shared_ptr<core::Executor> executor)
    : scenario_(scenario), agent_(agent), memory_(memory), executor_(std::move(executor)) {}

CalendarDate FlowModel::Today() const {
  if (today_) return *today_;
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

std::string FlowModel::ExpectedGrammar() const {
  if (!agent_->grammar_recognition || awaiting_result_) return "";
  const FlowNode* node = agent_->flow.Find(node_);
  if (!node) return "";
  if (pending_)
    return NodeGrammar(FlowNode{.id = node->id, .slot = FlowSlot{"confirm", {"yes_no"}}});
  return NodeGrammar(*node);
}

ToolCall FlowModel::Call(const std::string& name, nlohmann::json args) {
  return ToolCall{core::NewId("call"), name, args.dump()};
}

void FlowModel::Enter(const std::string& node_id, Step* step) {
  std::string id = node_id;
  // Pass-through nodes chain; a bound stops a cycle of them from spinning forever.
  for (int hops = 0; hops < 32 && !id.empty(); ++hops) {
    const FlowNode* node = agent_->flow.Find(id);
    if (!node) return;
    node_ = id;
    retries_ = 0;
    pending_.reset();
    awaiting_result_ = false;
    if (!carry_.empty() && (node->slot || !node->answers.empty())) {
      std::string carried = std::move(carry_);
      carry_.clear();
      if (Fits(*node, carried)) {
        Step answered = Hear(carried, false);
        Say(step, answered.text);
        step->call = answered.call;
        return;
      }
    }
    Say(step, memory_->Render(node->prompt));
    if (!node->tool.empty()) {
      // An argument that is exactly one placeholder keeps its JSON type (Memory::Value).
      nlohmann::json args = nlohmann::json::object();
      for (const auto& [key, templ] : node->args) args[key] = memory_->Value(templ);
      step->call = Call(node->tool, std::move(args));
      awaiting_result_ = true;
      return;
    }
    if (!node->handoff.empty()) {
      std::string tool = "handoff_" + node->handoff;
      for (const auto* e : EdgesFrom(*scenario_, agent_->name)) {
        if (e->to == node->handoff) tool = e->tool;
      }
      step->call = Call(tool, {{"reason", memory_->Render(node->handoff_reason)}});
      return;
    }
    if (node->end_call) {
      step->call = Call(kEndCallTool, {{"reason", "the conversation is complete"}});
      return;
    }
    if (!node->transfer.empty()) {
      step->call = Call(kTransferTool, {{"destination", memory_->Render(node->transfer)},
                                        {"reason", memory_->Render(node->handoff_reason)}});
      return;
    }
    if (node->slot || !node->answers.empty() || node->end) return;
    id = node->next;
  }
}

void FlowModel::Apply(const SlotAssignments& set, const nlohmann::json* result) {
  for (const auto& [name, templ] : set) {
    nlohmann::json value = memory_->Value(templ, result);  // "{{result.x}}" keeps its JSON type
    memory_->Set(name, value.is_string() ? "text" : "json", value, agent_->name);
  }
}

bool FlowModel::Fits(const FlowNode& node, const std::string& text) const {
  if (node.slot) return ParseSlot(node.slot->spec, text, Today()).value.has_value();
  const auto words = Words(text);
  for (const auto& a : node.answers) {
    if (CountKeywordHits(words, a.keywords) > 0) return true;
  }
  return false;
}

FlowModel::Step FlowModel::Start() {
  Step step;
  Enter(agent_->flow.start, &step);
  return step;
}

void FlowModel::Retry(const FlowNode& node, const std::string& problem, bool no_input, Step* step) {
  ++retries_;
  if (!node.on_max_retries.empty() && retries_ > node.max_retries) {
    Enter(node.on_max_retries, step);
    return;
  }
  if (pending_) {
    // The value is not stored until confirmed: read back the one waiting for the answer.
    Memory preview = *memory_;
    if (node.slot) {
      preview.Set(node.slot->name, node.slot->spec.type, pending_->value, agent_->name,
                  pending_->spoken);
    }
    Say(step, "Please say yes or no.");
    Say(step, preview.Render(node.confirm));
    return;
  }
  if (no_input) {
    if (!node.no_input.empty()) {
      Say(step, memory_->Render(node.no_input));
    } else {
      Say(step, "Are you still there?");
      Say(step, memory_->Render(node.prompt));
    }
    return;
  }
  if (!node.no_match.empty()) {
    Say(step, memory_->Render(node.no_match));
    return;
  }
  std::string sorry = "Sorry, I didn't catch that.";
  if (!problem.empty()) {
    sorry = "Sorry, " + problem;
    // "Sorry, please answer ..." but "Sorry, I heard ..."
    if (sorry.size() > 8 && sorry[8] != 'I' && std::isupper(static_cast<unsigned char>(sorry[8]))) {
      sorry[8] = static_cast<char>(std::tolower(static_cast<unsigned char>(sorry[8])));
    }
  }
  Say(step, sorry);
  Say(step, memory_->Render(node.prompt));
}

void FlowModel::Accept(const FlowNode& node, const SlotValue& value, Step* step) {
  memory_->Set(node.slot->name, node.slot->spec.type, value.value, agent_->name, value.spoken);
  pending_.reset();
  if (!node.next.empty()) Enter(node.next, step);
}

FlowModel::Step FlowModel::Hear(const std::string& caller_text, bool dtmf) {
  Step step;
  const FlowNode* node = agent_->flow.Find(node_);
  if (!node) return Start();
  if (awaiting_result_ || node->end) {
    // The node's call was cut off by the caller (or the dialogue was complete): start it over.
    Enter(node->end ? agent_->flow.start : node_, &step);
    return step;
  }
  if (pending_) {
    auto yes = ParseYesNo(caller_text);
    if (dtmf)
      yes = caller_text == "1"   ? std::optional(true)
            : caller_text == "2" ? std::optional(false)
                                 : std::nullopt;
    if (yes && *yes) {
      SlotValue v = *pending_;
      Accept(*node, v, &step);
    } else if (yes && !*yes) {
      pending_.reset();
      Say(&step, "Let's try that again.");
      Say(&step, memory_->Render(node->prompt));
    } else {
      Retry(*node, "", false, &step);
    }
    return step;
  }
  if (node->slot) {
    std::string answer = caller_text;
    if (dtmf && node->slot->spec.type == "yes_no") {
      // On the keypad, 1 is yes and 2 is no.
      answer = caller_text == "1" ? "yes" : caller_text == "2" ? "no" : caller_text;
    }
    SlotParse parsed = ParseSlot(node->slot->spec, answer, Today());
    if (!parsed.value) {
      Retry(*node, parsed.problem, false, &step);
      return step;
    }
    if (!node->confirm.empty()) {
      pending_ = *parsed.value;
      // The confirmation reads the value back: make it visible to the template first.
      Memory preview = *memory_;
      preview.Set(node->slot->name, node->slot->spec.type, parsed.value->value, agent_->name,
                  parsed.value->spoken);
      Say(&step, preview.Render(node->confirm));
      return step;
    }
    Accept(*node, *parsed.value, &step);
    return step;
  }
  if (!node->answers.empty()) {
    const auto words = Words(caller_text);
    const FlowAnswer* best = nullptr;
    int best_hits = 0;
    for (const auto& a : node->answers) {
      int hits = 0;
      if (dtmf) {
        hits = !a.dtmf.empty() && a.dtmf == caller_text ? 100 : 0;
      } else {
        hits = CountKeywordHits(words, a.keywords);
        if (a.name == "yes" || a.name == "no") {
          auto yn = ParseYesNo(caller_text);
          if (yn && *yn == (a.name == "yes")) hits += 1;
        }
      }
      if (hits > best_hits) {
        best = &a;
        best_hits = hits;
      }
    }
    if (best) {
      Apply(best->set, nullptr);
      Say(&step, memory_->Render(best->say));
      if (!best->next.empty()) Enter(best->next, &step);
      return step;
    }
    Retry(*node, "", false, &step);
    return step;
  }
  if (!node->next.empty()) {
    Enter(node->next, &step);
    return step;
  }
  Retry(*node, "", false, &step);
  return step;
}

FlowModel::Step FlowModel::NoInput() {
  Step step;
  const FlowNode* node = agent_->flow.Find(node_);
  if (!node || awaiting_result_ || node->end) return step;
  if (!node->slot && node->answers.empty()) return step;
  Retry(*node, "", true, &step);
  return step;
}

FlowModel::Step FlowModel::Event(const std::string& event) {
  Step step;
  const FlowNode* node = agent_->flow.Find(node_);
  if (!node) return Start();
  if (event.rfind("transfer_failed", 0) == 0 && !node->transfer.empty()) {
    if (node->on_failure.empty()) {
      Say(&step, "I'm sorry, I couldn't transfer your call just now.");
      Enter(agent_->flow.start, &step);
    } else {
      Enter(node->on_failure, &step);
    }
    return step;
  }
  Say(&step, memory_->Render(node->prompt));
  return step;
}

FlowModel::Step FlowModel::ToolResult(const std::string& output_json) {
  Step step;
  const FlowNode* node = agent_->flow.Find(node_);
  if (!node || !awaiting_result_) return step;  // end_call / transfer / hand-off: nothing to add
  awaiting_result_ = false;
  nlohmann::json result = nlohmann::json::parse(output_json, nullptr, false);
  if (result.is_discarded()) result = nlohmann::json::object();
  const bool ok = !(result.is_object() && result.contains("error"));
  for (const auto& b : node->on_result) {
    if (!EvalCondition(b.when, result, ok, *memory_)) continue;
    Apply(b.set, &result);
    Say(&step, memory_->Render(b.say, &result));
    if (!b.next.empty()) Enter(b.next, &step);
    return step;
  }
  if (ok && !node->next.empty()) {
    Enter(node->next, &step);
    return step;
  }
  // Nothing handles this outcome: recover out loud; the caller's next words retry the node.
  Say(&step, "I'm sorry, I couldn't complete that just now.");
  awaiting_result_ = true;
  if (!node->on_max_retries.empty()) Enter(node->on_max_retries, &step);
  return step;
}

std::unique_ptr<ModelStream> FlowModel::Stream(const ModelRequest& request,
                                               ModelCallbacks callbacks) {
  Step step;
  const ChatMessage* last = request.messages.empty() ? nullptr : &request.messages.back();
  if (request.greeting || node_.empty()) {
    step = Start();
  } else if (request.no_input) {
    step = NoInput();
  } else if (!request.event.empty()) {
    step = Event(request.event);
  } else if (last && last->role == ChatMessage::Role::kTool) {
    step = ToolResult(last->content);
  } else if (last && last->role == ChatMessage::Role::kUser) {
    step = Hear(last->content, last->dtmf);
  } else {
    const FlowNode* node = agent_->flow.Find(node_);
    if (node) Say(&step, memory_->Render(node->prompt));
  }
  auto stream = std::make_unique<PostedStream>();
  auto cancelled = stream->cancelled();
  auto cb = std::make_shared<ModelCallbacks>(std::move(callbacks));
  // Word by word, like a model's token stream; each word is its own post so that a cancel between
  // them takes effect at once.
  const std::string& text = step.text;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find(' ', pos + 1);
    if (next == std::string::npos) next = text.size();
    std::string delta = text.substr(pos, next - pos);
    pos = next;
    executor_->Post([cancelled, cb, delta] {
      if (!*cancelled && cb->on_text) cb->on_text(delta);
    });
  }
  ModelResult result;
  result.finish_reason = step.call ? "tool_calls" : "stop";
  result.first_token_ms = 0;
  std::optional<ToolCall> call = step.call;
  executor_->Post([cancelled, cb, call, result] {
    if (*cancelled) return;
    if (call && cb->on_tool_call) cb->on_tool_call(*call);
    if (!*cancelled && cb->on_done) cb->on_done(core::OkStatus(), result);
  });
  return stream;
}

}  // namespace artagent::agent
