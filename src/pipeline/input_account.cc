#include "src/pipeline/input_account.h"
#include "src/core/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "src/core/json_writer.h"

namespace eventsift {

void InputAccount::Take(const DecoderStats& stats) {
  records_decoded += stats.events.Get();
  chunks_declared += stats.chunks_declared.Get();
  chunks_found += stats.chunks_found.Get();
  chunks_empty += stats.chunks_empty.Get();
  records_recovered += stats.records_recovered.Get();
}

void InputAccount::Note(const Status& status, uint64_t bytes_dropped) {
  ++problems;
  const Where* where = status.where();
  // EVTX reports that dropped nothing were repaired (a stale CRC, a size
  // copy that differs): the record or chunk was still decoded.
  const bool skipped_something = bytes_dropped != 0 || (where != nullptr && where->line != 0);
  if (!skipped_something) return;
  ++skips;
  bytes_skipped += bytes_dropped;
  if (skipped.size() >= kMaxListed) return;
  Skip s;
  if (where != nullptr) {
    s.offset = where->offset;
    s.line = where->line;
  }
  s.bytes = bytes_dropped;
  s.reason = status.message();
  skipped.push_back(std::move(s));
}

bool InputAccount::Clean() const {
  // Chunks allocated but never written do not make a header stale: Windows
  // grows a log's file ahead of its records.
  return error.empty() && problems == 0 && records_recovered == 0 &&
         (!is_evtx() || chunks_declared == chunks_found - chunks_empty);
}

void AccountingReporter::Report(const Status& status, uint64_t bytes_dropped) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    account_->Note(status, bytes_dropped);
  }
  if (next_ != nullptr) next_->Report(status, bytes_dropped);
}

namespace {

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string SkipPlace(const InputAccount::Skip& s) {
  if (s.line != 0) return fmt::format("line {}", s.line);
  if (s.offset != Where::kNone) return fmt::format("0x{:x}", s.offset);
  return "?";
}

}  // namespace

std::string AccountLine(const InputAccount& a) {
  std::string line = a.input + ": ";
  if (a.format.empty()) return line + "not read: " + a.error;
  line += a.format;
  if (a.is_evtx()) {
    line +=
        fmt::format(", header announces {}, {} found ({} empty)",
                    Plural(a.chunks_declared, "chunk", "chunks"), a.chunks_found, a.chunks_empty);
  }
  line += fmt::format(", {} decoded", Plural(a.records_decoded, "record", "records"));
  if (a.is_evtx()) line += fmt::format(" ({} recovered)", a.records_recovered);
  line += fmt::format(", {}", Plural(a.problems, "problem", "problems"));
  if (a.skips != 0) {
    line += fmt::format(", {} skipped", Plural(a.skips, a.is_evtx() ? "range" : "line",
                                               a.is_evtx() ? "ranges" : "lines"));
    if (a.bytes_skipped != 0) line += fmt::format(" ({} bytes)", a.bytes_skipped);
    if (!a.skipped.empty()) {
      line +=
          fmt::format(", first at {}: {}", SkipPlace(a.skipped.front()), a.skipped.front().reason);
    }
  }
  if (!a.error.empty()) line += "; stopped: " + a.error;
  return line;
}

std::string AccountTotals(std::span<const InputAccount> accounts) {
  uint64_t declared = 0, found = 0, empty = 0, decoded = 0, recovered = 0, skips = 0, bytes = 0;
  size_t evtx = 0, unclean = 0;
  for (const InputAccount& a : accounts) {
    if (a.is_evtx()) {
      ++evtx;
      declared += a.chunks_declared;
      found += a.chunks_found;
      empty += a.chunks_empty;
      recovered += a.records_recovered;
    }
    decoded += a.records_decoded;
    skips += a.skips;
    bytes += a.bytes_skipped;
    if (!a.Clean()) ++unclean;
  }
  std::string text = fmt::format("{} decoded", Plural(decoded, "record", "records"));
  if (evtx != 0) {
    text += fmt::format(" ({} recovered); EVTX: headers announce {}, {} found ({} empty)",
                        recovered, Plural(declared, "chunk", "chunks"), found, empty);
  }
  text += fmt::format("; {} skipped ({} bytes); {} of {} not clean",
                      Plural(skips, "range or line", "ranges or lines"), bytes, unclean,
                      Plural(accounts.size(), "input", "inputs"));
  return text;
}

std::string AccountsJson(std::string_view command, std::span<const InputAccount> accounts) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.KV("command", command);
  w.Key("inputs");
  w.BeginArray();
  uint64_t decoded = 0, recovered = 0, skips = 0, bytes = 0;
  for (const InputAccount& a : accounts) {
    decoded += a.records_decoded;
    recovered += a.records_recovered;
    skips += a.skips;
    bytes += a.bytes_skipped;
    w.BeginObject();
    w.KV("input", a.input);
    w.Key("format");
    if (a.format.empty()) {
      w.Null();
    } else {
      w.String(a.format);
    }
    w.Key("error");
    if (a.error.empty()) {
      w.Null();
    } else {
      w.String(a.error);
    }
    if (a.is_evtx()) {
      w.KVUInt("chunks_declared", a.chunks_declared);
      w.KVUInt("chunks_found", a.chunks_found);
      w.KVUInt("chunks_empty", a.chunks_empty);
    }
    if (a.format == "json") w.KVUInt("parts", a.parts);
    w.KVUInt("records_decoded", a.records_decoded);
    if (a.is_evtx()) w.KVUInt("records_recovered", a.records_recovered);
    w.KVUInt("problems", a.problems);
    w.KVUInt("skips", a.skips);
    w.KVUInt("bytes_skipped", a.bytes_skipped);
    w.Key("clean");
    w.Bool(a.Clean());
    w.Key("skipped");
    w.BeginArray();
    for (const InputAccount::Skip& s : a.skipped) {
      w.BeginObject();
      if (s.line != 0) w.KVUInt("line", s.line);
      if (s.offset != Where::kNone) w.KVUInt("offset", s.offset);
      w.KVUInt("bytes", s.bytes);
      w.KV("reason", s.reason);
      w.EndObject();
    }
    w.EndArray();
    w.KVUInt("skips_not_listed", a.skips - a.skipped.size());
    w.EndObject();
  }
  w.EndArray();
  w.Key("totals");
  w.BeginObject();
  w.KVUInt("inputs", accounts.size());
  w.KVUInt("records_decoded", decoded);
  w.KVUInt("records_recovered", recovered);
  w.KVUInt("skips", skips);
  w.KVUInt("bytes_skipped", bytes);
  w.EndObject();
  w.EndObject();
  out.push_back('\n');
  return out;
}

Status WriteAccountsJson(const std::string& path, std::string_view command,
                         std::span<const InputAccount> accounts) {
  const std::string json = AccountsJson(command, accounts);
  UniqueFile f = OpenFile(path, "wb");
  if (f == nullptr) {
    return Status::IOError(fmt::format("cannot write --stats: {}", std::strerror(errno))).At(path);
  }
  const bool written = std::fwrite(json.data(), 1, json.size(), f.get()) == json.size();
  const bool closed = CloseFile(std::move(f));
  if (!written || !closed) return Status::IOError("cannot write --stats").At(path);
  return Status::OK();
}

}  // namespace eventsift
