#include "disasm/decoder.hpp"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <stdexcept>

namespace hytrace::disasm {
namespace {

// lock, repne/bnd, rep; segment overrides and branch hints; operand size,
// address size.
constexpr uint8_t kLegacyPrefixes[] = {0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e,
                                       0x26, 0x64, 0x65, 0x66, 0x67};

bool is_legacy_prefix(uint8_t b) {
  return std::find(std::begin(kLegacyPrefixes), std::end(kLegacyPrefixes), b) !=
         std::end(kLegacyPrefixes);
}

bool is_jcc(unsigned id) {
  switch (id) {
    case X86_INS_JAE:
    case X86_INS_JA:
    case X86_INS_JBE:
    case X86_INS_JB:
    case X86_INS_JE:
    case X86_INS_JGE:
    case X86_INS_JG:
    case X86_INS_JLE:
    case X86_INS_JL:
    case X86_INS_JNE:
    case X86_INS_JNO:
    case X86_INS_JNP:
    case X86_INS_JNS:
    case X86_INS_JO:
    case X86_INS_JP:
    case X86_INS_JS:
      return true;
    default:
      return false;
  }
}

bool is_short_only(unsigned id) {
  switch (id) {
    case X86_INS_JCXZ:
    case X86_INS_JECXZ:
    case X86_INS_JRCXZ:
    case X86_INS_LOOP:
    case X86_INS_LOOPE:
    case X86_INS_LOOPNE:
      return true;
    default:
      return false;
  }
}

bool is_trap(unsigned id) {
  switch (id) {
    case X86_INS_INT:
    case X86_INS_INT1:
    case X86_INS_INT3:
    case X86_INS_INTO:
    case X86_INS_UD0:
    case X86_INS_UD2:
    case X86_INS_UD2B:
    case X86_INS_HLT:
    case X86_INS_SYSRET:
    case X86_INS_SYSEXIT:
      return true;
    default:
      return false;
  }
}

bool is_return(unsigned id) {
  switch (id) {
    case X86_INS_RET:
    case X86_INS_RETF:
    case X86_INS_RETFQ:
    case X86_INS_IRET:
    case X86_INS_IRETD:
    case X86_INS_IRETQ:
      return true;
    default:
      return false;
  }
}

const cs_x86_op* first_operand(const cs_insn& insn) {
  const cs_x86& x86 = insn.detail->x86;
  return x86.op_count > 0 ? &x86.operands[0] : nullptr;
}

bool has_immediate_target(const cs_insn& insn) {
  const cs_x86_op* op = first_operand(insn);
  return op != nullptr && op->type == X86_OP_IMM;
}

const cs_x86_op* rip_operand(const cs_insn& insn) {
  const cs_x86& x86 = insn.detail->x86;
  for (uint8_t i = 0; i < x86.op_count; ++i) {
    const cs_x86_op& op = x86.operands[i];
    if (op.type == X86_OP_MEM && op.mem.base == X86_REG_RIP) return &op;
  }
  return nullptr;
}

int32_t read_le32(const uint8_t* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return static_cast<int32_t>(v);
}

void write_le32(uint8_t* p, int32_t value) {
  std::memcpy(p, &value, sizeof value);
}

Kind kind_of(const cs_insn& insn) {
  const unsigned id = insn.id;
  const bool imm = has_immediate_target(insn);
  if (id == X86_INS_SYSCALL) return Kind::syscall;
  if (id == X86_INS_SYSENTER) return Kind::sysenter;
  if (id == X86_INS_RDTSC) return Kind::rdtsc;
  if (id == X86_INS_RDTSCP) return Kind::rdtscp;
  if (id == X86_INS_INT && imm && first_operand(insn)->imm == 0x80) return Kind::int80;
  if (is_trap(id)) return Kind::trap;
  if (is_return(id)) return Kind::ret;
  if (is_jcc(id) || is_short_only(id)) return imm ? Kind::relative_jump : Kind::other;
  if (id == X86_INS_JMP) return imm ? Kind::relative_jump : Kind::indirect_jump;
  if (id == X86_INS_LJMP) return Kind::indirect_jump;
  if (id == X86_INS_CALL) return imm ? Kind::relative_call : Kind::indirect_call;
  if (id == X86_INS_LCALL) return Kind::indirect_call;
  return Kind::other;
}

Branch branch_of(const cs_insn& insn, Kind kind) {
  const unsigned id = insn.id;
  if (id == X86_INS_XBEGIN) return has_immediate_target(insn) ? Branch::xbegin : Branch::none;
  if (kind == Kind::relative_call) return Branch::call;
  if (kind != Kind::relative_jump) return Branch::none;
  if (is_short_only(id)) return Branch::short_only;
  return id == X86_INS_JMP ? Branch::jmp : Branch::jcc;
}

}  // namespace

std::span<const uint8_t> Code::from(uint64_t a) const {
  if (!contains(a)) return {};
  return bytes.subspan(a - address);
}

Code Code::slice(uint64_t begin, uint64_t end_address) const {
  const uint64_t lo = begin < address ? address : begin;
  const uint64_t hi = end_address > end() ? end() : end_address;
  if (lo >= hi) return Code{lo, {}};
  return Code{lo, bytes.subspan(lo - address, hi - lo)};
}

std::string Instruction::text() const {
  std::string out = mnemonic;
  if (operands[0] != '\0') {
    out += ' ';
    out += operands;
  }
  return out;
}

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::other:
      return "other";
    case Kind::syscall:
      return "syscall";
    case Kind::sysenter:
      return "sysenter";
    case Kind::int80:
      return "int80";
    case Kind::rdtsc:
      return "rdtsc";
    case Kind::rdtscp:
      return "rdtscp";
    case Kind::relative_jump:
      return "relative_jump";
    case Kind::relative_call:
      return "relative_call";
    case Kind::indirect_jump:
      return "indirect_jump";
    case Kind::indirect_call:
      return "indirect_call";
    case Kind::ret:
      return "ret";
    case Kind::trap:
      return "trap";
  }
  return "?";
}

