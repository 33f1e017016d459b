// Flag and value tables of file syscalls. The kernel's own headers give the
// values the kernel reads (glibc's O_LARGEFILE is 0 on x86-64; the kernel's
// is not), so this file includes <linux/...> rather than <fcntl.h>.
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <linux/close_range.h>
#include <linux/fadvise.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/inotify.h>
#include <linux/memfd.h>
#include <linux/openat2.h>
#include <linux/xattr.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syscalls/flags.hpp"

namespace hytrace::syscalls::detail {
namespace {

#define F HYTRACE_FLAG

constexpr hytrace_flag kAccessModes[] = {F(O_RDONLY), F(O_WRONLY), F(O_RDWR), F(O_ACCMODE)};

// strace's order (and its name FASYNC); O_SYNC and O_TMPFILE come before
// the bits they contain.
constexpr hytrace_flag kOpenFlags[] = {
    F(O_CREAT),     F(O_EXCL),      F(O_NOCTTY),   F(O_TRUNC),   F(O_APPEND),
    F(O_NONBLOCK),  F(O_SYNC),      F(O_DSYNC),    F(O_DIRECT),  F(O_LARGEFILE),
    F(O_NOFOLLOW),  F(O_NOATIME),   F(O_CLOEXEC),  F(O_PATH),    F(O_TMPFILE),
    F(O_DIRECTORY), F(FASYNC),
};

constexpr hytrace_flag kAtFlags[] = {
    F(AT_SYMLINK_NOFOLLOW), F(AT_REMOVEDIR), F(AT_SYMLINK_FOLLOW),
    F(AT_NO_AUTOMOUNT),     F(AT_EMPTY_PATH), F(AT_RECURSIVE),
};

constexpr hytrace_flag kFaccessatFlags[] = {
    F(AT_SYMLINK_NOFOLLOW), F(AT_EACCESS), F(AT_EMPTY_PATH)};

// The value in the AT_STATX_SYNC_TYPE bits of statx's flags.
constexpr hytrace_flag kStatxSyncTypes[] = {
    F(AT_STATX_SYNC_AS_STAT), F(AT_STATX_FORCE_SYNC), F(AT_STATX_DONT_SYNC)};

constexpr hytrace_flag kStatxMask[] = {
    F(STATX_ALL),    F(STATX_BASIC_STATS), F(STATX_TYPE),   F(STATX_MODE),
    F(STATX_NLINK),  F(STATX_UID),         F(STATX_GID),    F(STATX_ATIME),
    F(STATX_MTIME),  F(STATX_CTIME),       F(STATX_INO),    F(STATX_SIZE),
    F(STATX_BLOCKS), F(STATX_BTIME),       F(STATX_MNT_ID), F(STATX_DIOALIGN),
};

constexpr hytrace_flag kStatxAttributes[] = {
    F(STATX_ATTR_COMPRESSED), F(STATX_ATTR_IMMUTABLE), F(STATX_ATTR_APPEND),
    F(STATX_ATTR_NODUMP),     F(STATX_ATTR_ENCRYPTED), F(STATX_ATTR_AUTOMOUNT),
    F(STATX_ATTR_MOUNT_ROOT), F(STATX_ATTR_VERITY),    F(STATX_ATTR_DAX),
};

constexpr hytrace_flag kAccessModeBits[] = {F(F_OK), F(R_OK), F(W_OK), F(X_OK)};

constexpr hytrace_flag kFcntlCmds[] = {
    F(F_DUPFD),        F(F_GETFD),        F(F_SETFD),        F(F_GETFL),
    F(F_SETFL),        F(F_GETLK),        F(F_SETLK),        F(F_SETLKW),
    F(F_SETOWN),       F(F_GETOWN),       F(F_SETSIG),       F(F_GETSIG),
    F(F_SETOWN_EX),    F(F_GETOWN_EX),    F(F_GETOWNER_UIDS), F(F_OFD_GETLK),
    F(F_OFD_SETLK),    F(F_OFD_SETLKW),   F(F_SETLEASE),     F(F_GETLEASE),
    F(F_NOTIFY),       F(F_DUPFD_CLOEXEC), F(F_SETPIPE_SZ),  F(F_GETPIPE_SZ),
    F(F_ADD_SEALS),    F(F_GET_SEALS),    F(F_GET_RW_HINT),  F(F_SET_RW_HINT),
    F(F_GET_FILE_RW_HINT), F(F_SET_FILE_RW_HINT),
};

constexpr hytrace_flag kFdFlags[] = {F(FD_CLOEXEC)};

constexpr hytrace_flag kWhence[] = {
    F(SEEK_SET), F(SEEK_CUR), F(SEEK_END), F(SEEK_DATA), F(SEEK_HOLE)};

constexpr hytrace_flag kLockOps[] = {F(LOCK_SH), F(LOCK_EX), F(LOCK_NB), F(LOCK_UN)};

constexpr hytrace_flag kRenameFlags[] = {
    F(RENAME_NOREPLACE), F(RENAME_EXCHANGE), F(RENAME_WHITEOUT)};

constexpr hytrace_flag kXattrFlags[] = {F(XATTR_CREATE), F(XATTR_REPLACE)};

constexpr hytrace_flag kCloseRangeFlags[] = {F(CLOSE_RANGE_UNSHARE), F(CLOSE_RANGE_CLOEXEC)};

constexpr hytrace_flag kRwfFlags[] = {
    F(RWF_HIPRI), F(RWF_DSYNC), F(RWF_SYNC), F(RWF_NOWAIT), F(RWF_APPEND)};

constexpr hytrace_flag kIoctlCmds[] = {
    F(TCGETS),      F(TCSETS),      F(TCSETSW),     F(TCSETSF),     F(TCGETA),
    F(TCSETA),      F(TCSETAW),     F(TCSETAF),     F(TCSBRK),      F(TCXONC),
    F(TCFLSH),      F(TIOCEXCL),    F(TIOCNXCL),    F(TIOCSCTTY),   F(TIOCGPGRP),
    F(TIOCSPGRP),   F(TIOCOUTQ),    F(TIOCSTI),     F(TIOCGWINSZ),  F(TIOCSWINSZ),
    F(TIOCMGET),    F(TIOCMSET),    F(FIONREAD),    F(TIOCLINUX),   F(TIOCCONS),
    F(TIOCNOTTY),   F(TIOCSETD),    F(TIOCGETD),    F(TIOCSBRK),    F(TIOCCBRK),
    F(TIOCGSID),    F(TCGETS2),     F(TCSETS2),     F(TIOCGPTN),    F(TIOCSPTLCK),
    F(TIOCGPTPEER), F(FIONBIO),     F(FIONCLEX),    F(FIOCLEX),     F(FIOASYNC),
    F(FIOQSIZE),    F(FICLONE),     F(FICLONERANGE), F(FS_IOC_GETFLAGS),
    F(FS_IOC_SETFLAGS), F(BLKGETSIZE64), F(BLKSSZGET),
};

constexpr hytrace_flag kFadvice[] = {
    F(POSIX_FADV_NORMAL),   F(POSIX_FADV_RANDOM),   F(POSIX_FADV_SEQUENTIAL),
    F(POSIX_FADV_WILLNEED), F(POSIX_FADV_DONTNEED), F(POSIX_FADV_NOREUSE),
};

constexpr hytrace_flag kInotifyInitFlags[] = {F(IN_NONBLOCK), F(IN_CLOEXEC)};

constexpr hytrace_flag kInotifyMask[] = {
    F(IN_ACCESS),      F(IN_MODIFY),     F(IN_ATTRIB),     F(IN_CLOSE_WRITE),
    F(IN_CLOSE_NOWRITE), F(IN_OPEN),     F(IN_MOVED_FROM), F(IN_MOVED_TO),
    F(IN_CREATE),      F(IN_DELETE),     F(IN_DELETE_SELF), F(IN_MOVE_SELF),
    F(IN_UNMOUNT),     F(IN_Q_OVERFLOW), F(IN_IGNORED),    F(IN_ONLYDIR),
    F(IN_DONT_FOLLOW), F(IN_EXCL_UNLINK), F(IN_MASK_CREATE), F(IN_MASK_ADD),
    F(IN_ISDIR),       F(IN_ONESHOT),
};

constexpr hytrace_flag kMemfdFlags[] = {F(MFD_CLOEXEC), F(MFD_ALLOW_SEALING), F(MFD_HUGETLB)};

constexpr hytrace_flag kResolveFlags[] = {
    F(RESOLVE_NO_XDEV),    F(RESOLVE_NO_MAGICLINKS), F(RESOLVE_NO_SYMLINKS),
    F(RESOLVE_BENEATH),    F(RESOLVE_IN_ROOT),       F(RESOLVE_CACHED),
};

constexpr hytrace_flag kFileTypes[] = {
    F(S_IFREG), F(S_IFSOCK), F(S_IFIFO), F(S_IFLNK), F(S_IFDIR), F(S_IFBLK), F(S_IFCHR)};

constexpr hytrace_flag kModeBits[] = {F(S_ISUID), F(S_ISGID), F(S_ISVTX)};

#undef F

}  // namespace

FlagTable open_access_modes() { return kAccessModes; }
FlagTable open_flags() { return kOpenFlags; }
uint64_t open_access_mask() { return O_ACCMODE; }
uint64_t open_creates_mask() { return O_CREAT | __O_TMPFILE; }
FlagTable at_flags() { return kAtFlags; }
FlagTable faccessat_flags() { return kFaccessatFlags; }
FlagTable statx_sync_types() { return kStatxSyncTypes; }
uint64_t statx_sync_type_mask() { return AT_STATX_SYNC_TYPE; }
FlagTable statx_mask() { return kStatxMask; }
FlagTable statx_attributes() { return kStatxAttributes; }
FlagTable access_modes() { return kAccessModeBits; }
FlagTable fcntl_cmds() { return kFcntlCmds; }
FlagTable fd_flags() { return kFdFlags; }
FlagTable whence_values() { return kWhence; }
FlagTable lock_ops() { return kLockOps; }
FlagTable rename_flags() { return kRenameFlags; }
FlagTable xattr_flags() { return kXattrFlags; }
FlagTable close_range_flags() { return kCloseRangeFlags; }
FlagTable rwf_flags() { return kRwfFlags; }
FlagTable ioctl_cmds() { return kIoctlCmds; }
FlagTable fadvice_values() { return kFadvice; }
FlagTable inotify_init_flags() { return kInotifyInitFlags; }
FlagTable inotify_mask() { return kInotifyMask; }
FlagTable memfd_flags() { return kMemfdFlags; }
FlagTable resolve_flags() { return kResolveFlags; }
FlagTable file_types() { return kFileTypes; }
FlagTable mode_bits() { return kModeBits; }
uint64_t file_type_mask() { return S_IFMT; }
int64_t at_fdcwd() { return AT_FDCWD; }

}  // namespace hytrace::syscalls::detail
