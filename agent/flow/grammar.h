#pragma once
// Recognition grammars for flow nodes. For a node that expects keyword answers, digits or yes/no,
// the recognizer is told what callers will say: a JSGF grammar of the expected words inside free
// carrier phrases ("uh, I'd like to file a claim please"). pocketsphinx in grammar mode is far more
// accurate and ten times cheaper than its language model on such answers, and rejects what is
// outside the grammar so the language model can take over (local-speech-stack.md §2b).

#include <string>

#include "agent/agent_config.h"

namespace artagent::agent {

// The grammar for `node`, or "" when the node takes open answers (a text slot, a pass-through).
std::string NodeGrammar(const FlowNode& node);

}  // namespace artagent::agent
