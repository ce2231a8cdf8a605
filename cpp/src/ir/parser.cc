// Reads the text form of the tile IR (printer.cc) back into kernels.
//
// The text is line oriented: a kernel's header and declarations, then one op
// per line, a region's ops indented two spaces deeper than its header line
// (`body(...)`, `then`, `else`).  The parser walks lines with a cursor over
// the current one, so every error can point at a line and column.  It checks
// what it needs to build the IR (names refer to declared dims, tensors,
// scalars and earlier values; ops have the operand and result counts of
// their kind); the structural rules of the IR are ir::verify's job.
#include "deuteron/ir_parser.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string_view>

namespace deuteron::ir {

namespace {

// Enum values by their printed names (the name() functions of ir.cc).
template <typename E>
std::optional<E> enum_by_name(std::string_view text) {
  for (int i = 0; i < 64; ++i) {
    E e = static_cast<E>(i);
    std::string_view n = name(e);
    if (n == "?") break;
    if (n == text) return e;
  }
  return std::nullopt;
}

std::optional<DType> dtype_by_short_name(std::string_view text) {
  for (int i = 0; i <= static_cast<int>(DType::UInt64); ++i)
    if (text == dtype_short(static_cast<DType>(i))) return static_cast<DType>(i);
  return std::nullopt;
}

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '?' || c == '.';
}

// Operand and result counts of each op kind (-1: any).
struct Arity {
  int min_operands, max_operands, results;
};

Arity arity(OpKind k) {
  switch (k) {
    case OpKind::Constant:
    case OpKind::ScalarParam:
    case OpKind::SymValue:
    case OpKind::TileIndex:
    case OpKind::TileBegin:
    case OpKind::TileEnd:
    case OpKind::TileBlockSize:
    case OpKind::TileId:
    case OpKind::TileCount:
    case OpKind::TileMask:
    case OpKind::Full:
    case OpKind::Arange:
    case OpKind::RngSeed: return {0, 0, 1};
    // seed, offsets [, low, high]; rand4x has four results.
    case OpKind::Random: return {2, 4, -1};
    case OpKind::Unary:
    case OpKind::Cast:
    case OpKind::ExpandDims:
    case OpKind::Squeeze:
    case OpKind::BroadcastTo:
    case OpKind::BlockLanes:
    case OpKind::Permute:
    case OpKind::Reshape:
    case OpKind::Reduce: return {1, 1, 1};
    // One result per operand (a tuple of tensors scans or reduces together).
    case OpKind::Scan:
    case OpKind::CombineReduce: return {1, -1, -1};
    case OpKind::Sort: return {1, 1, 2};
    case OpKind::Gather: return {2, 2, 1};
    case OpKind::Binary: return {2, 2, 1};
    case OpKind::Where: return {3, 3, 1};
    case OpKind::Dot: return {2, 3, 1};
    case OpKind::If: return {1, 1, -1};
    // The condition's first value, then the initial carried values; one result each.
    case OpKind::While: return {1, -1, -1};
    case OpKind::Assert: return {1, 1, 0};
    case OpKind::Print: return {0, -1, 0};
    case OpKind::Breakpoint: return {0, 0, 0};
    case OpKind::InlineTriton: return {0, -1, -1};
    case OpKind::Yield: return {0, -1, 0};
    // Memory ops and loops parse their operands themselves.
    case OpKind::Load: return {-1, -1, 1};
    case OpKind::Store: return {-1, -1, 0};
    case OpKind::AtomicRMW: return {-1, -1, 1};
    case OpKind::For: return {-1, -1, -1};
  }
  return {-1, -1, -1};
}

struct Line {
  int number;       // 1-based line number in the file
  std::string text;  // the whole line, indentation included
  size_t indent;    // leading spaces
};

class Parser {
 public:
  Parser(std::shared_ptr<const SourceFile> file, TextLocations* locations)
      : file_(std::move(file)), locations_(locations) {
    int number = file_->first_line;
    size_t begin = 0;
    const std::string& t = file_->text;
    while (begin <= t.size()) {
      size_t end = t.find('\n', begin);
      if (end == std::string::npos) end = t.size();
      std::string text = t.substr(begin, end - begin);
      if (!text.empty() && text.back() == '\r') text.pop_back();
      size_t indent = text.find_first_not_of(' ');
      bool blank = indent == std::string::npos;
      bool comment = !blank && text[indent] == '#';
      if (!blank && !comment) lines_.push_back({number, text, indent});
      ++number;
      if (end == t.size()) break;
      begin = end + 1;
    }
  }

  std::vector<std::unique_ptr<DeviceKernel>> run() {
    std::vector<std::unique_ptr<DeviceKernel>> out;
    if (lines_.empty()) {
      raise_error(file_, {file_->first_line, 1, file_->first_line, 1}, "no kernel in the IR text",
                  {"IR text starts with a `kernel NAME` line, as --dump=ir prints it"});
    }
    while (li_ < lines_.size()) out.push_back(kernel());
    return out;
  }

 private:
  // ------------------------------------------------------------ the cursor
  const Line& line() const { return lines_[li_]; }
  const std::string& text() const { return line().text; }

