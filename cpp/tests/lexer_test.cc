// Tests for the tokenizer: token kinds, texts and spans, Python's line
// structure rules, literals, and every error path.
#include "deuteron/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace deuteron {
namespace {

std::shared_ptr<SourceFile> make_file(std::string text, int first_line = 1) {
  auto f = std::make_shared<SourceFile>();
  f->filename = "k.py";
  f->text = std::move(text);
  f->first_line = first_line;
  return f;
}

std::vector<Token> lex(std::string text, int first_line = 1) {
  return tokenize(make_file(std::move(text), first_line));
}

// Compact rendering: "NAME:x OP:= NUMBER:1 NEWLINE ENDMARKER".  Structural
// tokens are shown without their text.
std::string kinds(const std::vector<Token>& tokens) {
  std::string out;
  for (const Token& t : tokens) {
    if (!out.empty()) out += ' ';
    out += token_kind_name(t.kind);
    if (t.kind == TokenKind::Name || t.kind == TokenKind::Number ||
        t.kind == TokenKind::String || t.kind == TokenKind::Op) {
      out += ":" + t.text;
    }
  }
  return out;
}

std::string lex_kinds(std::string text) { return kinds(lex(std::move(text))); }

std::string span_str(const SourceSpan& s) {
  return std::to_string(s.line) + ":" + std::to_string(s.col) + "-" + std::to_string(s.end_line) +
         ":" + std::to_string(s.end_col);
}

// Expects tokenizing `text` to fail with exactly `message` at `span`.
void expect_error(const std::string& text, const std::string& message, const std::string& span) {
  SCOPED_TRACE(text);
  try {
    lex(text);
    ADD_FAILURE() << "no error for: " << text;
  } catch (const CompileError& e) {
    EXPECT_EQ(e.diagnostic().message, message);
    EXPECT_EQ(span_str(e.diagnostic().span), span);
  }
}

// ------------------------------------------------------------ basics

TEST(LexerTest, EmptyInputIsJustEndMarker) {
  auto t = lex("");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].kind, TokenKind::EndMarker);
  EXPECT_EQ(span_str(t[0].span), "1:1-1:1");
}

TEST(LexerTest, OnlyBlankLinesAndComments) {
  EXPECT_EQ(lex_kinds("\n\n  \n# comment\n   # indented comment\n"), "ENDMARKER");
}

TEST(LexerTest, SimpleStatement) {
  EXPECT_EQ(lex_kinds("x = 1\n"), "NAME:x OP:= NUMBER:1 NEWLINE ENDMARKER");
}

TEST(LexerTest, NoTrailingNewlineStillEndsTheLine) {
  auto t = lex("x = 1");
  EXPECT_EQ(kinds(t), "NAME:x OP:= NUMBER:1 NEWLINE ENDMARKER");
  EXPECT_EQ(t[3].text, "");
  EXPECT_EQ(span_str(t[3].span), "1:6-1:6");
  EXPECT_EQ(span_str(t[4].span), "1:6-1:6");
}

TEST(LexerTest, TokenSpansAndTexts) {
  auto t = lex("foo  = bar.baz(12, 'a')\n");
  ASSERT_EQ(t.size(), 12u);
  EXPECT_EQ(t[0].text, "foo");
  EXPECT_EQ(span_str(t[0].span), "1:1-1:4");
  EXPECT_EQ(span_str(t[1].span), "1:6-1:7");
  EXPECT_EQ(span_str(t[2].span), "1:8-1:11");
  EXPECT_EQ(t[4].text, "baz");
  EXPECT_EQ(span_str(t[4].span), "1:12-1:15");
  EXPECT_EQ(t[6].text, "12");
  EXPECT_EQ(t[8].text, "'a'");
  EXPECT_EQ(span_str(t[8].span), "1:20-1:23");
  EXPECT_EQ(t[10].kind, TokenKind::Newline);
  EXPECT_EQ(t[10].text, "\n");
  EXPECT_EQ(span_str(t[10].span), "1:24-1:25");
}

