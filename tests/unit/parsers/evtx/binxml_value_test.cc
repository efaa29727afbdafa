// Value-type rendering on hand-built byte buffers. Expected texts are either
// taken from evtx_dump 0.15.1 output on the corpus (noted per case) or worked
// out by hand from the bytes.

#include "parsers/evtx/binxml_value.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "parsers/evtx/binxml.h"

namespace eventsift::evtx {
namespace {

std::vector<uint8_t> Bytes(std::initializer_list<int> b) {
  std::vector<uint8_t> v;
  for (int x : b) v.push_back(static_cast<uint8_t>(x));
  return v;
}

void Put(std::vector<uint8_t>* v, uint64_t x, int n) {
  for (int i = 0; i < n; ++i) v->push_back(static_cast<uint8_t>(x >> (8 * i)));
}

std::string Render(uint8_t type, const std::vector<uint8_t>& b) {
  std::string out;
  AppendValueText(ValueRef{type, b, 0}, &out);
  return out;
}

std::vector<uint8_t> Utf16(std::u16string_view s, bool nul = true) {
  std::vector<uint8_t> v;
  for (char16_t c : s) Put(&v, c, 2);
  if (nul) Put(&v, 0, 2);
  return v;
}

TEST(BinXmlValueTest, SidWithAnyNumberOfSubAuthorities) {
  // From Security_short_selected.evtx: SubjectUserSid S-1-5-18 (evtx_dump).
  std::vector<uint8_t> b = Bytes({1, 1, 0, 0, 0, 0, 0, 5});
  Put(&b, 18, 4);
  EXPECT_EQ(Render(kSid, b), "S-1-5-18");
  // MSExchange_Management_wec.evtx carries S-1-5-21-186559946-3925841745-111227986-500.
  std::vector<uint8_t> d = Bytes({1, 5, 0, 0, 0, 0, 0, 5});
  for (uint32_t sub : {21u, 186559946u, 3925841745u, 111227986u, 500u}) Put(&d, sub, 4);
  EXPECT_EQ(Render(kSid, d), "S-1-5-21-186559946-3925841745-111227986-500");
  // No sub-authority, and the 48-bit big-endian authority.
  EXPECT_EQ(Render(kSid, Bytes({1, 0, 0, 0, 0, 0, 0x01, 0x00})), "S-1-256");
  // A count that runs past the bytes is not a SID: hex, never a crash.
  EXPECT_EQ(Render(kSid, Bytes({1, 3, 0, 0, 0, 0, 0, 5, 1, 0})),
            "010300000000000501"
            "00");
}

TEST(BinXmlValueTest, GuidIsMixedEndianLowercaseInBraces) {
  // Provider Guid of Microsoft-Windows-Security-Auditing as evtx_dump prints it.
  const auto b = Bytes({0x25, 0x96, 0x84, 0x54, 0x78, 0x54, 0x94, 0x49, 0xa5, 0xba, 0x3e, 0x3b,
                        0x03, 0x28, 0xc3, 0x0d});
  EXPECT_EQ(Render(kGuid, b), "{54849625-5478-4994-a5ba-3e3b0328c30d}");
}

TEST(BinXmlValueTest, FileTimeAndSystemTime) {
  std::vector<uint8_t> zero(8, 0);
  // evtx_dump prints a zero FILETIME (HelloForBusiness record 6) like this.
  EXPECT_EQ(Render(kFileTime, zero), "1601-01-01T00:00:00.0000000Z");
  std::vector<uint8_t> epoch;
  Put(&epoch, 116444736000000000ULL + 1234567, 8);  // 1970 plus 123.4567 ms
  EXPECT_EQ(Render(kFileTime, epoch), "1970-01-01T00:00:00.1234567Z");
  // SYSTEMTIME: year, month, weekday, day, hour, minute, second, millis.
  std::vector<uint8_t> st;
  for (int v : {2019, 3, 5, 8, 20, 26, 17, 123}) Put(&st, v, 2);
  EXPECT_EQ(Render(kSysTime, st), "2019-03-08T20:26:17.1230000Z");
  std::vector<uint8_t> bad;
  for (int v : {2019, 13, 5, 8, 20, 26, 17, 123}) Put(&bad, v, 2);
  EXPECT_EQ(Render(kSysTime, bad).size(), 32u);  // month 13: hex, not a date
}

TEST(BinXmlValueTest, HexIntegersSizeTAndBinary) {
  std::vector<uint8_t> h32, h64, size8, size4;
  Put(&h32, 0x3e7, 4);
  Put(&h64, 0x8010000000000000ULL, 8);
  Put(&size8, 0x858, 8);
  Put(&size4, 0x260, 4);
  EXPECT_EQ(Render(kHexInt32, h32), "0x3e7");               // SubjectLogonId (evtx_dump)
  EXPECT_EQ(Render(kHexInt64, h64), "0x8010000000000000");  // Keywords (evtx_dump)
  EXPECT_EQ(Render(kSizeT, size8), "0x858");                // Security_with_size_t ProcessId
  EXPECT_EQ(Render(kSizeT, size4), "0x260");
  EXPECT_EQ(Render(kBinary, Bytes({0x24, 0x05, 0, 0})), "24050000");  // <Binary> (evtx_dump)
}

TEST(BinXmlValueTest, IntegersFloatsAndBools) {
  EXPECT_EQ(Render(kInt8, Bytes({0xff})), "-1");
  EXPECT_EQ(Render(kUInt8, Bytes({0xff})), "255");
  EXPECT_EQ(Render(kInt16, Bytes({0x00, 0x80})), "-32768");
  EXPECT_EQ(Render(kUInt32, Bytes({0x17, 0x08, 0x01, 0x00})), "67607");  // FilterRTID
  EXPECT_EQ(Render(kInt64, Bytes({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})), "-2");
  std::vector<uint8_t> d;
  Put(&d, 0x3FF8000000000000ULL, 8);  // 1.5
  EXPECT_EQ(Render(kReal64, d), "1.5");
  EXPECT_EQ(Render(kBool, Bytes({1, 0, 0, 0})), "true");
  EXPECT_EQ(Render(kBool, Bytes({0, 0, 0, 0})), "false");
  // sample-with-irregular-bool-values.evtx: evtx_dump prints the number.
  EXPECT_EQ(Render(kBool, Bytes({16, 0, 0, 0})), "16");
  // Wrong size for the type: hex.
  EXPECT_EQ(Render(kUInt32, Bytes({1, 2})), "0102");
}

TEST(BinXmlValueTest, StringsAnsiAndInvalidUtf16) {
  EXPECT_EQ(Render(kString, Utf16(u"WORKGROUP")), "WORKGROUP");
  EXPECT_EQ(Render(kString, Utf16(u"for\u00eat")), "for\xC3\xAAt");
  // A lone high surrogate becomes U+FFFD.
  EXPECT_EQ(Render(kString, Bytes({'a', 0, 0x00, 0xD8, 'b', 0})),
            "a\xEF\xBF\xBD"
            "b");
  // Windows-1252: 0x80 is the euro sign.
  EXPECT_EQ(Render(kAnsiString, Bytes({'x', 0x80, 0})), "x\xE2\x82\xAC");
}

TEST(BinXmlValueTest, ArraysRenderItemByItem) {
  std::vector<uint8_t> strings = Utf16(u"10.00.");
  for (uint8_t b : Utf16(u"")) strings.push_back(b);
  for (uint8_t b : Utf16(u"Free")) strings.push_back(b);
  const ValueRef array{kString | kArrayFlag, strings, 0};
  std::string joined;
  AppendValueText(array, &joined);
  EXPECT_EQ(joined, "10.00.,,Free");
  // The walker repeats the element per item (system.evtx, evtx_dump): items
  // keep empty strings in the middle.
  std::vector<ValueRef> items;
  SplitArray(array, &items);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(Render(kString, std::vector<uint8_t>(items[0].bytes.begin(), items[0].bytes.end())),
            "10.00.");
  EXPECT_TRUE(items[1].bytes.empty());
  std::vector<uint8_t> u16s;
  for (int v : {1, 2, 65535}) Put(&u16s, v, 2);
  std::string nums;
  AppendValueText(ValueRef{kUInt16 | kArrayFlag, u16s, 0}, &nums);
  EXPECT_EQ(nums, "1,2,65535");
  SplitArray(ValueRef{kUInt16 | kArrayFlag, {}, 0}, &items);
  EXPECT_EQ(items.size(), 1u);  // an empty array still renders one empty element
}

TEST(BinXmlValueTest, IntegerValues) {
  uint64_t v = 0;
  std::vector<uint8_t> b;
  Put(&b, 4660, 2);
  EXPECT_TRUE(ValueAsUInt64(ValueRef{kUInt16, b, 0}, &v));
  EXPECT_EQ(v, 4660u);
  EXPECT_FALSE(ValueAsUInt64(ValueRef{kString, b, 0}, &v));
  EXPECT_TRUE(RendersEmpty(ValueRef{kString, Bytes({0, 0}), 0}));
  EXPECT_FALSE(RendersEmpty(ValueRef{kString, Bytes({'a', 0}), 0}));
}

TEST(BinXmlValueTest, WriteScalarTextEqualsAppendValueText) {
  // The direct writer must give AppendValueText's text for every type it
  // takes (and decline the rest), including sizes that do not fit the type.
  uint32_t state = 5;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  int written = 0;
  for (int round = 0; round < 5000; ++round) {
    const uint8_t type = static_cast<uint8_t>(next() % 0x16);
    size_t size = FixedSizeOf(type);
    const size_t sid_count = next() % 20;
    if (type == kSid) size = 8 + 4 * sid_count;
    if (size == 0 || next() % 10 == 0) size = next() % 20;  // variable or wrong-sized
    std::vector<uint8_t> b(size);
    for (uint8_t& x : b) x = static_cast<uint8_t>(next() % 4 == 0 ? 0xFF : next());
    if (type == kSid && size >= 2) b[1] = static_cast<uint8_t>(sid_count);
    if (type == kBool && size == 4 && next() % 2 == 0)
      b = {static_cast<uint8_t>(next() % 3), 0, 0, 0};
    const ValueRef v{type, b, 0};
    char buf[kMaxScalarText];
    char* end = WriteScalarText(v, buf);
    if (end == nullptr) continue;
    ++written;
    ASSERT_LE(static_cast<size_t>(end - buf), kMaxScalarText);
    std::string expected;
    AppendValueText(v, &expected);
    ASSERT_EQ(std::string(buf, end), expected) << "type " << int{type} << " size " << b.size();
  }
  EXPECT_GT(written, 2000);
  // Arrays, strings and binary take AppendValueText.
  char buf[kMaxScalarText];
  const std::vector<uint8_t> four = {1, 0, 0, 0};
  EXPECT_EQ(WriteScalarText(ValueRef{static_cast<uint8_t>(kUInt32 | kArrayFlag), four, 0}, buf),
            nullptr);
  EXPECT_EQ(WriteScalarText(ValueRef{kString, four, 0}, buf), nullptr);
  EXPECT_EQ(WriteScalarText(ValueRef{kBinary, four, 0}, buf), nullptr);
}

}  // namespace
}  // namespace eventsift::evtx