  SourceSpan span_at(size_t pos, size_t len = 1) const {
    int col = static_cast<int>(pos) + 1;
    return {line().number, col, line().number, col + static_cast<int>(std::max<size_t>(len, 1))};
  }
  [[noreturn]] void fail_at(size_t pos, const std::string& msg, size_t len = 1) {
    raise_error(file_, span_at(pos, len), msg);
  }
  [[noreturn]] void fail(const std::string& msg) {
    skip_ws();
    fail_at(pos_, msg, token_length());
  }
  // Length of the word at the cursor (for the `~~~` under it).
  size_t token_length() const {
    size_t n = 0;
    while (pos_ + n < text().size() && text()[pos_ + n] != ' ') ++n;
    return n;
  }
  std::string next_word() {
    skip_ws();
    size_t n = token_length();
    return n ? "'" + text().substr(pos_, n) + "'" : "the end of the line";
  }

  void skip_ws() {
    while (pos_ < text().size() && text()[pos_] == ' ') ++pos_;
  }
  bool at_end() {
    skip_ws();
    return pos_ >= text().size();
  }
  bool peek(std::string_view s) {
    skip_ws();
    return text().compare(pos_, s.size(), s) == 0;
  }
  // A keyword: `s` not followed by more identifier characters.
  bool peek_word(std::string_view s) {
    if (!peek(s)) return false;
    size_t after = pos_ + s.size();
    return after >= text().size() || !is_ident_char(text()[after]);
  }
  bool accept(std::string_view s) {
    if (!peek(s)) return false;
    pos_ += s.size();
    return true;
  }
  bool accept_word(std::string_view s) {
    if (!peek_word(s)) return false;
    pos_ += s.size();
    return true;
  }
  void expect(std::string_view s) {
    if (!accept(s)) fail("expected '" + std::string(s) + "', found " + next_word());
  }
  void expect_word(std::string_view s) {
    if (!accept_word(s)) fail("expected '" + std::string(s) + "', found " + next_word());
  }
  void expect_end() {
    if (!at_end()) fail("unexpected " + next_word() + " at the end of the line");
  }

  std::string ident(const std::string& what) {
    skip_ws();
    size_t b = pos_;
    while (pos_ < text().size() && is_ident_char(text()[pos_])) ++pos_;
    if (pos_ == b) fail("expected " + what + ", found " + next_word());
    return text().substr(b, pos_ - b);
  }

  // Text up to (not including) `stop`, trimmed; the cursor stops at `stop`.
  std::string raw_until(char stop, const std::string& what) {
    skip_ws();
    size_t b = pos_;
    size_t e = text().find(stop, b);
    if (e == std::string::npos) fail("expected '" + std::string(1, stop) + "' after " + what);
    pos_ = e;
    std::string s = text().substr(b, e - b);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  }

  int64_t integer(const std::string& what) {
    skip_ws();
    size_t b = pos_;
    if (pos_ < text().size() && text()[pos_] == '-') ++pos_;
    while (pos_ < text().size() && std::isdigit(static_cast<unsigned char>(text()[pos_]))) ++pos_;
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text().data() + b, text().data() + pos_, v);
    if (ec != std::errc() || ptr != text().data() + pos_) {
      pos_ = b;
      if (ec == std::errc::result_out_of_range) fail(what + " is out of range");
      fail("expected " + what + ", found " + next_word());
    }
    return v;
  }
  // A non-negative int that indexes something (ids, axes).
  int small_int(const std::string& what) {
    skip_ws();
    size_t b = pos_;
    int64_t v = integer(what);
    if (v < 0 || v > (int64_t{1} << 30)) fail_at(b, what + " must be between 0 and 2^30", pos_ - b);
    return static_cast<int>(v);
  }

  // ------------------------------------------------------- names and types
  int dim_ref() {
    skip_ws();
    size_t b = pos_;
    if (!(pos_ < text().size() && text()[pos_] == 'd')) fail("expected a dim (d0, d1, ...), found " + next_word());
    ++pos_;
    int d = small_int("a dim number");
    if (d >= static_cast<int>(k_->dims.size()))
      fail_at(b, "unknown dim d" + std::to_string(d) + " (the kernel declares " + std::to_string(k_->dims.size()) +
                     ")", pos_ - b);
    return d;
  }

  int value_number() {
    skip_ws();
    if (!(pos_ < text().size() && text()[pos_] == '%')) fail("expected a value (%N), found " + next_word());
    ++pos_;
    return small_int("a value number");
  }

  Value* value_ref() {
    skip_ws();
    size_t b = pos_;
    int id = value_number();
    auto it = values_.find(id);
    if (it == values_.end())
      fail_at(b, "value %" + std::to_string(id) + " is used before it is defined", pos_ - b);
    return it->second;
  }

  std::vector<Value*> value_list() {
    std::vector<Value*> out;
    if (!peek("%")) return out;
    out.push_back(value_ref());
    while (accept(",")) out.push_back(value_ref());
    return out;
  }

