// LiteralSet (Hyperscan's literal matcher) against a plain byte search, at
// every offset of texts of every length up to 300 bytes, for small sets
// (Hyperscan's Teddy engine) and large ones (FDR): a prefilter that missed a
// literal at a vector's edge would lose alerts (Vectorscan 5.4.9 did,
// docs/perf/sigma.md). Also the on-disk cache of compiled sets, and which
// patterns can never match ASCII text.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/core/file_util.h"
#include "src/detect/literal_pattern.h"
#include "src/detect/literal_set.h"
#include "src/detect/literal_set_cache.h"
#include "src/detect/rule.h"

namespace eventsift::detect {
namespace {

struct Literal {
  std::string text;  // as LiteralSet takes it: lower case when caseless
  bool caseless;
  bool start;
  bool end;
};

// Sets the cache directory for one test; "off" by default so that tests
// other than the cache's compile every set.
class ScopedCacheDir {
 public:
  explicit ScopedCacheDir(const std::string& dir) {
    ::setenv("EVENTSIFT_CACHE_DIR", dir.c_str(), 1);
  }
  ~ScopedCacheDir() { ::unsetenv("EVENTSIFT_CACHE_DIR"); }
  ScopedCacheDir(const ScopedCacheDir&) = delete;
  ScopedCacheDir& operator=(const ScopedCacheDir&) = delete;
};

bool Found(const Literal& l, std::string_view text) {
  std::string seen(text);
  if (l.caseless) {
    for (char& c : seen) c = LowerAscii(c);
  }
  if (l.start && l.end) return seen == l.text;
  if (l.start) return seen.starts_with(l.text);
  if (l.end) return seen.ends_with(l.text);
  return seen.find(l.text) != std::string::npos;
}

std::vector<int> Expected(const std::vector<Literal>& literals, std::string_view text) {
  std::vector<int> want;
  for (size_t i = 0; i < literals.size(); ++i) {
    if (Found(literals[i], text)) want.push_back(static_cast<int>(i));
  }
  return want;
}

void Build(const std::vector<Literal>& literals, LiteralSet* set) {
  for (size_t i = 0; i < literals.size(); ++i) {
    set->Add(static_cast<int>(i), literals[i].text, literals[i].caseless, literals[i].start,
             literals[i].end);
  }
  ASSERT_TRUE(set->Compile());
}

// Literals planted in filler texts of every length up to 300: FindAll lists
// exactly what a byte search finds, and FindAny agrees. With `every_offset`
// each literal goes at every offset; else (a large set, whose byte search
// is slow) `planted` literals per length go at both ends, one byte in from
// them and at four random offsets.
void CheckOffsets(const std::vector<Literal>& literals, uint32_t seed, bool every_offset,
                  size_t planted_per_length) {
  LiteralSet set;
  Build(literals, &set);
  std::mt19937 rng(seed);
  const std::string alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .\\/:-_>\"%";
  auto filler = [&](size_t n) {
    std::string s(n, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  size_t checked = 0;
  size_t hits = 0;
  std::vector<int> got;
  auto check = [&](size_t length, std::string planted, size_t at) {
    std::string text = filler(length);
    text.replace(at, planted.size(), planted);
    got.clear();
    ASSERT_TRUE(set.FindAll(text, &got));
    std::sort(got.begin(), got.end());
    const std::vector<int> want = Expected(literals, text);
    ASSERT_EQ(got, want) << "length " << length << " at " << at << " text [" << text << "]";
    bool ok = false;
    ASSERT_EQ(set.FindAny(text, &ok), !want.empty()) << text;
    ASSERT_TRUE(ok);
    ++checked;
    hits += want.empty() ? 0 : 1;
  };
  for (size_t length = 1; length <= 300; ++length) {
    for (size_t n = 0; n < planted_per_length; ++n) {
      const Literal& literal = literals[(length * planted_per_length + n) % literals.size()];
      std::string planted = literal.text;
      if (planted.size() > length) continue;
      if (literal.caseless && rng() % 2 == 0) {
        for (char& c : planted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      const size_t last = length - planted.size();
      if (every_offset) {
        for (size_t at = 0; at <= last; ++at) check(length, planted, at);
      } else {
        for (size_t at :
             {size_t{0}, std::min<size_t>(1, last), last, last > 0 ? last - 1 : 0,
              rng() % (last + 1), rng() % (last + 1), rng() % (last + 1), rng() % (last + 1)}) {
          check(length, planted, at);
        }
      }
    }
  }
  EXPECT_GT(checked, 5000u);
  EXPECT_GT(hits, checked / 2);  // the planted literal was found, not only misses
}

TEST(LiteralSetTest, SmallSetFindsEveryLiteralAtEveryOffset) {
  ScopedCacheDir off("off");
  CheckOffsets({{">", false, false, false},
                {"cmd.exe", true, false, false},
                {"\\temp\\", true, false, false},
                {"%processid%", true, false, false},
                {"Evil23", false, false, false},
                {"c:\\", true, true, false},
                {".ps1", true, false, true},
                {"whoami", true, true, true}},
               1, true, 8);
}

TEST(LiteralSetTest, LargeSetFindsEveryLiteralAtEveryOffset) {
  ScopedCacheDir off("off");
  std::mt19937 rng(2);
  std::vector<Literal> literals;
  const std::string letters = "abcdefghijklmnopqrstuvwxyz0123456789-_.\\";
  for (int i = 0; i < 600; ++i) {
    std::string text(2 + rng() % 14, 'a');
    for (char& c : text) c = letters[rng() % letters.size()];
    const int kind = static_cast<int>(rng() % 10);
    literals.push_back({text, rng() % 4 != 0, kind == 0, kind == 1});
  }
  literals.push_back({">", false, false, false});
  CheckOffsets(literals, 3, false, 4);
}

// The text Vectorscan 5.4.9 missed '>' at the end of (docs/perf/sigma.md).
TEST(LiteralSetTest, FindsALiteralInTheLastByte) {
  ScopedCacheDir off("off");
  LiteralSet set;
  Build({{">", false, false, false}}, &set);
  const std::string text =
      "iciousWmiEvent -EventName Evil23 -PermanentCommand \"cmd.exe /c echo %ProcessId% >";
  ASSERT_EQ(text.size(), 81u);
  std::vector<int> got;
  ASSERT_TRUE(set.FindAll(text, &got));
  EXPECT_EQ(got, std::vector<int>{0});
}

TEST(LiteralSetTest, CompiledSetsComeBackFromTheCache) {
  const std::string dir = testing::TempDir() + "literal_set_cache_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  ScopedCacheDir cache(dir);
  const std::vector<Literal> literals = {{"mimikatz", true, false, false},
                                         {"\\cmd.exe", true, false, true},
                                         {"Evil", false, true, false}};
  const std::vector<std::string> texts = {
      "run MIMIKATZ now", "C:\\Windows\\CMD.EXE", "Evil one", "evil one", "cmd.exe", ""};
  auto answers = [&](const LiteralSet& set) {
    std::vector<std::vector<int>> out;
    for (const std::string& t : texts) {
      std::vector<int> got;
      EXPECT_TRUE(set.FindAll(t, &got));
      std::sort(got.begin(), got.end());
      out.push_back(got);
    }
    return out;
  };
  std::vector<std::vector<int>> want;
  for (const std::string& t : texts) want.push_back(Expected(literals, t));

  LiteralSet first;
  Build(literals, &first);
  EXPECT_FALSE(first.from_cache());
  EXPECT_EQ(answers(first), want);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 1u);  // one database, no temporary left

  LiteralSet second;
  Build(literals, &second);
  EXPECT_TRUE(second.from_cache());
  EXPECT_EQ(answers(second), want);

  // Another set (one flag differs) is another file.
  LiteralSet other;
  Build({{"mimikatz", false, false, false}}, &other);
  EXPECT_FALSE(other.from_cache());

  // A damaged file is ignored, compiled again and written again.
  {
    UniqueFile f = OpenFile(files[0].string(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f.get(), -10, SEEK_END);
    int c = std::fgetc(f.get());
    std::fseek(f.get(), -10, SEEK_END);
    std::fputc(c ^ 0x5a, f.get());
    ASSERT_TRUE(CloseFile(std::move(f)));
  }
  LiteralSet damaged;
  Build(literals, &damaged);
  EXPECT_FALSE(damaged.from_cache());
  EXPECT_EQ(answers(damaged), want);
  // A file cut short, too.
  std::filesystem::resize_file(files[0], 20);
  LiteralSet cut;
  Build(literals, &cut);
  EXPECT_FALSE(cut.from_cache());
  EXPECT_EQ(answers(cut), want);
  LiteralSet again;
  Build(literals, &again);
  EXPECT_TRUE(again.from_cache());
  std::filesystem::remove_all(dir);
}

TEST(LiteralSetTest, NoCacheWhenTurnedOff) {
  ScopedCacheDir off("off");
  EXPECT_EQ(LiteralSetCacheDirectory(), "");
  LiteralSet a;
  Build({{"x", false, false, false}}, &a);
  LiteralSet b;
  Build({{"x", false, false, false}}, &b);
  EXPECT_FALSE(b.from_cache());
}

TEST(LiteralSetTest, AsciiText) {
  EXPECT_TRUE(IsAsciiText(""));
  EXPECT_TRUE(IsAsciiText("plain text that is longer than one word"));
  EXPECT_FALSE(IsAsciiText("caf\xc3\xa9"));
  std::string tail(37, 'a');
  for (size_t i = 0; i < tail.size(); ++i) {
    std::string t = tail;
    t[i] = '\xff';
    EXPECT_FALSE(IsAsciiText(t)) << i;  // a high byte anywhere, in a word or the tail
  }
}

// Patterns left out of the literal path because ASCII text cannot match
// them, as RE2 itself answers for (?i).
TEST(LiteralSetTest, PatternsThatNeverMatchAsciiText) {
  EXPECT_TRUE(NeverMatchesAsciiText("(?i)(?s)\xf0\x9f\x91\x89\xf0\x9f\x8f\xbe"));  // an emoji
  EXPECT_TRUE(NeverMatchesAsciiText("(?s)caf\xc3\xa9"));
  EXPECT_TRUE(NeverMatchesAsciiText("(?i)(?s)^J\xc3\xa4rjestelm\xc3\xa4\\.exe$"));
  // U+212A KELVIN SIGN matches 'k' under (?i); U+017F LONG S matches 's'.
  EXPECT_FALSE(NeverMatchesAsciiText("(?i)\xe2\x84\xaa"));
  EXPECT_FALSE(NeverMatchesAsciiText("(?i)\xc5\xbf"));
  EXPECT_TRUE(NeverMatchesAsciiText("\xe2\x84\xaa"));  // case-sensitive: only itself
  // Not literal text: an alternative may be ASCII.
  EXPECT_FALSE(NeverMatchesAsciiText("(?i)(?:-|/|\xe2\x80\x93)j"));
  EXPECT_FALSE(NeverMatchesAsciiText("(?i)\xc3\xa9|e"));
  EXPECT_FALSE(NeverMatchesAsciiText("(?i)[\xc3\xa9]"));
  EXPECT_FALSE(NeverMatchesAsciiText("(?i)cmd"));  // ASCII only
  EXPECT_FALSE(NeverMatchesAsciiText("(?m)\xc3\xa9"));
}

}  // namespace
}  // namespace eventsift::detect
