#include "src/core/file_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace eventsift {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Append(const std::string& path, const std::string& text) {
  UniqueFile f = OpenFileAppendLines(path);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), f.get()), text.size());
  ASSERT_TRUE(CloseFile(std::move(f)));
}

TEST(OpenFileAppendLinesTest, ACutLastLineIsEndedBeforeTheNextOne) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("es_append_lines_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove(path);
  Append(path, "one\n");            // a new file: nothing added
  Append(path, "two\n");            // ends in a line feed: nothing added
  Append(path, "{\"cut");           // a writer killed mid-line
  Append(path, "{\"whole\":1}\n");  // starts on a line of its own
  EXPECT_EQ(Slurp(path), "one\ntwo\n{\"cut\n{\"whole\":1}\n");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace eventsift
