// Flag and value tables of socket syscalls.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include "syscalls/flags.hpp"

namespace hytrace::syscalls::detail {
namespace {

#define F HYTRACE_FLAG

constexpr hytrace_flag kFamilies[] = {
    F(AF_UNSPEC),   F(AF_UNIX),     F(AF_INET),     F(AF_AX25),     F(AF_IPX),
    F(AF_APPLETALK), F(AF_NETROM),  F(AF_BRIDGE),   F(AF_ATMPVC),   F(AF_X25),
    F(AF_INET6),    F(AF_ROSE),     F(AF_DECnet),   F(AF_NETBEUI),  F(AF_SECURITY),
    F(AF_KEY),      F(AF_NETLINK),  F(AF_PACKET),   F(AF_ASH),      F(AF_ECONET),
    F(AF_ATMSVC),   F(AF_RDS),      F(AF_SNA),      F(AF_IRDA),     F(AF_PPPOX),
    F(AF_WANPIPE),  F(AF_LLC),      F(AF_IB),       F(AF_MPLS),     F(AF_CAN),
    F(AF_TIPC),     F(AF_BLUETOOTH), F(AF_IUCV),    F(AF_RXRPC),    F(AF_ISDN),
    F(AF_PHONET),   F(AF_IEEE802154), F(AF_CAIF),   F(AF_ALG),      F(AF_NFC),
    F(AF_VSOCK),    F(AF_KCM),      F(AF_QIPCRTR),  F(AF_SMC),      F(AF_XDP),
    F(AF_MCTP),
};

constexpr hytrace_flag kSocketTypes[] = {
    F(SOCK_STREAM), F(SOCK_DGRAM), F(SOCK_RAW), F(SOCK_RDM), F(SOCK_SEQPACKET),
    F(SOCK_DCCP),   F(SOCK_PACKET),
};

constexpr hytrace_flag kSocketFlags[] = {F(SOCK_CLOEXEC), F(SOCK_NONBLOCK)};

constexpr hytrace_flag kMsgFlags[] = {
    F(MSG_OOB),      F(MSG_PEEK),     F(MSG_DONTROUTE), F(MSG_CTRUNC),
    F(MSG_PROXY),    F(MSG_TRUNC),    F(MSG_DONTWAIT),  F(MSG_EOR),
    F(MSG_WAITALL),  F(MSG_FIN),      F(MSG_SYN),       F(MSG_CONFIRM),
    F(MSG_RST),      F(MSG_ERRQUEUE), F(MSG_NOSIGNAL),  F(MSG_MORE),
    F(MSG_WAITFORONE), F(MSG_BATCH),  F(MSG_ZEROCOPY),  F(MSG_FASTOPEN),
    F(MSG_CMSG_CLOEXEC),
};

constexpr hytrace_flag kShutdownHow[] = {F(SHUT_RD), F(SHUT_WR), F(SHUT_RDWR)};

constexpr hytrace_flag kSocketLevels[] = {
    F(SOL_SOCKET), F(SOL_IP), F(SOL_TCP), F(SOL_UDP), F(SOL_IPV6),
    F(SOL_ICMPV6), F(SOL_RAW), F(SOL_PACKET), F(SOL_NETLINK), F(SOL_TLS),
};

constexpr hytrace_flag kSolSocketOptions[] = {
    F(SO_DEBUG),      F(SO_REUSEADDR),   F(SO_TYPE),         F(SO_ERROR),
    F(SO_DONTROUTE),  F(SO_BROADCAST),   F(SO_SNDBUF),       F(SO_RCVBUF),
    F(SO_KEEPALIVE),  F(SO_OOBINLINE),   F(SO_NO_CHECK),     F(SO_PRIORITY),
    F(SO_LINGER),     F(SO_BSDCOMPAT),   F(SO_REUSEPORT),    F(SO_PASSCRED),
    F(SO_PEERCRED),   F(SO_RCVLOWAT),    F(SO_SNDLOWAT),     F(SO_RCVTIMEO_OLD),
    F(SO_SNDTIMEO_OLD), F(SO_BINDTODEVICE), F(SO_ATTACH_FILTER), F(SO_DETACH_FILTER),
    F(SO_PEERNAME),   F(SO_TIMESTAMP_OLD), F(SO_ACCEPTCONN), F(SO_PEERSEC),
    F(SO_SNDBUFFORCE), F(SO_RCVBUFFORCE), F(SO_PASSSEC),     F(SO_TIMESTAMPNS_OLD),
    F(SO_MARK),       F(SO_TIMESTAMPING_OLD), F(SO_PROTOCOL), F(SO_DOMAIN),
    F(SO_RXQ_OVFL),   F(SO_WIFI_STATUS), F(SO_PEEK_OFF),     F(SO_NOFCS),
    F(SO_LOCK_FILTER), F(SO_SELECT_ERR_QUEUE), F(SO_BUSY_POLL), F(SO_MAX_PACING_RATE),
    F(SO_BPF_EXTENSIONS), F(SO_INCOMING_CPU), F(SO_ATTACH_BPF), F(SO_ATTACH_REUSEPORT_CBPF),
    F(SO_ATTACH_REUSEPORT_EBPF), F(SO_CNX_ADVICE), F(SO_MEMINFO), F(SO_INCOMING_NAPI_ID),
    F(SO_COOKIE),     F(SO_PEERGROUPS),  F(SO_ZEROCOPY),     F(SO_TXTIME),
    F(SO_BINDTOIFINDEX),
};

constexpr hytrace_flag kTcpOptions[] = {
    F(TCP_NODELAY),   F(TCP_MAXSEG),     F(TCP_CORK),        F(TCP_KEEPIDLE),
    F(TCP_KEEPINTVL), F(TCP_KEEPCNT),    F(TCP_SYNCNT),      F(TCP_LINGER2),
    F(TCP_DEFER_ACCEPT), F(TCP_WINDOW_CLAMP), F(TCP_INFO),   F(TCP_QUICKACK),
    F(TCP_CONGESTION), F(TCP_MD5SIG),    F(TCP_USER_TIMEOUT), F(TCP_FASTOPEN),
    F(TCP_NOTSENT_LOWAT), F(TCP_ULP),    F(TCP_FASTOPEN_CONNECT),
};

constexpr hytrace_flag kIpOptions[] = {
    F(IP_TOS),          F(IP_TTL),            F(IP_HDRINCL),        F(IP_OPTIONS),
    F(IP_RECVERR),      F(IP_PKTINFO),        F(IP_MTU_DISCOVER),   F(IP_MULTICAST_IF),
    F(IP_MULTICAST_TTL), F(IP_MULTICAST_LOOP), F(IP_ADD_MEMBERSHIP), F(IP_DROP_MEMBERSHIP),
    F(IP_RECVTOS),      F(IP_TRANSPARENT),    F(IP_FREEBIND),       F(IP_BIND_ADDRESS_NO_PORT),
};

constexpr hytrace_flag kIpv6Options[] = {
    F(IPV6_V6ONLY),       F(IPV6_UNICAST_HOPS), F(IPV6_MULTICAST_IF), F(IPV6_MULTICAST_HOPS),
    F(IPV6_MULTICAST_LOOP), F(IPV6_RECVPKTINFO), F(IPV6_RECVERR),    F(IPV6_MTU_DISCOVER),
    F(IPV6_TCLASS),       F(IPV6_JOIN_GROUP),  F(IPV6_LEAVE_GROUP),
};

constexpr hytrace_flag kIpProtocols[] = {
    F(IPPROTO_IP),    F(IPPROTO_ICMP),   F(IPPROTO_IGMP),  F(IPPROTO_IPIP),
    F(IPPROTO_TCP),   F(IPPROTO_EGP),    F(IPPROTO_PUP),   F(IPPROTO_UDP),
    F(IPPROTO_IDP),   F(IPPROTO_TP),     F(IPPROTO_DCCP),  F(IPPROTO_IPV6),
    F(IPPROTO_RSVP),  F(IPPROTO_GRE),    F(IPPROTO_ESP),   F(IPPROTO_AH),
    F(IPPROTO_ICMPV6), F(IPPROTO_MTP),   F(IPPROTO_BEETPH), F(IPPROTO_ENCAP),
    F(IPPROTO_PIM),   F(IPPROTO_COMP),   F(IPPROTO_SCTP),  F(IPPROTO_UDPLITE),
    F(IPPROTO_MPLS),  F(IPPROTO_RAW),    F(IPPROTO_MPTCP),
};

#undef F

}  // namespace

FlagTable address_families() { return kFamilies; }
FlagTable socket_types() { return kSocketTypes; }
FlagTable socket_flags() { return kSocketFlags; }
uint64_t socket_type_mask() { return ~static_cast<uint64_t>(SOCK_CLOEXEC | SOCK_NONBLOCK); }
FlagTable msg_flags() { return kMsgFlags; }
FlagTable shutdown_how() { return kShutdownHow; }
FlagTable socket_levels() { return kSocketLevels; }
FlagTable ip_protocols() { return kIpProtocols; }

FlagTable socket_options(int level) {
  switch (level) {
    case SOL_SOCKET: return kSolSocketOptions;
    case SOL_TCP: return kTcpOptions;
    case SOL_IP: return kIpOptions;
    case SOL_IPV6: return kIpv6Options;
    default: return {};
  }
}

}  // namespace hytrace::syscalls::detail
