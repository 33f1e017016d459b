// Flag and value tables of memory syscalls, from the kernel's <linux/mman.h>
// (glibc's <sys/mman.h> lacks some of the MAP_* bits).
#include <linux/mman.h>

#include "syscalls/flags.hpp"

namespace hytrace::syscalls::detail {
namespace {

#define F HYTRACE_FLAG

constexpr hytrace_flag kProtFlags[] = {
    F(PROT_NONE), F(PROT_READ), F(PROT_WRITE), F(PROT_EXEC), F(PROT_SEM),
    F(PROT_GROWSDOWN), F(PROT_GROWSUP),
};

constexpr hytrace_flag kMapTypes[] = {
    F(MAP_FILE), F(MAP_SHARED), F(MAP_PRIVATE), F(MAP_SHARED_VALIDATE)};

constexpr hytrace_flag kMapFlags[] = {
    F(MAP_FIXED),     F(MAP_ANONYMOUS), F(MAP_32BIT),      F(MAP_GROWSDOWN),
    F(MAP_DENYWRITE), F(MAP_EXECUTABLE), F(MAP_LOCKED),    F(MAP_NORESERVE),
    F(MAP_POPULATE),  F(MAP_NONBLOCK),  F(MAP_STACK),      F(MAP_HUGETLB),
    F(MAP_SYNC),      F(MAP_FIXED_NOREPLACE), F(MAP_UNINITIALIZED),
};

constexpr hytrace_flag kMadvise[] = {
    F(MADV_NORMAL),     F(MADV_RANDOM),      F(MADV_SEQUENTIAL),  F(MADV_WILLNEED),
    F(MADV_DONTNEED),   F(MADV_FREE),        F(MADV_REMOVE),      F(MADV_DONTFORK),
    F(MADV_DOFORK),     F(MADV_HWPOISON),    F(MADV_SOFT_OFFLINE), F(MADV_MERGEABLE),
    F(MADV_UNMERGEABLE), F(MADV_HUGEPAGE),   F(MADV_NOHUGEPAGE),  F(MADV_DONTDUMP),
    F(MADV_DODUMP),     F(MADV_WIPEONFORK),  F(MADV_KEEPONFORK),  F(MADV_COLD),
    F(MADV_PAGEOUT),    F(MADV_POPULATE_READ), F(MADV_POPULATE_WRITE),
    F(MADV_DONTNEED_LOCKED),
};

constexpr hytrace_flag kMremapFlags[] = {
    F(MREMAP_MAYMOVE), F(MREMAP_FIXED), F(MREMAP_DONTUNMAP)};

constexpr hytrace_flag kMsyncFlags[] = {F(MS_ASYNC), F(MS_INVALIDATE), F(MS_SYNC)};

constexpr hytrace_flag kMlockallFlags[] = {F(MCL_CURRENT), F(MCL_FUTURE), F(MCL_ONFAULT)};

#undef F

}  // namespace

FlagTable prot_flags() { return kProtFlags; }
FlagTable map_types() { return kMapTypes; }
FlagTable map_flags() { return kMapFlags; }
uint64_t map_type_mask() { return MAP_TYPE; }
FlagTable madvise_advice() { return kMadvise; }
FlagTable mremap_flags() { return kMremapFlags; }
FlagTable msync_flags() { return kMsyncFlags; }
FlagTable mlockall_flags() { return kMlockallFlags; }

}  // namespace hytrace::syscalls::detail