TEST(LexerTest, SpansUseFirstLine) {
  auto t = lex("a\nb\n", 40);
  EXPECT_EQ(span_str(t[0].span), "40:1-40:2");
  EXPECT_EQ(span_str(t[2].span), "41:1-41:2");
  EXPECT_EQ(span_str(t.back().span), "41:2-41:2");
}

TEST(LexerTest, EndMarkerAfterTrailingNewlineStaysOnLastLine) {
  auto t = lex("x\n\n\n");
  EXPECT_EQ(t.back().kind, TokenKind::EndMarker);
  EXPECT_EQ(span_str(t.back().span), "3:1-3:1");
}

TEST(LexerTest, KeywordsAreNames) {
  EXPECT_EQ(lex_kinds("if not x: pass"), "NAME:if NAME:not NAME:x OP:: NAME:pass NEWLINE ENDMARKER");
}

TEST(LexerTest, IsKeyword) {
  EXPECT_TRUE(is_keyword("lambda"));
  EXPECT_TRUE(is_keyword("None"));
  EXPECT_TRUE(is_keyword("nonlocal"));
  EXPECT_FALSE(is_keyword("match"));
  EXPECT_FALSE(is_keyword("type"));
  EXPECT_FALSE(is_keyword("print"));
  EXPECT_FALSE(is_keyword("none"));
}

TEST(LexerTest, TokenKindNames) {
  EXPECT_STREQ(token_kind_name(TokenKind::Name), "NAME");
  EXPECT_STREQ(token_kind_name(TokenKind::Number), "NUMBER");
  EXPECT_STREQ(token_kind_name(TokenKind::String), "STRING");
  EXPECT_STREQ(token_kind_name(TokenKind::Op), "OP");
  EXPECT_STREQ(token_kind_name(TokenKind::Newline), "NEWLINE");
  EXPECT_STREQ(token_kind_name(TokenKind::Indent), "INDENT");
  EXPECT_STREQ(token_kind_name(TokenKind::Dedent), "DEDENT");
  EXPECT_STREQ(token_kind_name(TokenKind::EndMarker), "ENDMARKER");
}

// ------------------------------------------------------------ operators

TEST(LexerTest, OperatorsTakeTheLongestMatch) {
  EXPECT_EQ(lex_kinds("a **= b //= c >>= d <<= e"),
            "NAME:a OP:**= NAME:b OP://= NAME:c OP:>>= NAME:d OP:<<= NAME:e NEWLINE ENDMARKER");
  EXPECT_EQ(lex_kinds("a ** b // c -> d != e == f <= g >= h := i"),
            "NAME:a OP:** NAME:b OP:// NAME:c OP:-> NAME:d OP:!= NAME:e OP:== NAME:f OP:<= "
            "NAME:g OP:>= NAME:h OP::= NAME:i NEWLINE ENDMARKER");
  EXPECT_EQ(lex_kinds("a+=1;b-=2;c*=3;d/=4;e%=5;f&=6;g|=7;h^=8;i@=9"),
            "NAME:a OP:+= NUMBER:1 OP:; NAME:b OP:-= NUMBER:2 OP:; NAME:c OP:*= NUMBER:3 OP:; "
            "NAME:d OP:/= NUMBER:4 OP:; NAME:e OP:%= NUMBER:5 OP:; NAME:f OP:&= NUMBER:6 OP:; "
            "NAME:g OP:|= NUMBER:7 OP:; NAME:h OP:^= NUMBER:8 OP:; NAME:i OP:@= NUMBER:9 "
            "NEWLINE ENDMARKER");
}

TEST(LexerTest, SingleCharacterOperators) {
  EXPECT_EQ(lex_kinds("()[]{},:;.+-*/%&|^~< > =@"),
            "OP:( OP:) OP:[ OP:] OP:{ OP:} OP:, OP:: OP:; OP:. OP:+ OP:- OP:* OP:/ OP:% OP:& "
            "OP:| OP:^ OP:~ OP:< OP:> OP:= OP:@ NEWLINE ENDMARKER");
}