  DType dtype() {
    skip_ws();
    size_t b = pos_;
    std::string n = ident("an element type");
    auto t = dtype_by_short_name(n);
    if (!t) fail_at(b, "unknown element type '" + n + "'", n.size());
    return *t;
  }

  Type type() {
    Type t;
    t.dtype = dtype();
    if (pos_ < text().size() && text()[pos_] == '[') {
      ++pos_;
      if (!accept("]")) {
        do {
          if (accept_word("1"))
            t.dims.push_back(kBroadcast);
          else
            t.dims.push_back(dim_ref());
        } while (accept(","));
        expect("]");
      }
    }
    return t;
  }

  // Symbolic integers as SymInt::str writes them: + - * // %, max(), min(),
  // parentheses, integers and symbol names.
  SymInt sym_expr() {
    SymInt v = sym_term();
    for (;;) {
      skip_ws();
      size_t at = pos_;
      if (accept("+")) v = sym_apply('+', v, sym_term(), at);
      else if (accept("-")) v = sym_apply('-', v, sym_term(), at);
      else return v;
    }
  }
  // Arithmetic the text asks for, refused where SymInt would fail or
  // overflow (constants only: symbols have no value here).
  SymInt sym_apply(char op, const SymInt& a, const SymInt& b, size_t at) {
    if ((op == '/' || op == '%') && b.is_constant() && b.constant() == 0) fail_at(at, "division by zero in a size");
    if (a.is_constant() && b.is_constant()) {
      int64_t x = a.constant(), y = b.constant(), r = 0;
      bool overflow = op == '+' ? __builtin_add_overflow(x, y, &r)
                      : op == '-' ? __builtin_sub_overflow(x, y, &r)
                      : op == '*' ? __builtin_mul_overflow(x, y, &r)
                                  : (x == INT64_MIN && y == -1);
      if (overflow) fail_at(at, "a size overflows 64 bits");
    }
    switch (op) {
      case '+': return a + b;
      case '-': return a - b;
      case '*': return a * b;
      case '/': return floordiv(a, b);
      default: return mod(a, b);
    }
  }
  SymInt sym_term() {
    SymInt v = sym_unary();
    for (;;) {
      skip_ws();
      size_t at = pos_;
      if (accept("*")) v = sym_apply('*', v, sym_unary(), at);
      else if (accept("//")) v = sym_apply('/', v, sym_unary(), at);
      else if (peek("%") && !(pos_ + 1 < text().size() && std::isdigit(static_cast<unsigned char>(text()[pos_ + 1])))) {
        ++pos_;
        v = sym_apply('%', v, sym_unary(), at);
      } else return v;
    }
  }
  SymInt sym_unary() {
    skip_ws();
    size_t at = pos_;
    if (accept("-")) return sym_apply('-', SymInt(0), sym_unary(), at);
    return sym_primary();
  }
  SymInt sym_primary() {
    skip_ws();
    if (accept("(")) {
      SymInt v = sym_expr();
      expect(")");
      return v;
    }
    if (pos_ < text().size() && std::isdigit(static_cast<unsigned char>(text()[pos_]))) return SymInt(integer("an integer"));
    if (accept("triton.next_power_of_2(")) {
      SymInt a = sym_expr();
      expect(")");
      return sym_next_power_of_2(a);
    }
    bool is_max = peek_word("max"), is_min = peek_word("min");
    if (is_max || is_min) {
      size_t save = pos_;
      pos_ += 3;
      if (accept("(")) {
        SymInt a = sym_expr();
        expect(",");
        SymInt b = sym_expr();
        expect(")");
        return is_max ? sym_max(a, b) : sym_min(a, b);
      }
      pos_ = save;
    }
    skip_ws();
    if (pos_ < text().size() && (std::isalpha(static_cast<unsigned char>(text()[pos_])) || text()[pos_] == '_' ||
                                 text()[pos_] == '?'))
      return SymInt::symbol(ident("a symbol"));
    fail("expected a size expression, found " + next_word());
  }

  std::vector<SymInt> sym_list() {
    std::vector<SymInt> out;
    expect("[");
    if (accept("]")) return out;
    do out.push_back(sym_expr());
    while (accept(","));
    expect("]");
    return out;
  }

  // -------------------------------------------------------------- kernels
  bool line_starts_with(std::string_view word) {
    pos_ = 0;
    return peek_word(word);
  }