struct Decoder::Impl {
  csh handle = 0;
  cs_insn* insn = nullptr;
  cs_insn* scratch = nullptr;  // for re-decoding with a changed displacement

  Impl() {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) {
      throw std::runtime_error("capstone: cs_open failed");
    }
    cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
    cs_option(handle, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    insn = cs_malloc(handle);
    scratch = cs_malloc(handle);
    if (insn == nullptr || scratch == nullptr) {
      cs_free(insn, 1);
      cs_free(scratch, 1);
      cs_close(&handle);
      throw std::runtime_error("capstone: cs_malloc failed");
    }
  }
  ~Impl() {
    cs_free(insn, 1);
    cs_free(scratch, 1);
    cs_close(&handle);
  }

  bool decode_into(cs_insn* into, const uint8_t* bytes, size_t size, uint64_t address) {
    const uint8_t* p = bytes;
    size_t n = size;
    uint64_t a = address;
    return cs_disasm_iter(handle, &p, &n, &a, into);
  }

  bool displacement_at(const Instruction& out, size_t offset, int32_t value);
  uint8_t find_disp_offset(const Instruction& out);
  void fill(Instruction& out);
  void fill_prefixes(Instruction& out, size_t& opcode_at);
};

// True when writing `value` at `offset` and decoding again gives the same
// instruction with `value` as its RIP-relative displacement.
bool Decoder::Impl::displacement_at(const Instruction& out, size_t offset, int32_t value) {
  std::array<uint8_t, 16> changed = out.bytes;
  write_le32(changed.data() + offset, value);
  if (!decode_into(scratch, changed.data(), out.size, out.address)) return false;
  if (scratch->size != out.size || scratch->id != insn->id) return false;
  const cs_x86_op* op = rip_operand(*scratch);
  return op != nullptr && static_cast<int32_t>(op->mem.disp) == value;
}