TEST(LexerTest, EllipsisAndDots) {
  EXPECT_EQ(lex_kinds("x[..., 0]"), "NAME:x OP:[ OP:... OP:, NUMBER:0 OP:] NEWLINE ENDMARKER");
  EXPECT_EQ(lex_kinds("a.b"), "NAME:a OP:. NAME:b NEWLINE ENDMARKER");
  EXPECT_EQ(lex_kinds("...."), "OP:... OP:. NEWLINE ENDMARKER");
}

// ------------------------------------------------------------ line structure

TEST(LexerTest, IndentAndDedent) {
  auto t = lex("if x:\n    y\n    z\nw\n");
  EXPECT_EQ(kinds(t),
            "NAME:if NAME:x OP:: NEWLINE INDENT NAME:y NEWLINE NAME:z NEWLINE DEDENT NAME:w "
            "NEWLINE ENDMARKER");
  EXPECT_EQ(t[4].text, "    ");
  EXPECT_EQ(span_str(t[4].span), "2:1-2:5");
  // A DEDENT sits, zero-width, where the next line's first token starts.
  EXPECT_EQ(span_str(t[9].span), "4:1-4:1");
}

TEST(LexerTest, SeveralDedentsAtOnce) {
  EXPECT_EQ(lex_kinds("a:\n b:\n  c\nd\n"),
            "NAME:a OP:: NEWLINE INDENT NAME:b OP:: NEWLINE INDENT NAME:c NEWLINE DEDENT DEDENT "
            "NAME:d NEWLINE ENDMARKER");
}

TEST(LexerTest, DedentsAtEndOfInput) {
  auto t = lex("a:\n  b:\n    c");
  EXPECT_EQ(kinds(t),
            "NAME:a OP:: NEWLINE INDENT NAME:b OP:: NEWLINE INDENT NAME:c NEWLINE DEDENT DEDENT "
            "ENDMARKER");
  EXPECT_EQ(span_str(t.back().span), "3:6-3:6");
}

TEST(LexerTest, BlankLinesAndCommentsDoNotAffectIndentation) {
  EXPECT_EQ(lex_kinds("if x:\n    y\n\n# top comment\n        # deep comment\n   \n    z\n"),
            "NAME:if NAME:x OP:: NEWLINE INDENT NAME:y NEWLINE NAME:z NEWLINE DEDENT ENDMARKER");
}

TEST(LexerTest, TrailingCommentIsDropped) {
  EXPECT_EQ(lex_kinds("x = 1  # set x\n"), "NAME:x OP:= NUMBER:1 NEWLINE ENDMARKER");
}

TEST(LexerTest, BracketsJoinLines) {
  auto t = lex("x = (1,\n  2,\n\n     # comment\n 3)\ny\n");
  EXPECT_EQ(kinds(t),
            "NAME:x OP:= OP:( NUMBER:1 OP:, NUMBER:2 OP:, NUMBER:3 OP:) NEWLINE NAME:y NEWLINE "
            "ENDMARKER");
  EXPECT_EQ(span_str(t[7].span), "5:2-5:3");
}

TEST(LexerTest, NestedBracketsOfAllKinds) {
  EXPECT_EQ(lex_kinds("f([\n{\n}\n])"),
            "NAME:f OP:( OP:[ OP:{ OP:} OP:] OP:) NEWLINE ENDMARKER");
}

TEST(LexerTest, BackslashContinuation) {
  auto t = lex("x = 1 + \\\n    2\ny\n");
  EXPECT_EQ(kinds(t), "NAME:x OP:= NUMBER:1 OP:+ NUMBER:2 NEWLINE NAME:y NEWLINE ENDMARKER");
  EXPECT_EQ(span_str(t[4].span), "2:5-2:6");
}

TEST(LexerTest, ContinuationLineIndentationIsIgnored) {
  EXPECT_EQ(lex_kinds("if a and \\\n        b:\n    c\n"),
            "NAME:if NAME:a NAME:and NAME:b OP:: NEWLINE INDENT NAME:c NEWLINE DEDENT ENDMARKER");
}

TEST(LexerTest, LineStartingWithBackslashKeepsIndentation) {
  // As in CPython: the backslash line does not change the indentation level.
  EXPECT_EQ(lex_kinds("if a:\n    b\n\\\n    c\n"),
            "NAME:if NAME:a OP:: NEWLINE INDENT NAME:b NEWLINE NAME:c NEWLINE DEDENT ENDMARKER");
}

