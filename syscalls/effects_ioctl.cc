// ioctl(fd, cmd, arg): the command decides. Commands made with _IOR, _IOW
// and _IOWR carry their direction and size; the old terminal, socket and
// block commands do not, and are listed here. Any other command is unknown:
// an _IO command with no size cannot be told from an old one that has.
#include <cstdint>

#include "syscalls/effects_rules.hpp"

namespace hytrace::syscalls::detail {
namespace {

struct OldCommand {
  uint32_t cmd;
  Dir dir;      // kIn and 0 bytes: the command touches no memory
  uint32_t bytes;
};

constexpr uint32_t kTermios = 36, kTermio = 18, kWinsize = 8, kIfreq = 40;

constexpr OldCommand kOldCommands[] = {
    // Terminals (asm-generic/ioctls.h).
    {0x5401, Dir::kOut, kTermios},  // TCGETS
    {0x5402, Dir::kIn, kTermios}, {0x5403, Dir::kIn, kTermios}, {0x5404, Dir::kIn, kTermios},  // TCSETS[WF]
    {0x5405, Dir::kOut, kTermio},   // TCGETA
    {0x5406, Dir::kIn, kTermio}, {0x5407, Dir::kIn, kTermio}, {0x5408, Dir::kIn, kTermio},  // TCSETA[WF]
    {0x5409, Dir::kIn, 0}, {0x540A, Dir::kIn, 0}, {0x540B, Dir::kIn, 0},  // TCSBRK TCXONC TCFLSH
    {0x540C, Dir::kIn, 0}, {0x540D, Dir::kIn, 0}, {0x540E, Dir::kIn, 0},  // TIOCEXCL TIOCNXCL TIOCSCTTY
    {0x540F, Dir::kOut, 4},         // TIOCGPGRP
    {0x5410, Dir::kIn, 4},          // TIOCSPGRP
    {0x5411, Dir::kOut, 4},         // TIOCOUTQ
    {0x5412, Dir::kIn, 1},          // TIOCSTI
    {0x5413, Dir::kOut, kWinsize},  // TIOCGWINSZ
    {0x5414, Dir::kIn, kWinsize},   // TIOCSWINSZ
    {0x5415, Dir::kOut, 4},         // TIOCMGET
    {0x5416, Dir::kIn, 4}, {0x5417, Dir::kIn, 4}, {0x5418, Dir::kIn, 4},  // TIOCMBIS TIOCMBIC TIOCMSET
    {0x5419, Dir::kOut, 4},         // TIOCGSOFTCAR
    {0x541A, Dir::kIn, 4},          // TIOCSSOFTCAR
    {0x541B, Dir::kOut, 4},         // FIONREAD
    {0x541D, Dir::kIn, 0},          // TIOCCONS
    {0x5420, Dir::kIn, 4},          // TIOCPKT
    {0x5421, Dir::kIn, 4},          // FIONBIO
    {0x5422, Dir::kIn, 0},          // TIOCNOTTY
    {0x5423, Dir::kIn, 4},          // TIOCSETD
    {0x5424, Dir::kOut, 4},         // TIOCGETD
    {0x5425, Dir::kIn, 0}, {0x5427, Dir::kIn, 0}, {0x5428, Dir::kIn, 0},  // TCSBRKP TIOCSBRK TIOCCBRK
    {0x5429, Dir::kOut, 4},         // TIOCGSID
    {0x5450, Dir::kIn, 0}, {0x5451, Dir::kIn, 0},  // FIONCLEX FIOCLEX
    {0x5452, Dir::kIn, 4},          // FIOASYNC
    {0x5459, Dir::kOut, 4},         // TIOCSERGETLSR
    {0x5460, Dir::kOut, 8},         // FIOQSIZE
    // Sockets (linux/sockios.h).
    {0x8901, Dir::kIn, 4},          // FIOSETOWN
    {0x8902, Dir::kIn, 4},          // SIOCSPGRP
    {0x8903, Dir::kOut, 4},         // FIOGETOWN
    {0x8904, Dir::kOut, 4},         // SIOCGPGRP
    {0x8905, Dir::kOut, 4},         // SIOCATMARK
    {0x8906, Dir::kOut, 16},        // SIOCGSTAMP (struct timeval)
    {0x8907, Dir::kOut, 16},        // SIOCGSTAMPNS (struct timespec)
    {0x8910, Dir::kInOut, kIfreq},  // SIOCGIFNAME
    {0x8913, Dir::kInOut, kIfreq},  // SIOCGIFFLAGS
    {0x8914, Dir::kIn, kIfreq},     // SIOCSIFFLAGS
    {0x8915, Dir::kInOut, kIfreq},  // SIOCGIFADDR
    {0x8917, Dir::kInOut, kIfreq},  // SIOCGIFDSTADDR
    {0x8919, Dir::kInOut, kIfreq},  // SIOCGIFBRDADDR
    {0x891b, Dir::kInOut, kIfreq},  // SIOCGIFNETMASK
    {0x8921, Dir::kInOut, kIfreq},  // SIOCGIFMTU
    {0x8927, Dir::kInOut, kIfreq},  // SIOCGIFHWADDR
    {0x8933, Dir::kInOut, kIfreq},  // SIOCGIFINDEX
    {0x8942, Dir::kInOut, kIfreq},  // SIOCGIFTXQLEN
    // Block devices (linux/fs.h).
    {0x125d, Dir::kIn, 4},          // BLKROSET
    {0x125e, Dir::kOut, 4},         // BLKROGET
    {0x125f, Dir::kIn, 0},          // BLKRRPART
    {0x1260, Dir::kOut, 8},         // BLKGETSIZE
    {0x1261, Dir::kIn, 0},          // BLKFLSBUF
    {0x1262, Dir::kIn, 0},          // BLKRASET (a number)
    {0x1263, Dir::kOut, 8},         // BLKRAGET
    {0x1268, Dir::kOut, 4},         // BLKSSZGET
    {0x1277, Dir::kIn, 16},         // BLKDISCARD
    {0x1278, Dir::kOut, 4},         // BLKIOMIN
    {0x1279, Dir::kOut, 4},         // BLKIOOPT
    {0x127a, Dir::kOut, 4},         // BLKALIGNOFF
    {0x127b, Dir::kOut, 4},         // BLKPBSZGET
    {0x127c, Dir::kOut, 4},         // BLKDISCARDZEROES
    {0x127d, Dir::kIn, 16},         // BLKSECDISCARD
    {0x127e, Dir::kOut, 2},         // BLKROTATIONAL
    {0x127f, Dir::kIn, 16},         // BLKZEROOUT
    {0x40046629, Dir::kInOut, 4},   // EXT4_IOC_GETSTATE: made with _IOW, but ext4 stores a u32
};

Term arg_bytes(Dir dir, uint32_t n) {
  Term t;
  t.dir = dir;
  t.arg = 2;
  t.size = Count{Count::Kind::kLiteral, 0, 1, n};
  return t;
}

}  // namespace

bool ioctl_terms(const Call& call, std::vector<Term>& out) {
  const auto cmd = static_cast<uint32_t>(call.args[1]);
  for (const OldCommand& c : kOldCommands) {
    if (c.cmd != cmd) continue;
    if (c.bytes) out.push_back(arg_bytes(c.dir, c.bytes));
    return true;
  }
  // _IOC: dir in bits 30-31 (1 write: the kernel reads; 2 read: it writes),
  // size in bits 16-29.
  const uint32_t dir = cmd >> 30;
  const uint32_t size = (cmd >> 16) & 0x3fff;
  if (dir == 0 || size == 0) return false;
  out.push_back(arg_bytes(dir == 1 ? Dir::kIn : dir == 2 ? Dir::kOut : Dir::kInOut, size));
  return true;
}

}  // namespace hytrace::syscalls::detail
