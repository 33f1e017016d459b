"""effects.tbl -> the EffectsRow array of the generated catalogue.

Imported by gen_catalogue.py. The grammar is in the header of effects.tbl;
every element size lives here, once, with the C type that the generated code
checks it against (a static_assert per name).
"""

import re

# name -> (bytes, C type checked with sizeof, or None where the kernel's
# structure has no userspace type)
ELEMS = {
    "char": (1, "char"), "u16": (2, "uint16_t"), "u32": (4, "uint32_t"),
    "int": (4, "int"), "uint": (4, "unsigned int"), "pid": (4, "pid_t"),
    "uid": (4, "uid_t"), "gid": (4, "gid_t"), "socklen": (4, "socklen_t"),
    "long": (8, "long"), "ulong": (8, "unsigned long"), "u64": (8, "uint64_t"),
    "off": (8, "off_t"), "ptr": (8, "void*"), "fdpair": (8, "int[2]"),
    "stat": (144, "struct stat"), "statx": (256, "struct statx"),
    "statfs": (120, "struct statfs"), "ustat": (32, None),
    "timespec": (16, "struct timespec"), "timeval": (16, "struct timeval"),
    "timespec2": (32, "struct timespec[2]"), "timeval2": (32, "struct timeval[2]"),
    "timezone": (8, "struct timezone"), "itimerval": (32, "struct itimerval"),
    "itimerspec": (32, "struct itimerspec"), "rlimit": (16, "struct rlimit"),
    "rusage": (144, "struct rusage"), "tms": (32, "struct tms"),
    "utsname": (390, "struct utsname"), "sysinfo": (112, "struct sysinfo"),
    "sigaction": (32, None), "sigset": (8, None), "siginfo": (128, "siginfo_t"),
    "stack": (24, "stack_t"), "sigevent": (64, "struct sigevent"),
    "epoll_event": (12, "struct epoll_event"), "pollfd": (8, "struct pollfd"),
    "iovec": (16, "struct iovec"), "msghdr": (56, "struct msghdr"),
    "mmsghdr": (64, "struct mmsghdr"), "timex": (208, "struct timex"),
    "sched_param": (4, "struct sched_param"), "cap_header": (8, "struct __user_cap_header_struct"),
    "cap_data": (24, "struct __user_cap_data_struct[2]"), "flock": (32, "struct flock"),
    "f_owner_ex": (8, "struct f_owner_ex"), "mq_attr": (64, "struct mq_attr"),
    "utimbuf": (16, "struct utimbuf"), "futex_waitv": (24, "struct futex_waitv"),
    "sembuf": (6, "struct sembuf"), "robust_list_head": (24, "struct robust_list_head"),
    "io_event": (32, "struct io_event"), "iocb": (64, "struct iocb"),
    "cachestat_range": (16, None), "cachestat": (40, None), "mount_attr": (32, None),
    "sockaddr": (128, "struct sockaddr_storage"), "shmid_ds": (112, "struct shmid_ds"),
    "msqid_ds": (120, "struct msqid_ds"), "semid_ds": (104, "struct semid_ds"),
    "rseq": (32, None), "open_how": (24, "struct open_how"), "file_handle": (8, "struct file_handle"),
    "clone_args": (88, "struct clone_args"), "sched_attr": (56, None),
    "mnt_id_req": (32, None), "xattr_args": (16, None),
    "termios": (36, None), "termio": (18, None), "winsize": (8, "struct winsize"),
    "ifreq": (40, "struct ifreq"), "sock_fprog": (16, "struct sock_fprog"),
    "user_regs": (216, "struct user_regs_struct"), "user_fpregs": (512, "struct user_fpregs_struct"),
    "peeksiginfo_args": (16, None), "landlock_ruleset_attr": (24, None),
}