TEST(LexerTest, TabsUseTabStopsOfEight) {
  // A tab-indented block, then a deeper block indented with a tab + spaces.
  EXPECT_EQ(lex_kinds("if a:\n\tb:\n\t    c\n\td\n"),
            "NAME:if NAME:a OP:: NEWLINE INDENT NAME:b OP:: NEWLINE INDENT NAME:c NEWLINE DEDENT "
            "NAME:d NEWLINE DEDENT ENDMARKER");
}

TEST(LexerTest, FormFeedResetsIndentation) {
  EXPECT_EQ(lex_kinds("a\n\f b\n"), "NAME:a NEWLINE INDENT NAME:b NEWLINE DEDENT ENDMARKER");
}

TEST(LexerTest, CrLfLineEndings) {
  auto t = lex("if x:\r\n    y = 1\r\n");
  EXPECT_EQ(kinds(t),
            "NAME:if NAME:x OP:: NEWLINE INDENT NAME:y OP:= NUMBER:1 NEWLINE DEDENT ENDMARKER");
  EXPECT_EQ(t[3].text, "\r\n");
  EXPECT_EQ(span_str(t[5].span), "2:5-2:6");
}

TEST(LexerTest, ByteOrderMarkIsSkipped) {
  EXPECT_EQ(lex_kinds("\xEF\xBB\xBFx = 1\n"), "NAME:x OP:= NUMBER:1 NEWLINE ENDMARKER");
}

TEST(LexerTest, SemicolonsStayOnOneLogicalLine) {
  EXPECT_EQ(lex_kinds("a; b;\n"), "NAME:a OP:; NAME:b OP:; NEWLINE ENDMARKER");
}

// ------------------------------------------------------------ numbers

TEST(LexerTest, IntegerLiterals) {
  EXPECT_EQ(lex_kinds("0 7 1_000 0x1F 0XdeadBEEF 0o17 0O7 0b101 0B1_0 0x_f 00 0_0"),
            "NUMBER:0 NUMBER:7 NUMBER:1_000 NUMBER:0x1F NUMBER:0XdeadBEEF NUMBER:0o17 NUMBER:0O7 "
            "NUMBER:0b101 NUMBER:0B1_0 NUMBER:0x_f NUMBER:00 NUMBER:0_0 NEWLINE ENDMARKER");
}

TEST(LexerTest, FloatLiterals) {
  EXPECT_EQ(lex_kinds("1. .5 1.5 1e-3 1E+3 1e3 1_000.0 1_0.5_5e1_0 0.0 00.5 0e0 1.e2"),
            "NUMBER:1. NUMBER:.5 NUMBER:1.5 NUMBER:1e-3 NUMBER:1E+3 NUMBER:1e3 NUMBER:1_000.0 "
            "NUMBER:1_0.5_5e1_0 NUMBER:0.0 NUMBER:00.5 NUMBER:0e0 NUMBER:1.e2 NEWLINE ENDMARKER");
}

TEST(LexerTest, NumberFollowedByAttributeNeedsSpace) {
  EXPECT_EQ(lex_kinds("1 .real"), "NUMBER:1 OP:. NAME:real NEWLINE ENDMARKER");
  EXPECT_EQ(lex_kinds("1.5.real"), "NUMBER:1.5 OP:. NAME:real NEWLINE ENDMARKER");
}

