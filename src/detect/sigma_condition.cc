#include "src/detect/sigma_condition.h"

#include <cctype>

#include <fmt/format.h>

namespace eventsift::detect {

namespace {

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '*' || c == '?' ||
         c == '-' || c == '.';
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

class ConditionParser {
 public:
  ConditionParser(std::string_view text,
                  const std::vector<std::pair<std::string, uint32_t>>& selections,
                  std::vector<SigmaNode>* nodes)
      : selections_(selections), nodes_(nodes) {
    Tokenize(text);
  }

  Status Parse(uint32_t* root) {
    if (!error_.ok()) return error_;
    if (tokens_.empty()) return Status::InvalidArgument("condition is empty");
    ES_RETURN_IF_ERROR(Or(root));
    if (pos_ != tokens_.size()) {
      return Status::InvalidArgument(
          fmt::format("condition: unexpected '{}' after a complete expression", tokens_[pos_]));
    }
    return Status::OK();
  }

 private:
  void Tokenize(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      char c = s[i];
      if (std::isspace(static_cast<unsigned char>(c)) != 0) {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens_.emplace_back(1, c);
        ++i;
      } else if (c == '|') {
        error_ = Status::Unsupported(
            "aggregation in the condition ('| count() ...', Sigma 1): use a correlation rule");
        return;
      } else if (IsWordChar(c)) {
        size_t j = i;
        while (j < s.size() && IsWordChar(s[j])) ++j;
        tokens_.emplace_back(s.substr(i, j - i));
        i = j;
      } else {
        error_ = Status::InvalidArgument(fmt::format("condition: unexpected character '{}'", c));
        return;
      }
    }
  }

  bool Accept(std::string_view word) {
    if (pos_ < tokens_.size() && IEquals(tokens_[pos_], word)) {
      ++pos_;
      return true;
    }
    return false;
  }

  uint32_t Add(SigmaNode node) {
    nodes_->push_back(std::move(node));
    return static_cast<uint32_t>(nodes_->size() - 1);
  }

  Status Or(uint32_t* out) { return Chain("or", SigmaNode::Kind::kOr, &ConditionParser::And, out); }
  Status And(uint32_t* out) {
    return Chain("and", SigmaNode::Kind::kAnd, &ConditionParser::Not, out);
  }

  // operand (word operand)*: one node of `kind` over the operands, or the
  // lone operand itself.
  Status Chain(std::string_view word, SigmaNode::Kind kind,
               Status (ConditionParser::*operand)(uint32_t*), uint32_t* out) {
    uint32_t first = 0;
    ES_RETURN_IF_ERROR((this->*operand)(&first));
    if (!(pos_ < tokens_.size() && IEquals(tokens_[pos_], word))) {
      *out = first;
      return Status::OK();
    }
    SigmaNode node{kind, 0, 0, {first}};
    while (Accept(word)) {
      uint32_t next = 0;
      ES_RETURN_IF_ERROR((this->*operand)(&next));
      node.children.push_back(next);
    }
    *out = Add(std::move(node));
    return Status::OK();
  }

  Status Not(uint32_t* out) {
    // Rules come from outside: bound the recursion (not, parentheses).
    if (depth_ >= kMaxDepth) {
      return Status::Unsupported(fmt::format("condition nested deeper than {} levels", kMaxDepth));
    }
    ++depth_;
    Status s = NotInner(out);
    --depth_;
    return s;
  }

  Status NotInner(uint32_t* out) {
    if (Accept("not")) {
      uint32_t inner = 0;
      ES_RETURN_IF_ERROR(Not(&inner));
      *out = Add(SigmaNode{SigmaNode::Kind::kNot, 0, 0, {inner}});
      return Status::OK();
    }
    return Primary(out);
  }

  Status Primary(uint32_t* out) {
    if (pos_ >= tokens_.size()) {
      return Status::InvalidArgument("condition ends where an expression was expected");
    }
    if (Accept("(")) {
      ES_RETURN_IF_ERROR(Or(out));
      if (!Accept(")")) return Status::InvalidArgument("condition: missing ')'");
      return Status::OK();
    }
    const std::string& word = tokens_[pos_];
    if (pos_ + 1 < tokens_.size() && IEquals(tokens_[pos_ + 1], "of")) return Quantifier(out);
    for (std::string_view reserved : {"and", "or", "not", "of", ")"}) {
      if (IEquals(word, reserved)) {
        return Status::InvalidArgument(fmt::format("condition: unexpected '{}'", word));
      }
    }
    ++pos_;
    for (const auto& [name, node] : selections_) {
      if (name == word) {
        *out = node;
        return Status::OK();
      }
    }
    return Status::InvalidArgument(
        fmt::format("condition names '{}', which is not a selection of the detection", word));
  }

  // "1 of X", "any of X", "all of X", "N of X"; X a name pattern or "them".
  Status Quantifier(uint32_t* out) {
    std::string count_word = tokens_[pos_];
    pos_ += 2;  // the count and "of"
    if (pos_ >= tokens_.size()) return Status::InvalidArgument("condition: nothing after 'of'");
    std::string pattern = tokens_[pos_++];
    bool them = IEquals(pattern, "them");
    std::vector<uint32_t> matched;
    for (const auto& [name, node] : selections_) {
      if (them ? !name.starts_with('_') : SigmaNameMatches(pattern, name)) matched.push_back(node);
    }
    if (matched.empty()) {
      return Status::InvalidArgument(
          fmt::format("condition: '{} of {}' matches no selection", count_word, pattern));
    }
    SigmaNode node;
    node.children = std::move(matched);
    if (IEquals(count_word, "all")) {
      node.kind = SigmaNode::Kind::kAnd;
    } else if (IEquals(count_word, "any") || count_word == "1") {
      node.kind = SigmaNode::Kind::kOr;
    } else {
      uint32_t n = 0;
      for (char c : count_word) {
        if (c < '0' || c > '9' || n > 100000) {
          return Status::InvalidArgument(
              fmt::format("condition: '{} of': expected 1, all, any or a number", count_word));
        }
        n = n * 10 + static_cast<uint32_t>(c - '0');
      }
      node.kind = SigmaNode::Kind::kAtLeast;
      node.count = n;
    }
    *out = Add(std::move(node));
    return Status::OK();
  }

  const std::vector<std::pair<std::string, uint32_t>>& selections_;
  std::vector<SigmaNode>* nodes_;
  std::vector<std::string> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  static constexpr int kMaxDepth = 64;
  Status error_;
};

}  // namespace

bool SigmaNameMatches(std::string_view pattern, std::string_view name) {
  // Iterative glob with one backtrack point: linear enough for short names.
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Status ParseSigmaCondition(std::string_view condition,
                           const std::vector<std::pair<std::string, uint32_t>>& selections,
                           std::vector<SigmaNode>* nodes, uint32_t* root) {
  ConditionParser parser(condition, selections, nodes);
  return parser.Parse(root);
}

}  // namespace eventsift::detect
