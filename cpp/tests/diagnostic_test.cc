// Tests for source files, spans and diagnostic formatting.
#include "deuteron/diagnostic.h"

#include <gtest/gtest.h>

namespace deuteron {
namespace {

std::shared_ptr<SourceFile> make_file(std::string text, int first_line = 1,
                                      std::string filename = "/path/k.py") {
  auto f = std::make_shared<SourceFile>();
  f->filename = std::move(filename);
  f->text = std::move(text);
  f->first_line = first_line;
  return f;
}

TEST(SourceFileTest, LineTextUsesAbsoluteLines) {
  auto f = make_file("a = 1\nbb = 2\n\nccc", 10);
  EXPECT_EQ(f->line_text(10), "a = 1");
  EXPECT_EQ(f->line_text(11), "bb = 2");
  EXPECT_EQ(f->line_text(12), "");
  EXPECT_EQ(f->line_text(13), "ccc");
  EXPECT_EQ(f->line_text(9), "");
  EXPECT_EQ(f->line_text(14), "");
  EXPECT_EQ(f->line_text(0), "");
  EXPECT_EQ(f->line_text(-5), "");
}

TEST(SourceFileTest, LineTextStripsCarriageReturn) {
  auto f = make_file("x = 1\r\ny = 2\r\n");
  EXPECT_EQ(f->line_text(1), "x = 1");
  EXPECT_EQ(f->line_text(2), "y = 2");
  EXPECT_EQ(f->line_text(3), "");
}

TEST(SourceFileTest, LineTextOfEmptyFile) {
  auto f = make_file("");
  EXPECT_EQ(f->line_text(1), "");
  EXPECT_EQ(f->line_text(2), "");
}

TEST(SourceSpanTest, DefaultIsInvalid) {
  SourceSpan s;
  EXPECT_FALSE(s.valid());
  EXPECT_TRUE((SourceSpan{1, 1, 1, 2}).valid());
}

TEST(SourceSpanTest, MergeCoversBoth) {
  SourceSpan a{2, 5, 2, 9};
  SourceSpan b{1, 7, 3, 2};
  SourceSpan m = SourceSpan::merge(a, b);
  EXPECT_EQ(m.line, 1);
  EXPECT_EQ(m.col, 7);
  EXPECT_EQ(m.end_line, 3);
  EXPECT_EQ(m.end_col, 2);
  SourceSpan m2 = SourceSpan::merge(b, a);
  EXPECT_EQ(m2.line, 1);
  EXPECT_EQ(m2.end_line, 3);
}

TEST(SourceSpanTest, MergeSameLineComparesColumns) {
  SourceSpan m = SourceSpan::merge({4, 10, 4, 12}, {4, 3, 4, 5});
  EXPECT_EQ(m.col, 3);
  EXPECT_EQ(m.end_col, 12);
}

TEST(SourceSpanTest, MergeWithInvalidReturnsOther) {
  SourceSpan a{2, 5, 2, 9};
  SourceSpan m = SourceSpan::merge(SourceSpan{}, a);
  EXPECT_EQ(m.line, 2);
  EXPECT_EQ(m.col, 5);
  m = SourceSpan::merge(a, SourceSpan{});
  EXPECT_EQ(m.end_col, 9);
  EXPECT_FALSE(SourceSpan::merge(SourceSpan{}, SourceSpan{}).valid());
}

TEST(DiagnosticTest, FormatsLikeTheSpec) {
  std::string text(11, '\n');
  text += "    out[tile] = x[tile] + y[tile, 0]\n";
  auto f = make_file(text);
  Diagnostic d;
  d.span = {12, 9, 12, 18};
  d.message = "<message>";
  d.notes = {"<note 1>", "<note 2>"};
  EXPECT_EQ(d.format(f.get()),
            "/path/k.py:12:9: error: <message>\n"
            "   12 |     out[tile] = x[tile] + y[tile, 0]\n"
            "      |         ^~~~~~~~~\n"
            "note: <note 1>\n"
            "note: <note 2>");
}

TEST(DiagnosticTest, SingleCharacterSpanHasNoTildes) {
  auto f = make_file("x = $\n");
  Diagnostic d{{1, 5, 1, 6}, "bad", {}};
  EXPECT_EQ(d.format(f.get()),
            "/path/k.py:1:5: error: bad\n"
            "    1 | x = $\n"
            "      |     ^");
}

TEST(DiagnosticTest, ZeroWidthSpanIsACaret) {
  auto f = make_file("abc");
  Diagnostic d{{1, 4, 1, 4}, "eof", {}};
  EXPECT_EQ(d.format(f.get()),
            "/path/k.py:1:4: error: eof\n"
            "    1 | abc\n"
            "      |    ^");
}

TEST(DiagnosticTest, NoLocationPrintsOnlyTheHeader) {
  auto f = make_file("x = 1\n");
  Diagnostic d{SourceSpan{}, "something failed", {"a note"}};
  EXPECT_EQ(d.format(f.get()), "/path/k.py: error: something failed\nnote: a note");
}

TEST(DiagnosticTest, NoFile) {
  Diagnostic d{{3, 1, 3, 2}, "msg", {}};
  EXPECT_EQ(d.format(nullptr), "<unknown>:3:1: error: msg");
  Diagnostic nowhere{SourceSpan{}, "msg", {}};
  EXPECT_EQ(nowhere.format(nullptr), "<unknown>: error: msg");
}

TEST(DiagnosticTest, UnavailableLineSkipsSourceLines) {
  auto f = make_file("x = 1\n");
  Diagnostic d{{40, 2, 40, 3}, "far away", {"n"}};
  EXPECT_EQ(d.format(f.get()), "/path/k.py:40:2: error: far away\nnote: n");
}

TEST(DiagnosticTest, MultiLineSpanUnderlinesToEndOfFirstLine) {
  auto f = make_file("x = foo(a,\n        b)\n");
  Diagnostic d{{1, 5, 2, 11}, "call", {}};
  EXPECT_EQ(d.format(f.get()),
            "/path/k.py:1:5: error: call\n"
            "    1 | x = foo(a,\n"
            "      |     ^~~~~~");
}

TEST(DiagnosticTest, TabsAreKeptSoTheCaretLinesUp) {
  auto f = make_file("\tx = y\n");
  Diagnostic d{{1, 6, 1, 7}, "m", {}};
  EXPECT_EQ(d.format(f.get()),
            "/path/k.py:1:6: error: m\n"
            "    1 | \tx = y\n"
            "      | \t    ^");
}

TEST(DiagnosticTest, ColumnsAreBytesButCaretsAreCharacters) {
  // "é" is two bytes: the name `y` starts at byte column 11 but is the 10th
  // character, and the caret must sit under it.
  auto f = make_file("s = 'é' + y\n");
  Diagnostic d{{1, 11, 1, 12}, "m", {}};
  EXPECT_EQ(d.format(f.get()),
            "/path/k.py:1:11: error: m\n"
            "    1 | s = 'é' + y\n"
            "      |          ^");
  // A span over the string counts its characters, not bytes, for '~'.
  Diagnostic s{{1, 5, 1, 9}, "m", {}};
  EXPECT_EQ(s.format(f.get()),
            "/path/k.py:1:5: error: m\n"
            "    1 | s = 'é' + y\n"
            "      |     ^~~");
}

TEST(DiagnosticTest, WideLineNumbersWidenTheGutter) {
  std::string text = "abc\n";
  auto f = make_file(text, 123456);
  Diagnostic d{{123456, 2, 123456, 3}, "m", {}};
  EXPECT_EQ(d.format(f.get()),
            "/path/k.py:123456:2: error: m\n"
            " 123456 | abc\n"
            "        |  ^");
}

TEST(DiagnosticTest, ColumnPastEndOfLine) {
  auto f = make_file("ab\n");
  Diagnostic d{{1, 5, 1, 5}, "m", {}};
  EXPECT_EQ(d.format(f.get()),
            "/path/k.py:1:5: error: m\n"
            "    1 | ab\n"
            "      |     ^");
}

TEST(CompileErrorTest, CarriesDiagnosticAndFile) {
  auto f = make_file("x = 1\n");
  Diagnostic d{{1, 1, 1, 2}, "oops", {"hint"}};
  CompileError err(d, f);
  EXPECT_EQ(err.diagnostic().message, "oops");
  EXPECT_EQ(err.diagnostic().notes.size(), 1u);
  EXPECT_EQ(err.file(), f);
  EXPECT_EQ(err.formatted(), d.format(f.get()));
  EXPECT_EQ(std::string(err.what()), err.formatted());
}

TEST(CompileErrorTest, RaiseErrorThrows) {
  auto f = make_file("abc\n");
  try {
    raise_error(f, {1, 2, 1, 3}, "bad b", {"n1", "n2"});
    FAIL() << "raise_error returned";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().message, "bad b");
    EXPECT_EQ(e.diagnostic().span.col, 2);
    ASSERT_EQ(e.diagnostic().notes.size(), 2u);
    EXPECT_EQ(e.diagnostic().notes[1], "n2");
    EXPECT_NE(e.formatted().find("^"), std::string::npos);
  }
}

TEST(CompileErrorTest, IsARuntimeError) {
  auto f = make_file("");
  EXPECT_THROW(raise_error(f, SourceSpan{}, "m"), std::runtime_error);
  EXPECT_THROW(raise_error(nullptr, SourceSpan{}, "m"), CompileError);
}

}  // namespace
}  // namespace deuteron