TEST(LexerTest, NumberErrors) {
  expect_error("x = 1j", "complex literals are not supported", "1:5-1:7");
  expect_error("x = 1.5J", "complex literals are not supported", "1:5-1:9");
  expect_error("x = 1e3j", "complex literals are not supported", "1:5-1:9");
  expect_error("x = .5j", "complex literals are not supported", "1:5-1:8");
  expect_error("x = 0x1fj", "invalid hexadecimal literal", "1:5-1:10");
  expect_error("x = 01", "leading zeros in decimal integer literals are not permitted", "1:5-1:7");
  expect_error("x = 0_7", "leading zeros in decimal integer literals are not permitted",
               "1:5-1:8");
  expect_error("x = 1__0", "invalid decimal literal", "1:5-1:9");
  expect_error("x = 1_", "invalid decimal literal", "1:5-1:7");
  expect_error("x = 1_.5", "invalid decimal literal", "1:5-1:9");
  expect_error("x = 1._5", "invalid decimal literal", "1:5-1:9");
  expect_error("x = 1e", "invalid decimal literal", "1:5-1:7");
  expect_error("x = 1e+", "invalid decimal literal", "1:5-1:8");
  expect_error("x = 1abc", "invalid decimal literal", "1:5-1:9");
  expect_error("x = 1.real", "invalid decimal literal", "1:5-1:11");
  expect_error("x = 0x", "invalid hexadecimal literal", "1:5-1:7");
  expect_error("x = 0xg", "invalid hexadecimal literal", "1:5-1:8");
  expect_error("x = 0x1_", "invalid hexadecimal literal", "1:5-1:9");
  expect_error("x = 0b12", "invalid digit '2' in binary literal", "1:8-1:9");
  expect_error("x = 0b2", "invalid digit '2' in binary literal", "1:7-1:8");
  expect_error("x = 0o8", "invalid digit '8' in octal literal", "1:7-1:8");
  expect_error("x = 0o", "invalid octal literal", "1:5-1:7");
  expect_error("x = 1é", "invalid decimal literal", "1:5-1:8");
}

// ------------------------------------------------------------ strings

TEST(LexerTest, StringQuotesAndPrefixes) {
  auto t = lex(R"(a = 'x' "y" r'\d' b"z" f'{q}' rb'w' Rb"v" BR'u' fr'x' Rf"y" u'z' U"q" F'a')");
  std::vector<std::string> texts;
  for (const Token& tok : t) {
    if (tok.kind == TokenKind::String) texts.push_back(tok.text);
  }
  std::vector<std::string> expected = {"'x'",   "\"y\"",  "r'\\d'", "b\"z\"", "f'{q}'",
                                       "rb'w'", "Rb\"v\"", "BR'u'",  "fr'x'",  "Rf\"y\"",
                                       "u'z'",  "U\"q\"", "F'a'"};
  EXPECT_EQ(texts, expected);
}

TEST(LexerTest, NonPrefixNameBeforeQuoteIsAName) {
  EXPECT_EQ(lex_kinds("ur'x'"), "NAME:ur STRING:'x' NEWLINE ENDMARKER");
  EXPECT_EQ(lex_kinds("x'a'"), "NAME:x STRING:'a' NEWLINE ENDMARKER");
}

TEST(LexerTest, EscapedQuotesAndBackslashes) {
  auto t = lex(R"(s = 'it\'s' + "a\"b" + 'c\\' + r'\'')");
  EXPECT_EQ(t[2].text, R"('it\'s')");
  EXPECT_EQ(t[4].text, R"("a\"b")");
  EXPECT_EQ(t[6].text, R"('c\\')");
  EXPECT_EQ(t[8].text, R"(r'\'')");
}

TEST(LexerTest, TripleQuotedStringsSpanLines) {
  auto t = lex("s = \"\"\"one\n'two' \"\"three\n\"\"\"\nx\n");
  EXPECT_EQ(kinds(t), "NAME:s OP:= STRING:\"\"\"one\n'two' \"\"three\n\"\"\" NEWLINE NAME:x NEWLINE ENDMARKER");
  EXPECT_EQ(span_str(t[2].span), "1:5-3:4");
  EXPECT_EQ(span_str(t[4].span), "4:1-4:2");
}

TEST(LexerTest, TripleQuotedStringDoesNotAffectIndentation) {
  EXPECT_EQ(lex_kinds("def f():\n    '''doc\nstring'''\n    x\n"),
            "NAME:def NAME:f OP:( OP:) OP:: NEWLINE INDENT STRING:'''doc\nstring''' NEWLINE "
            "NAME:x NEWLINE DEDENT ENDMARKER");
}