HEADERS = [
    "<fcntl.h>", "<linux/aio_abi.h>", "<linux/filter.h>", "<linux/futex.h>", "<linux/capability.h>",
    "<linux/openat2.h>", "<linux/sched.h>", "<mqueue.h>", "<net/if.h>", "<poll.h>", "<sched.h>",
    "<signal.h>", "<sys/epoll.h>", "<sys/ipc.h>", "<sys/msg.h>", "<sys/resource.h>", "<sys/sem.h>",
    "<sys/shm.h>", "<sys/socket.h>", "<sys/stat.h>", "<sys/statfs.h>", "<sys/sysinfo.h>",
    "<sys/time.h>", "<sys/times.h>", "<sys/timex.h>", "<sys/uio.h>", "<sys/user.h>",
    "<sys/utsname.h>", "<sys/ioctl.h>", "<utime.h>", "<stdint.h>",
]

HANDLERS = {
    "ioctl": "kIoctl", "fcntl": "kFcntl", "prctl": "kPrctl", "futex": "kFutex",
    "ptrace": "kPtrace", "clone": "kClone", "arch_prctl": "kArchPrctl",
    "shmctl": "kShmctl", "msgctl": "kMsgctl", "semctl": "kSemctl", "seccomp": "kSeccomp",
}

DIRS = {"in": "kIn", "out": "kOut", "inout": "kInOut"}
MAX_TERMS = 8

class EffectsError(Exception):
    pass


def rows(path):
    """The rows of a table file (numbers.tbl, syscalls.tbl, effects.tbl):
    (where, tokens) for each line that is not empty once its comment is cut."""
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            tokens = raw.split("#", 1)[0].split()
            if tokens:
                yield f"{path}:{lineno}", tokens


def parse_count(text, where, allow_elem=True):
    """'a2', '*a2', '^a2', 'ret', '64', optionally '*ELEM' -> Count fields."""
    if text.startswith("*"):
        rest = text[1:]
        head, _, elem = rest.partition("*")
        value = "*" + head
    else:
        value, _, elem = text.partition("*")
    if elem and not allow_elem:
        raise EffectsError(f"{where}: '{text}': no element size here")
    elem_bytes = 1
    if elem:
        if elem not in ELEMS:
            raise EffectsError(f"{where}: unknown element size '{elem}'")
        elem_bytes = ELEMS[elem][0]
    m = re.fullmatch(r"a([0-5])/page", value)
    if m:
        return {"kind": "kPages", "arg": int(m.group(1)), "literal": 0, "elem": elem_bytes}
    m = re.fullmatch(r"([*^]?)a([0-5])", value)
    if m:
        kind = {"": "kArg", "*": "kAtEntry", "^": "kAtExit"}[m.group(1)]
        return {"kind": kind, "arg": int(m.group(2)), "literal": 0, "elem": elem_bytes}
    if value == "ret":
        return {"kind": "kResult", "arg": 0, "literal": 0, "elem": elem_bytes}
    if value.isdigit():
        return {"kind": "kLiteral", "arg": 0, "literal": int(value), "elem": elem_bytes}
    if value in ELEMS and not elem:
        return {"kind": "kLiteral", "arg": 0, "literal": 1, "elem": ELEMS[value][0]}
    raise EffectsError(f"{where}: bad count '{text}'")


NONE_COUNT = {"kind": "kNone", "arg": 0, "literal": 0, "elem": 1}


def parse_term(direction, text, where):
    m = re.fullmatch(r"a([0-5]):(.+?)(?:<=(.+?))?(!?)", text)
    if not m:
        raise EffectsError(f"{where}: bad term '{direction} {text}'")
    arg, size_text, cap_text, bang = int(m.group(1)), m.group(2), m.group(3), m.group(4)
    term = {"dir": DIRS[direction], "arg": arg, "shape": "kBytes", "size": NONE_COUNT,
            "by_result": False, "cap": NONE_COUNT, "on_error": bang == "!"}
    nested = re.fullmatch(r"(iov|mmsghdr)\((\*?a[0-5]|\d+)(,ret)?\)|msghdr(\(ret\))?", size_text)
    if size_text == "cstr":
        if direction != "in":
            raise EffectsError(f"{where}: cstr is read by the kernel only (in)")
        term["shape"] = "kCString"
    elif nested:
        if nested.group(1):
            term["shape"] = "kIov" if nested.group(1) == "iov" else "kMmsghdr"
            term["size"] = parse_count(nested.group(2), where, allow_elem=False)
            term["by_result"] = nested.group(3) is not None
        else:
            term["shape"] = "kMsghdr"
            term["by_result"] = nested.group(4) is not None
        if term["by_result"] and direction == "in":
            raise EffectsError(f"{where}: '{size_text}' is filled by the kernel: out or inout")
    else:
        term["size"] = parse_count(size_text, where)
    if cap_text:
        term["cap"] = parse_count(cap_text, where)
    if direction == "in" and "kResult" in (term["size"]["kind"], term["cap"]["kind"]):
        raise EffectsError(f"{where}: an 'in' term cannot be sized by the result")
    if direction == "in" and "kAtExit" in (term["size"]["kind"], term["cap"]["kind"]):
        raise EffectsError(f"{where}: an 'in' term cannot be sized after the call")
    return term