// Capstone 4 reports encoding.disp_offset, but its encoding fields are wrong
// for some instructions (disp_size is 2 for `palignr $8, x(%rip), %xmm0`), so
// the offset is found from the bytes: a ModRM byte with mod=00 rm=101 (which
// is what selects RIP+disp32 in 64-bit mode) followed by the displacement, and
// proven by re-decoding with two different displacements written there.
uint8_t Decoder::Impl::find_disp_offset(const Instruction& out) {
  uint8_t found = 0;
  for (size_t k = 1; k + 4 <= out.size; ++k) {
    if ((out.bytes[k - 1] & 0xc7) != 0x05) continue;
    if (read_le32(out.bytes.data() + k) != out.disp) continue;
    const int32_t flipped = static_cast<int32_t>(~static_cast<uint32_t>(out.disp));
    const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(out.disp) ^ 0x01020408u);
    if (!displacement_at(out, k, flipped) || !displacement_at(out, k, shifted)) continue;
    if (found != 0) return 0;  // two places both work: prove nothing
    found = static_cast<uint8_t>(k);
  }
  return found;
}

void Decoder::Impl::fill_prefixes(Instruction& out, size_t& opcode_at) {
  size_t i = 0;
  while (i < out.size && is_legacy_prefix(out.bytes[i])) {
    if (out.bytes[i] == 0x66) out.operand_size_prefix = true;
    ++i;
  }
  out.has_prefixes = i > 0;
  if (i < out.size && (out.bytes[i] & 0xf0) == 0x40) ++i;  // REX
  opcode_at = i;
}

void Decoder::Impl::fill(Instruction& out) {
  const cs_insn& in = *insn;
  out = Instruction{};
  out.address = in.address;
  out.size = static_cast<uint8_t>(in.size);
  std::memcpy(out.bytes.data(), in.bytes, in.size);
  static_assert(sizeof out.mnemonic == sizeof in.mnemonic &&
                sizeof out.operands == sizeof in.op_str);
  std::memcpy(out.mnemonic, in.mnemonic, sizeof out.mnemonic);
  std::memcpy(out.operands, in.op_str, sizeof out.operands);
  out.mnemonic[sizeof out.mnemonic - 1] = '\0';
  out.operands[sizeof out.operands - 1] = '\0';

  size_t opcode_at = 0;
  fill_prefixes(out, opcode_at);
  out.kind = kind_of(in);
  out.branch = branch_of(in, out.kind);
  if (out.branch != Branch::none) {
    out.target = static_cast<uint64_t>(first_operand(in)->imm);
    // The relative field is the tail of the instruction after the opcode.
    const bool two_byte_opcode = out.bytes[opcode_at] == 0x0f || out.branch == Branch::xbegin;
    out.relative_size = static_cast<uint8_t>(out.size - opcode_at - (two_byte_opcode ? 2 : 1));
    if (out.branch == Branch::jcc)
      out.condition = out.bytes[opcode_at + (two_byte_opcode ? 1 : 0)] & 0x0f;
  }
  if (const cs_x86_op* op = rip_operand(in)) {
    out.rip_relative = true;
    out.disp = static_cast<int32_t>(op->mem.disp);
    out.disp_offset = find_disp_offset(out);
  }
}

Decoder::Decoder() : impl_(std::make_unique<Impl>()) {}
Decoder::~Decoder() = default;

bool Decoder::decode(const Code& code, uint64_t address, Instruction& out) {
  const std::span<const uint8_t> rest = code.from(address);
  if (rest.empty()) return false;
  const size_t n = rest.size() < Instruction::max_size ? rest.size() : Instruction::max_size;
  if (!impl_->decode_into(impl_->insn, rest.data(), n, address)) return false;
  impl_->fill(out);
  return true;
}

Sweep::Sweep(Decoder& decoder, const Code& code)
    : decoder_(decoder), code_(code), at_(code.address) {}

const Instruction* Sweep::next() {
  while (at_ < code_.end()) {
    if (decoder_.decode(code_, at_, current_)) {
      at_ += current_.size;
      return &current_;
    }
    if (skipped_ == 0) first_skipped_ = at_;
    ++skipped_;
    ++at_;
  }
  return nullptr;
}

}  // namespace hytrace::disasm