TEST(LexerTest, EscapedNewlineContinuesAString) {
  auto t = lex("s = 'ab\\\ncd'\n");
  EXPECT_EQ(t[2].text, "'ab\\\ncd'");
  EXPECT_EQ(span_str(t[2].span), "1:5-2:4");
}

TEST(LexerTest, EmptyStrings) {
  EXPECT_EQ(lex_kinds("'' \"\" '''''' \"\"\"\"\"\""),
            "STRING:'' STRING:\"\" STRING:'''''' STRING:\"\"\"\"\"\" NEWLINE ENDMARKER");
}

TEST(LexerTest, NonAsciiInStringsAndComments) {
  auto t = lex("s = 'héllo → ✓'  # ça va\nt = 1\n");
  EXPECT_EQ(t[2].text, "'héllo → ✓'");
  // Columns count bytes: the string is 16 bytes long.
  EXPECT_EQ(span_str(t[2].span), "1:5-1:21");
  EXPECT_EQ(span_str(t[4].span), "2:1-2:2");
}

TEST(LexerTest, FStringIsOneToken) {
  auto t = lex("f'{x!r:>8} and {y[\"k\"]}'\n");
  EXPECT_EQ(kinds(t), "STRING:f'{x!r:>8} and {y[\"k\"]}' NEWLINE ENDMARKER");
}

TEST(LexerTest, StringErrors) {
  expect_error("x = 'abc", "unterminated string literal", "1:5-1:9");
  expect_error("x = \"abc\ny = 1\n", "unterminated string literal", "1:5-1:9");
  expect_error("x = 'abc\\", "unterminated string literal", "1:5-1:10");
  expect_error("x = rb'abc", "unterminated string literal", "1:5-1:11");
  expect_error("x = '''abc\n\ndef", "unterminated triple-quoted string literal", "1:5-1:8");
  expect_error("x = f\"\"\"abc''", "unterminated triple-quoted string literal", "1:5-1:9");
}

// ------------------------------------------------------------ brackets

TEST(LexerTest, BracketErrors) {
  expect_error("x = (1, 2\n", "'(' was never closed", "1:5-1:6");
  expect_error("x = [1,\n (2,\n 3]", "closing bracket ']' does not match opening bracket '('",
               "3:3-3:4");
  expect_error("x = 1)", "unmatched ')'", "1:6-1:7");
  expect_error("}", "unmatched '}'", "1:1-1:2");
  expect_error("f(a[1)]", "closing bracket ')' does not match opening bracket '['", "1:6-1:7");
  expect_error("x = {\n", "'{' was never closed", "1:5-1:6");
}

TEST(LexerTest, MismatchNotePointsAtTheOpeningBracket) {
  try {
    lex("x = (\n  1]\n");
    FAIL();
  } catch (const CompileError& e) {
    ASSERT_EQ(e.diagnostic().notes.size(), 1u);
    EXPECT_EQ(e.diagnostic().notes[0], "the '(' was opened at line 1, column 5");
  }
}

// ------------------------------------------------------------ indentation errors

TEST(LexerTest, UnindentMustMatchAnOuterLevel) {
  expect_error("if x:\n        a\n    b\n", "unindent does not match any outer indentation level",
               "3:1-3:5");
}

TEST(LexerTest, InconsistentTabsAndSpaces) {
  // A tab (column 8) and eight spaces look equal with tab stops of 8, but not
  // with any other tab width.
  expect_error("if x:\n\ta\n        b\n", "inconsistent use of tabs and spaces in indentation",
               "3:1-3:9");
  expect_error("if x:\n        a\n\tb\n", "inconsistent use of tabs and spaces in indentation",
               "3:1-3:2");
  // Indenting from 4 spaces to a tab is deeper with tab stops of 8 but not 1.
  expect_error("if x:\n    a\n    if y:\n\tb\n",
               "inconsistent use of tabs and spaces in indentation", "4:1-4:2");
}

// ------------------------------------------------------------ stray characters