  std::unique_ptr<DeviceKernel> kernel() {
    auto k = std::make_unique<DeviceKernel>();
    k_ = k.get();
    values_.clear();
    pending_.clear();
    loop_ids_.clear();
    pos_ = 0;
    if (line().indent != 0) fail("expected 'kernel NAME' at the start of the line");
    if (locations_) locations_->kernels[k.get()] = line_span();
    expect_word("kernel");
    k->name = ident("the kernel's name");
    std::optional<int> next_value, loads, stores;
    while (!at_end()) {
      size_t b = pos_;
      std::string key = raw_until('=', "a kernel attribute");
      ++pos_;
      if (key == "index_dtype") {
        k->index_dtype = dtype();
      } else if (key == "next_value") {
        next_value = small_int("next_value");
      } else if (key == "loads") {
        loads = small_int("loads");
      } else if (key == "stores") {
        stores = small_int("stores");
      } else {
        fail_at(b, "unknown kernel attribute '" + key + "' (known: index_dtype, next_value, loads, stores)", key.size());
      }
    }
    next_line();

    // Declarations, in the order print writes them.
    while (more_at(2) && line_starts_with("tensor")) {
      tensor();
      next_line();
    }
    while (more_at(2) && line_starts_with("scalar")) {
      scalar();
      next_line();
    }
    while (more_at(2) && line_starts_with("dim")) {
      dim();
      next_line();
    }
    if (!more_at(2) || !line_starts_with("grid")) {
      if (li_ < lines_.size()) {
        pos_ = 0;
        fail("expected the kernel's 'grid:' line, found " + next_word());
      }
      fail_eof("the kernel's 'grid:' line");
    }
    grid();
    next_line();
    while (more_at(2) && line_starts_with("nest")) {
      nest();
      next_line();
    }
    region(k->body, nullptr, 2);

    // What the text leaves out.
    ImpliedCounters implied = implied_counters(*k);
    k->next_value_id = next_value.value_or(implied.next_value_id);
    k->num_loads = loads.value_or(implied.num_loads);
    k->num_stores = stores.value_or(implied.num_stores);
    // Loops keep their printed ids (dims refer to them); the other ops get
    // fresh ones after every loop id.
    int next_op = 0;
    for (const Dim& d : k->dims) next_op = std::max(next_op, d.loop_id + 1);
    walk(k->body, [&](const Op& op) {
      if (op.kind == OpKind::For) next_op = std::max(next_op, op.id + 1);
    });
    walk_mut(k->body, [&](Op& op) {
      if (op.kind != OpKind::For) op.id = next_op++;
    });
    k->next_op_id = next_op;
    return k;
  }

  [[noreturn]] void fail_eof(const std::string& what) {
    const Line& last = lines_.back();
    raise_error(file_, {last.number, static_cast<int>(last.text.size()) + 1, last.number,
                        static_cast<int>(last.text.size()) + 2},
                "the IR text ends before " + what);
  }

  void next_line() {
    ++li_;
    pos_ = 0;
  }
  // Whether the current line exists and is indented by exactly `indent`.
  bool more_at(size_t indent) {
    if (li_ >= lines_.size()) return false;
    pos_ = 0;
    return line().indent == indent;
  }

  void tensor() {
    expect_word("tensor");
    TensorParam t;
    t.name = raw_until(':', "the tensor's name");
    if (t.name.empty()) fail("expected the tensor's name");
    expect(":");
    t.dtype = dtype();
    t.sizes = sym_list();
    expect_word("strides");
    t.strides = sym_list();
    if (t.strides.size() != t.sizes.size()) fail("the tensor has " + std::to_string(t.sizes.size()) + " sizes but " +
                                                 std::to_string(t.strides.size()) + " strides");
    if (accept("(")) {
      do {
        if (accept_word("read")) t.read = true;
        else if (accept_word("written")) t.written = true;
        else fail("expected 'read' or 'written', found " + next_word());
      } while (accept(","));
      expect(")");
    }
    expect("=");
    // The host expression is the rest of the line, as print wrote it.
    if (pos_ < text().size() && text()[pos_] == ' ') ++pos_;
    t.host_expr = text().substr(pos_);
    k_->tensors.push_back(std::move(t));
  }

  void scalar() {
    expect_word("scalar");
    ScalarParam s;
    s.name = ident("the scalar's name");
    expect(":");
    s.dtype = dtype();
    expect("=");
    if (pos_ < text().size() && text()[pos_] == ' ') ++pos_;
    s.host_expr = text().substr(pos_);
    k_->scalars.push_back(std::move(s));
  }

  void dim() {
    expect_word("dim");
    skip_ws();
    size_t b = pos_;
    std::string id = ident("the dim's id");
    std::string want = "d" + std::to_string(k_->dims.size());
    if (id != want) fail_at(b, "expected dim " + want + " (dims are declared in order), found '" + id + "'", id.size());
    expect(":");
    Dim d;
    d.id = static_cast<int>(k_->dims.size());
    if (accept_word("tile")) d.kind = DimKind::Tile;
    else if (accept_word("grid")) d.kind = DimKind::Grid;
    else if (accept_word("full")) d.kind = DimKind::Full;
    else fail("expected 'tile', 'grid' or 'full', found " + next_word());
    // The name is any text before the bounds (a full dim is named after its
    // size expression, e.g. `x_size_1 * 4`).
    d.name = raw_until('[', "the dim's kind");
    ++pos_;
    d.begin = sym_expr();
    expect(",");
    d.end = sym_expr();
    expect(")");
    if (accept_word("block")) d.fixed_block_size = integer("a block size");
    if (accept_word("config_block")) {  // a block each config resolves (sema's IR)
      expect("{");
      d.config_block_size = sym_expr();
      expect("}");
    }
    if (accept("block_sizes[")) {
      d.block_size_index = small_int("a block_sizes index");
      expect("]");
    }
    if (accept("reduction_loops[")) {
      d.reduction_index = small_int("a reduction_loops index");
      expect("]");
    }
    if (accept_word("loop")) {
      expect("#");
      d.loop_id = small_int("a loop id");
    }
    if (accept_word("subtile")) {
      expect_word("of");
      d.subtile_of = dim_ref();  // declared before the sub-tile
      expect("+");
      d.subtile_offset = integer("a sub-tile offset");
    }
    if (accept_word("dynamic")) d.dynamic_bounds = true;
    if (accept_word("static_range_ok")) d.static_range_ok = true;
    if (accept_word("merges")) {
      d.factors.push_back(dim_ref());  // factors are declared before the merged dim
      while (accept("*")) d.factors.push_back(dim_ref());
    }
    expect_end();
    k_->dims.push_back(std::move(d));
  }
  void grid() {
    expect_word("grid");
    expect(":");
    if (at_end()) return;
    do k_->grid_dims.push_back(dim_ref());
    while (accept(","));
    expect_end();
  }