def parse_row(tokens, where):
    """Tokens after the name -> (coverage, handler, terms)."""
    if tokens == ["-"]:
        return "kNoMemory", "kNone", []
    if tokens == ["unknown"]:
        return "kUnknown", "kNone", []
    coverage, handler = "kDescribed", "kNone"
    if tokens and tokens[0] == "by":
        if len(tokens) < 2 or tokens[1] not in HANDLERS:
            raise EffectsError(f"{where}: 'by' needs one of: {' '.join(sorted(HANDLERS))}")
        coverage, handler = "kByCommand", HANDLERS[tokens[1]]
        tokens = tokens[2:]
    if len(tokens) % 2:
        raise EffectsError(f"{where}: expected 'DIR aN:SIZE' pairs")
    terms = []
    for i in range(0, len(tokens), 2):
        if tokens[i] not in DIRS:
            raise EffectsError(f"{where}: unknown direction '{tokens[i]}'")
        terms.append(parse_term(tokens[i], tokens[i + 1], where))
    if not terms and handler == "kNone":
        raise EffectsError(f"{where}: no terms (write '-' for a call that touches no memory)")
    if len(terms) > MAX_TERMS:
        raise EffectsError(f"{where}: more than {MAX_TERMS} terms")
    return coverage, handler, terms


def read_effects(path, numbers):
    described = {}
    for where, tokens in rows(path):
        name = tokens[0]
        if name not in numbers:
            raise EffectsError(f"{where}: '{name}' is not an x86-64 syscall of numbers.tbl")
        if name in described:
            raise EffectsError(f"{where}: duplicate row for '{name}'")
        described[name] = parse_row(tokens[1:], where)
    missing = sorted(set(numbers) - set(described), key=lambda n: numbers[n])
    if missing:
        raise EffectsError(f"{path}: no row for {', '.join(missing)}")
    return described


def count_code(c):
    return f"{{Count::Kind::{c['kind']}, {c['arg']}, {c['literal']}, {c['elem']}}}"


def term_code(t):
    return (f"{{Dir::{t['dir']}, {t['arg']}, Shape::{t['shape']}, {count_code(t['size'])}, "
            f"{'true' if t['by_result'] else 'false'}, {count_code(t['cap'])}, "
            f"{'true' if t['on_error'] else 'false'}, 0}}")


def generate(by_number, rows):
    """C++ lines: includes, size checks, and the rows in table order."""
    out = ["", "// --- effects.tbl ---", ""]
    for name, (size, ctype) in ELEMS.items():
        if ctype:
            out.append(f'static_assert(sizeof({ctype}) == {size}, "effects size \'{name}\'");')
    out += ["", "constexpr NamedSize kNamedSizes[] = {"]
    out += [f'    {{"{name}", {size}}},' for name, (size, _) in ELEMS.items()]
    out += ["};", "", "constexpr EffectsRow kEffects[] = {"]
    for name, _ in by_number:
        coverage, handler, terms = rows[name]
        body = ", ".join(term_code(t) for t in terms)
        out.append(f"    {{Coverage::{coverage}, Handler::{handler}, {len(terms)}, {{{body}}}}},  // {name}")
    out += ["};", ""]
    return out


def includes():
    return [f"#include {h}" for h in HEADERS]