TEST(LexerTest, StrayCharacters) {
  expect_error("x = $", "invalid character '$' (U+0024)", "1:5-1:6");
  expect_error("x = a ? b", "invalid character '?' (U+003F)", "1:7-1:8");
  expect_error("x = `a`", "invalid character '`' (U+0060)", "1:5-1:6");
  expect_error("x = !a", "invalid character '!' (U+0021)", "1:5-1:6");
  expect_error("x = \x01", "invalid character (U+0001)", "1:5-1:6");
  expect_error("x = \x7f", "invalid character (U+007F)", "1:5-1:6");
}

TEST(LexerTest, NonAsciiOutsideStrings) {
  expect_error("café = 1", "non-ASCII identifiers are not supported: 'café'", "1:1-1:6");
  expect_error("x = ñ", "non-ASCII identifiers are not supported: 'ñ'", "1:5-1:7");
  expect_error("x = aé_b + 1", "non-ASCII identifiers are not supported: 'aé_b'", "1:5-1:10");
  expect_error("x = a — b", "invalid character '—' (U+2014)", "1:7-1:10");
  expect_error("x\xC2\xA0= 1", "invalid character '\xC2\xA0' (U+00A0)", "1:2-1:4");
}

TEST(LexerTest, MalformedInput) {
  expect_error(std::string("x = 1\ny\0", 8), "source code cannot contain null bytes", "2:2-2:3");
  expect_error("s = '\xff'", "invalid UTF-8 byte 0xFF in source", "1:6-1:7");
  expect_error("# \xC3\x28\n", "invalid UTF-8 byte 0xC3 in source", "1:3-1:4");
  expect_error("s = '\xED\xA0\x80'", "invalid UTF-8 byte 0xED in source", "1:6-1:7");  // surrogate
  expect_error("x = 1\ry = 2", "carriage return without a line feed", "1:6-1:7");
}

TEST(LexerTest, ContinuationErrors) {
  expect_error("x = \\ y", "unexpected character after line continuation character", "1:5-1:6");
  expect_error("x = 1 \\", "unexpected end of input after line continuation character",
               "1:7-1:8");
}

TEST(LexerTest, ErrorSpansUseFirstLine) {
  try {
    lex("x = 1\ny = $\n", 100);
    FAIL();
  } catch (const CompileError& e) {
    EXPECT_EQ(span_str(e.diagnostic().span), "101:5-101:6");
    EXPECT_NE(e.formatted().find("101 | y = $"), std::string::npos);
  }
}

// ------------------------------------------------------------ fragments

TEST(LexerTest, FragmentTokensHaveAbsoluteSpans) {
  auto f = make_file("x = 1\ns = f'{a +\n b}'\n", 7);
  size_t begin = f->text.find('{') + 1;
  size_t end = f->text.find('}');
  auto t = tokenize_fragment(f, begin, end);
  EXPECT_EQ(kinds(t), "NAME:a OP:+ NAME:b ENDMARKER");
  EXPECT_EQ(span_str(t[0].span), "8:8-8:9");
  EXPECT_EQ(span_str(t[2].span), "9:2-9:3");
  EXPECT_EQ(span_str(t[3].span), "9:3-9:3");
}

TEST(LexerTest, FragmentWithKnownPosition) {
  auto f = make_file("x = 1\ns = f'{a +\n b}'\n", 7);
  size_t begin = f->text.find('{') + 1;
  size_t end = f->text.find('}');
  // Line 8 starts at offset 6.
  auto t = tokenize_fragment(f, begin, end, 8, 6);
  EXPECT_EQ(kinds(t), "NAME:a OP:+ NAME:b ENDMARKER");
  EXPECT_EQ(span_str(t[0].span), "8:8-8:9");
  EXPECT_EQ(span_str(t[2].span), "9:2-9:3");
}

TEST(LexerTest, FragmentChecksBrackets) {
  auto f = make_file("(a))");
  EXPECT_THROW(tokenize_fragment(f, 0, 4), CompileError);
  EXPECT_THROW(tokenize_fragment(f, 0, 2), CompileError);
  EXPECT_EQ(kinds(tokenize_fragment(f, 0, 3)), "OP:( NAME:a OP:) ENDMARKER");
  EXPECT_EQ(kinds(tokenize_fragment(f, 1, 1)), "ENDMARKER");
}

}  // namespace
}  // namespace deuteron