  // `nest: d1, d2`: an inner loop written over several dims.
  void nest() {
    expect_word("nest");
    expect(":");
    std::vector<int> dims;
    do dims.push_back(dim_ref());
    while (accept(","));
    expect_end();
    k_->nests.push_back(std::move(dims));
  }

  // ------------------------------------------------------------------ ops
  // Parses the ops of `r` (each line indented by `indent`), with nested
  // regions, until a line indented less.
  void region(Region& r, Op* parent, size_t indent) {
    r.parent = parent;
    while (li_ < lines_.size()) {
      pos_ = 0;
      if (line().indent < indent) return;
      if (line().indent > indent)
        fail_at(0, "unexpected indentation (" + std::to_string(line().indent) + " spaces; expected " +
                       std::to_string(indent) + ")", line().indent);
      op(r, indent);
    }
  }

  // A new value's number must be unused, also by the results of the ops
  // whose regions are being parsed (they become visible after the region).
  void check_new(int id, size_t pos, size_t len) {
    if (values_.count(id) || pending_.count(id))
      fail_at(pos, "value %" + std::to_string(id) + " is defined twice", len);
  }

  // A tensor of the kernel by name, followed by '[' (consumed).
  int tensor_then_bracket() {
    skip_ws();
    // The longest tensor name followed by '[' (names are host expressions).
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < k_->tensors.size(); ++i) {
      const std::string& n = k_->tensors[i].name;
      if (n.size() >= best_len && text().compare(pos_, n.size(), n) == 0 && pos_ + n.size() < text().size() &&
          text()[pos_ + n.size()] == '[') {
        best = static_cast<int>(i);
        best_len = n.size();
      }
    }
    if (best < 0) fail("expected a tensor of the kernel followed by '[', found " + next_word());
    pos_ += best_len + 1;
    return best;
  }

  // The index of a memory op: `x[d0, d1 + 1, %3, None]`, its operands
  // appended to `operands`.
  void index(Op& op, std::vector<Value*>& operands) {
    op.attrs.tensor = tensor_then_bracket();
    if (accept("]")) return;
    do {
      IndexSpec ix;
      if (accept_word("None")) {
        ix.kind = IndexSpec::Kind::NewAxis;
      } else if (accept_word("stack")) {
        ix.kind = IndexSpec::Kind::Stack;
        ix.operand = static_cast<int>(operands.size());
        operands.push_back(value_ref());
      } else if (peek("%")) {
        Value* v = value_ref();
        ix.kind = v->type.is_scalar() ? IndexSpec::Kind::Scalar : IndexSpec::Kind::Tensor;
        ix.operand = static_cast<int>(operands.size());
        operands.push_back(v);
      } else {
        ix.kind = IndexSpec::Kind::TileDim;
        ix.dim = dim_ref();
        if (accept("+")) ix.offset = sym_expr();
      }
      op.attrs.index.push_back(ix);
    } while (accept(","));
    expect("]");
    if (accept_word("broadcast")) op.attrs.broadcast_index = true;
  }

  // `mask %m` and `unmasked` after an index; returns the mask.
  Value* mask_and_unmasked(Op& op) {
    Value* mask = nullptr;
    if (accept_word("mask")) mask = value_ref();
    if (accept_word("unmasked")) op.attrs.mask_elided = true;
    return mask;
  }

  std::string string_literal() {
    skip_ws();
    if (!(pos_ < text().size() && text()[pos_] == '"')) fail("expected a quoted message, found " + next_word());
    size_t b = pos_++;
    std::string out;
    while (pos_ < text().size() && text()[pos_] != '"') {
      char c = text()[pos_++];
      if (c == '\\') {
        if (pos_ >= text().size()) break;
        char e = text()[pos_++];
        out += e == 'n' ? '\n' : e;
      } else {
        out += c;
      }
    }
    if (pos_ >= text().size()) fail_at(b, "unterminated string", text().size() - b);
    ++pos_;
    return out;
  }

  // A literal (Constant, Full); its kind follows the text, and for a number
  // written without a point or exponent, the result's element type.
  Literal literal(const std::string& s, DType result, size_t at) {
    if (s == "True") return Literal::from_bool(true);
    if (s == "False") return Literal::from_bool(false);
    bool integral = !s.empty() && s.find_first_not_of("-0123456789") == std::string::npos &&
                    s.find('-', 1) == std::string::npos && s != "-";
    if (integral) {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && ptr == s.data() + s.size())
        return is_floating(result) ? Literal::from_float(static_cast<double>(v)) : Literal::from_int(v);
      if (!is_floating(result)) fail_at(at, "integer literal '" + s + "' is out of range", s.size());
    }
    errno = 0;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size())
      fail_at(at, "expected a literal (an integer, a float, True or False), found '" + s + "'", s.size());
    return Literal::from_float(d);
  }

  void op(Region& r, size_t indent) {
    auto op = std::make_unique<Op>();
    op->parent = &r;
    if (locations_) locations_->ops[op.get()] = line_span();
    Op& o = *op;
    // Results.
    std::vector<std::pair<int, size_t>> result_ids;  // (id, column)
    if (peek("%")) {
      do {
        skip_ws();
        size_t b = pos_;
        result_ids.push_back({value_number(), b});
      } while (accept(","));
      expect("=");
    }
    skip_ws();
    size_t kind_pos = pos_;
    std::string kind_name = ident("an op");
    auto kind = enum_by_name<OpKind>(kind_name);
    if (!kind) fail_at(kind_pos, "unknown op '" + kind_name + "'", kind_name.size());
    o.kind = *kind;

    std::vector<Value*> operands;
    std::string literal_text;
    bool combine_region = false;                               // Scan, CombineReduce
    std::vector<std::pair<std::string, size_t>> other_texts;  // CombineReduce's `other (...)`
    size_t literal_pos = 0;
    auto fn_name = [&](auto parse_enum, const char* what) {
      skip_ws();
      size_t b = pos_;
      std::string n = ident(std::string("a ") + what);
      auto f = parse_enum(n);
      if (!f) fail_at(b, std::string("unknown ") + what + " '" + n + "'", n.size());
      return *f;
    };
    switch (o.kind) {
      case OpKind::Constant:
      case OpKind::Full:
        skip_ws();
        literal_pos = pos_;
        while (pos_ < text().size() && text()[pos_] != ' ') ++pos_;
        literal_text = text().substr(literal_pos, pos_ - literal_pos);
        if (literal_text.empty() || literal_text == ":") fail_at(literal_pos, "expected a literal after '" + kind_name + "'");
        break;
      case OpKind::ScalarParam: {
        skip_ws();
        size_t b = pos_;
        std::string n = ident("a scalar parameter");
        for (size_t i = 0; i < k_->scalars.size() && o.attrs.param < 0; ++i)
          if (k_->scalars[i].name == n) o.attrs.param = static_cast<int>(i);
        if (o.attrs.param < 0) fail_at(b, "unknown scalar parameter '" + n + "'", n.size());
        break;
      }
      case OpKind::SymValue: o.attrs.sym = sym_expr(); break;
      case OpKind::TileIndex:
      case OpKind::TileBegin:
      case OpKind::TileEnd:
      case OpKind::TileBlockSize:
      case OpKind::TileId:
      case OpKind::TileCount:
      case OpKind::TileMask:
      case OpKind::Arange: o.attrs.dim = dim_ref(); break;
      case OpKind::Load: {
        index(o, operands);
        Value* mask = mask_and_unmasked(o);
        if (accept_word("evict")) o.attrs.eviction_policy = ident("an eviction policy");
        expect("#");
        o.attrs.memory_op = small_int("the load's number");
        if (mask) {
          o.attrs.extra_mask = static_cast<int>(operands.size());
          operands.push_back(mask);
        }
        break;
      }
      case OpKind::Store: {
        index(o, operands);
        Value* mask = mask_and_unmasked(o);
        expect(",");
        o.attrs.value_operand = static_cast<int>(operands.size());
        operands.push_back(value_ref());
        expect("#");
        o.attrs.memory_op = small_int("the store's number");
        if (mask) {
          o.attrs.extra_mask = static_cast<int>(operands.size());
          operands.push_back(mask);
        }
        break;
      }
      case OpKind::AtomicRMW: {
        o.attrs.atomic = fn_name(enum_by_name<AtomicFn>, "atomic function");
        index(o, operands);
        Value* mask = mask_and_unmasked(o);
        expect(",");
        Value* value = value_ref();
        if (accept_word("expected")) {
          o.attrs.expected_operand = static_cast<int>(operands.size());
          operands.push_back(value_ref());
        }
        o.attrs.value_operand = static_cast<int>(operands.size());
        operands.push_back(value);
        if (mask) {
          o.attrs.extra_mask = static_cast<int>(operands.size());
          operands.push_back(mask);
        }
        expect_word("sem");
        o.attrs.atomic_sem = ident("a memory order");
        break;
      }
      case OpKind::RngSeed:
        o.attrs.tensor = tensor_then_bracket();
        o.attrs.seed_slot = small_int("a seed slot");
        expect("]");
        break;
      case OpKind::Random: o.attrs.random = fn_name(enum_by_name<RandomFn>, "random function"); break;
      case OpKind::Unary: o.attrs.unary = fn_name(enum_by_name<UnaryFn>, "unary function"); break;
      case OpKind::Binary: o.attrs.binary = fn_name(enum_by_name<BinaryFn>, "binary function"); break;
      case OpKind::Cast:
        if (accept_word("bitcast")) o.attrs.bitcast = true;
        if (accept_word("opmath")) o.attrs.opmath = true;
        break;
      case OpKind::ExpandDims:
      case OpKind::Squeeze:
      case OpKind::BlockLanes:
        expect_word("axis");
        o.attrs.axis = small_int("an axis");
        break;
      case OpKind::Permute:
        expect("[");
        if (!accept("]")) {
          do o.attrs.perm.push_back(small_int("an axis"));
          while (accept(","));
          expect("]");
        }
        break;
      case OpKind::Reduce:
        o.attrs.reduce = fn_name(enum_by_name<ReduceFn>, "reduction");
        expect_word("axis");
        o.attrs.axis = small_int("an axis");
        if (accept_word("keepdim")) o.attrs.keepdim = true;
        if (accept_word("unmasked")) o.attrs.mask_elided = true;
        break;
      case OpKind::Gather:
        expect_word("axis");
        o.attrs.axis = small_int("an axis");
        break;
      case OpKind::Sort:
        // `axis 1 [descending] [k 4]`
        expect_word("axis");
        o.attrs.axis = small_int("an axis");
        if (accept_word("descending")) o.attrs.reverse = true;
        if (accept_word("k")) o.attrs.sort_k = small_int("k");
        break;
      case OpKind::Scan:
        // `sum axis 0` (cumsum / cumprod) or `fn NAME axis 0` with a combine region.
        if (accept_word("fn")) {
          o.attrs.combine_fn = ident("a combine function's name");
          combine_region = true;
        } else {
          o.attrs.reduce = fn_name(enum_by_name<ReduceFn>, "scan");
        }
        expect_word("axis");
        o.attrs.axis = small_int("an axis");
        if (accept_word("reverse")) o.attrs.reverse = true;
        break;
      case OpKind::CombineReduce:
        expect_word("fn");
        o.attrs.combine_fn = ident("a combine function's name");
        combine_region = true;
        expect_word("axis");
        o.attrs.axis = small_int("an axis");
        if (accept_word("keepdim")) o.attrs.keepdim = true;
        if (accept_word("other")) {
          // Literals typed by the results once they are read (below).
          expect("(");
          do {
            skip_ws();
            size_t b = pos_;
            while (pos_ < text().size() && text()[pos_] != ',' && text()[pos_] != ')' && text()[pos_] != ' ') ++pos_;
            if (pos_ == b) fail_at(b, "expected a literal in 'other (...)'");
            other_texts.emplace_back(text().substr(b, pos_ - b), b);
          } while (accept(","));
          expect(")");
        }
        break;
      case OpKind::Dot:
        if (accept_word("out")) o.attrs.dot_out_dtype = dtype();
        if (accept_word("precision")) o.attrs.dot_precision = ident("a precision");
        break;
      case OpKind::For: {
        o.attrs.dim = dim_ref();
        expect("#");
        skip_ws();
        size_t b = pos_;
        o.id = small_int("the loop's id");
        if (!loop_ids_.insert(o.id).second) fail_at(b, "loop #" + std::to_string(o.id) + " is defined twice");
        if (accept_word("bounds")) {
          o.attrs.dynamic_bounds = true;
          expect("(");
          operands.push_back(value_ref());
          expect(",");
          operands.push_back(value_ref());
          expect(")");
        }
        if (accept_word("iter")) {
          expect("(");
          std::vector<Value*> iters = value_list();
          operands.insert(operands.end(), iters.begin(), iters.end());
          expect(")");
        }
        break;
      }
      case OpKind::Assert:
      case OpKind::Print:
      case OpKind::InlineTriton: o.attrs.message = string_literal(); break;
      default: break;
    }
    // Plain operands.
    Arity ar = arity(o.kind);
    if (ar.min_operands >= 0) {
      operands = value_list();
      int n = static_cast<int>(operands.size());
      if (n < ar.min_operands || (ar.max_operands >= 0 && n > ar.max_operands)) {
        std::string want = ar.min_operands == ar.max_operands ? std::to_string(ar.min_operands)
                           : ar.max_operands < 0 ? "at least " + std::to_string(ar.min_operands)
                                                 : std::to_string(ar.min_operands) + " or " +
                                                       std::to_string(ar.max_operands);
        fail_at(kind_pos, "'" + kind_name + "' takes " + want + " operand" + (want == "1" ? "" : "s") + ", got " +
                              std::to_string(n), kind_name.size());
      }
    }
    o.operands = operands;
    // Result types.
    std::vector<Type> types;
    if (accept(":")) {
      do types.push_back(type());
      while (accept(","));
    }
    if (ar.results >= 0 && static_cast<int>(result_ids.size()) != ar.results)
      fail_at(kind_pos, "'" + kind_name + "' has " + std::to_string(ar.results) + " result" +
                            (ar.results == 1 ? "" : "s") + ", got " + std::to_string(result_ids.size()),
              kind_name.size());
    if (types.size() != result_ids.size())
      fail_at(kind_pos, "'" + kind_name + "' defines " + std::to_string(result_ids.size()) + " value" +
                            (result_ids.size() == 1 ? "" : "s") + " but has " + std::to_string(types.size()) +
                            " result type" + (types.size() == 1 ? "" : "s"),
              kind_name.size());
    // The source line.
    if (accept("#")) {
      expect_word("line");
      int ln = small_int("a line number");
      o.span = {ln, 1, ln, 1};
    }
    expect_end();
    if (o.kind == OpKind::Constant || o.kind == OpKind::Full)
      o.attrs.literal = literal(literal_text, types.at(0).dtype, literal_pos);
    if (!other_texts.empty()) {
      if (other_texts.size() != types.size())
        fail_at(other_texts[0].second, "'other' has " + std::to_string(other_texts.size()) +
                                           " values for " + std::to_string(types.size()) + " results");
      for (size_t i = 0; i < other_texts.size(); ++i)
        o.attrs.other.push_back(literal(other_texts[i].first, types[i].dtype, other_texts[i].second));
    }
    std::vector<std::unique_ptr<Value>> results;
    for (size_t i = 0; i < result_ids.size(); ++i) {
      auto [id, col] = result_ids[i];
      check_new(id, col, std::to_string(id).size() + 1);
      for (size_t j = 0; j < i; ++j)
        if (result_ids[j].first == id) fail_at(col, "value %" + std::to_string(id) + " is defined twice");
      auto v = std::make_unique<Value>();
      v->id = id;
      v->type = types[i];
      v->def = &o;
      v->index = static_cast<int>(i);
      results.push_back(std::move(v));
    }
    for (const auto& v : results) pending_.insert(v->id);

    // Regions, with their own arguments, before the results are visible.
    int expected_regions =
        o.kind == OpKind::For || o.kind == OpKind::While ? 1 : o.kind == OpKind::If ? 2 : combine_region ? 1 : 0;
    next_line();
    for (int ri = 0; ri < expected_regions; ++ri) {
      const char* header = o.kind == OpKind::If ? (ri == 0 ? "then" : "else") : combine_region ? "combine" : "body";
      if (!more_at(indent + 2) || !peek_word(header)) {
        if (li_ >= lines_.size()) fail_eof(std::string("the '") + header + ":' of '" + kind_name + "'");
        pos_ = 0;
        fail_at(line().indent, std::string("expected '") + header + ":' (indented " + std::to_string(indent + 2) +
                                   " spaces) for the '" + kind_name + "' above",
                token_length_at(line().indent));
      }
      expect_word(header);
      auto region_ptr = std::make_unique<Region>();
      Region& sub = *region_ptr;
      if (accept("(")) {
        do {
          skip_ws();
          size_t b = pos_;
          auto v = std::make_unique<Value>();
          v->id = value_number();
          expect(":");
          v->type = type();
          v->owner = &sub;
          v->index = static_cast<int>(sub.args.size());
          check_new(v->id, b, pos_ - b);
          values_[v->id] = v.get();
          sub.args.push_back(std::move(v));
        } while (accept(","));
        expect(")");
      }
      expect(":");
      expect_end();
      next_line();
      region(sub, &o, indent + 4);
      o.regions.push_back(std::move(region_ptr));
    }
    // Results, visible to the ops after this one.
    for (auto& v : results) {
      pending_.erase(v->id);
      values_[v->id] = v.get();
      o.results.push_back(std::move(v));
    }
    r.ops.push_back(std::move(op));
  }

  size_t token_length_at(size_t p) const {
    size_t n = 0;
    while (p + n < text().size() && text()[p + n] != ' ') ++n;
    return n;
  }

  // The current line from its first non-blank character.
  SourceSpan line_span() const {
    return {line().number, static_cast<int>(line().indent) + 1, line().number,
            static_cast<int>(line().text.size()) + 1};
  }

  std::shared_ptr<const SourceFile> file_;
  TextLocations* locations_;
  std::vector<Line> lines_;
  size_t li_ = 0;
  size_t pos_ = 0;
  DeviceKernel* k_ = nullptr;
  std::map<int, Value*> values_;
  std::set<int> pending_;  // results of the ops whose regions are being parsed
  std::set<int> loop_ids_;
};

}  // namespace

std::vector<std::unique_ptr<DeviceKernel>> parse_kernels(const std::shared_ptr<const SourceFile>& file,
                                                         TextLocations* locations) {
  return Parser(file, locations).run();
}

std::vector<std::unique_ptr<DeviceKernel>> parse_kernels(const std::string& text, const std::string& filename) {
  auto f = std::make_shared<SourceFile>();
  f->filename = filename;
  f->text = text;
  return parse_kernels(f);
}

}  // namespace deuteron::ir
