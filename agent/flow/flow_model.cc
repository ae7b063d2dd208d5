#include "agent/flow/flow_model.h"

#include "agent/flow/grammar.h"
#include "agent/flow/slots.h"

namespace artagent::agent {
namespace {

class PostedStream : public session::ResponseStream {
 public:
  PostedStream() : cancelled_(std::make_shared<bool>(false)) {}
  ~PostedStream() override { *cancelled_ = true; }
  void Cancel() override { *cancelled_ = true; }
  std::shared_ptr<bool> cancelled() const { return cancelled_; }

 private:
  std::shared_ptr<bool> cancelled_;
};

std::string Join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " " + b;
}

}  // namespace

FlowModel::FlowModel(const AgentConfig* agent, core::Executor* executor)
    : agent_(agent), executor_(executor) {}

std::string FlowModel::Render(const std::string& templ) const {
  // {{name}} -> slot value; {{name|digits}} -> the value spelled digit by digit.
  std::string out;
  size_t i = 0;
  while (i < templ.size()) {
    size_t open = templ.find("{{", i);
    if (open == std::string::npos) {
      out += templ.substr(i);
      break;
    }
    size_t close = templ.find("}}", open + 2);
    if (close == std::string::npos) {
      out += templ.substr(i);
      break;
    }
    out += templ.substr(i, open - i);
    std::string expr = templ.substr(open + 2, close - open - 2);
    std::string filter;
    if (auto bar = expr.find('|'); bar != std::string::npos) {
      filter = expr.substr(bar + 1);
      expr = expr.substr(0, bar);
    }
    auto trim = [](std::string s) {
      while (!s.empty() && s.front() == ' ') s.erase(s.begin());
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s;
    };
    expr = trim(expr);
    filter = trim(filter);
    auto it = slots_.find(expr);
    std::string value = it == slots_.end() ? "" : it->second;
    out += filter == "digits" ? SpellDigits(value) : value;
    i = close + 2;
  }
  return out;
}

std::string FlowModel::Enter(const std::string& node_id) {
  node_ = node_id;
  no_match_count_ = 0;
  const FlowNode* node = agent_->flow.Find(node_id);
  return node ? Render(node->prompt) : "";
}

std::string FlowModel::ExpectedGrammar() const {
  if (!agent_->grammar_recognition) return "";
  const FlowNode* node = agent_->flow.Find(node_);
  return node ? NodeGrammar(*node) : "";
}

std::string FlowModel::Greet() {
  return Join(Render(agent_->greeting), Enter(agent_->flow.start));
}

std::string FlowModel::Advance(const std::string& caller_text) {
  const FlowNode* node = agent_->flow.Find(node_);
  if (!node) return Greet();
  if (node->end) {
    // The dialogue was complete; a new request starts it over.
    return Enter(agent_->flow.start);
  }
  const auto words = Words(caller_text);
  if (node->slot) {
    const FlowSlot& slot = *node->slot;
    std::optional<std::string> value;
    if (slot.type == "digits") {
      value = ParseDigits(caller_text);
      if (value && (static_cast<int>(value->size()) < slot.min_length ||
                    static_cast<int>(value->size()) > slot.max_length)) {
        value.reset();
      }
    } else if (slot.type == "yes_no") {
      if (auto yn = ParseYesNo(caller_text)) value = *yn ? "yes" : "no";
    } else if (!words.empty()) {
      value = caller_text;
    }
    if (value) {
      slots_[slot.name] = *value;
      return node->next.empty() ? "" : Enter(node->next);
    }
  } else if (!node->answers.empty()) {
    const FlowAnswer* best = nullptr;
    int best_hits = 0;
    for (const auto& a : node->answers) {
      int hits = CountKeywordHits(words, a.keywords);
      if (a.name == "yes" || a.name == "no") {
        // yes/no answers also understand the usual ways of saying them.
        auto yn = ParseYesNo(caller_text);
        if (yn && *yn == (a.name == "yes")) hits += 1;
      }
      if (hits > best_hits) {
        best = &a;
        best_hits = hits;
      }
    }
    if (best) {
      std::string say = Render(best->say);
      return Join(say, best->next.empty() ? "" : Enter(best->next));
    }
  } else if (!node->next.empty()) {
    return Enter(node->next);
  }
  ++no_match_count_;
  std::string reprompt = node->no_match.empty()
                             ? "Sorry, I didn't catch that. " + Render(node->prompt)
                             : Render(node->no_match);
  return reprompt;
}

std::unique_ptr<session::ResponseStream> FlowModel::Respond(
    const session::ResponseRequest& request, session::ResponseCallbacks callbacks) {
  std::string text;
  if (request.greeting) {
    text = Greet();
  } else {
    std::string last_user;
    if (request.history) {
      for (auto it = request.history->rbegin(); it != request.history->rend(); ++it) {
        if (it->role == session::HistoryItem::Role::kUser) {
          last_user = it->text;
          break;
        }
      }
    }
    text = node_.empty() ? Greet() : Advance(last_user);
  }
  auto stream = std::make_unique<PostedStream>();
  auto cancelled = stream->cancelled();
  auto cb = std::make_shared<session::ResponseCallbacks>(std::move(callbacks));
  // Word by word, like a model's token stream; each word is its own post so that a cancel between
  // them takes effect at once.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find(' ', pos + 1);
    if (next == std::string::npos) next = text.size();
    std::string delta = text.substr(pos, next - pos);
    pos = next;
    executor_->Post([cancelled, cb, delta] {
      if (!*cancelled) cb->on_text(delta);
    });
  }
  executor_->Post([cancelled, cb] {
    if (!*cancelled) cb->on_done(core::OkStatus());
  });
  return stream;
}

}  // namespace artagent::agent
